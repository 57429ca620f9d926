"""Community leases (migration 0013) on a real PostgreSQL database, the one engine that
serves several processes (SQLite serves one: ``tests/test_leases.py``).

Lease times are the database's own clock, so the expiries here are real seconds, kept short.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.leases import Leases
from db.engine import create_session_factory
from db.models import ScheduledPost
from db.repositories import ScheduledPostRepository
from db.repositories.leases import FENCE, Fence, LeaseLost, LeaseRepository

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

GUILDS = (111111111111111111, 222222222222222222)
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
SHORT = timedelta(seconds=1)


async def take(engine: AsyncEngine, holder: str, ttl: timedelta = SHORT) -> dict[int, int] | None:
    async with create_session_factory(engine)() as session, session.begin():
        repo = LeaseRepository(session)
        if await repo.holders(GUILDS, holder):
            return None
        return await repo.take(GUILDS, holder, ttl)


async def test_a_live_lease_is_taken_by_one_process_then_by_the_next_once_it_expires(engine):
    assert await take(engine, "a") == dict.fromkeys(GUILDS, 1)
    assert await take(engine, "b") is None  # a is alive
    assert await take(engine, "a") == dict.fromkeys(GUILDS, 2)  # a again: renewed, epoch up
    await asyncio.sleep(1.2)
    assert await take(engine, "b") == dict.fromkeys(GUILDS, 3)
    async with create_session_factory(engine)() as session, session.begin():
        assert await LeaseRepository(session).renew(GUILDS, "a", SHORT) == set()
        assert await LeaseRepository(session).renew(GUILDS, "b", SHORT) == set(GUILDS)


async def test_leases_are_taken_all_or_none(engine):
    async with create_session_factory(engine)() as session, session.begin():
        assert await LeaseRepository(session).take(GUILDS[:1], "a", timedelta(minutes=1))
    leases = Leases(engine, GUILDS, holder="b")
    [held] = await leases.take()
    assert held.guild_id == GUILDS[0] and held.holder == "a"
    async with create_session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(ScheduledPost)) == 0
        taken = await LeaseRepository(session).holders(GUILDS, "a")
    assert taken == []  # b took nothing, not even the free one


async def test_a_released_lease_is_free_at_once(engine):
    first = Leases(engine, GUILDS, holder="a")
    assert await first.take() == []
    assert [h.holder for h in await Leases(engine, GUILDS, holder="b").take()] == ["a", "a"]
    await first.release()
    assert await Leases(engine, GUILDS, holder="b").take() == []


async def test_a_stale_holder_cannot_claim_a_post(engine):
    """Fencing: the claim checks the lease in its own transaction, so a process that lost its
    lease (paused, cut off) and wakes up after another took over never posts."""
    assert await take(engine, "a")
    fenced_a = create_session_factory(engine, info={FENCE: Fence(GUILDS[0], "a")})
    async with fenced_a() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILDS[0])
        assert await posts.claim(kind="weekly", period="2026-W49", nonce="n1", now=NOW)
    await asyncio.sleep(1.2)
    assert await take(engine, "b")
    with pytest.raises(LeaseLost):
        async with fenced_a() as session, session.begin():
            posts = ScheduledPostRepository(session, GUILDS[0])
            await posts.claim(kind="monthly", period="2026-12", nonce="n2", now=NOW)
    fenced_b = create_session_factory(engine, info={FENCE: Fence(GUILDS[0], "b")})
    async with fenced_b() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILDS[0])
        assert await posts.claim(kind="monthly", period="2026-12", nonce="n3", now=NOW)
    async with create_session_factory(engine)() as session:
        kinds = (await session.scalars(select(ScheduledPost.kind).order_by("id"))).all()
    assert kinds == ["weekly", "monthly"]


async def test_a_claim_holds_off_a_takeover_until_it_commits(engine):
    """The claim share-locks the lease row: a takeover that starts meanwhile waits, so no
    claim is ever made under a lease that was already taken."""
    assert await take(engine, "a", timedelta(seconds=2))
    fenced_a = create_session_factory(engine, info={FENCE: Fence(GUILDS[0], "a")})
    async with fenced_a() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILDS[0])
        assert await posts.claim(kind="weekly", period="2026-W49", nonce="n1", now=NOW)
        await asyncio.sleep(2.2)  # the lease expires while the claim is open
        takeover = asyncio.create_task(take(engine, "b"))
        await asyncio.sleep(0.5)
        assert not takeover.done()  # waiting for the claim's lock
    assert await takeover == dict.fromkeys(GUILDS, 2)
