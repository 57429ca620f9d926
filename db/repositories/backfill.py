"""History backfill state: the run's window, per-channel checkpoints, staged messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ActivityDay, BackfillChannel, BackfillMessage, BackfillRun
from db.upsert import insert_for

#: (message id, author id, created at) of a message awaiting the cooldown.
Staged = tuple[int, int, datetime]


class BackfillRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    # --- the run -------------------------------------------------------------------------------

    async def run(self) -> BackfillRun | None:
        return await self.session.get(BackfillRun, self.guild_id, populate_existing=True)

    async def begin(self, *, since: datetime, until: datetime, now: datetime) -> BackfillRun:
        """The unfinished run if there is one (its window is kept), else a new one.

        A finished run is replaced, with its checkpoints: a new backfill reads history again
        (what it credits again, the ledger ignores)."""
        run = await self.run()
        if run is not None and run.finished_at is None:
            return run
        await self.session.execute(
            delete(BackfillChannel).where(BackfillChannel.guild_id == self.guild_id)
        )
        await self.session.execute(
            delete(BackfillMessage).where(BackfillMessage.guild_id == self.guild_id)
        )
        if run is None:
            run = BackfillRun(guild_id=self.guild_id, since=since, until=until, started_at=now)
            self.session.add(run)
        else:
            run.since, run.until, run.started_at = since, until, now
            run.finished_at, run.messages_read = None, 0
        await self.session.flush()
        return run

    async def finish(self, now: datetime) -> None:
        await self.session.execute(
            update(BackfillRun).where(BackfillRun.guild_id == self.guild_id).values(finished_at=now)
        )
        await self.session.execute(
            delete(BackfillMessage).where(BackfillMessage.guild_id == self.guild_id)
        )

    # --- checkpoints ---------------------------------------------------------------------------

    async def checkpoints(self) -> dict[int, BackfillChannel]:
        rows = await self.session.scalars(
            select(BackfillChannel).where(BackfillChannel.guild_id == self.guild_id)
        )
        return {row.channel_id: row for row in rows}

    async def advance(
        self,
        channel_id: int,
        *,
        oldest: int | None,
        read: int,
        done: bool,
        problem: str | None = None,
    ) -> None:
        """Move a channel's checkpoint past ``read`` more messages (down to ``oldest``)."""
        stmt = insert_for(self.session, BackfillChannel).values(
            guild_id=self.guild_id,
            channel_id=channel_id,
            message_id=oldest,
            done=done,
            messages_read=read,
            problem=problem,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "channel_id"],
                set_={
                    "message_id": func.coalesce(
                        stmt.excluded.message_id, BackfillChannel.message_id
                    ),
                    "done": stmt.excluded.done,
                    "messages_read": BackfillChannel.messages_read + stmt.excluded.messages_read,
                    "problem": stmt.excluded.problem,
                },
            )
        )
        if read:
            await self.session.execute(
                update(BackfillRun)
                .where(BackfillRun.guild_id == self.guild_id)
                .values(messages_read=BackfillRun.messages_read + read)
            )

    # --- staged messages -----------------------------------------------------------------------

    async def stage(self, messages: Iterable[Staged]) -> None:
        """Keep messages for the cooldown pass; a page read twice (after a crash) adds nothing."""
        rows = [
            {"guild_id": self.guild_id, "message_id": mid, "user_id": uid, "created_at": at}
            for mid, uid, at in messages
        ]
        if rows:
            stmt = insert_for(self.session, BackfillMessage).on_conflict_do_nothing(
                index_elements=["guild_id", "message_id"]
            )
            await self.session.execute(stmt, rows)

    async def staged_page(self, after: Staged | None, *, limit: int = 20_000) -> list[Staged]:
        """The next ``limit`` staged messages after ``after``, oldest first (ties by id, as
        Discord orders them). Pages rather than one open cursor: the caller writes between
        pages, and a what-if's sessions share one connection, where a reader's savepoint left
        open around those writes would take them with it when it closes."""
        stmt = select(
            BackfillMessage.message_id, BackfillMessage.user_id, BackfillMessage.created_at
        ).where(BackfillMessage.guild_id == self.guild_id)
        if after is not None:
            mid, _, at = after
            stmt = stmt.where(
                or_(
                    BackfillMessage.created_at > at,
                    and_(BackfillMessage.created_at == at, BackfillMessage.message_id > mid),
                )
            )
        stmt = stmt.order_by(BackfillMessage.created_at, BackfillMessage.message_id).limit(limit)
        return [(mid, uid, at) for mid, uid, at in (await self.session.execute(stmt)).all()]

    # --- rollups -------------------------------------------------------------------------------

    async def raise_rollups(self, counts: Mapping[tuple[int, date], int]) -> None:
        """Make each member-day at least the backfilled count: never added to what the live
        bot counted for the same day, so no message is counted twice."""
        rows = [
            {"guild_id": self.guild_id, "user_id": user_id, "day": day, "messages": n}
            for (user_id, day), n in counts.items()
            if n > 0
        ]
        if not rows:
            return
        stmt = insert_for(self.session, ActivityDay)
        larger = case(
            (stmt.excluded.messages > ActivityDay.messages, stmt.excluded.messages),
            else_=ActivityDay.messages,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "user_id", "day"], set_={"messages": larger}
            ),
            rows,
        )
