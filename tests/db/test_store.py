"""Repositories against real SQLite and PostgreSQL databases."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import StatementError

from db import migrate
from db.engine import (
    create_engine,
    create_session_factory,
    create_what_if_engine,
    reading,
    what_if,
)
from db.models import ActivityDay, Contribution, Member
from db.repositories import (
    ActivityRepository,
    DuplicateNominationError,
    GuildSettingsRepository,
    LedgerRepository,
    MemberRepository,
    NominationRepository,
    ScheduledPostRepository,
    TierRepository,
)
from db.repositories.ledger import Credit
from db.types import NaiveDatetimeError
from tests.conftest import engine_for

GUILD = 111111111111111111
OTHER_GUILD = 222222222222222222
ALICE = 333333333333333333
BOB = 444444444444444444
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def credit(source: str, user: int = ALICE, kind: str = "answer", points: int = 10) -> Credit:
    return Credit(user_id=user, kind=kind, points=points, source_id=source, occurred_at=T0)


async def test_naive_datetime_is_rejected(sessions):
    async with sessions() as session:
        session.add(
            Member(
                guild_id=GUILD, user_id=ALICE, display_name="a", first_seen_at=datetime(2026, 1, 1)
            )
        )
        with pytest.raises(StatementError) as info:
            await session.flush()
        assert isinstance(info.value.orig, NaiveDatetimeError)


async def test_timestamps_come_back_aware_in_utc(sessions):
    berlin_noon = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    async with sessions() as session, session.begin():
        await MemberRepository(session, GUILD).seen(
            ALICE, display_name="alice", is_bot=False, now=berlin_noon
        )
    async with sessions() as session:
        member = await MemberRepository(session, GUILD).get(ALICE)
        assert member is not None
        assert member.first_seen_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
        assert member.first_seen_at.utcoffset() == timedelta(0)


async def test_every_time_is_stored_as_its_utc_time(sessions):
    """A UTC time and one from another zone are stored alike: as the UTC time (on SQLite, the
    text of its fields, with no zone: the form every stored row and comparison relies on)."""
    utc = datetime(2026, 6, 1, 10, 0, 0, 5, tzinfo=UTC)
    berlin = datetime(2026, 6, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    async with sessions() as session, session.begin():
        members = MemberRepository(session, GUILD)
        await members.seen(ALICE, display_name="alice", is_bot=False, now=utc)
        await members.seen(BOB, display_name="bob", is_bot=False, now=berlin)
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT first_seen_at FROM members WHERE guild_id = :g ORDER BY user_id"),
            {"g": GUILD},
        )
        stored = [value for (value,) in rows]
        if session.get_bind().dialect.name == "sqlite":
            assert stored == ["2026-06-01 10:00:00.000005"] * 2
        else:
            assert stored == [utc, utc]


async def test_ledger_credits_a_source_once(sessions):
    async with sessions() as session, session.begin():
        ledger = LedgerRepository(session, GUILD)
        first = await ledger.record(credit("thread:1"), now=T0)
        replay = await ledger.record(credit("thread:1"), now=T0 + timedelta(seconds=5))
        assert first is not None and first.points == 10
        assert replay is None
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Contribution))
        assert count == 1


async def test_record_many_inserts_new_credits_and_skips_repeats(sessions):
    async with sessions() as session, session.begin():
        ledger = LedgerRepository(session, GUILD)
        await ledger.record(credit("day:1"), now=T0)
        batch = [credit("day:1"), credit("day:2"), credit("day:3", user=BOB)]
        new = await ledger.record_many(batch, now=T0)
        assert [c.source_id for c in new] == ["day:2", "day:3"]
        assert await ledger.record_many([], now=T0) == []
        assert await ledger.points_by_kind(ALICE) == {"answer": 20}
        assert await ledger.points_by_kind(BOB) == {"answer": 10}


async def test_same_source_may_be_credited_in_another_guild_or_kind(sessions):
    async with sessions() as session, session.begin():
        assert await LedgerRepository(session, GUILD).record(credit("x:1"), now=T0)
        assert await LedgerRepository(session, OTHER_GUILD).record(credit("x:1"), now=T0)
        assert await LedgerRepository(session, GUILD).record(credit("x:1", kind="content"), now=T0)


async def test_reversal_is_a_visible_row_and_happens_once(sessions):
    async with sessions() as session, session.begin():
        ledger = LedgerRepository(session, GUILD)
        original = await ledger.record(credit("thread:9"), now=T0)
        assert original is not None
        reversal = await ledger.reverse(original, now=T0, actor_id=BOB, reason="answer moved")
        assert reversal is not None
        assert (reversal.points, reversal.reverses_id, reversal.actor_id) == (-10, original.id, BOB)
        assert await ledger.reverse(original, now=T0, actor_id=BOB, reason="again") is None
        assert (await ledger.reversal_of(original.id)).id == reversal.id
        assert await ledger.points_by_kind(ALICE) == {"answer": 0}


async def test_points_by_kind_respects_window_and_member(sessions):
    async with sessions() as session, session.begin():
        ledger = LedgerRepository(session, GUILD)
        old = Credit(ALICE, "answer", 10, "t:old", T0 - timedelta(days=100))
        await ledger.record(old, now=T0)
        await ledger.record(credit("t:new"), now=T0)
        await ledger.record(credit("c:1", kind="content", points=7), now=T0)
        await ledger.record(credit("t:bob", user=BOB), now=T0)
        assert await ledger.points_by_kind(ALICE) == {"answer": 20, "content": 7}
        recent = await ledger.points_by_kind(ALICE, since=T0 - timedelta(days=90))
        assert recent == {"answer": 10, "content": 7}


async def test_activity_rollup_upserts_add_up(sessions):
    day = date(2026, 11, 23)
    async with sessions() as session, session.begin():
        repo = ActivityRepository(session, GUILD)
        await repo.add_messages({(ALICE, day): 3, (BOB, day): 1})
        await repo.add_messages({(ALICE, day): 2, (ALICE, day + timedelta(days=1)): 1})
    async with sessions() as session, session.begin():
        repo = ActivityRepository(session, GUILD)
        assert await repo.messages_on(ALICE, day) == 5
        assert await repo.messages_on(BOB, day) == 1
        assert await repo.active_days(ALICE, since=day) == [day, day + timedelta(days=1)]
        rows = await session.scalar(select(func.count()).select_from(ActivityDay))
        assert rows == 3


async def test_activity_removal_never_goes_below_zero(sessions):
    day = date(2026, 11, 23)
    async with sessions() as session, session.begin():
        repo = ActivityRepository(session, GUILD)
        await repo.add_messages({(ALICE, day): 1})
        await repo.remove_message(ALICE, day)
        await repo.remove_message(ALICE, day)
        await repo.remove_message(BOB, day)  # nothing counted: nothing to remove
        assert await repo.messages_on(ALICE, day) == 0
        assert await repo.active_days(ALICE, since=day) == []


async def test_scheduled_post_is_claimed_once_per_period(sessions):
    async with sessions() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILD)
        claim = await posts.claim(kind="weekly", period="2026-W48", nonce="n1", now=T0)
        assert claim is not None and claim.state == "claimed"
        assert await posts.claim(kind="weekly", period="2026-W48", nonce="n2", now=T0) is None
        assert await posts.claim(kind="weekly", period="2026-W49", nonce="n3", now=T0)
        assert [p.period for p in await posts.unfinished()] == ["2026-W48", "2026-W49"]
        await posts.mark_posted(claim, channel_id=1, message_id=2, now=T0)
    async with sessions() as session:
        posts = ScheduledPostRepository(session, GUILD)
        done = await posts.get("weekly", "2026-W48")
        assert (done.state, done.message_id, done.posted_at) == ("posted", 2, T0)
        assert [p.period for p in await posts.unfinished()] == ["2026-W49"]


async def test_one_pending_nomination_per_member_and_tier(sessions):
    async with sessions() as session, session.begin():
        noms = NominationRepository(session, GUILD)
        first = await noms.create(
            nominee_id=ALICE, tier_key="advisor", nominated_by=BOB, reason="r", now=T0
        )
        with pytest.raises(DuplicateNominationError):
            await noms.create(
                nominee_id=ALICE, tier_key="advisor", nominated_by=BOB, reason="r", now=T0
            )
        # The failed insert rolled back only its savepoint: the first is intact.
        assert [n.id for n in await noms.with_status("pending")] == [first.id]
        assert await noms.decide(first, approve=False, decided_by=BOB, note="not yet", now=T0)
        assert not await noms.decide(first, approve=True, decided_by=BOB, note=None, now=T0)
        second = await noms.create(
            nominee_id=ALICE, tier_key="advisor", nominated_by=BOB, reason="r2", now=T0
        )
        assert second.id != first.id
        assert [n.status for n in await noms.with_status()] == ["rejected", "pending"]


async def test_tier_change_writes_the_audit_log(sessions):
    async with sessions() as session, session.begin():
        tiers = TierRepository(session, GUILD)
        state = await tiers.state_for_update(ALICE, now=T0)
        await tiers.change(state, to_tier="champion", reason="met all", actor_id=None, now=T0)
        later = T0 + timedelta(days=40)
        await tiers.change(state, to_tier="ambassador", reason="nominated", actor_id=BOB, now=later)
    async with sessions() as session:
        tiers = TierRepository(session, GUILD)
        state = await tiers.state(ALICE)
        assert (state.tier_key, state.tier_since) == ("ambassador", T0 + timedelta(days=40))
        history = [(c.from_tier, c.to_tier, c.actor_id) for c in await tiers.history(ALICE)]
        assert history == [(None, "champion", None), ("champion", "ambassador", BOB)]
        assert await TierRepository(session, OTHER_GUILD).history(ALICE) == []


async def test_member_leave_and_rejoin(sessions):
    async with sessions() as session, session.begin():
        members = MemberRepository(session, GUILD)
        await members.seen(ALICE, display_name="alice", is_bot=False, now=T0, joined_at=T0)
        await members.seen(BOB, display_name="bob", is_bot=False, now=T0)
        await members.left(ALICE, now=T0 + timedelta(days=1))
        assert await members.present_ids() == [BOB]
        rejoined = T0 + timedelta(days=2)
        await members.seen(
            ALICE, display_name="alice2", is_bot=False, now=rejoined, joined_at=rejoined
        )
        alice = await members.get(ALICE)
        assert (alice.display_name, alice.left_at, alice.joined_at) == ("alice2", None, rejoined)
        assert alice.first_seen_at == T0


async def test_guild_settings_overwrite(sessions):
    async with sessions() as session, session.begin():
        settings = GuildSettingsRepository(session, GUILD)
        assert await settings.get("commands_hash") is None
        await settings.set("commands_hash", "abc", now=T0)
        await settings.set("commands_hash", "def", now=T0)
        assert await settings.get("commands_hash") == "def"
        assert await GuildSettingsRepository(session, OTHER_GUILD).get("commands_hash") is None


async def test_sqlite_connection_pragmas(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    finally:
        await engine.dispose()


async def test_the_pool_hands_out_the_connection_returned_last(tmp_path):
    """After a sweep's readers return their connections, the next evaluation gets the one
    used last (a warm SQLite page cache), not the longest idle."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        first, second = await engine.connect(), await engine.connect()
        one = (await first.get_raw_connection()).driver_connection
        two = (await second.get_raw_connection()).driver_connection
        await first.close()
        await second.close()
        async with engine.connect() as again:
            assert (await again.get_raw_connection()).driver_connection is two
        assert one is not two
    finally:
        await engine.dispose()


