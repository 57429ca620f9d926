"""Buddies on Discord: /buddy optin|optout, a buddy for each newcomer, the daily credit pass.

Introductions go to a private thread in ``buddies.intro_channel`` (both added) or, without
one, by DM to both. A refused thread falls back to DMs and tells moderators the fix; nobody
available to be a buddy is noted in the mod log, never guessed around.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.community import Community
from bot.errors import UserFacingError
from bot.outbox import only
from bot.scheduling import Recurring, daily
from bot.services.buddies import BUDDIES_OFF, PairRow, SettleReport
from bot.services.members import JoinKind

log = logging.getLogger(__name__)

SETTLE_JOB_ID = "buddies:settle"
SETTLE_MISFIRE_GRACE = 6 * 3600


class Buddies(commands.Cog):
    buddy = app_commands.Group(
        name="buddy", description="Welcome newcomers as their buddy", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.buddies

    async def cog_load(self) -> None:
        self.bot.schedule.add(
            Recurring(
                SETTLE_JOB_ID,
                self.run_settle,
                cron=daily(self.bot.settings.schedule.buddy_settlement),
                misfire_grace_seconds=SETTLE_MISFIRE_GRACE,
            )
        )

    async def cog_unload(self) -> None:
        self.bot.schedule.remove(SETTLE_JOB_ID)

    # ------------------------------------------------------------------ commands
    @buddy.command(name="optin", description="Volunteer to welcome newcomers as their buddy")
    async def optin(self, interaction: discord.Interaction[Any]) -> None:
        if not self.service.enabled:
            raise UserFacingError(BUDDIES_OFF)
        new = await self.service.opt_in(interaction.user.id)
        limit = self.bot.settings.buddies.max_active
        text = (
            "Thank you! You'll be paired with newcomers as they join "
            f"(at most {limit} at a time). /buddy optout stops new ones."
            if new
            else "You're already a buddy volunteer. /buddy optout stops new newcomers."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @buddy.command(name="optout", description="Stop being paired with new newcomers")
    async def optout(self, interaction: discord.Interaction[Any]) -> None:
        was, active = await self.service.opt_out(interaction.user.id)
        if not was:
            text = "You weren't a buddy volunteer, so nothing changed."
        else:
            text = "Done: you won't be paired with new newcomers."
            if active:
                text += (
                    f" You're still the buddy of {active} newcomer(s); those pairings continue "
                    "and still earn mentoring credit."
                )
        await interaction.response.send_message(text, ephemeral=True)

    # ------------------------------------------------------------------ joins
    @commands.Cog.listener()
    async def on_flywheel_member_join(self, member: discord.Member, kind: JoinKind) -> None:
        """A first-time member gets a buddy (rejoins and replays don't)."""
        if (
            kind != "new"
            or member.bot
            or member.guild.id != self.bot.guild_id
            or not self.service.enabled
        ):
            return
        try:
            await self.welcome(member)
        except Exception:
            log.exception("buddies: could not give newcomer %s a buddy", member.id)

    async def welcome(self, member: discord.Member) -> PairRow | None:
        assignment = await self.service.assign(member.id)
        if assignment.pair is None:
            name = discord.utils.escape_markdown(member.display_name)
            if assignment.volunteers:
                why = (
                    f"all {assignment.volunteers} volunteer(s) already have "
                    f"{self.bot.settings.buddies.max_active} newcomers (buddies.max_active)"
                )
            else:
                why = "no tier member has volunteered (/buddy optin)"
            log.warning("buddies: no buddy for newcomer %s: %s", member.id, why)
            cases = self.service.unpaired()
            if cases is None:
                return None  # moderators were told recently
            who = (
                f"{name} joined"
                if cases == 1
                else f"{name} joined (and {cases - 1} other newcomer(s) since the last note)"
            )
            await self.bot.outbox.mod_log(
                f"**Buddies:** {who}, but nobody could be their buddy: {why}. "
                "Ask tier members to volunteer with /buddy optin, or raise buddies.max_active. "
                "(This note comes at most once a day.)"
            )
            return None
        if assignment.new:
            await self.introduce(member, assignment.pair)
        return assignment.pair

    async def introduce(self, newcomer: discord.Member, pair: PairRow) -> None:
        guild = newcomer.guild
        buddy = guild.get_member(pair.buddy_id)
        buddy_name = buddy.display_name if buddy is not None else f"member {pair.buddy_id}"
        channel_id = self.bot.settings.buddies.intro_channel
        if channel_id is not None:
            thread = await self._intro_thread(guild, channel_id, newcomer, pair)
            if thread is not None:
                await self.service.set_thread(pair.id, thread.id)
                return
        to_newcomer = await self.bot.outbox.dm(
            newcomer.id,
            f"Welcome to {discord.utils.escape_markdown(guild.name)}! "
            f"<@{pair.buddy_id}> ({discord.utils.escape_markdown(buddy_name)}) is your buddy: "
            "say hi to them with any question about the community, big or small.",
        )
        to_buddy = await self.bot.outbox.dm(
            pair.buddy_id,
            f"You're the buddy of <@{newcomer.id}> "
            f"({discord.utils.escape_markdown(newcomer.display_name)}), who just joined "
            f"{discord.utils.escape_markdown(guild.name)}. A friendly hello goes a long way!",
        )
        if not (to_newcomer and to_buddy):
            who = " and ".join(
                n
                for n, ok in ((newcomer.display_name, to_newcomer), (buddy_name, to_buddy))
                if not ok
            )
            await self.bot.outbox.mod_log(
                f"**Buddies:** {discord.utils.escape_markdown(buddy_name)} is the buddy of "
                f"{discord.utils.escape_markdown(newcomer.display_name)}, but I couldn't DM "
                f"{discord.utils.escape_markdown(who)} (DMs closed): please introduce them."
            )

    async def _intro_thread(
        self, guild: discord.Guild, channel_id: int, newcomer: discord.Member, pair: PairRow
    ) -> discord.Thread | None:
        """A private thread with both in it; None (moderators told) if that can't be done."""
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            await self.bot.outbox.mod_log(
                f"**Buddies:** buddies.intro_channel ({channel_id}) is not a text channel I can "
                "see; newcomers and buddies are introduced by DM until it is fixed."
            )
            return None
        name = f"Welcome, {newcomer.display_name}"[:100]
        try:
            thread = await channel.create_thread(
                name=name,
                type=discord.ChannelType.private_thread,
                invitable=False,
                reason="Flywheel buddies: introduction",
            )
            for user_id in (newcomer.id, pair.buddy_id):
                await thread.add_user(discord.Object(user_id))
            await thread.send(
                f"<@{newcomer.id}>, welcome! Meet <@{pair.buddy_id}>, your buddy: ask them "
                "anything about the community, big or small. "
                f"<@{pair.buddy_id}>, thank you for welcoming them!",
                allowed_mentions=only(newcomer.id, pair.buddy_id),
            )
        except discord.Forbidden:
            me = guild.me.top_role.name
            await self.bot.outbox.mod_log(
                f"**Buddies:** I can't open private introduction threads in <#{channel_id}>: "
                f"Discord refuses (Missing Permissions). Fix: give the {me} role Create "
                "Private Threads and Send Messages in Threads there. Introduced by DM instead."
            )
            return None
        except discord.HTTPException as exc:
            log.warning("buddies: introduction thread failed (%s); introducing by DM", exc)
            return None
        return thread

    # ------------------------------------------------------------------ daily credit
    async def run_settle(self) -> SettleReport | None:
        """Credit buddies whose newcomer is still here and active; end the other pairings."""
        try:
            report = await self.service.settle()
        except Exception:
            log.exception("buddies: the daily credit pass failed; it runs again tomorrow")
            return None
        for pair in report.credited:
            await self.bot.outbox.dm(
                pair.buddy_id,
                f"Thank you for being <@{pair.newcomer_id}>'s buddy! They're still active "
                f"{self.bot.settings.buddies.credit_after_days} days on, and you've earned "
                "mentoring credit for it.",
            )
        if report.credited or report.ended_left or report.ended_quiet:
            log.info(
                "buddies: %d credited, %d ended (newcomer left), %d ended (newcomer quiet)",
                len(report.credited),
                len(report.ended_left),
                len(report.ended_quiet),
            )
        return report


async def setup(bot: Community) -> None:
    await bot.add_cog(Buddies(bot))
