"""Referrals: attribute each join to an invite, then credit the inviter once the newcomer stays.

The invite cache lives here, in memory: Discord only tells us use counts, so each join is
judged by comparing a fresh fetch with the cache (``bot.core.referrals.attribute_join``).
Joins are serialised with a lock so two joins never compare against the same cache.

Decisions use ``referral_decision`` at join time (self-invites, rejoins and unattributed
joins are rejected at once) and again on every settlement run. The inviter does not have to
still be in the server: they brought someone who stayed, and the ledger is history. An
invite made by a bot credits nobody.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.referrals import (
    InviteState,
    ReferralCase,
    ReferralDecision,
    ReferralRules,
    attribute_join,
    referral_decision,
)
from bot.services.base import Service
from bot.services.contributions import Contributions
from db.models import Referral
from db.repositories.activity import ActivityRepository
from db.repositories.members import MemberRepository
from db.repositories.referrals import ReferralRepository

log = logging.getLogger(__name__)

#: A deleted invite that one more use would have exhausted stays a candidate this long: the
#: deletion may be Discord's, for the join whose event is still on its way.
DELETED_INVITE_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class InviteSnapshot:
    invites: Mapping[str, InviteState] = field(default_factory=dict)
    #: Uses of the vanity URL, when the guild has one.
    vanity_uses: int | None = None


InviteFetch = Callable[[], Awaitable[InviteSnapshot | None]]
"""Fetches the guild's invites now; None when Discord refused or failed."""


@dataclass(frozen=True)
class ReferralOutcome:
    referral_id: int
    invitee_id: int
    inviter_id: int | None
    attribution: str
    status: str
    reason: str | None


