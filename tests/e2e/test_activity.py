"""Message activity through the emulator: what counts, what doesn't, and what survives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta

import discord
import pytest
from sqlalchemy import select

from bot.app import App
from bot.client import all_extensions
from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from bot.services.activity import ActivityService
from db.engine import create_engine, create_session_factory
from db.models import ActivityDay, Contribution
from tests.e2e.util import eventually

pytestmark = pytest.mark.e2e

QUALIFYING = "The migration guide fixed my sync problem, thank you all!"


def service_of(app: App) -> ActivityService:
    cog = app.bot.get_cog("Activity")
    assert cog is not None
    service = cog.service
    assert isinstance(service, ActivityService)
    return service


def created(message: dict) -> datetime:
    """When the message was posted, as discord.py reads it (from the snowflake)."""
    return discord.utils.snowflake_time(int(message["id"]))


def day_of(message: dict) -> date:
    return created(message).date()


async def rollups(sessions) -> dict[tuple[int, date], int]:
    async with sessions() as session:
        rows = (await session.scalars(select(ActivityDay))).all()
    return {(r.user_id, r.day): r.messages for r in rows}


async def day_credits(sessions) -> list[tuple[int, str, int]]:
    async with sessions() as session:
        rows = (
            await session.scalars(select(Contribution).where(Contribution.kind == "message_day"))
        ).all()
    return sorted((r.user_id, r.source_id, r.points) for r in rows)


async def until(read: Callable[[], Awaitable[object]], expected: object) -> None:
    """Poll the database until ``read()`` returns ``expected`` (the flusher runs on its own)."""

    async def matches() -> bool:
        return await read() == expected

    try:
        await eventually(matches)
    except AssertionError:
        assert await read() == expected  # shows the difference
        raise


async def seen(app: App, emulator, channel_id: int, author_id: int) -> None:
    """Post a short (never counted) marker and wait until the bot has observed it.

    Gateway events are handled in order, so everything dispatched before it was observed too.
    """
    marker = await emulator.post_message(channel_id, author_id, "ok")
    at = created(marker)
    service = service_of(app)

    async def observed() -> bool:
        return await service.last_post([channel_id], author_id) == at

    await eventually(observed, interval=0.01)


@pytest.fixture
def start_bot(
    emulator, community, database_url, clock
) -> Callable[..., AbstractAsyncContextManager[App]]:
    """The real bot with program settings of the test's choosing (e.g. a short cooldown)."""

    def start(**sections: dict) -> AbstractAsyncContextManager[App]:
        data = community_config(community, emulator, database_url=database_url, **sections)
        config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
        return running_bot(config, clock=clock, extensions=all_extensions())

    return start


@pytest.fixture
async def tracked(start_bot) -> AsyncIterator[App]:
    """The bot with the periodic flush out of the way: each test flushes when it wants."""
    async with start_bot(activity={"flush_interval_seconds": 3600.0}) as app:
        yield app


async def test_the_flusher_writes_in_the_background(flywheel, emulator, community, clock):
    ada, general = community.members["ada"], community.channels["general"]
    message = await emulator.post_message(general, ada, QUALIFYING)
    day = day_of(message)
    # Nobody calls flush here: the flusher does, every 0.5 s by default.
    await until(lambda: rollups(flywheel.bot.services.sessions), {(ada, day): 1})
    # The day's point follows once the message can no longer be taken back.
    clock.advance(timedelta(seconds=301))
    await until(lambda: day_credits(flywheel.bot.services.sessions), [(ada, f"day:{ada}:{day}", 1)])


