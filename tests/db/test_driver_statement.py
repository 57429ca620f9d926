"""Statements run with one call into the driver read and write what SQLAlchemy's would."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, case, event, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from db.driver_statement import DriverBatch, DriverStatement
from db.faults import StoreFaults
from db.models import ChannelPresence, Member
from db.repositories.members import MemberRepository
from db.repositories.presence import PresenceRepository
from db.types import NaiveDatetimeError
from db.upsert import insert_on

GUILD = 111111111111111111
ADA, GRACE = 333333333333333333, 444444444444444444
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def member_read():
    """A bound member and time, each used more than once; a constant carried by the statement;
    a timestamp and a boolean to convert back."""
    since = bindparam("since", type_=Member.first_seen_at.type)
    return select(
        Member.user_id,
        Member.joined_at,
        Member.recognition_opt_out,
        case((Member.joined_at >= since, 1), else_=0),
        func.coalesce(Member.left_at, since),
    ).where(
        Member.guild_id == bindparam("guild", type_=Member.guild_id.type),
        Member.user_id == bindparam("user", type_=Member.user_id.type),
        Member.first_seen_at >= since,
    )


async def seed(sessions) -> None:
    async with sessions() as session, session.begin():
        repo = MemberRepository(session, GUILD)
        await repo.seen(ADA, display_name="ada", is_bot=False, now=T0, joined_at=T0)
        await repo.seen(GRACE, display_name="g", is_bot=False, now=T0, joined_at=T0 - timedelta(9))
        opted_out = update(Member).where(Member.guild_id == GUILD, Member.user_id == GRACE)
        await session.execute(opted_out.values(recognition_opt_out=True))


@pytest.mark.parametrize("user", [ADA, GRACE])
async def test_one_call_reads_what_sqlalchemy_reads(engine, sessions, user):
    await seed(sessions)
    statement = member_read()
    compiled = DriverStatement.compile(statement, engine.dialect)
    params = {"guild": GUILD, "user": user, "since": T0 - timedelta(days=1)}
    async with sessions() as session:
        expected = (await session.execute(statement, params)).one()
        got = await compiled.first(await session.connection(), params)
    assert got == tuple(expected)
    assert got is not None and got[1].tzinfo is UTC and isinstance(got[2], bool)


async def test_no_row_is_none(engine, sessions):
    await seed(sessions)
    compiled = DriverStatement.compile(member_read(), engine.dialect)
    async with sessions() as session:
        connection = await session.connection()
        assert await compiled.first(connection, {"guild": GUILD, "user": 1, "since": T0}) is None


async def test_it_sees_the_sessions_own_uncommitted_writes(engine, sessions):
    """On the session's connection, inside its transaction (a what-if's writes included)."""
    compiled = DriverStatement.compile(member_read(), engine.dialect)
    async with sessions() as session, session.begin():
        repo = MemberRepository(session, GUILD)
        await repo.seen(ADA, display_name="ada", is_bot=False, now=T0, joined_at=T0)
        await session.flush()
        params = {"guild": GUILD, "user": ADA, "since": T0}
        row = await compiled.first(await session.connection(), params)
        await session.rollback()
    assert row is not None and row[0] == ADA


def test_parameters_rendered_at_execution_are_refused(engine):
    statement = select(Member.user_id).where(Member.user_id.in_([ADA, GRACE]))
    with pytest.raises(ValueError, match="rendered at execution"):
        DriverStatement.compile(statement, engine.dialect)


# --- DriverBatch: many rows, many a statement -------------------------------------------------

PRESENCE = ("guild_id", "channel_id", "user_id", "last_message_at")
#: Times with and without microseconds, at the epoch's edge of a second, in another zone.
TIMES = [
    T0,
    T0 + timedelta(microseconds=1),
    T0 + timedelta(seconds=59, microseconds=999_999),
    datetime(2026, 11, 23, 14, 30, 0, 500_000, tzinfo=timezone(timedelta(hours=2))),
]


def presence_batch(engine) -> DriverBatch:
    return DriverBatch.compile(
        insert_on(engine.dialect.name, ChannelPresence), PRESENCE, engine.dialect
    )


async def stored_text(sessions, guild: int) -> list[tuple[int, str]]:
    """The stored times as the database holds them (text on SQLite), by channel."""
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT channel_id, CAST(last_message_at AS TEXT) FROM channel_presence "
                "WHERE guild_id = :guild ORDER BY channel_id"
            ),
            {"guild": guild},
        )
        return [tuple(row) for row in rows]


async def test_a_batch_stores_exactly_what_sqlalchemy_stores(engine, sessions):
    """Byte for byte: SQLite keeps times as text, and a differently formatted time would sort
    wrongly against the rows SQLAlchemy wrote."""
    other = GUILD + 1
    async with sessions() as session, session.begin():
        await session.execute(
            insert(ChannelPresence),
            [
                {"guild_id": GUILD, "channel_id": i, "user_id": ADA, "last_message_at": at}
                for i, at in enumerate(TIMES)
            ],
        )
        written = await presence_batch(engine).execute(
            await session.connection(), [(other, i, ADA, at) for i, at in enumerate(TIMES)]
        )
    assert written == len(TIMES)
    assert await stored_text(sessions, other) == await stored_text(sessions, GUILD)
    async with sessions() as session:
        read = await session.scalars(
            select(ChannelPresence.last_message_at)
            .where(ChannelPresence.guild_id == other)
            .order_by(ChannelPresence.channel_id)
        )
        assert list(read) == TIMES


async def test_a_batch_runs_in_the_sessions_transaction(engine, sessions):
    async with sessions() as session, session.begin():
        await presence_batch(engine).execute(await session.connection(), [(GUILD, 1, ADA, T0)])
        await session.rollback()
    assert await stored_text(sessions, GUILD) == []


async def test_a_batch_goes_through_sqlalchemy_s_events(engine, sessions):
    """So ``echo`` logs it and a test's injected store failure reaches it."""
    faults = StoreFaults.attach(engine)
    try:
        rule = faults.fail(match=r"INSERT INTO channel_presence")
        with pytest.raises(OperationalError, match="database is locked"):
            async with sessions() as session, session.begin():
                await presence_batch(engine).execute(
                    await session.connection(), [(GUILD, 1, ADA, T0)]
                )
        assert rule.hits == 1
    finally:
        faults.detach()


