"""The ladder's Discord glue: /tier commands, and the events the ladder automation reacts to.

Decisions and their news (roles, announcement, DMs) live in ``bot.services.ladder_automation``
(``bot.services.tiers``); this cog turns Discord events and moderators' commands into its calls.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.core.member_text import clean_text
from bot.core.text import clip, day_label
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS
from bot.scheduling import Recurring, daily
from bot.services.ladder import MAX_LEAVE_DAYS
from bot.services.members import JoinKind
from bot.tree import follow_up

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "ladder:sweep"
#: A daily run held up (the bot busy or the loop blocked) still happens within this many seconds;
#: after a restart the start-up sweep catches up instead.
SWEEP_MISFIRE_GRACE = 6 * 3600
REASON_MIN, REASON_MAX = 1, 500

NOT_A_MEMBER = "That person isn't a member of this server."
BOT_TARGET = "Bots aren't on the ladder."
OWN_TIER = "You can't change your own standing on the ladder; ask another moderator."
NO_TIERS = "This community has no tiers configured yet."
MOD_LOG_FAILED = (
    "Done, but I couldn't write it to the mod log (channels.mod_log): check my permissions there."
)


class Ladder(commands.Cog):
    tier = app_commands.Group(
        name="tier", description="Members' tiers on the ladder (moderators)", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.ladder
        self.automation = bot.services.tiers

    async def cog_load(self) -> None:
        self.bot.schedule.add(
            Recurring(
                SWEEP_JOB_ID,
                self.automation.run_sweep,
                cron=daily(self.bot.settings.schedule.ladder_sweep),
                misfire_grace_seconds=SWEEP_MISFIRE_GRACE,
            )
        )

    async def cog_unload(self) -> None:
        self.bot.schedule.remove(SWEEP_JOB_ID)

    @commands.Cog.listener()
    async def on_flywheel_members_synced(self, guild: discord.Guild) -> None:
        """Catch up at start-up, once the members table knows who is here."""
        await self.automation.catch_up()

    @commands.Cog.listener()
    async def on_flywheel_member_join(self, member: discord.Member, kind: JoinKind) -> None:
        if member.guild.id == self.bot.guild_id and not member.bot:
            self.automation.member_returned(member.id)

    # ------------------------------------------------------------------ /tier
    def _target(
        self, interaction: discord.Interaction[Any], member: discord.Member | discord.User
    ) -> discord.Member:
        if member.bot:
            raise UserFacingError(BOT_TARGET)
        if not isinstance(member, discord.Member):
            raise UserFacingError(NOT_A_MEMBER)
        if member.id == interaction.user.id:
            raise UserFacingError(OWN_TIER)
        return member

    def _name(self, user: discord.abc.User) -> str:
        return discord.utils.escape_markdown(user.display_name)

    def _day(self, when: datetime) -> str:
        return day_label(when, self.bot.settings.schedule.tz)

    def _require_tiers(self) -> None:
        if not self.bot.settings.tiers:
            raise UserFacingError(NO_TIERS)

    async def _reply_and_audit(
        self, interaction: discord.Interaction[Any], reply: str, audit: str
    ) -> None:
        await interaction.response.send_message(reply, ephemeral=True, allowed_mentions=NO_MENTIONS)
        if not await self.bot.outbox.mod_log(audit):
            with contextlib.suppress(discord.HTTPException):
                await follow_up(interaction, MOD_LOG_FAILED, ephemeral=True)

    @tier.command(name="set", description="Put a member on a tier (or none), with a reason")
    @app_commands.describe(
        member="Whose tier",
        tier="A tier's name, or none",
        reason="Why; kept in the tier history and shown in the mod log",
        pin="Also pin it, so the automatic rules leave it alone (default: no)",
    )
    @moderator_only()
    async def set_tier(
        self,
        interaction: discord.Interaction[Any],
        member: discord.User,
        tier: str,
        reason: app_commands.Range[str, REASON_MIN, REASON_MAX],
        pin: bool = False,
    ) -> None:
        self._require_tiers()
        target = self._target(interaction, member)
        key = self.service.resolve_tier(tier)
        name = self._name(target)
        reason = clean_text(reason)
        if not reason:
            raise UserFacingError("Give a reason: it is kept in the tier history.")
        change = await self.service.set_tier(
            target.id, key, reason=reason, actor_id=interaction.user.id, name=name
        )
        before, after = (self.service.tier_name(k) for k in (change.from_tier, change.to_tier))
        reply = f"{name}'s tier is now {after} (was {before})."
        if pin:
            with contextlib.suppress(UserFacingError):
                await self.service.pin(target.id, interaction.user.id, name=name)
            reply += " Pinned: automatic tier changes are paused until /tier unpin."
        else:
            reply += await self._drift_note(target.id)
        actor = self._name(interaction.user)
        await self._reply_and_audit(
            interaction,
            reply,
            f"{actor} set {name}'s tier to {after} (was {before}){' and pinned it' if pin else ''}"
            f": {reason}",
        )
        self.automation.spawn_delivery([change])

    @set_tier.autocomplete("tier")
    async def _tier_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        options = [(t.name, t.key) for t in self.bot.settings.tiers]
        options.append(("none (take them off the ladder)", "none"))
        wanted = current.strip().casefold()
        return [
            app_commands.Choice(name=label, value=value)
            for label, value in options
            if wanted in label.casefold() or wanted in value
        ][:25]

    async def _drift_note(self, user_id: int) -> str:
        """Warn when the automatic rules would undo a moderator's choice."""
        planned = await self.service.plan([user_id])
        if not planned:
            return ""
        decision = planned[0].decision
        if decision.action == "promote":
            return (
                f" Note: they meet {self.service.tier_name(decision.to_tier)}, so the ladder will "
                "promote them at its next evaluation; /tier pin keeps this tier."
            )
        if decision.demotion_due_at is not None:
            return (
                " Note: they're below this tier's requirements, so without a pin they'd lose it "
                f"on {self._day(decision.demotion_due_at)}."
            )
        return ""

    @tier.command(name="pin", description="Freeze a member's tier: no automatic changes")
    @app_commands.describe(member="Whose tier to pin")
    @moderator_only()
    async def pin(self, interaction: discord.Interaction[Any], member: discord.User) -> None:
        self._require_tiers()
        target = self._target(interaction, member)
        name = self._name(target)
        standing = await self.service.pin(target.id, interaction.user.id, name=name)
        tier = self.service.tier_name(standing.tier_key)
        await self._reply_and_audit(
            interaction,
            f"{name} is pinned at {tier}: automatic tier changes are paused until /tier unpin.",
            f"{self._name(interaction.user)} pinned {name} at {tier}.",
        )

    @tier.command(name="unpin", description="Let the automatic rules manage a member's tier again")
    @app_commands.describe(member="Whose tier to unpin")
    @moderator_only()
    async def unpin(self, interaction: discord.Interaction[Any], member: discord.User) -> None:
        self._require_tiers()
        target = self._target(interaction, member)
        name = self._name(target)
        await self.service.unpin(target.id, interaction.user.id, name=name)
        await self.automation.reevaluate([target.id])
        await self._reply_and_audit(
            interaction,
            f"{name} is unpinned: the automatic tier rules apply again.",
            f"{self._name(interaction.user)} unpinned {name}.",
        )

    @tier.command(name="leave", description="A leave of absence: no demotion for some days")
    @app_commands.describe(member="Who is taking a break", days="How many days (0 ends a leave)")
    @moderator_only()
    async def leave(
        self,
        interaction: discord.Interaction[Any],
        member: discord.User,
        days: app_commands.Range[int, 0, MAX_LEAVE_DAYS],
    ) -> None:
        self._require_tiers()
        target = self._target(interaction, member)
        name = self._name(target)
        standing = await self.service.grant_leave(target.id, days, interaction.user.id)
        actor = self._name(interaction.user)
        if standing.leave_until is None:
            reply, audit = f"{name}'s leave of absence has ended.", f"{actor} ended {name}'s leave."
        else:
            until = self._day(standing.leave_until)
            reply = f"{name} is on leave until {until}: their tier can't be lost meanwhile."
            audit = f"{actor} granted {name} a leave of absence until {until} ({days} days)."
        await self._reply_and_audit(interaction, reply, audit)

    @tier.command(name="history", description="Every change of a member's tier, with reasons")
    @app_commands.describe(member="Whose history")
    @moderator_only()
    async def history(self, interaction: discord.Interaction[Any], member: discord.User) -> None:
        name = discord.utils.escape_markdown(member.display_name)
        entries = await self.service.history(member.id)
        if not entries:
            await interaction.response.send_message(
                f"{name} has no tier history yet.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        guild = interaction.guild
        lines = []
        for entry in reversed(entries[-20:]):
            who = "automatic"
            if entry.actor_id is not None:
                actor = guild.get_member(entry.actor_id) if guild is not None else None
                who = self._name(actor) if actor is not None else f"<@{entry.actor_id}>"
            before, after = (self.service.tier_name(k) for k in (entry.from_tier, entry.to_tier))
            move = after if before == after else f"{before} → {after}"
            lines.append(
                f"**{self._day(entry.created_at)}** · {move} · {who}\n{clip(entry.reason, 300)}"
            )
        embed = discord.Embed(
            title=f"Tier history of {member.display_name}"[:256],
            description=clip("\n".join(lines), 4096),
        )
        if len(entries) > 20:
            embed.set_footer(text=f"The 20 latest of {len(entries)} entries")
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @tier.command(name="sync", description="Re-apply every member's tier role now")
    @moderator_only()
    async def sync(self, interaction: discord.Interaction[Any]) -> None:
        self._require_tiers()
        await interaction.response.defer(ephemeral=True, thinking=True)
        self.automation.roles.retry_refused()
        queued, foreign = await self.automation.reconcile_all()
        if queued:
            text = f"{queued} member(s) need tier role changes: queued, applied a few per second."
        else:
            text = "Every member's tier roles already match their tier."
        if foreign:
            text += (
                f" {foreign} member(s) wear tier roles Flywheel didn't give; they're left alone "
                "(put them on the ladder with /tier set)."
            )
        await follow_up(interaction, text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: Community) -> None:
    await bot.add_cog(Ladder(bot))
