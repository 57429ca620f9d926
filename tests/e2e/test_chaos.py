"""A stretch of community life with the gateway failing all the time, each effect once.

The nightly-style run of the chaos switch (every e2e test can have it too, with
``FLYWHEEL_EMULATOR_CHAOS=<seed>``): here the emulator drops the connection, asks for
reconnects, invalidates the session resumably and requests heartbeats every 50 ms on average
while members post, thank, answer and get promoted. discord.py resumes each time and gets what
it missed replayed; the bot must do every thing exactly once, and never twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.client import all_extensions
from bot.clock import FakeClock
from bot.config import Config
from bot.demo.community import EMULATOR_TOKEN
from bot.emulated import running_bot
from db.models import ActivityDay, Contribution, Thanks
from emulator import Chaos, Emulator
from tests.e2e.conftest import PROBE_EXTENSION
from tests.e2e.test_ladder import announcements, dms, make_champion_material, tier_of
from tests.e2e.test_thanks import posted
from tests.e2e.util import eventually, private_reply, settled, slash

pytestmark = pytest.mark.e2e

SEEDS = (11, 12)


@pytest.fixture(params=SEEDS, ids=[f"seed-{seed}" for seed in SEEDS])
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    emu = Emulator(
        bot_token=EMULATOR_TOKEN,
        bot_name="Flywheel",
        check_responses=True,
        chaos=Chaos(seed=request.param, mean_interval=0.05),
    )
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    assert not emu.spec_violations
    assert not [hit for hit in emu.limiter.served_429 if hit[1] != "shared"]


@pytest.fixture
async def flywheel(bot_config: Config, clock: FakeClock) -> AsyncIterator[App]:
    """The bot as everywhere else, given longer to get ready: with a failure every 50 ms its
    start (connect, chunk, sync, preflight) is resumed many times, and 15 s fell short once on
    a loaded 2-CPU machine."""
    extensions = [*all_extensions(), PROBE_EXTENSION]
    async with running_bot(bot_config, clock=clock, extensions=extensions, ready_timeout=60) as app:
        yield app


async def count(bot: Any, model: Any, *where: Any) -> int:
    async with bot.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_members_thank_answer_and_get_promoted_through_constant_gateway_failures(
    flywheel, emulator, community
):
    bot, m = flywheel.bot, community.members
    general = community.channels["general"]
    # A busy channel through the failures: nobody's activity may be lost.
    chatter = ["margaret", "guido", "barbara"]
    for n in range(30):
        text = f"message number {n} about configuring the sync client"
        await emulator.post_message(general, m[chatter[n % 3]], text)
        await asyncio.sleep(0.02)
    for giver, receiver in (("grace", "ada"), ("ada", "grace"), ("linus", "ada")):
        await posted(flywheel, emulator, general, m[receiver], f"{receiver} explains a fix")
        thanked = await slash(emulator, community, m[giver], "thanks", member=m[receiver])
        assert (await thanked.wait_answer(timeout=10))["type"] == 4

    thread, _ = await emulator.create_forum_post(
        community.channels["help"], m["linus"], "Sync fails", "Any ideas?", tags=["Question"]
    )
    answer = await emulator.post_message(int(thread["id"]), m["grace"], "Use forward slashes")
    marked = await emulator.invoke_message_command(
        community.guild_id, int(thread["id"]), m["linus"], "Mark as answer",
        message_id=answer["id"],
    )  # fmt: skip
    await marked.wait_answer(timeout=10)

    ada = m["ada"]
    await make_champion_material(bot, ada)
    await bot.services.contributions.changed({ada})
    role = community.tier_role_ids["champion"]
    await eventually(lambda: role in emulator.member_roles(community.guild_id, ada), within=20)
    await eventually(lambda: announcements(emulator, community) and dms(emulator, ada), within=20)
    profile = await slash(emulator, community, ada, "profile")
    assert "Champion" in str(await private_reply(profile, within=20))
    await settled(emulator, bot, within=30)

    await bot.services.activity.flush()
    for name in chatter:
        assert await count(bot, ActivityDay, ActivityDay.user_id == m[name]) == 1, name
    assert await count(bot, Thanks) == 3
    answers = Contribution.kind == "answer", Contribution.user_id == m["grace"]
    assert await count(bot, Contribution, *answers) == 1
    assert await tier_of(bot, ada) == "champion"
    assert len(announcements(emulator, community)) == 1 and len(dms(emulator, ada)) == 1
    adds = [c for c in emulator.role_changes if c.user_id == ada and c.action == "add"]
    assert len(adds) == 1
    assert emulator.chaos is not None and sum(emulator.chaos.made.values()) >= 10
    resumes = [e for e in emulator.gateway_log if e["dir"] == "recv" and e["op"] == 6]
    assert resumes, "the bot resumed at least once"
