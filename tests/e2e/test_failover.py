"""Fail-over with real processes: two Flywheel processes on PostgreSQL, the emulator with 2
shards and 4 servers; the active process is killed with SIGKILL mid-traffic and the standby
takes over. Nothing is lost, nothing counted twice, each scheduled post made once, no role
left behind (the drill: ``bot.demo.failover``; its timing: ``bench/failover.py``)."""

from __future__ import annotations

import pytest

from bot.demo.community import EMULATOR_TOKEN
from bot.demo.failover import fresh_database, run_drill
from emulator import Emulator
from tests.conftest import POSTGRES_URL, _postgres_problem, postgres_required

pytestmark = pytest.mark.postgres


async def test_the_standby_takes_over_a_killed_process_and_nothing_is_lost(tmp_path):
    problem = await _postgres_problem()
    if problem is not None:
        message = f"PostgreSQL not reachable at {POSTGRES_URL} ({problem})"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    # Discord's own limits: one IDENTIFY per 5 s per bucket, so two shards connect in turn.
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel", check_responses=True)
    await emu.start()
    try:
        async with fresh_database(POSTGRES_URL) as database_url:
            result = await run_drill(emu, tmp_path, database_url, messages=600)
    finally:
        await emu.stop()
    assert not [str(v) for v in emu.spec_violations]
    assert [s.messages for s in result.servers] == [150] * 4
    for server in result.servers:
        assert server.counted > 0
        assert (server.lost, server.doubled) == (0, 0), server
        assert server.posts == 1 and server.posts_doubled == 0, server
        assert server.roles_left == 0, server