async def test_a_qualifying_message_counts_and_credits_the_day_once_settled(
    tracked, emulator, community, clock
):
    ada, general = community.members["ada"], community.channels["general"]
    message = await emulator.post_message(general, ada, QUALIFYING)
    await seen(tracked, emulator, general, community.members["guido"])
    service = service_of(tracked)

    assert (await service.flush()).credited == frozenset()
    day = day_of(message)
    assert await rollups(tracked.bot.services.sessions) == {(ada, day): 1}
    assert await day_credits(tracked.bot.services.sessions) == []

    clock.advance(timedelta(seconds=301))
    assert (await service.flush()).credited == {ada}
    assert await day_credits(tracked.bot.services.sessions) == [(ada, f"day:{ada}:{day}", 1)]

    # A second good message inside the 60 s cooldown doesn't count, and the day stays credited
    # once (the ledger's source id is per member and day).
    await emulator.post_message(general, ada, "And the changelog explains the new config keys.")
    await seen(tracked, emulator, general, community.members["guido"])
    clock.advance(timedelta(seconds=301))
    assert (await service.flush()).credited == frozenset()
    assert await rollups(tracked.bot.services.sessions) == {(ada, day): 1}
    assert len(await day_credits(tracked.bot.services.sessions)) == 1


async def test_low_effort_bot_webhook_and_system_messages_never_count(tracked, emulator, community):
    general = community.channels["general"]
    m = community.members
    await emulator.post_message(general, m["ada"], "thanks!")
    await emulator.post_message(general, m["grace"], "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉 🚀🚀🚀🚀")
    await emulator.post_message(general, m["linus"], "hahahahahahahahahahahaha")
    await emulator.post_message(general, m["margaret"], "aaaaaaaaaaaaaaaaaaaaaaaaaaaa!!!!")
    helper_bot = emulator.guild(community.guild_id).add_member("helper-bot", bot=True)
    await emulator.post_message(general, helper_bot.id, QUALIFYING)
    channel = emulator.world.channels[general]
    emulator.ops.send_message(channel, m["barbara"], {"content": QUALIFYING}, webhook_id=4242)
    emulator.ops.send_message(channel, m["barbara"], {"content": QUALIFYING}, message_type=7)
    await seen(tracked, emulator, general, m["guido"])

    await service_of(tracked).flush()

    assert await rollups(tracked.bot.services.sessions) == {}
    assert await day_credits(tracked.bot.services.sessions) == []
    # Not counted, but they did post here: thanks only need "posted recently".
    assert await service_of(tracked).last_post([general], m["ada"]) is not None
    assert await service_of(tracked).last_post([general], helper_bot.id) is None


async def test_direct_messages_never_count(tracked, emulator, community):
    ada = community.members["ada"]
    await emulator.post_dm(ada, QUALIFYING)
    await seen(tracked, emulator, community.channels["general"], community.members["guido"])

    await service_of(tracked).flush()

    assert await rollups(tracked.bot.services.sessions) == {}


async def test_a_replayed_message_create_is_not_counted_twice(tracked, emulator, community, clock):
    ada, general = community.members["ada"], community.channels["general"]
    message = await emulator.post_message(general, ada, QUALIFYING)
    await seen(tracked, emulator, general, community.members["guido"])
    await service_of(tracked).flush()

    # Discord redelivers the same MESSAGE_CREATE (e.g. after a resume).
    emulator.events.message_create(emulator.world.messages[int(message["id"])])
    await seen(tracked, emulator, general, community.members["guido"])
    clock.advance(timedelta(seconds=301))
    await service_of(tracked).flush()

    assert await rollups(tracked.bot.services.sessions) == {(ada, day_of(message)): 1}
    assert len(await day_credits(tracked.bot.services.sessions)) == 1


