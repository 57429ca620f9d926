"""The backfill store on SQLite and PostgreSQL: a run keeps its window until it finishes,
checkpoints only move forward, staged messages are kept once and read back in time order, and
raised rollups never add to what the live bot counted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from db.models import ActivityDay, BackfillMessage
from db.repositories.activity import ActivityRepository
from db.repositories.backfill import BackfillRepository

GUILD, OTHER = 111111111111111111, 222222222222222222
ADA, BEA = 1001, 1002
NOW = datetime(2026, 10, 15, 16, tzinfo=UTC)
DAY = date(2026, 10, 1)


async def begin(sessions, *, now: datetime = NOW, guild: int = GUILD):
    async with sessions() as session, session.begin():
        run = await BackfillRepository(session, guild).begin(
            since=now - timedelta(days=180), until=now, now=now
        )
        return run.since, run.until


async def test_an_unfinished_run_keeps_its_window_and_a_finished_one_starts_afresh(sessions):
    first = await begin(sessions)
    assert await begin(sessions, now=NOW + timedelta(hours=2)) == first  # resumed
    async with sessions() as session, session.begin():
        repo = BackfillRepository(session, GUILD)
        await repo.advance(10, oldest=500, read=100, done=True)
        await repo.stage([(501, ADA, NOW - timedelta(days=1))])
        await repo.finish(NOW + timedelta(hours=3))
    async with sessions() as session:
        assert list(await session.scalars(select(BackfillMessage))) == []  # staged rows go
    later = NOW + timedelta(days=1)
    assert await begin(sessions, now=later) == (later - timedelta(days=180), later)
    async with sessions() as session:
        repo = BackfillRepository(session, GUILD)
        assert await repo.checkpoints() == {}  # a new run reads everything again
        run = await repo.run()
        assert run is not None and run.finished_at is None and run.messages_read == 0


async def test_checkpoints_move_down_and_add_up_per_guild(sessions):
    await begin(sessions)
    await begin(sessions, guild=OTHER)
    async with sessions() as session, session.begin():
        repo = BackfillRepository(session, GUILD)
        await repo.advance(10, oldest=900, read=100, done=False)
        await repo.advance(10, oldest=800, read=100, done=False)
        await repo.advance(10, oldest=None, read=0, done=True)  # the end keeps the cursor
        await repo.advance(20, oldest=None, read=0, done=True, problem="no history")
        await BackfillRepository(session, OTHER).advance(10, oldest=5, read=1, done=False)
    async with sessions() as session:
        repo = BackfillRepository(session, GUILD)
        marks = await repo.checkpoints()
        run = await repo.run()
    assert (marks[10].message_id, marks[10].messages_read, marks[10].done) == (800, 200, True)
    assert marks[20].problem == "no history" and marks[20].message_id is None
    assert run is not None and run.messages_read == 200


async def test_staged_messages_are_kept_once_and_read_in_time_order(sessions):
    await begin(sessions)
    rows = [
        (30, BEA, NOW - timedelta(minutes=1)),
        (10, ADA, NOW - timedelta(minutes=3)),
        (20, ADA, NOW - timedelta(minutes=3)),  # same moment: by id
    ]
    for _ in range(2):  # a page read again after a crash
        async with sessions() as session, session.begin():
            await BackfillRepository(session, GUILD).stage(rows)
    async with sessions() as session, session.begin():
        await BackfillRepository(session, OTHER).stage([(5, ADA, NOW)])
    staged: list = []
    while True:  # two at a time, each page after the last
        async with sessions() as session:
            page = await BackfillRepository(session, GUILD).staged_page(
                staged[-1] if staged else None, limit=2
            )
        if not page:
            break
        staged += page
    assert [(mid, uid) for mid, uid, _ in staged] == [(10, ADA), (20, ADA), (30, BEA)]
    assert staged[0][2] == NOW - timedelta(minutes=3)


async def test_raised_rollups_keep_the_larger_count_never_the_sum(sessions):
    async with sessions() as session, session.begin():
        await ActivityRepository(session, GUILD).add_messages({(ADA, DAY): 5, (BEA, DAY): 1})
    async with sessions() as session, session.begin():
        await BackfillRepository(session, GUILD).raise_rollups(
            {(ADA, DAY): 3, (BEA, DAY): 4, (ADA, DAY + timedelta(days=1)): 2}
        )
    async with sessions() as session:
        rows = {(r.user_id, r.day): r.messages for r in await session.scalars(select(ActivityDay))}
    assert rows == {(ADA, DAY): 5, (BEA, DAY): 4, (ADA, DAY + timedelta(days=1)): 2}
