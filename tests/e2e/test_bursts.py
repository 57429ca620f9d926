"""Bursty flows under Discord's rate limits: a sweep that promotes many members at once.

The emulator enforces Discord's buckets by default (5 sends per 5 s per channel, 10 role
changes per 10 s per guild, one shared bucket for all DMs). A sweep that promotes twelve
members must still give every role, post every announcement and send every welcome DM
exactly once, by waiting as Discord's headers say, never by losing or doubling an effect.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.demo.community import SampleCommunity, build_sample_community
from emulator import Emulator
from tests.e2e.test_ladder import announcements, dms, ladder, make_champion_material, tier_of
from tests.e2e.util import eventually, members_synced, settled

pytestmark = pytest.mark.e2e

PROMOTED = 12


@pytest.fixture
def community(emulator: Emulator, bot_role_position: int) -> SampleCommunity:
    return build_sample_community(
        emulator, member_count=PROMOTED + 2, bot_role_position=bot_role_position
    )


async def test_a_sweep_promoting_twelve_meets_every_limit_and_misses_nothing(
    flywheel: Any, emulator: Emulator, community: SampleCommunity
):
    bot = flywheel.bot
    names = list(community.members)[:PROMOTED]
    users = [community.members[name] for name in names]
    await members_synced(bot, users)
    await asyncio.wait_for(bot.services.tiers.caught_up.wait(), timeout=5)
    for user in users:
        await make_champion_material(bot, user)

    loop = asyncio.get_running_loop()
    started = loop.time()
    await ladder(flywheel).run_sweep()
    role = community.tier_role_ids["champion"]
    for user in users:
        assert await tier_of(bot, user) == "champion"

    def delivered() -> bool:
        return len(announcements(emulator, community)) == PROMOTED and all(
            dms(emulator, user) and role in emulator.member_roles(community.guild_id, user)
            for user in users
        )

    await eventually(delivered, within=60)
    took = loop.time() - started
    await ladder(flywheel).roles.drained()
    await settled(emulator, bot, within=30)

    # Every effect exactly once.
    posts = announcements(emulator, community)
    assert sorted(p["allowed_mentions"]["users"][0] for p in posts) == sorted(users)
    assert all(len(dms(emulator, user)) == 1 for user in users)
    adds = [c for c in emulator.role_changes if c.action == "add" and c.role_id == role]
    assert sorted(c.user_id for c in adds) == sorted(users)

    # The buckets did their work: twelve posts in one channel cannot go in under two
    # 5-second windows, and nothing the bot could have read in a header was overrun.
    assert took >= 5
    overrun = [hit for hit in emulator.limiter.served_429 if hit[1] != "shared"]
    assert not overrun, overrun
