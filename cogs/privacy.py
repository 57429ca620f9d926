"""Members' control over their data: recognition opt-out, export, erasure, and retention.

What is deleted and what is anonymised is decided, table by table, in
``db.repositories.privacy``; this is the Discord side: the ephemeral export file, the
confirm-or-cancel step before erasure, taking away the roles the erased data granted, telling
moderators about groups left without a leader, and the daily retention purge.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.community import Community
from bot.scheduling import Recurring, daily
from bot.services.privacy import Erasure, encode
from bot.tree import follow_up, handled

log = logging.getLogger(__name__)

OPTED_OUT = (
    "Done: you won't be named in recognition posts, spotlights, awards, the newsletter, tier "
    "announcements or leaderboards. Your contributions still count toward your tier. "
    "/privacy optin undoes this."
)
ALREADY_OUT = "You're already opted out of public recognition. /privacy optin undoes this."
OPTED_IN = "Done: you can be named in recognition posts and leaderboards again."
UPDATES_OFF = (
    "Done: no more DMs when a product request you made or voted on changes status. "
    "/privacy updates on turns them back on."
)
UPDATES_ON = "Done: I'll DM you when a product request you made or voted on changes status."
ALREADY_IN = "You're not opted out: you can be named in recognition posts and leaderboards."

EXPORTED = (
    "Here is everything Flywheel stores about you in this server ({rows} rows), as JSON: one "
    "list of rows per table, with a line saying what each table is. Only you can see this."
)
CONFIRM_DELETE = (
    "**Delete your Flywheel data in this server?** This can't be undone.\n"
    "- Deleted: your contributions and points, activity, tier{tier} and its history, "
    "nominations and spotlights of you, content you shared, event RSVPs and voice time, "
    "newsletter and survey records and your survey answers, buddy volunteering, group "
    "memberships.\n"
    "- Kept for others, without your name: thanks you gave still count for the people you "
    "thanked, referrals you were part of stay credited to the inviter, and things you did for "
    "others (nominations, reviews) stay, shown as by a former member.\n"
    "- Your tier and group roles are removed. If you stay in the server, new activity counts "
    "again from now on.\n"
    "Tip: /privacy export first if you want a copy."
)
DELETED = (
    "Done: your data is deleted ({deleted} rows) and {anonymised} rows others keep no longer "
    "name you."
)
CANCELLED = "Cancelled: nothing was deleted."
CONFIRM_TIMEOUT_SECONDS = 120
RETENTION_JOB_ID = "privacy:retention"
RETENTION_MISFIRE_GRACE = 6 * 3600


class ConfirmDelete(discord.ui.View):
    """Delete or Cancel, for the member who asked only; nothing happens without a click."""

    def __init__(self, cog: Privacy, user_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_SECONDS)
        self.cog = cog
        self.user_id = user_id
        self.message: discord.InteractionMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                "Only the member who asked can confirm this.", ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Delete my data", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        async with handled(interaction, "erasing a member's data"):
            await interaction.response.edit_message(content="Deleting your data…", view=None)
            erasure = await self.cog.erase(interaction.user)
            await interaction.edit_original_response(
                content=DELETED.format(
                    deleted=sum(erasure.deleted.values()),
                    anonymised=sum(erasure.anonymised.values()),
                )
            )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        async with handled(interaction, "cancelling an erasure"):
            await interaction.response.edit_message(content=CANCELLED, view=None)

    async def on_timeout(self) -> None:
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(content=f"Timed out: {CANCELLED}", view=None)


class Privacy(commands.Cog):
    privacy = app_commands.Group(
        name="privacy", description="Your data and how you appear", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.members = bot.services.members
        self.service = bot.services.privacy
        #: One erasure or purge at a time: each is a burst of writes over many tables.
        self._lock = asyncio.Lock()

    async def cog_load(self) -> None:
        self.bot.schedule.add(
            Recurring(
                RETENTION_JOB_ID,
                self.run_retention,
                cron=daily(self.bot.settings.schedule.retention),
                misfire_grace_seconds=RETENTION_MISFIRE_GRACE,
            )
        )

    async def cog_unload(self) -> None:
        self.bot.schedule.remove(RETENTION_JOB_ID)

    # ------------------------------------------------------------------ opt-out
    async def _set(self, interaction: discord.Interaction[Any], opt_out: bool) -> bool:
        return await self.members.set_recognition_opt_out(
            interaction.user.id, opt_out, name=interaction.user.display_name
        )

    @privacy.command(name="optout", description="Never name me in public recognition posts")
    async def optout(self, interaction: discord.Interaction[Any]) -> None:
        changed = await self._set(interaction, True)
        await interaction.response.send_message(
            OPTED_OUT if changed else ALREADY_OUT, ephemeral=True
        )

    @privacy.command(name="optin", description="Let recognition posts name me again")
    async def optin(self, interaction: discord.Interaction[Any]) -> None:
        changed = await self._set(interaction, False)
        await interaction.response.send_message(OPTED_IN if changed else ALREADY_IN, ephemeral=True)

    @privacy.command(
        name="updates", description="DMs when a product request you made or voted on changes"
    )
    @app_commands.describe(dms="on: tell me by DM (the default); off: never DM me about it")
    @app_commands.choices(
        dms=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
        ]
    )
    async def updates(self, interaction: discord.Interaction[Any], dms: str) -> None:
        opt_out = dms == "off"
        changed = await self.members.set_feedback_updates_opt_out(
            interaction.user.id, opt_out, name=interaction.user.display_name
        )
        if opt_out:
            text = UPDATES_OFF if changed else "Feedback DMs were already off for you."
        else:
            text = UPDATES_ON if changed else "Feedback DMs were already on for you."
        await interaction.response.send_message(text, ephemeral=True)

    # ------------------------------------------------------------------ export
    @privacy.command(name="export", description="Get a file of everything stored about you")
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._flush_activity()
        document = await self.service.export(interaction.user.id)
        data = await asyncio.to_thread(encode, document)
        await follow_up(
            interaction,
            EXPORTED.format(rows=document["rows"]),
            file=discord.File(
                io.BytesIO(data), filename=f"flywheel-data-{interaction.user.id}.json"
            ),
            ephemeral=True,
        )

    # ------------------------------------------------------------------ delete
    @privacy.command(name="delete", description="Delete your data (asks you to confirm)")
    async def delete(self, interaction: discord.Interaction[Any]) -> None:
        tier = await self._tier_name(interaction.user.id)
        view = ConfirmDelete(self, interaction.user.id)
        await interaction.response.send_message(
            CONFIRM_DELETE.format(tier=f" ({tier})" if tier else ""), view=view, ephemeral=True
        )
        view.message = await interaction.original_response()

    async def erase(self, user: discord.abc.User) -> Erasure:
        """Erase a member's data, then undo on Discord what it granted."""
        async with self._lock:
            await self._flush_activity()
            names = [user.name, user.global_name or "", user.display_name]
            erasure = await self.service.erase(user.id, names=names)
        await self._after_erasure(erasure, user if isinstance(user, discord.Member) else None)
        await self.bot.outbox.mod_log(
            f"A member's data was erased at their request ({erasure.rows} rows)."
            + _leaderless(erasure)
        )
        return erasure

    async def _after_erasure(self, erasure: Erasure, member: discord.Member | None) -> None:
        if member is None:
            guild = self.bot.get_guild(self.bot.guild_id)
            member = guild.get_member(erasure.user_id) if guild is not None else None
        if member is None:
            return
        granted = self.bot.settings.managed_role_ids | set(erasure.group_role_ids)
        roles = [role for role in member.roles if role.id in granted]
        if not roles:
            return
        try:
            await member.remove_roles(*roles, reason="Flywheel: the member erased their data")
        except discord.HTTPException as exc:
            log.warning("privacy: could not remove an erased member's roles: %s", exc)
            await self.bot.outbox.mod_log(
                "A member who erased their data still wears "
                + ", ".join(f"**{discord.utils.escape_markdown(r.name)}**" for r in roles)
                + f" ({exc.status}). Fix: move the Flywheel role above them, or remove them "
                "by hand."
            )

    # ------------------------------------------------------------------ retention
    @commands.Cog.listener()
    async def on_flywheel_members_synced(self, guild: discord.Guild) -> None:
        """A purge missed while the bot was down runs at start-up, once the members table
        knows who left and who came back meanwhile (a member back is not purged)."""
        await self.run_retention()

    async def run_retention(self) -> int:
        """Erase the data of members who left more than ``privacy.retention_days`` ago."""
        if self.bot.settings.privacy.retention_days <= 0:
            return 0
        try:
            async with self._lock:
                purge = await self.service.purge_departed()
        except Exception:
            log.exception("privacy: the retention purge failed; it runs again tomorrow")
            return 0
        leaderless = "".join(_leaderless(e) for e in purge.erased)
        if purge.members:
            await self.bot.outbox.mod_log(
                f"Retention: erased the data of {purge.members} member(s) who left more than "
                f"{self.bot.settings.privacy.retention_days} days ago." + leaderless
            )
        return purge.members

    # ------------------------------------------------------------------ helpers
    async def _flush_activity(self) -> None:
        """Write everything about messages still buffered in memory, so it is exported or erased.

        All of it (``final``): "who posted where" is otherwise written every 10 s and a day's
        credit after 5 minutes, which could land after the erasure and bring data back.
        """
        await self.bot.services.activity.flush(final=True)

    async def _tier_name(self, user_id: int) -> str | None:
        key = await self.service.tier_of(user_id)
        for tier in self.bot.settings.tiers:
            if tier.key == key:
                return tier.name
        return None


def _leaderless(erasure: Erasure) -> str:
    return "".join(
        f"\n**{discord.utils.escape_markdown(name)}** has no leader now: pick one with "
        "/group handover."
        for name in erasure.led_groups
    )


async def setup(bot: Community) -> None:
    await bot.add_cog(Privacy(bot))