async def test_a_batch_rejects_a_naive_time_as_sqlalchemy_does(engine, sessions):
    async with sessions() as session, session.begin():
        with pytest.raises(NaiveDatetimeError):
            await presence_batch(engine).execute(
                await session.connection(), [(GUILD, 1, ADA, T0.replace(tzinfo=None))]
            )


async def test_an_empty_batch_sends_nothing(engine, sessions):
    faults = StoreFaults.attach(engine)
    try:
        rule = faults.fail(match=r"INSERT INTO channel_presence")
        async with sessions() as session, session.begin():
            assert await presence_batch(engine).execute(await session.connection(), []) == 0
        assert rule.hits == 0
    finally:
        faults.detach()


def test_a_batch_must_bind_the_columns_it_is_given_in_order(engine):
    statement = insert_on(engine.dialect.name, ChannelPresence)
    with pytest.raises(ValueError, match="binds"):
        DriverBatch.compile(statement, tuple(reversed(PRESENCE)), engine.dialect)


def test_a_row_of_the_wrong_width_is_refused(engine):
    with pytest.raises(ValueError):
        presence_batch(engine).rows([(GUILD, 1, ADA)])


async def test_a_long_batch_goes_as_few_multi_row_statements_and_stores_every_row(engine, sessions):
    """587 rows: one statement of 512, one of 64, one of 8 and three of one; not 587
    (on SQLite each statement's step, and so each row of an ``executemany``, waits for a busy
    event loop to hand back the interpreter lock)."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("INSERT INTO channel_presence"):
            statements.append(statement)
            assert not executemany

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        rows = [(GUILD, channel, ADA, T0 + timedelta(seconds=channel)) for channel in range(587)]
        async with sessions() as session, session.begin():
            connection = await session.connection()
            assert await presence_batch(engine).execute(connection, rows) == 587
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert [statement.count("), (") + 1 for statement in statements] == [512, 64, 8, 1, 1, 1]
    async with sessions() as session:
        stored = await session.execute(
            select(ChannelPresence.channel_id, ChannelPresence.last_message_at)
            .where(ChannelPresence.guild_id == GUILD)
            .order_by(ChannelPresence.channel_id)
        )
        assert [tuple(row) for row in stored] == [(channel, at) for _, channel, _, at in rows]


async def test_a_batch_upserts_rows_already_stored(sessions):
    """The multi-row statement keeps the upsert's rule: the later time wins, either way."""
    async with sessions() as session, session.begin():
        await PresenceRepository(session, GUILD).record({(1, ADA): T0, (2, ADA): T0})
    later, earlier = T0 + timedelta(minutes=5), T0 - timedelta(minutes=5)
    async with sessions() as session, session.begin():
        await PresenceRepository(session, GUILD).record({(1, ADA): later, (2, ADA): earlier})
    async with sessions() as session:
        stored = await session.execute(
            select(ChannelPresence.channel_id, ChannelPresence.last_message_at)
            .where(ChannelPresence.guild_id == GUILD)
            .order_by(ChannelPresence.channel_id)
        )
        assert [tuple(row) for row in stored] == [(1, later), (2, T0)]
