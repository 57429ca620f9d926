"""The activity flush on a real store: batching, retries, restarts and presence."""

from __future__ import annotations

import gc
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.config import Settings, parse_config
from bot.core.activity import MessageFacts
from bot.services.activity import PRESENCE_PRECISION, PRESENCE_WRITE_SECONDS, ActivityService
from bot.services.contributions import Contributions
from db.models import ActivityDay, ChannelPresence, Contribution
from db.repositories.presence import PresenceRepository
from tests.e2e.util import eventually
from tests.helpers import minimal_config

GUILD = 111111111111111111
GENERAL, THREAD = 700, 701
ADA, GRACE = 1001, 1002
TEXT = "The migration guide fixed my sync problem, thank you!"


@pytest.fixture
def settings() -> Settings:
    return parse_config(minimal_config(guild_id=GUILD), env={"DISCORD_TOKEN": "x"}).settings


def make_service(sessions, settings, clock, changed: list[frozenset[int]]) -> ActivityService:
    contributions = Contributions(settings, clock)

    async def listener(_guild: int, users: frozenset[int]) -> None:
        changed.append(users)

    contributions.subscribe(listener)
    return ActivityService(sessions, settings, clock, contributions)


_ids = iter(range(10_000, 1_000_000))


def facts(author: int, at: datetime, *, channel: int = GENERAL, **extra: Any) -> MessageFacts:
    fields: dict[str, Any] = {
        "message_id": next(_ids),
        "guild_id": GUILD,
        "channel_id": channel,
        "category_id": None,
        "parent_channel_id": None,
        "author_id": author,
        "author_is_bot": False,
        "is_webhook": False,
        "is_system": False,
        "content": TEXT,
        "created_at": at,
    }
    fields.update(extra)
    return MessageFacts(**fields)


async def stored(sessions) -> tuple[dict[tuple[int, date], int], list[str]]:
    async with sessions() as session:
        days = (await session.scalars(select(ActivityDay))).all()
        credits = (
            await session.scalars(select(Contribution.source_id).order_by(Contribution.source_id))
        ).all()
    return {(d.user_id, d.day): d.messages for d in days}, list(credits)


