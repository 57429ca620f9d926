"""The ladder running itself: evaluate after contributions, sweep daily, keep roles in step, tell.

``LadderService`` decides and stores; this service reacts. A contribution lands → the member is
evaluated → the tier role is queued (``RoleSyncQueue``), the promotion announced (unless the
member opted out), and a welcome, at-risk or demotion DM sent. Every Discord side effect goes
through :class:`~bot.services.effects.DiscordEffects`, so any feature (nominations, a moderator's
``/tier set``) gets the same news by calling :meth:`reevaluate` or :meth:`deliver`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta

from bot.config import Settings, TierConfig
from bot.core.embeds import EmbedField, EmbedSpec
from bot.core.text import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    MESSAGE_LIMIT,
    bullets,
    clip,
    with_article,
)
from bot.services.background import Background
from bot.services.contributions import Contributions
from bot.services.effects import DiscordEffects, EditOutcome
from bot.services.ladder import Change, LadderService, SweepReport
from bot.services.retry import RetryPolicy, retried
from bot.services.role_sync import RoleChangePlan, RoleSyncQueue, plan_roles

log = logging.getLogger(__name__)

#: Members named in the alert about failing role changes (the rest are counted).
STUCK_NAMES_SHOWN = 20

GOLD = 0xF1C40F
ROLE_REASON = "Flywheel ladder: tier changed"


class LadderAutomation:
    def __init__(
        self,
        ladder: LadderService,
        contributions: Contributions,
        effects: DiscordEffects,
        background: Background,
    ) -> None:
        self.ladder = ladder
        self.settings: Settings = ladder.settings
        self.effects = effects
        self.background = background
        self.roles = RoleSyncQueue(
            edit=self._edit_role, resolve=self._resolve, alert=self._alert, stuck=self._stuck
        )
        #: Set once the start-up sweep has run (tests and the demo wait for it).
        self.caught_up = asyncio.Event()
        #: A sweep that fails for a passing reason (a busy store) is tried again.
        self.sweep_retry = RetryPolicy()
        contributions.subscribe(self._contributions_changed)

    def start(self) -> None:
        self.roles.start()

    async def close(self) -> None:
        """Queued role edits are redone at the next start (the store says who needs what)."""
        await self.roles.stop()

    # ------------------------------------------------------------------ reactions
    async def _contributions_changed(self, guild_id: int, user_ids: frozenset[int]) -> None:
        if guild_id == self.ladder.guild_id and self.ladder.tiers:
            await self.reevaluate(user_ids)

    async def reevaluate(self, user_ids: Iterable[int]) -> list[Change]:
        """Evaluate members now; the decision is stored before this returns, the news follows."""
        changes = await self.ladder.evaluate(set(user_ids))
        if changes:
            self.spawn_delivery(changes)
        return changes

    def spawn_delivery(self, changes: Iterable[Change]) -> None:
        self.background.spawn(self.deliver(list(changes)), name="ladder-news")

    async def catch_up(self) -> None:
        """At start-up, once the members table knows who is here: the daily sweep if it was
        missed; else only the members credited since it ran (a restart costs a few
        evaluations, not a sweep of every member), then every tier role checked."""
        try:
            last = await self.ladder.last_sweep_at()
            if last is None or last < self._sweep_due():
                await self.run_sweep()
                return
            credited = await self.ladder.credited_since(last)
            if credited:
                await self.deliver(await self.ladder.evaluate(credited))
            await self.reconcile_all()
        finally:
            self.caught_up.set()

    def _sweep_due(self) -> datetime:
        """When the daily sweep was last due (its time today, or yesterday if not yet today)."""
        tz = self.settings.schedule.tz
        now = self.ladder.clock.now().astimezone(tz)
        due = datetime.combine(now.date(), self.settings.schedule.ladder_sweep, tzinfo=tz)
        return due if due <= now else due - timedelta(days=1)

    async def place_quietly(self, user_ids: Collection[int] | None = None) -> dict[str, int]:
        """Evaluate ``user_ids`` (everyone for None) after credit given in bulk (a backfill, an
        import): promotions get their roles through the paced queue but no announcement or DM
        each (the caller posts one summary); at-risk notices and demotions are told as the
        daily sweep tells them. Returns tier key -> members promoted into it."""
        if not self.settings.tiers:
            return {}
        if user_ids is None:
            changes: Sequence[Change] = (await self.ladder.sweep()).changes
        else:
            changes = await self.ladder.evaluate(user_ids)
        promoted = [c for c in changes if c.action == "promote"]
        self.roles.enqueue(c.user_id for c in promoted)
        others = [c for c in changes if c.action != "promote"]
        if others:
            self.spawn_delivery(others)
        return dict(Counter(c.to_tier for c in promoted if c.to_tier))

    def member_returned(self, user_id: int) -> None:
        """A member who comes back gets their tier roles back."""
        self.roles.enqueue([user_id])

    async def run_sweep(self) -> SweepReport | None:
        """The daily pass: every member evaluated, then every tier role checked."""
        if not self.ladder.tiers:
            return None
        try:
            report = await retried(
                self.ladder.sweep, what="the ladder sweep", policy=self.sweep_retry
            )
        except Exception as exc:
            log.exception("ladder: the sweep failed after every retry; it runs again tomorrow")
            await self.effects.mod_log(
                f"⚠️ **Tiers:** today's sweep failed ({type(exc).__name__}), even after "
                f"{self.sweep_retry.attempts} tries: nobody was promoted or demoted today.\n"
                "Fix: check that the database is reachable and not locked by another program; "
                "the sweep runs again at its next time, or restart me to run it now."
            )
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
        try:
            await self.ladder.record_sweep()
        except Exception:  # only /healthz reads it: the sweep itself is done
            log.warning("ladder: could not record the time of today's sweep", exc_info=True)
        return report

    async def reconcile_all(self) -> tuple[int, int]:
        """Queue every member whose tier roles differ from their tier.

        Returns (queued, members wearing tier roles the ladder never gave them: left alone,
        since a hand-given role is not the bot's to take away).
        """
        managed = self.settings.managed_role_ids
        everyone = self.effects.all_member_roles(managed)
        if not everyone:
            return 0, 0
        desired = await self.ladder.desired_tiers()
        queued: list[int] = []
        foreign = 0
        for user_id, roles in everyone.items():
            if user_id not in desired:
                foreign += bool(managed.intersection(roles))
                continue
            if not plan_roles(user_id, desired[user_id], roles, self.settings).empty:
                queued.append(user_id)
        self.roles.enqueue(queued)
        return len(queued), foreign

    # ------------------------------------------------------------------ roles
    async def _resolve(self, user_id: int) -> RoleChangePlan | None:
        roles = self.effects.member_roles(user_id)
        if roles is None:
            return None
        desired = await self.ladder.desired_tiers([user_id])
        if user_id not in desired:
            return None
        return plan_roles(user_id, desired[user_id], roles, self.settings)

    async def _edit_role(self, user_id: int, role_id: int, add: bool) -> EditOutcome:
        return await self.effects.edit_role(user_id, role_id, add=add, reason=ROLE_REASON)

    async def _alert(self, role_id: int) -> None:
        text = self.effects.role_refused_text(role_id)
        log.warning("ladder: %s", text.replace("\n", " "))
        await self.effects.mod_log(text)

    async def _stuck(self, user_ids: frozenset[int]) -> None:
        """Role changes Discord keeps failing (5xx, lasting 429s): who waits, that it retries."""
        shown = sorted(user_ids)[:STUCK_NAMES_SHOWN]
        names = ", ".join(f"<@{user_id}>" for user_id in shown)
        more = f" and {len(user_ids) - len(shown)} more" if len(user_ids) > len(shown) else ""
        text = (
            f"**Tier roles:** Discord keeps failing role changes for {len(user_ids)} "
            f"member(s): {names}{more}. Their tier is decided; I keep retrying, waiting longer "
            "each time, and they get their roles as soon as Discord accepts.\nIf this lasts, "
            "check https://discordstatus.com; `/tier sync` retries right away."
        )
        log.warning("ladder: %s", text.replace("\n", " "))
        await self.effects.mod_log(text)

    # ------------------------------------------------------------------ telling members
    async def deliver(self, changes: Iterable[Change]) -> None:
        """Every change's roles queued first, then each one's announcement and DMs; one failure
        never stops the rest. Queued one by one between messages, the last of a big sweep's
        promotions waited for its role behind every announcement and DM before it, paced by
        Discord's limits (and a role retry could overtake members not yet queued)."""
        changes = list(changes)
        self.roles.enqueue(c.user_id for c in changes if c.action in ("promote", "demote"))
        for change in changes:
            try:
                await self._tell(change)
            except Exception:
                log.exception("ladder: telling member %s about %s failed", change.user_id, change)

    async def _tell(self, change: Change) -> None:
        if change.action == "promote" and change.to_tier is not None:
            tier = self.settings.tier(change.to_tier)
            if change.public:
                await self.effects.post(
                    self.settings.channels.announcements,
                    f"🎉 <@{change.user_id}> is now {with_article(tier.name)}!",
                    mention=change.user_id,
                )
            text, card = self.welcome(tier)
            await self.effects.dm(change.user_id, text, embeds=[card])
        elif change.action == "warn":
            await self.effects.dm(change.user_id, self.at_risk_text(change))
        elif change.action == "demote":
            await self.effects.dm(change.user_id, self.demotion_text(change))

    def welcome(self, tier: TierConfig) -> tuple[str, EmbedSpec]:
        """The welcome DM: the tier's message, benefits, commitment and resources."""
        fields = [
            EmbedField(name, clip(value, EMBED_FIELD_LIMIT))
            for name, value in (
                ("Benefits", tier.benefits),
                ("What we ask", tier.commitment),
                ("Resources", "\n".join(tier.resources)),
            )
            if value
        ]
        card = EmbedSpec(
            title=f"Welcome, {tier.name}!",
            description=clip(
                tier.welcome_message or f"You're now {with_article(tier.name)}.",
                EMBED_DESCRIPTION_LIMIT,
            ),
            fields=tuple(fields),
            color=GOLD,
        )
        text = f"You're now {with_article(tier.name)} in {self.effects.guild_name()}! 🎉"
        return text, card

    def at_risk_text(self, change: Change) -> str:
        name = self.ladder.tier_name(change.from_tier)
        lines = [
            f"Heads-up from {self.effects.guild_name()}: your {name} tier is at risk.",
            bullets(change.reasons),
            "Taking a break? A moderator can grant you a leave of absence, which pauses this.",
        ]
        return clip("\n".join(lines), MESSAGE_LIMIT)

    def demotion_text(self, change: Change) -> str:
        guild = self.effects.guild_name()
        before = self.ladder.tier_name(change.from_tier)
        after = self.ladder.tier_name(change.to_tier)
        if change.actor_id is not None:
            return f"A moderator changed your tier in {guild} from {before} to {after}."
        lines = [
            f"Your tier in {guild} changed from {before} to {after}.",
            bullets(change.reasons[1:] or change.reasons),
            "Thank you for everything you did; you can move up again any time.",
        ]
        return clip("\n".join(lines), MESSAGE_LIMIT)
