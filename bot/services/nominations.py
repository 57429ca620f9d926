"""Nominations: a moderator proposes a member for a tier, another click decides it.

Some tiers (``nomination_required``) are reached only with an approved nomination; for the
others a nomination is a moderator's way of saying "look at this member". Approval does not
bypass the minimums: it is recorded, the ladder re-evaluates the member at once (promoting them
if everything else is met) and otherwise the ladder applies it later, when the minimums are met.

Who is told what: the nominee hears only good news (an approval), never that they were proposed
or turned down; a rejection's reason goes to the card (and the nominator), where moderators
discuss it. That keeps a "no, not yet" from reading like a public verdict on a volunteer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings, TierConfig
from bot.errors import UserFacingError
from bot.services.base import StoreService
from bot.services.member_input import required
from db.models import Nomination
from db.repositories.nominations import DuplicateNominationError, NominationRepository
from db.repositories.tiers import TierRepository

REASON_MIN, REASON_MAX = 1, 500
STATUSES = ("pending", "approved", "rejected", "withdrawn")

NO_TIERS = "No tiers are configured, so there is nothing to nominate for."
BOT_NOMINEE = "Bots can't be nominated."
NOT_A_MEMBER = "That person isn't a member of this server, so they can't be nominated."
SELF_NOMINATION = "You can't nominate yourself; ask another moderator to."
NO_SUCH_NOMINATION = "That nomination no longer exists."
OWN_NOMINATION = "You can't decide on your own nomination; another moderator will."
REASON_LENGTH = f"The reason must be {REASON_MIN} to {REASON_MAX} characters long."


@dataclass(frozen=True)
class Nominee:
    """The member being nominated, as Discord resolved them."""

    user_id: int
    name: str
    is_bot: bool
    in_guild: bool


@dataclass(frozen=True)
class NominationInfo:
    """A nomination as the cog renders it."""

    id: int
    nominee_id: int
    tier_key: str
    tier_name: str
    nominated_by: int
    reason: str
    status: str
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str | None
    applied_at: datetime | None
    review_channel_id: int | None
    review_message_id: int | None

    @classmethod
    def of(cls, row: Nomination, tier_name: str) -> NominationInfo:
        return cls(
            id=row.id,
            nominee_id=row.nominee_id,
            tier_key=row.tier_key,
            tier_name=tier_name,
            nominated_by=row.nominated_by,
            reason=row.reason,
            status=row.status,
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            decision_note=row.decision_note,
            applied_at=row.applied_at,
            review_channel_id=row.review_channel_id,
            review_message_id=row.review_message_id,
        )


Outcome = Literal["promoted", "waiting", "rejected", "undecided"]


@dataclass(frozen=True)
class Decided:
    """The result of a click. ``decided_now`` is False when someone had already decided.

    ``outcome`` after an approval: ``promoted`` (the nominee now holds the tier or a higher one)
    or ``waiting`` (recorded; ``missing`` names the minimums still unmet).
    """

    nomination: NominationInfo
    decided_now: bool
    outcome: Outcome = "undecided"
    missing: tuple[str, ...] = ()


Reevaluate = Callable[[frozenset[int]], Awaitable[object]]
"""Re-evaluate members on the ladder now, applying (and announcing) any promotion."""


class Standing(Protocol):
    """What a member still misses for one tier (descriptions of unmet criteria)."""

    async def missing(self, user_id: int, tier_key: str) -> tuple[str, ...]: ...


def clean_reason(raw: str) -> str:
    return required(raw, what="reason", low=REASON_MIN, high=REASON_MAX)


class NominationService(StoreService):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        *,
        reevaluate: Reevaluate,
        standing: Standing | None = None,
    ) -> None:
        super().__init__(sessions, settings, clock)
        self.reevaluate = reevaluate
        self.standing = standing

    # ------------------------------------------------------------------ tiers
    def tier(self, key: str) -> TierConfig:
        """The configured tier ``key`` (matched on key or name, any case) or a clear refusal."""
        tiers = self.settings.tiers
        if not tiers:
            raise UserFacingError(NO_TIERS)
        wanted = key.strip().casefold()
        for tier in tiers:
            if wanted in (tier.key, tier.name.casefold()):
                return tier
        names = ", ".join(tier.name for tier in tiers)
        raise UserFacingError(f"There is no tier called {key.strip()!r}. Tiers: {names}.")

    def tier_name(self, key: str) -> str:
        for tier in self.settings.tiers:
            if tier.key == key:
                return tier.name
        return key  # a tier removed from the config since: show its key

    def _info(self, row: Nomination) -> NominationInfo:
        return NominationInfo.of(row, self.tier_name(row.tier_key))

    def _rank(self, key: str | None) -> int:
        """Position on the ladder (0 = lowest); -1 for no tier or one no longer configured."""
        keys = self.settings.tier_keys
        return keys.index(key) if key in keys else -1

    # ------------------------------------------------------------------ nominate
    async def nominate(
        self, nominee: Nominee, tier_key: str, *, nominated_by: int, reason: str
    ) -> NominationInfo:
        """Record a pending nomination, or refuse with the reason (UserFacingError)."""
        tier = self.tier(tier_key)
        if nominee.is_bot:
            raise UserFacingError(BOT_NOMINEE)
        if not nominee.in_guild:
            raise UserFacingError(NOT_A_MEMBER)
        if nominee.user_id == nominated_by:
            raise UserFacingError(SELF_NOMINATION)
        text = clean_reason(reason)
        async with self.sessions() as session, session.begin():
            state = await TierRepository(session, self.guild_id).state(nominee.user_id)
            held = state.tier_key if state is not None else None
            if self._rank(held) >= self._rank(tier.key):
                assert held is not None
                above = f", above {tier.name}" if held != tier.key else ""
                raise UserFacingError(
                    f"{nominee.name} already holds {self.tier_name(held)}{above}."
                )
            repo = NominationRepository(session, self.guild_id)
            try:
                row = await repo.create(
                    nominee_id=nominee.user_id,
                    tier_key=tier.key,
                    nominated_by=nominated_by,
                    reason=text,
                    now=self.clock.now(),
                )
            except DuplicateNominationError:
                pending = await self._pending(repo, nominee.user_id, tier.key)
                number = f" (#{pending.id})" if pending is not None else ""
                raise UserFacingError(
                    f"{nominee.name} already has a pending nomination for {tier.name}{number}."
                ) from None
            return self._info(row)

    @staticmethod
    async def _pending(
        repo: NominationRepository, nominee_id: int, tier_key: str
    ) -> Nomination | None:
        for row in await repo.with_status("pending"):
            if row.nominee_id == nominee_id and row.tier_key == tier_key:
                return row
        return None

    async def card_posted(self, nomination_id: int, channel_id: int, message_id: int) -> None:
        async with self.sessions() as session, session.begin():
            row = await NominationRepository(session, self.guild_id).get(nomination_id)
            if row is not None:
                row.review_channel_id = channel_id
                row.review_message_id = message_id

    async def get(self, nomination_id: int) -> NominationInfo | None:
        async with self.sessions() as session:
            row = await NominationRepository(session, self.guild_id).get(nomination_id)
            return None if row is None else self._info(row)

    async def listing(self, status: str | None) -> list[NominationInfo]:
        """Nominations with ``status`` (all when None), newest first."""
        async with self.sessions() as session:
            rows = await NominationRepository(session, self.guild_id).with_status(status)
            return [self._info(row) for row in reversed(rows)]

    async def pending_without_card(self) -> list[NominationInfo]:
        return [n for n in await self.listing("pending") if n.review_message_id is None]

    # ------------------------------------------------------------------ decide
    async def check_decidable(self, nomination_id: int, moderator_id: int) -> Decided:
        """Before asking for a rejection reason: is there still something to decide?"""
        async with self.sessions() as session:
            row = await self._decidable(session, nomination_id, moderator_id)
            return Decided(self._info(row), decided_now=row.status == "pending")

    async def approve(self, nomination_id: int, moderator_id: int) -> Decided:
        """Approve once, then let the ladder promote the nominee if the minimums are met."""
        # Two moderators clicking at once: the repository's conditional UPDATE lets one win.
        decided = await self._decide(nomination_id, moderator_id, approve=True, note=None)
        if not decided.decided_now:
            return decided
        nomination = decided.nomination
        await self.reevaluate(frozenset({nomination.nominee_id}))
        return await self.outcome(nomination.id)

    async def outcome(self, nomination_id: int) -> Decided:
        """Where an approved nomination stands: applied (promoted) or waiting for minimums."""
        async with self.sessions() as session:
            row = await NominationRepository(session, self.guild_id).get(nomination_id)
            if row is None:
                raise UserFacingError(NO_SUCH_NOMINATION)
            state = await TierRepository(session, self.guild_id).state(row.nominee_id)
            info = self._info(row)
        held = state.tier_key if state is not None else None
        if row.status != "approved":
            return Decided(info, decided_now=True, outcome="rejected")
        if self._rank(held) >= self._rank(row.tier_key) >= 0:
            return Decided(info, decided_now=True, outcome="promoted")
        missing = (
            await self.standing.missing(row.nominee_id, row.tier_key)
            if self.standing is not None
            else ()
        )
        return Decided(info, decided_now=True, outcome="waiting", missing=missing)

    async def reject(self, nomination_id: int, moderator_id: int, reason: str) -> Decided:
        note = clean_reason(reason)
        decided = await self._decide(nomination_id, moderator_id, approve=False, note=note)
        if not decided.decided_now:
            return decided
        return Decided(decided.nomination, decided_now=True, outcome="rejected")

    async def _decide(
        self, nomination_id: int, moderator_id: int, *, approve: bool, note: str | None
    ) -> Decided:
        async with self.sessions() as session, session.begin():
            row = await self._decidable(session, nomination_id, moderator_id)
            repo = NominationRepository(session, self.guild_id)
            decided_now = await repo.decide(
                row, approve=approve, decided_by=moderator_id, note=note, now=self.clock.now()
            )
            return Decided(self._info(row), decided_now=decided_now)

    async def _decidable(
        self, session: AsyncSession, nomination_id: int, moderator_id: int
    ) -> Nomination:
        row = await NominationRepository(session, self.guild_id).get(nomination_id)
        if row is None:
            raise UserFacingError(NO_SUCH_NOMINATION)
        if row.status == "pending" and row.nominee_id == moderator_id:
            raise UserFacingError(OWN_NOMINATION)
        return row
