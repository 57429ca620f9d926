"""User groups on Discord: /group create|join|leave|list|info|event|handover, leader nudges.

``/group create`` makes the group's role (and, with ``groups.create_channels``, its channel)
before anything is stored. When Discord refuses, whatever was already made is removed again,
no group is stored, and the moderator is told which permission is missing and how to fix it.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator, moderator_only
from bot.community import Community
from bot.core.groups import KIND_LABELS, NAME_MAX, REGION_MAX, channel_name
from bot.core.text import EMBED_DESCRIPTION_LIMIT, EMBED_FIELD_LIMIT, EMBED_TITLE_LIMIT, clip
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS
from bot.scheduling import Recurring, daily
from bot.services.groups import GroupRow, NewGroup, Nudge
from bot.tree import follow_up

log = logging.getLogger(__name__)

NUDGE_JOB_ID = "groups:nudge"
NUDGE_MISFIRE_GRACE = 6 * 3600
KIND_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in KIND_LABELS.items()]
PARTS = {"leader": "Leader", "co_organizer": "Co-organizer", "member": "Member"}


def _esc(text: str) -> str:
    return discord.utils.escape_markdown(text)


def refused(what: str, permission: str, guild: discord.Guild, *, undone: str = "") -> str:
    """The moderator's message for a Discord refusal: what failed, the permission, the fix."""
    bot_role = guild.me.top_role.name
    return (
        f"I couldn't create the group's {what}: Discord refuses (Missing Permissions: "
        f"{permission}). Nothing was created{undone}.\n"
        f"Fix: give the {_esc(bot_role)} role **{permission}** in Server Settings → Roles, "
        "then run /group create again."
    )