async def test_a_message_deleted_within_minutes_is_uncounted(tracked, emulator, community, clock):
    m, general = community.members, community.channels["general"]
    written = await emulator.post_message(general, m["ada"], QUALIFYING)
    quick = await emulator.post_message(general, m["grace"], QUALIFYING)
    bulk = await emulator.post_message(general, m["linus"], QUALIFYING)
    kept = await emulator.post_message(general, m["margaret"], QUALIFYING)
    await seen(tracked, emulator, general, m["guido"])
    service = service_of(tracked)

    # grace deletes hers before it was even written: the +1 and -1 cancel in memory.
    await emulator.delete_message(general, quick["id"])
    await seen(tracked, emulator, general, m["guido"])
    await service.flush()
    day = day_of(written)
    assert await rollups(tracked.bot.services.sessions) == {
        (m["ada"], day): 1,
        (m["linus"], day): 1,
        (m["margaret"], day): 1,
    }

    # ada's is taken back after it was written; linus's goes in a bulk delete.
    await emulator.delete_message(general, written["id"])
    emulator.ops.bulk_delete(
        emulator.world.channels[general], [emulator.world.messages[int(bulk["id"])]]
    )
    await seen(tracked, emulator, general, m["guido"])
    # margaret's is deleted after the window: it stays counted. The window runs from the
    # message's own time (its snowflake, real time), not from the test clock's start: on a
    # loaded machine the bot can take seconds to start after the clock was made.
    clock.set(max(clock.now(), created(kept)) + timedelta(seconds=301))
    await emulator.delete_message(general, kept["id"])
    await seen(tracked, emulator, general, m["guido"])
    result = await service.flush()

    assert result.uncounted == 2
    assert await rollups(tracked.bot.services.sessions) == {
        (m["ada"], day): 0,
        (m["linus"], day): 0,
        (m["margaret"], day): 1,
    }
    # Only margaret's day earned its point: the others were taken back before it settled.
    assert result.credited == {m["margaret"]}
    assert [user for user, _, _ in await day_credits(tracked.bot.services.sessions)] == [
        m["margaret"]
    ]


async def test_cooldown_ignored_channels_categories_and_their_threads(
    start_bot, emulator, community
):
    guild = emulator.guild(community.guild_id)
    off_topic = guild.create_text_channel("off-topic")
    lounge = guild.create_category("lounge")
    memes = guild.create_text_channel("memes", category=lounge)
    m, general = community.members, community.channels["general"]
    async with start_bot(
        activity={
            "cooldown_seconds": 1,
            "ignored_channels": [off_topic.id],
            "ignored_categories": [lounge.id],
        }
    ) as app:
        first = await emulator.post_message(general, m["ada"], QUALIFYING)
        await emulator.post_message(general, m["ada"], "A second good message, right away.")
        await seen(app, emulator, general, m["guido"])
        await asyncio.sleep(1.1)  # the cooldown runs on the messages' own timestamps
        await emulator.post_message(general, m["ada"], "A third good message, after a pause.")

        await emulator.post_message(off_topic.id, m["grace"], QUALIFYING)
        await emulator.post_message(memes.id, m["linus"], QUALIFYING)
        thread = await emulator.create_thread(off_topic.id, m["margaret"], "side chat")
        await emulator.post_message(int(thread["id"]), m["margaret"], QUALIFYING)
        await seen(app, emulator, general, m["guido"])
        await service_of(app).flush()

        assert await rollups(app.bot.services.sessions) == {(m["ada"], day_of(first)): 2}


async def test_a_thread_message_counts_and_marks_presence_in_thread_and_parent(
    tracked, emulator, community
):
    m, general = community.members, community.channels["general"]
    thread = await emulator.create_thread(general, m["ada"], "release notes")
    thread_id = int(thread["id"])
    posted = await emulator.post_message(thread_id, m["grace"], QUALIFYING)
    await seen(tracked, emulator, thread_id, m["guido"])
    service = service_of(tracked)
    await service.flush()

    assert await rollups(tracked.bot.services.sessions) == {(m["grace"], day_of(posted)): 1}
    at = created(posted)
    # Written to channel_presence by the flush, read back from the database.
    assert await service.last_post([thread_id], m["grace"]) == at
    assert await service.last_post([general], m["grace"]) == at


async def test_graceful_shutdown_writes_pending_counts(
    start_bot, emulator, community, database_url
):
    m, general = community.members, community.channels["general"]
    # The flusher would not run for an hour: only the shutdown hook can write this.
    async with start_bot(activity={"flush_interval_seconds": 3600.0}) as app:
        message = await emulator.post_message(general, m["ada"], QUALIFYING)
        await seen(app, emulator, general, m["guido"])
        assert service_of(app).counter.pending == 1

    engine = create_engine(database_url)
    try:
        sessions = create_session_factory(engine)
        assert await rollups(sessions) == {(m["ada"], day_of(message)): 1}
        assert len(await day_credits(sessions)) == 1
    finally:
        await engine.dispose()
