"""The web's health page shares one report; /program health always computes it now."""

from __future__ import annotations

import asyncio

from bot.config import parse_config
from bot.services.container import build_services
from tests.helpers import minimal_config


async def test_the_pages_share_a_report_the_command_computes_its_own(sessions, clock) -> None:
    settings = parse_config(minimal_config(), env={"DISCORD_TOKEN": "x"}).settings
    health = build_services(settings, clock, sessions).health
    shared = await asyncio.gather(*(health.report(max_age=300) for _ in range(5)))
    assert all(report is shared[0] for report in shared)
    fresh = await health.report()
    assert fresh is not shared[0] and fresh == shared[0]
    clock.advance(301)
    assert await health.report(max_age=300) is shared[0], "stale: served while refreshed"
    for _ in range(500):  # the refresh finishes in the background
        await asyncio.sleep(0.02)
        if (latest := await health.report(max_age=300)) is not shared[0]:
            break
    assert latest is not shared[0]