async def test_each_database_gets_its_connection_settings(db_url):
    """SQLite its pragmas, PostgreSQL no JIT and SSD read costs, unless the caller says."""
    engine = engine_for(db_url)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
                return
            assert (await conn.execute(text("SHOW jit"))).scalar() == "off"
            assert (await conn.execute(text("SHOW random_page_cost"))).scalar() == "1.1"
    finally:
        await engine.dispose()
    own = create_engine(
        engine.url, connect_args={"server_settings": {"random_page_cost": "4", "jit": "on"}}
    )
    try:
        async with own.connect() as conn:
            assert (await conn.execute(text("SHOW random_page_cost"))).scalar() == "4"
            assert (await conn.execute(text("SHOW jit"))).scalar() == "on"
    finally:
        await own.dispose()


async def driver_rollbacks(connection) -> list[None]:
    """Every rollback the connection's aiosqlite connection is asked for from now on."""
    driver = (await connection.get_raw_connection()).driver_connection
    calls: list[None] = []
    rollback = driver.rollback

    async def counted() -> None:
        calls.append(None)
        await rollback()

    driver.rollback = counted
    return calls


async def test_a_sqlite_connection_that_began_nothing_goes_back_without_a_rollback(tmp_path):
    """A rollback is a trip to aiosqlite's thread: after a read at the driver, nothing is open
    and the pool's reset on return skips it."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.connect() as connection:
            calls = await driver_rollbacks(connection)
            driver = (await connection.get_raw_connection()).driver_connection
            assert await driver.execute_fetchall("SELECT 1") == [(1,)]
        assert calls == []
        async with engine.connect() as again:  # the same connection, LIFO
            assert (await again.get_raw_connection()).driver_connection is driver
    finally:
        await engine.dispose()


async def test_a_sqlite_connection_returned_with_a_transaction_open_is_rolled_back(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        async with engine.connect() as connection:
            calls = await driver_rollbacks(connection)
            driver = (await connection.get_raw_connection()).driver_connection
            await driver.execute("INSERT INTO t VALUES (1)")  # sqlite3 begins a transaction
            assert driver.in_transaction
        assert calls == [None]
        async with engine.connect() as again:
            driver = (await again.get_raw_connection()).driver_connection
            assert not driver.in_transaction
            assert await driver.execute_fetchall("SELECT count(*) FROM t") == [(0,)]
    finally:
        await engine.dispose()


async def test_reading_begins_nothing_on_the_engine_and_reads_a_what_ifs_writes(db_url):
    """Off the engine, a connection with no transaction to roll back; under a what-if, the
    what-if's own connection, which sees its uncommitted writes."""
    scratch = engine_for(db_url, factory=create_what_if_engine)
    try:
        await migrate.upgrade(scratch)
        async with reading(create_session_factory(scratch)) as connection:
            assert not connection.in_transaction()
        async with what_if(scratch) as inside:
            async with inside() as session, session.begin():
                await MemberRepository(session, GUILD).seen(
                    ALICE, display_name="alice", is_bot=False, now=T0
                )
            async with reading(inside) as connection:
                assert connection is inside.kw["bind"]
                found = await connection.scalar(
                    select(func.count()).select_from(Member).where(Member.user_id == ALICE)
                )
                assert found == 1
        async with scratch.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(Member)) == 0
    finally:
        await scratch.dispose()


async def test_reading_needs_an_engine_or_a_connection():
    from sqlalchemy.ext.asyncio import async_sessionmaker

    with pytest.raises(TypeError, match="expected an engine or a connection"):
        async with reading(async_sessionmaker()):
            pass
