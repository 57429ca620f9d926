"""A statement run with one call into the driver reads what SQLAlchemy's execution reads."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, case, func, select, update

from db.driver_statement import DriverStatement
from db.models import Member
from db.repositories.members import MemberRepository

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
