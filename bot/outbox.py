"""Everything Flywheel sends to Discord on its own initiative, in one place.

The one implementation of :class:`~bot.services.effects.DiscordEffects`, used by services and
cogs alike: mod-log lines, DMs, posts, role edits. Every message is clipped to Discord's limits
and pings nobody unless it names members on purpose (:func:`only`); every failure is logged with
the setting to fix and returned as False (or None), never raised into the feature that asked.
Bulk DMs go through :func:`paced`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import discord

from bot.config import Settings
from bot.core.embeds import EmbedSpec
from bot.core.text import MESSAGE_LIMIT, clip
from bot.posting import to_embed
from bot.services.effects import EditOutcome

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Nobody is pinged: the default for everything the bot sends.
NO_MENTIONS = discord.AllowedMentions.none()
UNKNOWN_ROLE = 10011
#: Why a DM failed when Discord refuses it (the member closed DMs or blocked the bot).
DMS_CLOSED = "DMs closed"


def only(*user_ids: int) -> discord.AllowedMentions:
    """Mentions that can ping exactly these members and nobody else."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        users=[discord.Object(user_id) for user_id in user_ids],
        replied_user=False,
    )


def member_name(guild: discord.Guild | None, user_id: int | None) -> str:
    """A member's display name as plain text; a mention (it pings nobody) if not known here."""
    member = guild.get_member(user_id) if guild is not None and user_id else None
    if member is None:
        return f"<@{user_id}>"
    return discord.utils.escape_markdown(member.display_name)


async def paced(items: Iterable[T], seconds: float) -> AsyncIterator[T]:
    """``items`` with ``seconds`` between them: bulk DMs stay clear of Discord's rate limits."""
    for index, item in enumerate(items):
        if index and seconds:
            await asyncio.sleep(seconds)
        yield item


