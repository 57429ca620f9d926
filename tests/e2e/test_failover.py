"""Fail-over with real processes: two Flywheel processes on PostgreSQL, the emulator with 2
shards and 4 servers; the active process is killed with SIGKILL mid-traffic and the standby
takes over. Nothing is lost, nothing counted twice, each scheduled post made once, no role
left behind (the drill: ``bot.demo.failover``; its timing: ``bench/failover.py``)."""

from __future__ import annotations

import asyncio
import signal

import pytest
from sqlalchemy import func, select

from bot.demo.community import EMULATOR_TOKEN, build_sample_community
from bot.demo.failover import (
    SENTENCE,
    BotProcess,
    fresh_database,
    run_drill,
    wait_until,
    write_deployment,
)
from db.engine import create_engine
from db.models import ActivityDay
from db.models import CommunityLease as L
from emulator import Emulator
from tests.conftest import POSTGRES_URL, _postgres_problem, postgres_required

pytestmark = pytest.mark.postgres


@pytest.fixture
async def postgres() -> None:
    """The drill needs PostgreSQL (SQLite serves one process): CI fails without it (as the
    store tests do), elsewhere the test is skipped saying why."""
    problem = await _postgres_problem()
    if problem is not None:
        message = f"PostgreSQL not reachable at {POSTGRES_URL} ({problem})"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)


async def test_the_standby_takes_over_a_killed_process_and_nothing_is_lost(postgres, tmp_path):
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


async def test_two_processes_split_the_shards_and_each_runs_its_own_servers(postgres, tmp_path):
    """Several processes, one PostgreSQL database: each runs a shard (``shard_ids``), takes
    the leases of the servers on it, and counts their messages; neither touches the other's."""
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel", check_responses=True)
    await emu.start()
    processes: list[BotProcess] = []
    try:
        async with fresh_database(POSTGRES_URL) as database_url:
            servers = [
                build_sample_community(emu, member_count=3, name=f"S{n}", shard=(n % 2, 2))
                for n in range(4)
            ]
            write_deployment(tmp_path, emu, servers, database_url)
            for shard in range(2):
                process = BotProcess(tmp_path / f"shard{shard}.toml", tmp_path / f"{shard}.log")
                await process.start()
                processes.append(process)

            def connected() -> bool:
                return sum(s.connected for s in emu.gateway.sessions.values()) == 2

            await wait_until(connected, "both processes connect", 60, *processes)
            for process in processes:
                await wait_until(
                    lambda p=process: "runs 2 server(s)" in p.text(), "leases", 30, process
                )
            for server in servers:
                author = next(iter(server.members.values()))
                await emu.post_message(server.channels["general"], author, SENTENCE)
            engine = create_engine(database_url)
            try:

                async def counts() -> dict[int, int]:
                    async with engine.connect() as conn:
                        rows = await conn.execute(
                            select(ActivityDay.guild_id, func.sum(ActivityDay.messages)).group_by(
                                ActivityDay.guild_id
                            )
                        )
                        return {guild_id: int(n) for guild_id, n in rows.all()}

                for _ in range(300):  # each process flushes every half second
                    if len(await counts()) == len(servers):
                        break
                    await asyncio.sleep(0.1)
                for process in processes:
                    assert await process.signal(signal.SIGTERM) == 0, process.text()
                counted = await counts()
                async with engine.connect() as conn:
                    leases = dict((await conn.execute(select(L.guild_id, L.holder))).all())
            finally:
                await engine.dispose()
    finally:
        for process in processes:
            await process.stop()
        await emu.stop()
    assert counted == {s.guild_id: 1 for s in servers}
    holders = {g: h.rsplit(":", 1)[0] for g, h in leases.items()}  # host:pid
    by_shard = [{holders[s.guild_id] for s in servers if s.guild_id >> 22 & 1 == k} for k in (0, 1)]
    assert all(len(h) == 1 for h in by_shard) and by_shard[0] != by_shard[1]
