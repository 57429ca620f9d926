"""The ladder's Discord glue: evaluate after contributions, sweep daily, roles, messages, /tier.

Decisions come from ``LadderService``; this cog turns each :class:`Change` into what members
see: the tier role (through the paced role queue), a public announcement (unless the member
opted out), a welcome DM with the tier's benefits, an at-risk DM before a demotion and a DM
when a tier is lost. Only the member named is ever pinged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import Flywheel
from bot.config import TierConfig
from bot.errors import UserFacingError
from bot.services.ladder import MAX_LEAVE_DAYS, Change, LadderService, SweepReport
from bot.services.members import JoinKind
from bot.services.role_sync import EditOutcome, RoleChangePlan, RoleSyncQueue, plan_roles

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "ladder:sweep"
#: The daily sweep's local time (``schedule.timezone``): a quiet hour in most communities.
SWEEP_HOUR, SWEEP_MINUTE = 3, 0
#: A daily run held up (the bot busy or the loop blocked) still happens within this many seconds;
#: after a restart the start-up sweep catches up instead.
SWEEP_MISFIRE_GRACE = 6 * 3600
REASON_MIN, REASON_MAX = 1, 500
UNKNOWN_ROLE = 10011

NO_MENTIONS = discord.AllowedMentions.none()
NOT_A_MEMBER = "That person isn't a member of this server."
BOT_TARGET = "Bots aren't on the ladder."
OWN_TIER = "You can't change your own standing on the ladder; ask another moderator."
NO_TIERS = "This community has no tiers configured yet."
MOD_LOG_FAILED = (
    "Done, but I couldn't write it to the mod log (channels.mod_log): check my permissions there."
)


def with_article(name: str) -> str:
    """Name with its article: a Champion, an Ambassador."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def only(user_id: int) -> discord.AllowedMentions:
    """Mentions that can ping exactly this member and nobody else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(user_id)], replied_user=False
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


class Ladder(commands.Cog):
    tier = app_commands.Group(
        name="tier", description="Members' tiers on the ladder (moderators)", guild_only=True
    )

    def __init__(self, bot: Flywheel) -> None:
        self.bot = bot
        self.service = LadderService(bot.sessions, bot.settings, bot.clock, bot.contributions)
        self.roles = RoleSyncQueue(
            edit=self._edit_role, resolve=self._resolve, alert=self._alert_refused
        )
        self._tasks: set[asyncio.Task[None]] = set()
        #: Set once the start-up sweep has run (tests and the demo wait for it).
        self.caught_up = asyncio.Event()
        bot.contributions.subscribe(self._contributions_changed)

    async def cog_load(self) -> None:
        self.roles.start()
        self.bot.scheduler.add_job(
            self.run_sweep,
            "cron",
            hour=SWEEP_HOUR,
            minute=SWEEP_MINUTE,
            id=SWEEP_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=SWEEP_MISFIRE_GRACE,
        )
        self.bot.on_shutdown(self._shutdown)

    async def cog_unload(self) -> None:
        if self.bot.scheduler.get_job(SWEEP_JOB_ID) is not None:
            self.bot.scheduler.remove_job(SWEEP_JOB_ID)
        await self._shutdown()

    async def _shutdown(self) -> None:
        """Let announcements in flight finish; queued role edits are redone at the next start."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        await self.roles.stop()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ automation
    async def _contributions_changed(self, guild_id: int, user_ids: frozenset[int]) -> None:
        if guild_id == self.bot.guild_id and self.service.tiers:
            await self.reevaluate(user_ids)

    async def reevaluate(self, user_ids: Iterable[int]) -> list[Change]:
        """Evaluate members now; the decision is stored before this returns, the news follows."""
        changes = await self.service.evaluate(set(user_ids))
        if changes:
            self._spawn(self.deliver(changes))
        return changes

    async def run_sweep(self) -> SweepReport | None:
        """The daily pass: every member evaluated, then every tier role checked."""
        if not self.service.tiers:
            return None
        try:
            report = await self.service.sweep()
        except Exception:
            log.exception("ladder: the sweep failed; it runs again tomorrow")
            return None
        log.info(
            "ladder: swept %d members: %d promoted, %d warned, %d demoted",
            report.evaluated,
            report.count("promote"),
            report.count("warn"),
            report.count("demote"),
        )
        self.roles.retry_refused()
        await self.deliver(report.changes)
        await self.reconcile_all()
        return report

    @commands.Cog.listener()
    async def on_flywheel_members_synced(self, guild: discord.Guild) -> None:
        """Catch up at start-up, once the members table knows who is here."""
        try:
            await self.run_sweep()
        finally:
            self.caught_up.set()

    @commands.Cog.listener()
    async def on_flywheel_member_join(self, member: discord.Member, kind: JoinKind) -> None:
        """A member who comes back gets their tier roles back."""
        if member.guild.id == self.bot.guild_id and not member.bot:
            self.roles.enqueue([member.id])

    async def reconcile_all(self) -> tuple[int, int]:
        """Queue every member whose tier roles differ from their tier.

        Returns (queued, members wearing tier roles the ladder never gave them: left alone,
        since a hand-given role is not the bot's to take away).
        """
        guild = self.bot.get_guild(self.bot.guild_id)
        if guild is None:
            return 0, 0
        desired = await self.service.desired_tiers()
        managed = self.bot.settings.managed_role_ids
        queued: list[int] = []
        foreign = 0
        for member in guild.members:
            if member.bot:
                continue
            roles = [role.id for role in member.roles]
            if member.id not in desired:
                foreign += bool(managed.intersection(roles))
                continue
            if not plan_roles(member.id, desired[member.id], roles, self.bot.settings).empty:
                queued.append(member.id)
        self.roles.enqueue(queued)
        return len(queued), foreign

    # ------------------------------------------------------------------ roles
    async def _resolve(self, user_id: int) -> RoleChangePlan | None:
        guild = self.bot.get_guild(self.bot.guild_id)
        member = guild.get_member(user_id) if guild is not None else None
        if member is None:
            return None
        desired = await self.service.desired_tiers([user_id])
        if user_id not in desired:
            return None
        roles = [role.id for role in member.roles]
        return plan_roles(user_id, desired[user_id], roles, self.bot.settings)

    async def _edit_role(self, user_id: int, role_id: int, add: bool) -> EditOutcome:
        guild = self.bot.get_guild(self.bot.guild_id)
        member = guild.get_member(user_id) if guild is not None else None
        if member is None:
            return "gone"
        role = discord.Object(role_id)
        reason = "Flywheel ladder: tier changed"
        try:
            if add:
                await member.add_roles(role, reason=reason)
            else:
                await member.remove_roles(role, reason=reason)
        except discord.Forbidden:
            return "forbidden"
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_ROLE:
                log.error("ladder: tier role %s does not exist (check tiers[].role_id)", role_id)
                return "failed"
            return "gone"
        except discord.HTTPException as exc:
            log.warning("ladder: role edit for member %s failed: %s", user_id, exc)
            return "failed"
        return "done"

    def refused_text(self, guild: discord.Guild, role_id: int) -> str:
        """The moderators' alert for a refused role edit, with the fix (preflight's wording)."""
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

    async def _alert_refused(self, role_id: int) -> None:
        guild = self.bot.get_guild(self.bot.guild_id)
        if guild is None:
            return
        text = self.refused_text(guild, role_id)
        log.warning("ladder: %s", text.replace("\n", " "))
        await self._mod_log(text)

    async def _mod_log(self, text: str) -> bool:
        channel = self.bot.get_channel(self.bot.settings.channels.mod_log)
        if not isinstance(channel, discord.abc.Messageable):
            log.error("ladder: channels.mod_log is not a channel the bot can post in")
            return False
        try:
            await channel.send(_clip(text, 2000), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.error("ladder: could not post to channels.mod_log: %s", exc)
            return False
        return True

    # ------------------------------------------------------------------ telling members
    async def deliver(self, changes: Iterable[Change]) -> None:
        """Roles, announcement and DMs for each change; one failure never stops the rest."""
        for change in changes:
            try:
                await self._deliver(change)
            except Exception:
                log.exception("ladder: telling member %s about %s failed", change.user_id, change)

    async def _deliver(self, change: Change) -> None:
        if change.action in ("promote", "demote"):
            self.roles.enqueue([change.user_id])
        if change.action == "promote" and change.to_tier is not None:
            tier = self.bot.settings.tier(change.to_tier)
            if change.public:
                await self._announce(change.user_id, tier)
            await self._dm(change.user_id, **self.welcome(tier))
        elif change.action == "warn":
            await self._dm(change.user_id, content=self.at_risk_text(change))
        elif change.action == "demote":
            await self._dm(change.user_id, content=self.demotion_text(change))

    def _guild_name(self) -> str:
        guild = self.bot.get_guild(self.bot.guild_id)
        return discord.utils.escape_markdown(guild.name) if guild is not None else "the server"

    async def _announce(self, user_id: int, tier: TierConfig) -> None:
        channel = self.bot.get_channel(self.bot.settings.channels.announcements)
        if not isinstance(channel, discord.abc.Messageable):
            log.error("ladder: channels.announcements is not a channel the bot can post in")
            return
        try:
            await channel.send(
                f"🎉 <@{user_id}> is now {with_article(tier.name)}!",
                allowed_mentions=only(user_id),
            )
        except discord.HTTPException as exc:
            log.error("ladder: could not announce a promotion in channels.announcements: %s", exc)

    def welcome(self, tier: TierConfig) -> dict[str, Any]:
        """The welcome DM: the tier's message, benefits, commitment and resources."""
        embed = discord.Embed(
            title=f"Welcome, {tier.name}!",
            description=_clip(
                tier.welcome_message or f"You're now {with_article(tier.name)}.", 4096
            ),
            colour=discord.Colour.gold(),
        )
        if tier.benefits:
            embed.add_field(name="Benefits", value=_clip(tier.benefits, 1024), inline=False)
        if tier.commitment:
            embed.add_field(name="What we ask", value=_clip(tier.commitment, 1024), inline=False)
        if tier.resources:
            embed.add_field(
                name="Resources", value=_clip("\n".join(tier.resources), 1024), inline=False
            )
        return {
            "content": f"You're now {with_article(tier.name)} in {self._guild_name()}! 🎉",
            "embed": embed,
        }

    def at_risk_text(self, change: Change) -> str:
        name = self.service.tier_name(change.from_tier)
        lines = [
            f"Heads-up from {self._guild_name()}: your {name} tier is at risk.",
            _bullets(change.reasons),
            "Taking a break? A moderator can grant you a leave of absence, which pauses this.",
        ]
        return _clip("\n".join(lines), 2000)

    def demotion_text(self, change: Change) -> str:
        before = self.service.tier_name(change.from_tier)
        after = self.service.tier_name(change.to_tier)
        if change.actor_id is not None:
            return (
                f"A moderator changed your tier in {self._guild_name()} from {before} to {after}."
            )
        lines = [
            f"Your tier in {self._guild_name()} changed from {before} to {after}.",
            _bullets(change.reasons[1:] or change.reasons),
            "Thank you for everything you did; you can move up again any time.",
        ]
        return _clip("\n".join(lines), 2000)

    async def _dm(self, user_id: int, **message: Any) -> bool:
        """DM a member; a refusal (closed DMs, 50007) is logged and not retried."""
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(**message, allowed_mentions=NO_MENTIONS)
        except discord.Forbidden as exc:
            log.info("ladder: could not DM member %s (%s)", user_id, exc.text or exc.status)
            return False
        except discord.HTTPException as exc:
            log.warning("ladder: DM to member %s failed: %s", user_id, exc)
            return False
        return True

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
        local = when.astimezone(self.bot.settings.schedule.tz)
        return f"{local.day} {local:%b %Y}"

    def _require_tiers(self) -> None:
        if not self.bot.settings.tiers:
            raise UserFacingError(NO_TIERS)

    async def _reply_and_audit(
        self, interaction: discord.Interaction[Any], reply: str, audit: str
    ) -> None:
        await interaction.response.send_message(reply, ephemeral=True, allowed_mentions=NO_MENTIONS)
        if not await self._mod_log(audit):
            with contextlib.suppress(discord.HTTPException):
                await interaction.followup.send(MOD_LOG_FAILED, ephemeral=True)

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
        reason = reason.strip()
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
        self._spawn(self.deliver([change]))

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
        await self.reevaluate([target.id])
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
                f"**{self._day(entry.created_at)}** · {move} · {who}\n{_clip(entry.reason, 300)}"
            )
        embed = discord.Embed(
            title=f"Tier history of {member.display_name}"[:256],
            description=_clip("\n".join(lines), 4096),
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
        self.roles.retry_refused()
        queued, foreign = await self.reconcile_all()
        if queued:
            text = f"{queued} member(s) need tier role changes: queued, applied a few per second."
        else:
            text = "Every member's tier roles already match their tier."
        if foreign:
            text += (
                f" {foreign} member(s) wear tier roles Flywheel didn't give; they're left alone "
                "(put them on the ladder with /tier set)."
            )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: Flywheel) -> None:
    await bot.add_cog(Ladder(bot))
