"""Manual corrections by moderators: add points with a reason, or remove a contribution.

Nothing is ever deleted: an addition is a ledger row that names its moderator and reason, and a
removal is a reversal row that does the same, so every score can be explained afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.member_input import required
from db.models import Contribution
from db.repositories.ledger import LedgerRepository

MAX_POINTS = 1000
REASON_MIN, REASON_MAX = 3, 300

ALREADY_RECORDED = "That adjustment was already recorded."


@dataclass(frozen=True)
class MemberRef:
    """Who the points are for, as far as Discord knows right now."""

    user_id: int
    in_guild: bool
    is_bot: bool


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    user_id: int
    kind: str
    points: int
    source_id: str
    actor_id: int | None
    reason: str | None

    @classmethod
    def of(cls, row: Contribution) -> LedgerEntry:
        return cls(
            id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            points=row.points,
            source_id=row.source_id,
            actor_id=row.actor_id,
            reason=row.reason,
        )


@dataclass(frozen=True)
class Removal:
    original: LedgerEntry
    reversal: LedgerEntry


def clean_reason(raw: str) -> str:
    return required(raw, what="reason", low=REASON_MIN, high=REASON_MAX)


class AdjustmentService(Service):
    async def add(
        self,
        *,
        actor_id: int,
        member: MemberRef,
        kind: str,
        points: int,
        reason: str,
        request_id: int,
    ) -> LedgerEntry:
        """Credit ``points`` of ``kind``; a replayed ``request_id`` (interaction) is refused."""
        if self.settings.kinds.find(kind) is None:
            raise UserFacingError(f"Unknown contribution kind {kind!r}.")
        if points == 0:
            raise UserFacingError(
                "Points must not be zero: use a negative number to take points away."
            )
        if not -MAX_POINTS <= points <= MAX_POINTS:
            raise UserFacingError(f"Points must be between -{MAX_POINTS} and {MAX_POINTS}.")
        clean = clean_reason(reason)
        if not member.in_guild:
            raise UserFacingError("That member is not in this server.")
        if member.is_bot:
            raise UserFacingError("Bots can't receive contributions.")
        credit = self.contributions.credit(
            kind,
            member.user_id,
            f"manual:{request_id}",
            actor_id=actor_id,
            reason=clean,
            points=points,
        )
        async with self.sessions() as session, session.begin():
            row = await self.contributions.record(session, credit)
            if row is None:
                raise UserFacingError(ALREADY_RECORDED)
            entry = LedgerEntry.of(row)
        await self.contributions.changed({entry.user_id})
        return entry

    async def remove(self, *, actor_id: int, contribution_id: int, reason: str) -> Removal:
        """Reverse one contribution of this guild, once; reversals themselves stay put."""
        clean = clean_reason(reason)
        async with self.sessions() as session, session.begin():
            ledger = LedgerRepository(session, self.guild_id)
            original = await ledger.get(contribution_id)
            if original is None:
                raise UserFacingError(f"There is no contribution #{contribution_id} here.")
            if original.reverses_id is not None:
                raise UserFacingError(
                    f"Contribution #{contribution_id} is itself a removal; it can't be removed."
                )
            reversal = await self.contributions.reverse(
                session, original, actor_id=actor_id, reason=clean
            )
            if reversal is None:
                earlier = await ledger.reversal_of(contribution_id)
                where = f" (by #{earlier.id})" if earlier is not None else ""
                raise UserFacingError(
                    f"Contribution #{contribution_id} was already removed{where}."
                )
            result = Removal(LedgerEntry.of(original), LedgerEntry.of(reversal))
        await self.contributions.changed({result.original.user_id})
        return result