async def rename_presence_table(sessions, old: str, new: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_a_failed_flush_writes_nothing_and_keeps_everything_for_the_next_one(
    sessions, settings, clock
):
    changed: list[frozenset[int]] = []
    service = make_service(sessions, settings, clock, changed)
    now = clock.now()
    service.observe(facts(ADA, now))
    service.observe(facts(GRACE, now))
    # The presence write comes last in the flush: the rollups and credits before it must be
    # rolled back with it.
    await rename_presence_table(sessions, "channel_presence", "channel_presence_away")

    failed = await service.flush()

    assert failed.failed and service.counter.pending == 2
    assert await stored(sessions) == ({}, [])
    assert changed == []
    # Presence stays readable from memory while the write is pending.
    assert await service.last_post([GENERAL], ADA) == now

    await rename_presence_table(sessions, "channel_presence_away", "channel_presence")
    service.observe(facts(ADA, now + timedelta(minutes=5)))
    written = await service.flush()

    assert not written.failed and written.credited == frozenset()
    days, credits = await stored(sessions)
    assert days == {(ADA, now.date()): 2, (GRACE, now.date()): 1}
    assert credits == []
    assert await service.last_post([GENERAL], ADA) == now + timedelta(minutes=5)

    clock.advance(timedelta(minutes=5))
    settled = await service.flush()

    assert settled.credited == {ADA, GRACE}
    assert (await stored(sessions))[1] == [f"day:{ADA}:{now.date()}", f"day:{GRACE}:{now.date()}"]
    assert changed == [frozenset({ADA, GRACE})]


async def test_a_restarted_service_adds_to_the_rollup_without_crediting_the_day_again(
    sessions, settings, clock
):
    changed: list[frozenset[int]] = []
    now = clock.now()
    first = make_service(sessions, settings, clock, changed)
    first.observe(facts(ADA, now))
    await first.close()

    second = make_service(sessions, settings, clock, changed)
    second.observe(facts(ADA, now + timedelta(minutes=2)))
    clock.advance(timedelta(minutes=10))
    result = await second.flush()

    assert result.credited == frozenset()
    days, credits = await stored(sessions)
    assert days == {(ADA, now.date()): 2}
    assert credits == [f"day:{ADA}:{now.date()}"]
    assert changed == [frozenset({ADA})]


async def test_a_crash_loses_no_day_credit_the_next_start_gives_it(sessions, settings, clock):
    changed: list[frozenset[int]] = []
    now = clock.now()
    crashed = make_service(sessions, settings, clock, changed)
    crashed.observe(facts(ADA, now))
    crashed.observe(facts(GRACE, now))
    await crashed.flush()  # the rollups are written; the credits wait out the uncount window
    assert await stored(sessions) == ({(ADA, now.date()): 1, (GRACE, now.date()): 1}, [])
    # ... and the process dies here: no close(), no final flush.

    restarted = make_service(sessions, settings, clock, changed)
    assert await restarted.recover() == frozenset({ADA, GRACE})
    _, credits = await stored(sessions)
    assert credits == sorted([f"day:{ADA}:{now.date()}", f"day:{GRACE}:{now.date()}"])
    assert changed == [frozenset({ADA, GRACE})]
    assert await restarted.recover() == frozenset(), "a second start credits nothing again"

    # Later posts that day don't credit it a second time either.
    restarted.observe(facts(ADA, now + timedelta(minutes=2)))
    clock.advance(timedelta(minutes=10))
    assert (await restarted.flush()).credited == frozenset()


async def test_recovery_leaves_taken_back_and_old_days_alone(sessions, settings, clock):
    from bot.services.activity import RECOVER_DAYS
    from db.repositories.activity import ActivityRepository

    today = clock.now().date()
    old = today - timedelta(days=RECOVER_DAYS + 1)
    async with sessions() as session, session.begin():
        repo = ActivityRepository(session, GUILD)
        await repo.add_messages({(ADA, old): 2, (GRACE, today): 1})
        await repo.remove_message(GRACE, today)  # posted and deleted: no active day

    service = make_service(sessions, settings, clock, [])
    assert await service.recover() == frozenset()
    assert (await stored(sessions))[1] == []


async def test_starting_the_service_runs_the_recovery(sessions, settings, clock):
    from db.repositories.activity import ActivityRepository

    yesterday = clock.now().date() - timedelta(days=1)
    async with sessions() as session, session.begin():
        await ActivityRepository(session, GUILD).add_messages({(ADA, yesterday): 3})
    service = make_service(sessions, settings, clock, [])
    service.start()

    async def credited() -> list[str]:
        return (await stored(sessions))[1]

    try:
        await eventually(credited, interval=0.02)
    finally:
        await service.close()
    assert (await stored(sessions))[1] == [f"day:{ADA}:{yesterday}"]


async def test_a_day_credit_is_dated_within_its_day(sessions, settings, clock):
    """A retry after midnight still credits yesterday's activity on yesterday."""
    service = make_service(sessions, settings, clock, [])
    yesterday = clock.now() - timedelta(days=1)
    service.observe(facts(ADA, yesterday))
    await service.flush(final=True)
    async with sessions() as session:
        credit = await session.scalar(select(Contribution))
    assert credit is not None and credit.occurred_at.date() == yesterday.date()
    assert credit.occurred_at == datetime.combine(
        yesterday.date() + timedelta(days=1), datetime.min.time(), tzinfo=clock.now().tzinfo
    ) - timedelta(microseconds=1)


async def test_thread_posts_mark_the_thread_and_its_parent(sessions, settings, clock):
    service = make_service(sessions, settings, clock, [])
    now = clock.now()
    service.observe(facts(GRACE, now, channel=THREAD, parent_channel_id=GENERAL, content="ok"))
    service.observe(facts(ADA, now, author_is_bot=True))
    await service.flush()

    async with sessions() as session:
        rows = (await session.scalars(select(ChannelPresence))).all()
    assert sorted((r.channel_id, r.user_id, r.last_message_at) for r in rows) == [
        (GENERAL, GRACE, now),
        (THREAD, GRACE, now),
    ]


async def test_presence_keeps_the_latest_time_whatever_the_write_order(sessions, clock):
    now = clock.now()
    async with sessions() as session, session.begin():
        repo = PresenceRepository(session, GUILD)
        await repo.record({(GENERAL, ADA): now})
        await repo.record({(GENERAL, ADA): now - timedelta(hours=1), (THREAD, ADA): now})
        await repo.record({(THREAD, ADA): now + timedelta(hours=1)})
    async with sessions() as session:
        repo = PresenceRepository(session, GUILD)
        assert await repo.last_post([GENERAL], ADA) == now
        assert await repo.last_post([GENERAL, THREAD], ADA) == now + timedelta(hours=1)
        assert await repo.last_post([GENERAL], GRACE) is None
        assert await repo.last_post([], ADA) is None
        assert await PresenceRepository(session, GUILD + 1).last_post([GENERAL], ADA) is None


async def test_a_day_taken_back_entirely_waits_for_a_new_message(sessions, settings, clock):
    service = make_service(sessions, settings, clock, [])
    first = facts(ADA, clock.now())
    service.observe(first)
    await service.flush()
    assert service.deleted(first.message_id)
    await service.flush()

    clock.advance(timedelta(minutes=6))
    assert (await service.flush()).credited == frozenset()

    service.observe(facts(ADA, clock.now()))
    await service.flush()
    clock.advance(timedelta(minutes=4))
    assert (await service.flush()).credited == frozenset()
    clock.advance(timedelta(minutes=2))
    assert (await service.flush()).credited == {ADA}


async def stored_presence(sessions) -> dict[tuple[int, int], datetime]:
    async with sessions() as session:
        rows = (await session.scalars(select(ChannelPresence))).all()
    return {(r.channel_id, r.user_id): r.last_message_at for r in rows}


async def test_a_chatty_member_s_presence_is_rewritten_every_few_minutes_not_every_flush(
    sessions, settings, clock
):
    service = make_service(sessions, settings, clock, [])
    now = clock.now()
    short = {"content": "ok"}  # presence counts every post, counted or not
    service.observe(facts(ADA, now, **short))
    assert (await service.flush()).presence == 1

    service.observe(facts(ADA, now + timedelta(minutes=1), **short))
    clock.advance(PRESENCE_WRITE_SECONDS)  # presence is due again
    assert (await service.flush()).presence == 0
    # Stored within PRESENCE_PRECISION of the latest post: plenty for "in the last 72 hours".
    assert await service.last_post([GENERAL], ADA) == now

    service.observe(facts(ADA, now + PRESENCE_PRECISION, **short))
    clock.advance(PRESENCE_WRITE_SECONDS)
    assert (await service.flush()).presence == 1
    assert await service.last_post([GENERAL], ADA) == now + PRESENCE_PRECISION


async def test_presence_is_written_every_few_seconds_and_read_from_memory_meanwhile(
    sessions, settings, clock
):
    service = make_service(sessions, settings, clock, [])
    now = clock.now()
    service.observe(facts(ADA, now))
    first = await service.flush()
    assert first.presence == 1 and first.member_days == 1

    # The rollups go in with every flush; presence waits for its own, slower turn...
    service.observe(facts(GRACE, now))
    held = await service.flush()
    assert held.member_days == 1 and held.presence == 0
    assert await stored_presence(sessions) == {(GENERAL, ADA): now}
    # ...while /thanks reads it from memory: a buffer of integers and times, which CPython's
    # garbage collector never walks (tuple keys put 40,000 pairs in every full collection).
    assert await service.last_post([GENERAL], GRACE) == now
    assert not gc.is_tracked(service._presence)

    clock.advance(PRESENCE_WRITE_SECONDS - 1)
    assert (await service.flush()).presence == 0
    clock.advance(1)
    assert (await service.flush()).presence == 1
    assert await stored_presence(sessions) == {(GENERAL, ADA): now, (GENERAL, GRACE): now}


async def test_closing_writes_the_presence_that_was_not_due_yet(sessions, settings, clock):
    """A graceful shutdown loses nothing: only a crash can lose the last few seconds."""
    service = make_service(sessions, settings, clock, [])
    now = clock.now()
    service.observe(facts(ADA, now))
    await service.flush()
    service.observe(facts(GRACE, now, channel=THREAD, parent_channel_id=GENERAL, content="ok"))
    assert (await service.flush()).presence == 0

    await service.close()

    assert await stored_presence(sessions) == {
        (GENERAL, ADA): now,
        (GENERAL, GRACE): now,
        (THREAD, GRACE): now,
    }
    restarted = make_service(sessions, settings, clock, [])
    assert await restarted.last_post([THREAD], GRACE) == now