class ReferralService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        self.enabled = False
        self._cache = InviteSnapshot()
        self._deleted: dict[str, float] = {}
        self._invite_events = True
        self._join_lock = asyncio.Lock()
        self._settle_lock = asyncio.Lock()

    @property
    def rules(self) -> ReferralRules:
        config = self.settings.referrals
        return ReferralRules(config.min_days, config.min_active_days, config.grace_days)

    # ------------------------------------------------------------ invite cache
    def start(self, snapshot: InviteSnapshot, *, invite_events: bool = True) -> None:
        """Begin tracking from the invites as they are now.

        ``invite_events``: whether invite create/delete events reach the bot (Discord sends
        them only with Manage Channels). Without them a moderator's deletion of an invite one
        use short of its limit looks like the next join using it up, so a vanished invite then
        counts for no join: a missed credit rather than a wrong one.
        """
        self._cache = snapshot
        self._invite_events = invite_events
        self._deleted.clear()
        self.enabled = True

    def disable(self) -> None:
        self.enabled = False

    def invite_created(self, invite: InviteState) -> None:
        if self.enabled:
            self._cache = InviteSnapshot(
                {**self._cache.invites, invite.code: invite}, self._cache.vanity_uses
            )

    def invite_deleted(self, code: str) -> None:
        """Forget a deleted invite, unless its deletion may be the exhaustion by a join."""
        state = self._cache.invites.get(code)
        if not self.enabled or state is None:
            return
        if state.used_up_by_one_more():
            self._deleted[code] = self.clock.monotonic()
            return
        self._cache = InviteSnapshot(
            {c: s for c, s in self._cache.invites.items() if c != code}, self._cache.vanity_uses
        )

    # ------------------------------------------------------------------- joins
    async def record_join(
        self, invitee_id: int, *, is_rejoin: bool, is_bot: bool, fetch: InviteFetch
    ) -> ReferralOutcome | None:
        """Attribute a join and record it; None when tracking is off or it was recorded."""
        if not self.enabled:
            return None
        async with self._join_lock:
            now = self.clock.now()
            before = self._before()
            after = await fetch()
            if after is None:
                attribution = attribute_join({}, {}, now=now)  # "unknown": we cannot tell
            else:
                if not self._invite_events:
                    before = InviteSnapshot(
                        {c: s for c, s in before.invites.items() if c in after.invites},
                        before.vanity_uses,
                    )
                attribution = attribute_join(
                    before.invites,
                    after.invites,
                    vanity_before=before.vanity_uses,
                    vanity_after=after.vanity_uses,
                    now=now,
                )
                self._cache = after
                self._deleted.clear()
            async with self.sessions() as session, session.begin():
                referral = await ReferralRepository(session, self.guild_id).add(
                    invitee_id=invitee_id,
                    joined_at=now,
                    attribution=attribution.kind,
                    invite_code=attribution.code,
                    inviter_id=attribution.inviter_id,
                    candidates=attribution.candidates,
                    is_rejoin=is_rejoin,
                )
                if referral is None:
                    return None
                outcome = await self._decide(session, referral, now, invitee_is_bot=is_bot)
        await self._credited([outcome])
        return outcome

    def _before(self) -> InviteSnapshot:
        """The cache, minus invites deleted too long ago to be this join's."""
        stale = {
            code
            for code, when in self._deleted.items()
            if self.clock.monotonic() - when > DELETED_INVITE_GRACE_SECONDS
        }
        if not stale:
            return self._cache
        invites = {c: s for c, s in self._cache.invites.items() if c not in stale}
        return InviteSnapshot(invites, self._cache.vanity_uses)

    # -------------------------------------------------------------- settlement
    async def settle_pending(self, invitee_id: int | None = None) -> list[ReferralOutcome]:
        """Decide pending referrals (all, or one newcomer's) as of now; returns the decided."""
        decided: list[ReferralOutcome] = []
        async with self._settle_lock, self.sessions() as session, session.begin():
            now = self.clock.now()
            for referral in await ReferralRepository(session, self.guild_id).pending(invitee_id):
                outcome = await self._decide(session, referral, now)
                if outcome.status != "pending":
                    decided.append(outcome)
        await self._credited(decided)
        return decided

    async def _decide(
        self,
        session: AsyncSession,
        referral: Referral,
        now: datetime,
        *,
        invitee_is_bot: bool | None = None,
    ) -> ReferralOutcome:
        members = MemberRepository(session, self.guild_id)
        invitee = await members.get(referral.invitee_id)
        if invitee_is_bot is None:
            invitee_is_bot = invitee is not None and invitee.is_bot
        since = referral.joined_at.astimezone(self.settings.schedule.tz).date()
        active = await ActivityRepository(session, self.guild_id).active_days(
            referral.invitee_id, since=since
        )
        decision = referral_decision(
            ReferralCase(
                inviter_id=referral.inviter_id,
                invitee_id=referral.invitee_id,
                joined_at=referral.joined_at,
                still_member=invitee is not None and invitee.left_at is None,
                active_days=len(active),
                is_rejoin=referral.is_rejoin,
                invitee_is_bot=invitee_is_bot,
                now=now,
            ),
            self.rules,
        )
        if decision.outcome == "credit" and referral.inviter_id is not None:
            inviter = await members.get(referral.inviter_id)
            if inviter is not None and inviter.is_bot:
                decision = ReferralDecision("reject", "the invite was made by a bot")
        return await self._apply(session, referral, decision, now)

    async def _apply(
        self, session: AsyncSession, referral: Referral, decision: ReferralDecision, now: datetime
    ) -> ReferralOutcome:
        repo = ReferralRepository(session, self.guild_id)
        status = {"credit": "credited", "reject": "rejected"}.get(decision.outcome, "pending")
        claimed = status != "pending" and await repo.decide(
            referral.id, status=status, reason=decision.reason, now=now
        )
        if claimed and status == "credited" and referral.inviter_id is not None:
            contribution = await self.contributions.record(
                session,
                self.contributions.credit(
                    "referral",
                    referral.inviter_id,
                    f"referral:{referral.id}",
                    occurred_at=now,
                    reason=decision.reason,
                ),
            )
            row = await repo.get(referral.id)
            if contribution is not None and row is not None:
                row.contribution_id = contribution.id
        return ReferralOutcome(
            referral_id=referral.id,
            invitee_id=referral.invitee_id,
            inviter_id=referral.inviter_id,
            attribution=referral.attribution,
            status=status,
            reason=decision.reason,
        )

    async def _credited(self, outcomes: list[ReferralOutcome]) -> None:
        await self.contributions.changed(
            o.inviter_id for o in outcomes if o.status == "credited" and o.inviter_id is not None
        )
