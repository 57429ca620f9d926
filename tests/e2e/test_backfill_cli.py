"""``python -m bot backfill`` as owners run it: a subprocess logged in over HTTP only, killed
mid-run and started again, ending where one uninterrupted run ends."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.demo.community import EMULATOR_TOKEN, community_config
from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import ActivityDay, BackfillChannel, Contribution, Member, TierState
from tests.e2e.util import bot_posts, eventually
from tests.helpers import write_config

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def seed(emulator, community) -> None:
    now = datetime.now(UTC)
    members = list(community.members.values())
    rows = [
        (
            members[i % len(members)],
            f"message {i} about the release notes",
            now - timedelta(minutes=7 * i),
        )
        for i in range(500)
    ]
    emulator.seed_history(community.channels["general"], sorted(rows, key=lambda r: r[2]))
    emulator.seed_history(
        community.channels["programs"],
        [(members[0], "an older note in another channel", now - timedelta(days=2, minutes=1))],
    )


def config_file(
    emulator, community, tmp_path: Path, name: str, level: str = "WARNING"
) -> tuple[Path, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / name}"
    data = community_config(community, emulator, database_url=url)
    data["logging"] = {**data.get("logging", {}), "level": level}
    return write_config(tmp_path / f"{name}.toml", data), url


async def backfill(config: Path, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "DISCORD_TOKEN": EMULATOR_TOKEN}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backfill", "--config", str(config), *args,
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


async def totals(url: str) -> tuple[list[tuple[int, str]], int, list[BackfillChannel]]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            days = await session.execute(
                select(Contribution.user_id, Contribution.source_id)
                .where(Contribution.kind == "message_day")
                .order_by(Contribution.source_id)
            )
            messages = await session.scalar(select(func.sum(ActivityDay.messages)))
            checkpoints = list(await session.scalars(select(BackfillChannel)))
        return [tuple(r) for r in days], int(messages or 0), checkpoints
    finally:
        await engine.dispose()


def history_pages(emulator, channel_id: int) -> int:
    path = f"/channels/{channel_id}/messages"
    return sum(1 for r in emulator.request_log if r.method == "GET" and r.path.endswith(path))


async def test_killed_mid_run_then_resumed_equals_one_run(emulator, community, tmp_path):
    seed(emulator, community)
    general = community.channels["general"]
    config, url = config_file(emulator, community, tmp_path, "resumed.db", level="INFO")

    process = await backfill(config)
    try:
        await eventually(lambda: history_pages(emulator, general) >= 3, within=30, interval=0.01)
    finally:
        process.kill()
        await process.communicate()
    days, _, checkpoints = await totals(url)
    assert days == []  # nothing credited before every channel is read
    assert any(c.channel_id == general and not c.done and c.message_id for c in checkpoints)
    read_before = history_pages(emulator, general)

    process = await backfill(config)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    assert "credited" in out.decode()
    # Not a terminal: progress is plain log lines, one per channel finished, no bar.
    lines = re.findall(r"backfill: (\d+)/(\d+) channel\(s\), \d+ message\(s\) read", err.decode())
    assert lines and lines[-1][0] == lines[-1][1] and "\r" not in err.decode()
    # Quiet ladder from the command line: one summary post and the mod-log report, over HTTP.
    [summary] = bot_posts(emulator, community.channels["announcements"])
    assert summary["content"].startswith("📜 The ladder now reflects the last 180 days")
    assert any(
        p["content"].startswith("**Backfill:** read")
        for p in bot_posts(emulator, community.channels["mod-log"])
    )
    # It went on from its checkpoint rather than reading #general from the top again.
    assert history_pages(emulator, general) - read_before < 5

    single_config, single_url = config_file(emulator, community, tmp_path, "single.db")
    process = await backfill(single_config)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    resumed, single = await totals(url), await totals(single_url)
    assert resumed[0] == single[0] and resumed[0]
    assert resumed[1] == single[1]
    assert EMULATOR_TOKEN not in err.decode()


async def test_dry_run_previews_tiers_and_writes_nothing(emulator, community, tmp_path):
    from tests.e2e.test_backfill import seed as seed_with_answers

    seed_with_answers(emulator, community, datetime.now(UTC))
    config, url = config_file(emulator, community, tmp_path, "dry.db")
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    process = await backfill(config, "--dry-run", "--since", "90d")
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    text = out.decode()
    assert "dry run: would credit" in text and "nothing was written" in text
    preview = text[text.index("tiers preview after the backfill:") :]
    ada = next(iter(community.members.values()))
    assert f"({ada})" in preview and "Champion" in preview
    assert await totals(url) == ([], 0, [])
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            assert list(await session.scalars(select(Member))) == []
            assert list(await session.scalars(select(TierState))) == []
    finally:
        await engine.dispose()
    assert bot_posts(emulator, community.channels["announcements"]) == []


@pytest.mark.parametrize("columns", [120, 0], ids=["a sized terminal", "one of no size"])
async def test_on_a_terminal_progress_is_a_bar_with_channels_messages_and_eta(
    emulator, community, tmp_path, columns
):
    """Run on a real pseudo-terminal: the bar is what an owner watching it sees (a terminal
    that reports no size, as some containers' do, still shows it)."""
    seed(emulator, community)
    config, _ = config_file(emulator, community, tmp_path, "tty.db")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "DISCORD_TOKEN": EMULATOR_TOKEN}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backfill", "--config", str(config),
        cwd=ROOT, env=env, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)

    def read_all() -> bytes:
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end closed
                return b"".join(chunks)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    try:
        shown = await asyncio.wait_for(
            asyncio.get_running_loop().run_in_executor(None, read_all), timeout=120
        )
        assert await process.wait() == 0, shown.decode()
    finally:
        os.close(leader)
    text = shown.decode()
    frames = text.split("\r")
    assert any(re.search(r"backfill: +100%.*\| *\d+/\d+ \[.*<.*messages=501", f) for f in frames), (
        text
    )
    assert len([f for f in frames if "backfill:" in f]) >= 2, "the bar was redrawn as it went"
    assert "credited" in text and "backfill: 0/" not in text.replace("backfill: 0%", "")


async def test_channels_limits_the_backfill_to_the_channels_named(emulator, community, tmp_path):
    seed(emulator, community)
    config, url = config_file(emulator, community, tmp_path, "some.db")
    process = await backfill(config, "--channels", str(community.channels["programs"]))
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    assert "from 1 message(s) in 1 channel(s)" in out.decode()
    assert history_pages(emulator, community.channels["general"]) == 0
    days, messages, _ = await totals(url)
    assert len(days) == 1 and messages == 1


async def test_a_bad_span_is_refused_by_name(tmp_path):
    process = await backfill(tmp_path / "none.toml", "--since", "six months")
    _, err = await process.communicate()
    assert process.returncode == 1
    assert (
        "--since 'six months' is not a span: write days or weeks, like 180d or 26w" in err.decode()
    )