class Groups(commands.Cog):
    group = app_commands.Group(
        name="group", description="User groups: local, virtual, industry, use case", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.groups

    async def cog_load(self) -> None:
        self.bot.schedule.add(
            Recurring(
                NUDGE_JOB_ID,
                self.run_nudges,
                cron=daily(self.bot.settings.schedule.group_nudges),
                misfire_grace_seconds=NUDGE_MISFIRE_GRACE,
            )
        )

    async def cog_unload(self) -> None:
        self.bot.schedule.remove(NUDGE_JOB_ID)

    # ------------------------------------------------------------------ create
    @group.command(name="create", description="Create a user group with its role (moderators)")
    @app_commands.describe(
        name="The group's name (also its role's name)",
        kind="Local meetup, virtual, industry or use-case group",
        leader="Who leads the group",
        region="Where it meets (for local groups), optional",
        co1="A co-organizer (optional)",
        co2="A co-organizer (optional)",
        co3="A co-organizer (optional)",
    )
    @app_commands.choices(kind=KIND_CHOICES)
    @app_commands.rename(kind="type")
    @moderator_only()
    async def create(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, NAME_MAX * 2],
        kind: app_commands.Choice[str],
        leader: discord.User,
        region: app_commands.Range[str, 1, REGION_MAX * 2] | None = None,
        co1: discord.User | None = None,
        co2: discord.User | None = None,
        co3: discord.User | None = None,
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        team = [leader, *(c for c in (co1, co2, co3) if c is not None)]
        for person in team:
            if person.bot:
                raise UserFacingError("Bots can't lead or co-organize a group; pick a member.")
            if not isinstance(person, discord.Member):
                raise UserFacingError(f"{_esc(person.display_name)} isn't in this server.")
        new = await self.service.validate_new(
            name, kind.value, region, leader.id, [c.id for c in team[1:]]
        )
        category = self._category(guild)
        await interaction.response.defer(ephemeral=True, thinking=True)
        reason = f"Flywheel: user group created by {interaction.user}"
        try:
            role = await guild.create_role(name=new.name, mentionable=False, reason=reason)
        except discord.Forbidden:
            raise UserFacingError(refused("role", "Manage Roles", guild)) from None
        channel = None
        if self.bot.settings.groups.create_channels:
            try:
                channel = await guild.create_text_channel(
                    channel_name(new.name),
                    category=category,
                    topic=clip(f"{KIND_LABELS[new.kind]}: {new.name}", 1024),
                    reason=reason,
                )
            except discord.Forbidden:
                undone = await self._undo(role, None)
                raise UserFacingError(
                    refused("channel", "Manage Channels", guild, undone=undone)
                ) from None
        try:
            stored = await self.service.create(
                new,
                role_id=role.id,
                channel_id=channel.id if channel is not None else None,
                created_by=interaction.user.id,
            )
        except BaseException:
            await self._undo(role, channel)
            raise
        missing = await self._give_role(team, role)  # type: ignore[arg-type]
        reply = self._created_text(stored, new, channel)
        if missing:
            reply += (
                f"\nI couldn't give the role to {', '.join(_esc(n) for n in missing)}: check "
                "that my role has Manage Roles and sits above the group's role."
            )
        await follow_up(interaction, reply, ephemeral=True, allowed_mentions=NO_MENTIONS)
        await self.bot.outbox.mod_log(
            f"{_esc(interaction.user.display_name)} created the {KIND_LABELS[new.kind].lower()} "
            f"**{_esc(new.name)}**, led by {_esc(leader.display_name)}."
        )

    def _category(self, guild: discord.Guild) -> discord.CategoryChannel | None:
        settings = self.bot.settings.groups
        if not settings.create_channels or settings.category is None:
            return None
        category = guild.get_channel(settings.category)
        if not isinstance(category, discord.CategoryChannel):
            raise UserFacingError(
                f"groups.category ({settings.category}) is not a category I can see: fix it in "
                "the config (or leave it out), then run /group create again. Nothing was created."
            )
        return category

    async def _undo(self, role: discord.Role, channel: discord.abc.GuildChannel | None) -> str:
        """Remove what a failed create made; says what couldn't be removed."""
        left: list[str] = []
        for thing, label in ((channel, "channel"), (role, "role")):
            if thing is None:
                continue
            try:
                await thing.delete(reason="Flywheel: user group creation failed")
            except discord.HTTPException as exc:
                log.error("groups: could not remove the %s %s: %s", label, thing.id, exc)
                left.append(f"the {label} {thing.name}")
        return f" (but please delete {' and '.join(left)} by hand)" if left else ""

    async def _give_role(self, people: list[discord.Member], role: discord.Role) -> list[str]:
        missing = []
        for person in people:
            try:
                await person.add_roles(role, reason="Flywheel: user group organizer")
            except discord.HTTPException as exc:
                log.warning("groups: could not give %s the role %s: %s", person.id, role.id, exc)
                missing.append(person.display_name)
        return missing

    def _created_text(
        self, group: GroupRow, new: NewGroup, channel: discord.abc.GuildChannel | None
    ) -> str:
        where = f" in {_esc(new.region)}" if new.region else ""
        text = f"Created the {KIND_LABELS[new.kind].lower()} **{_esc(group.name)}**{where}"
        text += f" with the role <@&{group.role_id}>"
        if channel is not None:
            text += f" and the channel <#{channel.id}>"
        return text + ". Members join with /group join."

    # ------------------------------------------------------------------ members
    @group.command(name="join", description="Join a user group (you get its role)")
    @app_commands.describe(name="The group")
    async def join(self, interaction: discord.Interaction[Any], name: str) -> None:
        member = self._member(interaction)
        group = await self.service.find(name)
        if await self.service.part_of(group, member.id) is not None:
            raise UserFacingError(f"You're already in {_esc(group.name)}.")
        if group.role_id is not None:
            try:
                await member.add_roles(discord.Object(group.role_id), reason="Flywheel: joined")
            except discord.Forbidden:
                raise UserFacingError(
                    f"I couldn't give you the {_esc(group.name)} role (Discord refuses: Missing "
                    "Permissions). A moderator can fix it: my role needs Manage Roles and must "
                    "sit above the group's role."
                ) from None
            except discord.NotFound:
                log.warning("groups: the role of %s is gone; joined without it", group.name)
        await self.service.join(group, member.id)
        await interaction.response.send_message(
            f"Welcome to **{_esc(group.name)}**!", ephemeral=True
        )

    @group.command(name="leave", description="Leave a user group")
    @app_commands.describe(name="The group")
    async def leave(self, interaction: discord.Interaction[Any], name: str) -> None:
        member = self._member(interaction)
        group = await self.service.find(name)
        await self.service.leave(group, member.id)
        text = f"You left **{_esc(group.name)}**."
        if group.role_id is not None and member.get_role(group.role_id) is not None:
            try:
                await member.remove_roles(discord.Object(group.role_id), reason="Flywheel: left")
            except discord.HTTPException as exc:
                log.warning("groups: could not take %s's role away: %s", member.id, exc)
                text += " I couldn't remove its role; a moderator can."
        await interaction.response.send_message(text, ephemeral=True)

    @group.command(name="handover", description="Hand a group's leadership to someone else")
    @app_commands.describe(name="The group", member="The new leader")
    async def handover(
        self, interaction: discord.Interaction[Any], name: str, member: discord.User
    ) -> None:
        group = await self.service.find(name)
        actor = interaction.user
        if await self.service.part_of(group, actor.id) != "leader" and not is_moderator(
            actor, self.bot.settings
        ):
            raise UserFacingError("Only the group's leader or a moderator can hand it over.")
        if member.bot or not isinstance(member, discord.Member):
            raise UserFacingError("The new leader must be a member of this server.")
        if await self.service.part_of(group, member.id) == "leader":
            raise UserFacingError(f"{_esc(member.display_name)} already leads {_esc(group.name)}.")
        await self.service.hand_over(group, member.id)
        if group.role_id is not None and member.get_role(group.role_id) is None:
            try:
                await member.add_roles(discord.Object(group.role_id), reason="Flywheel: leader")
            except discord.HTTPException as exc:
                log.warning("groups: could not give the new leader the role: %s", exc)
        await interaction.response.send_message(
            f"{_esc(member.display_name)} now leads **{_esc(group.name)}**.", ephemeral=True
        )
        await self.bot.outbox.mod_log(
            f"{_esc(actor.display_name)} handed **{_esc(group.name)}** over to "
            f"{_esc(member.display_name)}."
        )

    @group.command(name="list", description="Every user group, most recently active first")
    async def list_groups(self, interaction: discord.Interaction[Any]) -> None:
        summaries = await self.service.summaries()
        if not summaries:
            await interaction.response.send_message(
                "There are no user groups yet. Moderators create them with /group create.",
                ephemeral=True,
            )
            return
        lines = []
        for s in summaries:
            g = s.group
            where = f" · {_esc(g.region)}" if g.region else ""
            lines.append(
                f"**{_esc(g.name)}** · {KIND_LABELS.get(g.kind, g.kind)}{where} · "
                f"{s.members} member(s) · {s.events} event(s)"
            )
        embed = discord.Embed(
            title="User groups", description=clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT)
        )
        embed.set_footer(text="Join one with /group join")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @group.command(name="info", description="A user group's organizers, members and events")
    @app_commands.describe(name="The group")
    async def info(self, interaction: discord.Interaction[Any], name: str) -> None:
        info = await self.service.info(await self.service.find(name))
        g = info.group
        embed = discord.Embed(
            title=clip(g.name, EMBED_TITLE_LIMIT), description=KIND_LABELS.get(g.kind, "")
        )
        if g.region:
            embed.add_field(name="Region", value=clip(g.region, EMBED_FIELD_LIMIT))
        by_part: dict[str, list[str]] = {}
        for user_id, part in sorted(info.members.items()):
            by_part.setdefault(part, []).append(f"<@{user_id}>")
        for part in ("leader", "co_organizer"):
            if part in by_part:
                embed.add_field(
                    name=PARTS[part] + ("s" if part != "leader" else ""),
                    value=clip(", ".join(by_part[part]), EMBED_FIELD_LIMIT),
                    inline=False,
                )
        embed.add_field(name="Members", value=str(len(info.members)))
        embed.add_field(name="Events credited", value=str(info.events))
        last = g.last_activity_at
        embed.add_field(
            name="Last event", value=discord.utils.format_dt(last, "D") if last else "none yet"
        )
        links = [
            f"<@&{g.role_id}>" if g.role_id else "",
            f"<#{g.channel_id}>" if g.channel_id else "",
        ]
        if any(links):
            embed.add_field(name="Role and channel", value=" ".join(x for x in links if x))
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # ------------------------------------------------------------------ events
    @group.command(name="event", description="Credit an event you host to your group")
    @app_commands.describe(group="Your group", event="The scheduled event")
    async def credit_event(
        self, interaction: discord.Interaction[Any], group: str, event: str
    ) -> None:
        found = await self.service.find(group)
        try:
            event_id = int(event)
        except ValueError:
            raise UserFacingError("Pick the event from the list (or give its id).") from None
        name = await self.service.credit_event(found, event_id, interaction.user.id)
        await interaction.response.send_message(
            f"**{_esc(name)}** now counts as an event of **{_esc(found.name)}**. Thank you for "
            "running it!",
            ephemeral=True,
        )

    @credit_event.autocomplete("event")
    async def _events(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.service.find_events(current)
        return [
            app_commands.Choice(
                name=f"{e.name[:80]} — {e.scheduled_start:%Y-%m-%d}", value=str(e.event_id)
            )
            for e in found
        ]

    @join.autocomplete("name")
    @leave.autocomplete("name")
    @info.autocomplete("name")
    @handover.autocomplete("name")
    @credit_event.autocomplete("group")
    async def _names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in await self.service.matching(current)]

    # ------------------------------------------------------------------ nudges
    async def run_nudges(self) -> list[Nudge]:
        """DM the organizers of groups with no credited event for ``groups.inactive_days``."""
        try:
            due = await self.service.due_nudges()
        except Exception:
            log.exception("groups: the inactivity check failed; it runs again tomorrow")
            return []
        days = self.bot.settings.groups.inactive_days
        for nudge in due:
            text = (
                f"Hi! **{_esc(nudge.group.name)}** hasn't had an event credited in {days} days. "
                "How about planning the next one? Create a scheduled event in the server, host "
                "it, then credit it to the group with /group event. If the group needs help or "
                "a new leader, the moderators are happy to help."
            )
            for user_id in nudge.organizers:
                await self.bot.outbox.dm(user_id, text)
            await self.service.mark_nudged(nudge.group.id)
        return due

    # ------------------------------------------------------------------ plumbing
    def _member(self, interaction: discord.Interaction[Any]) -> discord.Member:
        if not isinstance(interaction.user, discord.Member):
            raise UserFacingError("This command only works inside the server.")
        return interaction.user


async def setup(bot: Community) -> None:
    await bot.add_cog(Groups(bot))
