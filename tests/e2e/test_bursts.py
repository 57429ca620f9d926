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
from bot.services.retry import RetryPolicy
from emulator import Emulator
from tests.e2e.test_ladder import announcements, dms, ladder, make_champion_material, tier_of
from tests.e2e.util import bot_posts, eventually, members_synced, settled

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


async def test_role_changes_failing_under_503s_and_429s_are_retried_and_reported_once(
    flywheel: Any, emulator: Emulator, community: SampleCommunity
):
    """Discord fails role edits for a while (503s, 429s that outlast discord.py's own retries)
    and the gateway drops, in the middle of a mass promotion: every member still gets the
    role, and moderators get one alert naming who waits meanwhile."""
    bot, automation = flywheel.bot, ladder(flywheel)
    users = [community.members[name] for name in list(community.members)[:PROMOTED]]
    await members_synced(bot, users)
    await asyncio.wait_for(bot.services.tiers.caught_up.wait(), timeout=5)
    automation.roles.retry = RetryPolicy(attempts=2, first_wait=0.2, max_wait=1.0)
    for user in users:
        await make_champion_material(bot, user)
    role = community.tier_role_ids["champion"]
    unlucky = users[:3]
    for user in unlucky:
        emulator.fail_requests("PUT", rf"/members/{user}/roles/{role}$", status=503, times=2)
    # discord.py tries a request five times through 429s, then gives up.
    emulator.rate_limit("PUT", rf"/members/{users[3]}/roles/{role}$", times=5, retry_after=0.01)

    await automation.run_sweep()
    emulator.drop_gateway()

    def everyone_has_the_role() -> bool:
        return all(role in emulator.member_roles(community.guild_id, user) for user in users)

    await eventually(everyone_has_the_role, within=60)
    [alert] = [
        m["content"]
        for m in bot_posts(emulator, community.channels["mod-log"])
        if "keeps failing role changes" in m["content"]
    ]
    for user in [*unlucky, users[3]]:
        assert f"<@{user}>" in alert
    assert "I keep retrying" in alert and "/tier sync" in alert
    adds = [c for c in emulator.role_changes if c.action == "add" and c.role_id == role]
    assert sorted(c.user_id for c in adds) == sorted(users), "each role given once"
    await automation.roles.drained()  # the last edit's pacing pause, then its failures cleared
    assert automation.roles.failures == {}