class Outbox:
    """Sends for one bot; built by the composition root before the bot, attached to it after."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._bot: discord.Client | None = None

    def attach(self, bot: discord.Client) -> None:
        self._bot = bot

    @property
    def bot(self) -> discord.Client:
        if self._bot is None:
            raise RuntimeError("the outbox is used before the bot is attached")
        return self._bot

    def _guild(self) -> discord.Guild | None:
        return self.bot.get_guild(self.settings.discord.guild_id)

    def guild_name(self) -> str:
        guild = self._guild()
        return discord.utils.escape_markdown(guild.name) if guild is not None else "the server"

    # ------------------------------------------------------------------ messages
    def channel(self, channel_id: int, setting: str) -> discord.abc.Messageable | None:
        """A channel the bot can post in, or None (logged with the setting to fix)."""
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.error("%s is not a channel the bot can post in", setting)
            return None
        return channel

    async def mod_log(self, text: str, **extra: Any) -> bool:
        """A line for moderators in ``channels.mod_log`` (``extra``: embeds=, files=, …)."""
        return await self.mod_log_message(text, **extra) is not None

    async def mod_log_message(self, text: str, **extra: Any) -> discord.Message | None:
        """:meth:`mod_log` for a caller that keeps the message (e.g. stores its id)."""
        return await self.send(self.settings.channels.mod_log, "channels.mod_log", text, **extra)

    async def alert(self, text: str, **extra: Any) -> bool:
        """A mod-log line about something to fix, also logged as a warning.

        The warning reaches the process log even when the mod log itself is what is broken.
        """
        log.warning("%s", text.replace("\n", " "))
        return await self.mod_log(text, **extra)

    async def send(
        self, channel_id: int, setting: str, text: str | None, **extra: Any
    ) -> discord.Message | None:
        """Post in a channel (``setting`` names it in the log); the message, or None."""
        channel = self.channel(channel_id, setting)
        if channel is None:
            return None
        extra.setdefault("allowed_mentions", NO_MENTIONS)
        try:
            return await channel.send(clip(text, MESSAGE_LIMIT) if text else None, **extra)
        except discord.HTTPException as exc:
            log.error("could not post to %s: %s", setting, exc)
            return None

    async def post(self, channel_id: int, text: str, *, mention: int | None = None) -> bool:
        mentions = only(mention) if mention is not None else NO_MENTIONS
        sent = await self.send(channel_id, f"channel {channel_id}", text, allowed_mentions=mentions)
        return sent is not None

    async def dm(
        self,
        user_id: int,
        text: str | None = None,
        *,
        embeds: Sequence[EmbedSpec] = (),
        **extra: Any,
    ) -> bool:
        """DM a member (``extra``: view=, files=); a refusal (closed DMs) is logged, not retried."""
        return await self.try_dm(user_id, text, embeds=embeds, **extra) is None

    async def try_dm(
        self,
        user_id: int,
        text: str | None = None,
        *,
        embeds: Sequence[EmbedSpec] = (),
        **extra: Any,
    ) -> str | None:
        """:meth:`dm` for a caller that records why it failed.

        None once delivered, else :data:`DMS_CLOSED` (Discord refused) or Discord's status code.
        """
        if embeds:
            extra["embeds"] = [to_embed(spec) for spec in embeds]
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(
                clip(text, MESSAGE_LIMIT) if text else None, allowed_mentions=NO_MENTIONS, **extra
            )
        except discord.Forbidden as exc:
            log.info("could not DM member %s (%s)", user_id, exc.text or exc.status)
            return DMS_CLOSED
        except discord.HTTPException as exc:
            log.warning("DM to member %s failed: %s", user_id, exc)
            return str(exc.status)
        return None

    # ------------------------------------------------------------------ roles
    def member_roles(self, user_id: int) -> Sequence[int] | None:
        guild = self._guild()
        member = guild.get_member(user_id) if guild is not None else None
        return None if member is None else [role.id for role in member.roles]

    def all_member_roles(self, role_ids: Collection[int]) -> Mapping[int, Sequence[int]]:
        # One lookup per asked role: ``Member.roles`` builds and sorts a member's Role objects,
        # half a second over 100,000 members at start-up.
        guild = self._guild()
        if guild is None:
            return {}
        asked = tuple(role_ids)
        return {
            m.id: [role_id for role_id in asked if m.get_role(role_id) is not None]
            for m in guild.members
            if not m.bot
        }

    async def edit_role(self, user_id: int, role_id: int, *, add: bool, reason: str) -> EditOutcome:
        guild = self._guild()
        member = guild.get_member(user_id) if guild is not None else None
        if member is None:
            return "gone"
        role = discord.Object(role_id)
        try:
            if add:
                await member.add_roles(role, reason=reason)
            else:
                await member.remove_roles(role, reason=reason)
        except discord.Forbidden:
            return "forbidden"
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_ROLE:
                log.error("role %s does not exist (check the configured role ids)", role_id)
                return "failed"
            return "gone"
        except discord.HTTPException as exc:
            log.warning("role edit for member %s failed: %s", user_id, exc)
            return "failed"
        return "done"

    def role_refused_text(self, role_id: int) -> str:
        """The moderators' alert for a refused role edit, with the fix (preflight's wording)."""
        guild = self._guild()
        if guild is None:
            return f"Discord refuses edits of role {role_id}."
        role = guild.get_role(role_id)
        role_name = role.name if role is not None else f"role {role_id}"
        me = guild.me
        bot_role = me.top_role.name
        if not me.guild_permissions.manage_roles:
            fix = f"give the {bot_role} role Manage Roles in Server Settings → Roles."
        elif role is not None and me.top_role.position <= role.position:
            fix = f"move the {bot_role} role above {role_name} in Server Settings → Roles."
        else:
            fix = (
                f"make sure the {bot_role} role has Manage Roles and sits above {role_name} "
                "in Server Settings → Roles."
            )
        return (
            f"**Tier roles:** {me.display_name} can't give or remove {role_name}: Discord "
            f"refuses (Missing Permissions).\nFix: {fix}\nMembers waiting for {role_name} get "
            "it at the next daily sweep, or right away with /tier sync."
        )
