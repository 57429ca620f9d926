"""Read-only totals over the ledger and the activity rollup, grouped in the database.

Totals are net of reversals: points are summed as recorded (a reversal is a negative row), and
a count is the number of positive rows minus the number of reversals of positive rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ActivityDay, Contribution, Member


@dataclass(frozen=True)
class Totals:
    count: int
    points: int


@dataclass(frozen=True)
class Standing:
    user_id: int
    points: int
    count: int


def _count() -> ColumnElement[int]:
    return func.sum(
        case(
            (and_(Contribution.reverses_id.is_(None), Contribution.points > 0), 1),
            (and_(Contribution.reverses_id.is_not(None), Contribution.points < 0), -1),
            else_=0,
        )
    )


class StatsRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def totals_by_kind(
        self, user_id: int, *, since: datetime | None = None
    ) -> dict[str, Totals]:
        """Count and points per kind for one member, optionally since a time."""
        stmt = (
            select(Contribution.kind, _count(), func.sum(Contribution.points))
            .where(Contribution.guild_id == self.guild_id, Contribution.user_id == user_id)
            .group_by(Contribution.kind)
        )
        if since is not None:
            stmt = stmt.where(Contribution.occurred_at >= since)
        rows = (await self.session.execute(stmt)).all()
        return {kind: Totals(int(count), int(points)) for kind, count, points in rows}

    async def active_days(self, user_id: int, *, since: date | None = None) -> int:
        """Days with at least one qualifying message, optionally on or after ``since``."""
        stmt = select(func.count()).where(
            ActivityDay.guild_id == self.guild_id,
            ActivityDay.user_id == user_id,
            ActivityDay.messages > 0,
        )
        if since is not None:
            stmt = stmt.where(ActivityDay.day >= since)
        return int(await self.session.scalar(stmt) or 0)

    async def hidden(self, user_ids: Collection[int], *, known_only: bool = False) -> set[int]:
        """Of ``user_ids``, those a leaderboard must not show now: opted out or departed (and,
        with ``known_only``, never seen by the members table). For a copy computed earlier."""
        if not user_ids:
            return set()
        rows = await self.session.execute(
            select(Member.user_id, Member.recognition_opt_out, Member.left_at).where(
                Member.guild_id == self.guild_id, Member.user_id.in_(list(user_ids))
            )
        )
        seen: set[int] = set()
        gone: set[int] = set()
        for user_id, opted_out, left_at in rows:
            seen.add(user_id)
            if opted_out or left_at is not None:
                gone.add(user_id)
        if known_only:
            gone |= set(user_ids) - seen
        return gone

    async def leaderboard(
        self,
        *,
        since: datetime | None,
        kind: str | None,
        limit: int,
        offset: int = 0,
        known_only: bool = False,
    ) -> list[Standing]:
        """Members by net points, highest first; opted-out and departed members left out.

        Departures are known here only once the member table records them; callers that know
        who is present filter the rows too, and callers that do not (the web) ask for
        ``known_only``: members the table has never seen are left out as well.
        """
        points = func.sum(Contribution.points).label("points")
        conditions = [Contribution.guild_id == self.guild_id]
        if since is not None:
            conditions.append(Contribution.occurred_at >= since)
        if kind is not None:
            conditions.append(Contribution.kind == kind)
        here = and_(Member.recognition_opt_out == false(), Member.left_at.is_(None))
        visible = here if known_only else or_(Member.user_id.is_(None), here)
        stmt = (
            select(Contribution.user_id, points, _count())
            .outerjoin(
                Member,
                and_(
                    Member.guild_id == Contribution.guild_id, Member.user_id == Contribution.user_id
                ),
            )
            .where(*conditions, visible)
            .group_by(Contribution.user_id)
            .having(func.sum(Contribution.points) > 0)
            .order_by(points.desc(), Contribution.user_id)
            .limit(limit)
            .offset(offset)
        )
        rows = (await self.session.execute(stmt)).all()
        return [Standing(int(user), int(total), int(count)) for user, total, count in rows]
