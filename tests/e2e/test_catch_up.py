"""The history catch-up at start (``python -m bot run``): what was said while no process
listened is counted from history, nothing stored before is counted twice, and live posts
held meanwhile are counted on top (``BackfillService.fill_gap``)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from db.models import ActivityDay
from tests.e2e.util import eventually, settled

TEXT = "a helpful answer about the sync engine"


@pytest.fixture
def config(emulator, community, database_url):
    data = community_config(
        community,
        emulator,
        database_url=database_url,
        activity={"cooldown_seconds": 0, "uncount_deleted_within_seconds": 0},
    )
    return parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})


async def stored(app) -> Counter[int]:
    services = app.bot.services
    async with services.sessions() as session:
        rows = (await session.execute(select(ActivityDay.user_id, ActivityDay.messages))).all()
    return Counter({user_id: messages for user_id, messages in rows})


async def test_what_was_said_while_down_is_counted_once(emulator, community, config, clock):
    ada, grace = community.members["ada"], community.members["grace"]
    general = community.channels["general"]
    async with running_bot(config, clock=clock, catch_up_history=True) as app:
        for _ in range(3):
            await emulator.post_message(general, ada, TEXT)
        await settled(emulator, app.bot)
        await app.bot.services.activity.flush()
        assert await stored(app) == Counter({ada: 3})
    # No process listens: these are only in the channel's history.
    for _ in range(2):
        await emulator.post_message(general, ada, TEXT)
    await emulator.post_message(general, grace, TEXT)
    clock.set(datetime.now(UTC))  # time passed while the bot was away
    async with running_bot(config, clock=clock, catch_up_history=True) as app:
        # Live posts as the catch-up runs: held, then counted on top.
        await emulator.post_message(general, grace, TEXT)
        await eventually(lambda: not app.bot.services.activity.holding, within=10)
        await settled(emulator, app.bot)
        await app.bot.services.activity.flush()
        assert await stored(app) == Counter({ada: 5, grace: 2})


async def test_without_anything_stored_the_catch_up_leaves_history_to_backfill(
    emulator, community, config, clock
):
    """A new server's history is the day-one backfill's (``/backfill``), not the catch-up's."""
    await emulator.post_message(community.channels["general"], community.members["ada"], TEXT)
    async with running_bot(config, clock=clock, catch_up_history=True) as app:
        await eventually(lambda: not app.bot.services.activity.holding, within=10)
        await settled(emulator, app.bot)
        await app.bot.services.activity.flush()
        assert await stored(app) == Counter()
