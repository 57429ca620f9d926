"""Daily message rollups, written in batches by the activity tracker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import Dialect, Insert, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver_statement import per_dialect
from db.models import ActivityDay
from db.upsert import insert_on


class ActivityRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def add_messages(self, counts: Mapping[tuple[int, date], int]) -> None:
        """Add ``counts[(user_id, day)]`` qualifying messages in one batched upsert.

        As plain tuples, many rows a statement (:class:`~db.driver_statement.DriverBatch`):
        the flush shares the event loop's process with ingestion, and on SQLite each row
        handed over singly (``executemany``, or a ``RETURNING`` row) waits for a busy loop.
        """
        rows = [(self.guild_id, user_id, day, n) for (user_id, day), n in counts.items() if n > 0]
        if not rows:
            return
        connection = await self.session.connection()
        await _add_messages(connection.dialect).execute(connection, rows)

    @staticmethod
    def prepare(dialect: Dialect) -> None:
        """Compile the rollup upsert for ``dialect`` now, at start-up, not in the first flush."""
        _add_messages(dialect).prepare()

    async def last_day(self) -> date | None:
        """The latest day with a counted message stored: where a catch-up from history starts."""
        return await self.session.scalar(
            select(func.max(ActivityDay.day)).where(ActivityDay.guild_id == self.guild_id)
        )

    async def member_days_since(self, since: date) -> list[tuple[int, date]]:
        """(member, day) for every day on or after ``since`` with a counted message."""
        rows = await self.session.execute(
            select(ActivityDay.user_id, ActivityDay.day).where(
                ActivityDay.guild_id == self.guild_id,
                ActivityDay.day >= since,
                ActivityDay.messages > 0,
            )
        )
        return [(user_id, day) for user_id, day in rows]

    async def remove_message(self, user_id: int, day: date) -> None:
        """Uncount one message (deleted soon after it was counted); never below zero."""
        await self.session.execute(
            update(ActivityDay)
            .where(
                ActivityDay.guild_id == self.guild_id,
                ActivityDay.user_id == user_id,
                ActivityDay.day == day,
                ActivityDay.messages > 0,
            )
            .values(messages=ActivityDay.messages - 1)
        )

    async def messages_on(self, user_id: int, day: date) -> int:
        value = await self.session.scalar(
            select(ActivityDay.messages).where(
                ActivityDay.guild_id == self.guild_id,
                ActivityDay.user_id == user_id,
                ActivityDay.day == day,
            )
        )
        return int(value or 0)

    async def active_days(self, user_id: int, *, since: date) -> list[date]:
        """Days on or after ``since`` with at least one qualifying message, oldest first."""
        rows = await self.session.scalars(
            select(ActivityDay.day)
            .where(
                ActivityDay.guild_id == self.guild_id,
                ActivityDay.user_id == user_id,
                ActivityDay.day >= since,
                ActivityDay.messages > 0,
            )
            .order_by(ActivityDay.day)
        )
        return list(rows)


def _rollup_upsert(dialect: str) -> Insert:
    """A member-day's count of messages grows."""
    stmt = insert_on(dialect, ActivityDay)
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=["guild_id", "user_id", "day"],
        set_={"messages": ActivityDay.messages + stmt.excluded.messages},
    )
    return upsert


_add_messages = per_dialect(_rollup_upsert, ("guild_id", "user_id", "day", "messages"))
