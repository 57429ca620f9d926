"""Buddy volunteers and the pairings they take on (migration 0005)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ActivityDay, BuddyPair, BuddyVolunteer, Member, TierState
from db.upsert import insert_for


@dataclass(frozen=True)
class VolunteerRow:
    user_id: int
    active: int
    last_assigned_at: datetime | None


@dataclass(frozen=True)
class PairRow:
    id: int
    newcomer_id: int
    buddy_id: int
    assigned_at: datetime
    thread_id: int | None
    credited_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, row: BuddyPair) -> PairRow:
        return cls(
            row.id,
            row.newcomer_id,
            row.buddy_id,
            row.assigned_at,
            row.thread_id,
            row.credited_at,
            row.ended_at,
        )


@dataclass(frozen=True)
class OpenPairRow:
    """An open pairing with what settling it needs: is the newcomer here, were they active."""

    pair: PairRow
    newcomer_present: bool
    last_active_day: date | None


def _open() -> list[ColumnElement[bool]]:
    return [BuddyPair.credited_at.is_(None), BuddyPair.ended_at.is_(None)]


class BuddyRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    # ------------------------------------------------------------ volunteers
    async def opt_in(self, user_id: int, *, now: datetime) -> bool:
        """Volunteer; False if already one (the original opt-in time is kept)."""
        stmt = (
            insert_for(self.session, BuddyVolunteer)
            .values(guild_id=self.guild_id, user_id=user_id, opted_in_at=now)
            .on_conflict_do_nothing(index_elements=["guild_id", "user_id"])
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def opt_out(self, user_id: int) -> bool:
        result = await self.session.execute(
            delete(BuddyVolunteer).where(
                BuddyVolunteer.guild_id == self.guild_id, BuddyVolunteer.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def is_volunteer(self, user_id: int) -> bool:
        found = await self.session.scalar(
            select(BuddyVolunteer.user_id).where(
                BuddyVolunteer.guild_id == self.guild_id, BuddyVolunteer.user_id == user_id
            )
        )
        return found is not None

    async def available_volunteers(self) -> list[VolunteerRow]:
        """Volunteers who can take a newcomer now: still here and still on a tier.

        With their active pairings (neither credited nor ended) and their latest assignment.
        """
        load = (
            select(
                BuddyPair.buddy_id.label("buddy_id"),
                func.sum(case((and_(*_open()), 1), else_=0)).label("active"),
                func.max(BuddyPair.assigned_at).label("last_assigned_at"),
            )
            .where(BuddyPair.guild_id == self.guild_id)
            .group_by(BuddyPair.buddy_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(BuddyVolunteer.user_id, load.c.active, load.c.last_assigned_at)
            .join(
                TierState,
                and_(
                    TierState.guild_id == BuddyVolunteer.guild_id,
                    TierState.user_id == BuddyVolunteer.user_id,
                ),
            )
            .join(
                Member,
                and_(
                    Member.guild_id == BuddyVolunteer.guild_id,
                    Member.user_id == BuddyVolunteer.user_id,
                ),
            )
            .outerjoin(load, load.c.buddy_id == BuddyVolunteer.user_id)
            .where(
                BuddyVolunteer.guild_id == self.guild_id,
                TierState.tier_key.is_not(None),
                Member.left_at.is_(None),
            )
            .order_by(BuddyVolunteer.user_id)
        )
        return [VolunteerRow(user, int(active or 0), last) for user, active, last in rows]

    # ------------------------------------------------------------ pairings
    async def pair_of(self, newcomer_id: int) -> PairRow | None:
        row = await self.session.scalar(
            select(BuddyPair).where(
                BuddyPair.guild_id == self.guild_id, BuddyPair.newcomer_id == newcomer_id
            )
        )
        return PairRow.of(row) if row is not None else None

    async def get(self, pair_id: int) -> PairRow | None:
        row = await self.session.get(BuddyPair, pair_id)
        return PairRow.of(row) if row is not None and row.guild_id == self.guild_id else None

    async def create_pair(self, newcomer_id: int, buddy_id: int, *, now: datetime) -> PairRow:
        """Pair a newcomer with a buddy; a newcomer already paired keeps their pairing.

        Returns the newcomer's pairing either way (a replayed join creates nothing).
        """
        stmt = (
            insert_for(self.session, BuddyPair)
            .values(
                guild_id=self.guild_id, newcomer_id=newcomer_id, buddy_id=buddy_id, assigned_at=now
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "newcomer_id"])
        )
        await self.session.execute(stmt)
        pair = await self.pair_of(newcomer_id)
        assert pair is not None
        return pair

    async def set_thread(self, pair_id: int, thread_id: int) -> None:
        await self.session.execute(
            update(BuddyPair)
            .where(BuddyPair.guild_id == self.guild_id, BuddyPair.id == pair_id)
            .values(thread_id=thread_id)
        )

    async def active_count(self, buddy_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(BuddyPair)
            .where(BuddyPair.guild_id == self.guild_id, BuddyPair.buddy_id == buddy_id, *_open())
        )
        return int(count or 0)

    async def open_pairs(self) -> list[OpenPairRow]:
        """Every open pairing, oldest first, with the newcomer's presence and last active day."""
        last_day = (
            select(func.max(ActivityDay.day))
            .where(
                ActivityDay.guild_id == BuddyPair.guild_id,
                ActivityDay.user_id == BuddyPair.newcomer_id,
                ActivityDay.messages > 0,
            )
            .correlate(BuddyPair)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(BuddyPair, Member.left_at, Member.user_id, last_day)
            .outerjoin(
                Member,
                and_(
                    Member.guild_id == BuddyPair.guild_id, Member.user_id == BuddyPair.newcomer_id
                ),
            )
            .where(BuddyPair.guild_id == self.guild_id, *_open())
            .order_by(BuddyPair.assigned_at, BuddyPair.id)
        )
        return [
            OpenPairRow(PairRow.of(pair), member is not None and left_at is None, day)
            for pair, left_at, member, day in rows
        ]

    async def mark_credited(self, pair_id: int, *, now: datetime) -> bool:
        """Close a pairing with credit; False if it was already closed (credit it once)."""
        return await self._close(pair_id, credited_at=now)

    async def mark_ended(self, pair_id: int, *, now: datetime) -> bool:
        """Close a pairing without credit; False if it was already closed."""
        return await self._close(pair_id, ended_at=now)

    async def _close(self, pair_id: int, **values: datetime) -> bool:
        result = await self.session.execute(
            update(BuddyPair)
            .where(BuddyPair.guild_id == self.guild_id, BuddyPair.id == pair_id, *_open())
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
