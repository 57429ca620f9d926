"""Which process runs the servers: one per SQLite file, leases on PostgreSQL (``bot.leases``).

The SQLite cases start real ``python -m bot run`` processes: the refusal is what an operator
who starts a second copy sees. A lease lost to another process is taken from a live keeper on
a real PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.leases import Leases, SqliteLock
from db.engine import create_session_factory
from db.models import CommunityLease
from tests.helpers import minimal_config, write_config

ROOT = Path(__file__).resolve().parents[1]


def sqlite_config(tmp_path: Path) -> tuple[Path, Path]:
    database = tmp_path / "f.db"
    data = minimal_config(database_url=f"sqlite+aiosqlite:///{database}")
    data["discord"]["api_base"] = "http://127.0.0.1:9/api/v10"  # never reached
    return write_config(tmp_path / "config.toml", data), database


def run(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config), *extra],
        cwd=ROOT,
        env={**os.environ, "DISCORD_TOKEN": "not-a-real-token", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_process_on_the_same_sqlite_file_is_refused(tmp_path):
    config, database = sqlite_config(tmp_path)
    running = SqliteLock(database)
    running.take()  # as a running bot holds it
    try:
        second = run(config)
    finally:
        running.release()
    assert second.returncode == 1
    assert f"another Flywheel process (pid {os.getpid()} on " in second.stderr
    assert f"is using {database}: SQLite serves one process" in second.stderr
    assert "move to PostgreSQL to run several (README: Running at scale)" in second.stderr


def test_a_standby_needs_postgresql(tmp_path):
    config, _ = sqlite_config(tmp_path)
    standby = run(config, "--standby")
    assert standby.returncode == 1
    assert "--standby needs PostgreSQL: SQLite serves one process" in standby.stderr


def test_the_sqlite_lock_goes_with_a_killed_process(tmp_path):
    """The operating system releases the lock however the holder dies: a restart after a
    crash is never refused."""
    _, database = sqlite_config(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from bot.leases import SqliteLock; "
            f"lock = SqliteLock(Path({str(database)!r})); lock.take(); print('held', flush=True); "
            "time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(Exception, match="another Flywheel process"):
            SqliteLock(database).take()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        after = SqliteLock(database)
        after.take()
        after.release()
    finally:
        if holder.poll() is None:
            holder.kill()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_keeper_that_loses_its_lease_stops_the_work_at_once(engine):
    """Another process took the lease (this one was paused past the expiry, or cut off): the
    next renewal finds it gone, and the process is told to stop its once-per-server work."""
    leases = Leases(engine, [111111111111111111], holder="a")
    leases.ttl = leases.ttl / 10  # renewals every half second
    assert await leases.take() == []
    stopped = asyncio.Event()
    leases.keep(stopped.set)
    await asyncio.sleep(0.6)
    assert not stopped.is_set()  # renewed, kept
    async with create_session_factory(engine)() as session, session.begin():
        await session.execute(update(CommunityLease).values(holder="b", epoch=2))
    await asyncio.wait_for(stopped.wait(), timeout=5)
    assert leases.lost.is_set()
    await leases.release()  # gives nothing back: the lease is b's
    async with create_session_factory(engine)() as session:
        [row] = (await session.scalars(select(CommunityLease))).all()
    assert (row.holder, row.epoch) == ("b", 2)
