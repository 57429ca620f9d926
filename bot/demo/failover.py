"""The fail-over drill: two real Flywheel processes, PostgreSQL, the emulator with 2 shards and
4 servers; the active process is killed with SIGKILL mid-traffic and the standby takes over.

Shared by ``tests/e2e/test_failover.py`` and ``bench/failover.py``. The emulator runs in the
caller's event loop; the bots are ``python -m bot run`` processes. Afterwards every server is
checked against what a single uninterrupted bot would have stored: each member-day's message
count (the activity counter's own rules, over every message posted), each scheduled post made
once, each member's tier role matching their tier.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import make_url, select

from bot.config import parse_config
from bot.core.activity import ActivityCounter
from bot.demo.community import (
    EMULATOR_TOKEN,
    SampleCommunity,
    build_sample_community,
    community_config,
)
from bot.services.activity import activity_rules
from db.engine import create_engine
from db.models import ActivityDay, ScheduledPost, TierState
from emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 2
#: Chat channels per server.
CHATS = 8
#: One tier anyone active reaches, so promotions (and their roles) happen during the drill.
TIER = {"key": "champion", "name": "Champion", "window_days": 90, "min_counts": {"message_day": 1}}
SENTENCE = "the release notes explain how the new sync works with offline drafts"
WORDS = SENTENCE.split()
#: Every qualifying message counts (no cooldown), so each one lost or doubled shows; days are
#: credited at once.
ACTIVITY = {"cooldown_seconds": 0, "uncount_deleted_within_seconds": 0}


@dataclass
class ServerCheck:
    """One server after the drill: what differs from a single uninterrupted bot."""

    guild_id: int
    messages: int
    counted: int
    lost: int = 0
    doubled: int = 0
    posts: int = 0
    posts_doubled: int = 0
    roles_left: int = 0


@dataclass
class DrillResult:
    takeover_s: float
    #: From the kill until the history catch-up was done (reading is paced by Discord's limits).
    caught_up_s: float
    servers: list[ServerCheck] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return sum(s.lost for s in self.servers)

    @property
    def doubled(self) -> int:
        return sum(s.doubled for s in self.servers)

    @property
    def posts_doubled(self) -> int:
        return sum(s.posts_doubled for s in self.servers)

    @property
    def roles_left(self) -> int:
        return sum(s.roles_left for s in self.servers)


@contextlib.asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database beside ``admin_url``'s, dropped afterwards."""
    import asyncpg

    url = make_url(admin_url)
    name = f"flywheel_drill_{uuid.uuid4().hex[:10]}"
    connect = {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
    }
    admin = await asyncpg.connect(database=url.database, **connect)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield str(url.set(database=name))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def write_deployment(
    workdir: Path, emu: Emulator, servers: list[SampleCommunity], database_url: str
) -> Path:
    """config.toml (the deployment: Discord, shards, database) and one file per server;
    shard0.toml and shard1.toml the same, for a process running that shard alone.

    Each server's weekly recognition falls due at the first whole minute 15 s from now: the
    active process posts it before it is killed, and the standby, catching up as it takes
    over, must not post it again.
    """
    due = datetime.now(UTC) + timedelta(seconds=75)
    weekly_at = f"{due:%a} {due:%H:%M}".lower()
    (workdir / "servers").mkdir(parents=True, exist_ok=True)
    deployment = {
        "discord": {
            "api_base": emu.api_base,
            "gateway_url": emu.gateway_url,
            "servers_dir": "servers",
            "shard_count": SHARDS,
        },
        "database": {"url": database_url},
        "logging": {"level": "INFO"},
    }
    (workdir / "config.toml").write_text(tomli_w.dumps(deployment))
    for shard in range(SHARDS):  # for processes that split the shards between them
        deployment["discord"]["shard_ids"] = [shard]
        (workdir / f"shard{shard}.toml").write_text(tomli_w.dumps(deployment))
    for n, server in enumerate(servers):
        data = community_config(
            server,
            emu,
            database_url=database_url,
            tiers=[TIER],
            activity=ACTIVITY,
            schedule={"weekly_recognition": weekly_at},
        )
        for section in ("database", "logging"):
            data.pop(section)
        data["discord"] = {"guild_id": server.guild_id}
        (workdir / "servers" / f"server{n}.toml").write_text(tomli_w.dumps(data))
    return workdir / "config.toml"


class BotProcess:
    """``python -m bot run`` with its log in a file (read it when something fails)."""

    def __init__(self, config: Path, log: Path, *, standby: bool = False) -> None:
        self.config, self.log, self.standby = config, log, standby
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        args = ["-m", "bot", "run", "--config", str(self.config)]
        if self.standby:
            args.append("--standby")
        env = {**os.environ, "DISCORD_TOKEN": EMULATOR_TOKEN}
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, *args, cwd=ROOT, env=env, stdout=out, stderr=out
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def signal(self, sig: int, within: float = 30) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"{self.log.name} did not stop:\n{self.text()[-4000:]}") from None

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def _connected(emu: Emulator) -> set[str]:
    return {sid for sid, s in emu.gateway.sessions.items() if s.connected}


async def wait_until(
    check: Callable[[], bool], what: str, within: float, *logs: BotProcess
) -> None:
    deadline = time.monotonic() + within
    while not check():
        dead = [p for p in logs if p.process is not None and p.process.returncode is not None]
        if time.monotonic() > deadline or dead:
            tails = "\n".join(f"--- {p.log.name}\n{p.text()[-3000:]}" for p in logs)
            raise AssertionError(f"{what} within {within:.0f} s\n{tails}")
        await asyncio.sleep(0.05)


async def run_drill(
    emu: Emulator,
    workdir: Path,
    database_url: str,
    *,
    messages: int,
    say: Callable[[str], None] = lambda _line: None,
) -> DrillResult:
    """Run the drill with ``messages`` messages; the caller owns ``emu`` (started) and the
    database (empty)."""
    servers = [
        build_sample_community(emu, member_count=6, name=f"Server {n}", shard=(n % SHARDS, SHARDS))
        for n in range(4)
    ]
    # Members talk in several channels, as in a real server: history is read a channel at a
    # time under Discord's per-channel limit (5 requests per 5 s).
    chats = {
        s.guild_id: [s.channels["general"]]
        + [emu.guild(s.guild_id).create_text_channel(f"chat-{k}").id for k in range(CHATS - 1)]
        for s in servers
    }
    config = write_deployment(workdir, emu, servers, database_url)
    active = BotProcess(config, workdir / "active.log")
    standby = BotProcess(config, workdir / "standby.log", standby=True)
    posted: list[tuple[int, dict[str, Any]]] = []
    try:
        await active.start()
        await wait_until(
            lambda: len(_connected(emu)) == SHARDS, "the active process connects", 60, active
        )
        first_sessions = _connected(emu)
        await standby.start()
        await wait_until(
            lambda: "standby: waiting" in standby.text(), "the standby waits", 30, standby
        )
        say(f"active process connected ({SHARDS} shards, 4 servers); standby waiting")

        async def traffic(count: int) -> None:
            for _ in range(count):
                n = len(posted)
                server = servers[n % len(servers)]
                members = list(server.members.values())
                author = members[(n // len(servers)) % len(members)]
                text = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(4 + n % 6))
                channels = chats[server.guild_id]
                channel = channels[(n // len(servers)) % len(channels)]
                message = await emu.post_message(channel, author, text)
                posted.append((server.guild_id, message))
                if n % 20 == 0:
                    await asyncio.sleep(0.01)  # let the gateway write

        after_post = messages // 100  # posted once the weekly post is made, just before the kill
        before, during = messages * 2 // 5 - after_post, messages * 3 // 10
        await traffic(before)
        engine = create_engine(database_url)
        try:
            await _until_posted(engine, len(servers), active)
        finally:
            await engine.dispose()
        await traffic(after_post)
        await asyncio.sleep(0.2)  # some flushed, some still in the active process's memory
        killed = time.monotonic()
        assert active.process is not None
        active.process.send_signal(signal.SIGKILL)
        await active.process.wait()
        say(f"SIGKILL after {before + after_post:,} messages; {during:,} more while none listens")
        await traffic(during)

        def taken_over() -> bool:
            now = _connected(emu)
            return len(now) == SHARDS and not now & first_sessions

        await wait_until(taken_over, "the standby takes over", 90, standby)
        takeover = time.monotonic() - killed
        say(f"the standby took over {takeover:.1f} s after the kill")
        await wait_until(
            lambda: "history catch-up:" in standby.text() or "catch-up failed" in standby.text(),
            "the standby catches up from history",
            600,
            standby,
        )
        caught_up = time.monotonic() - killed
        say(f"the standby caught up from history {caught_up:.1f} s after the kill")
        await traffic(messages - before - after_post - during)
        engine = create_engine(database_url)
        try:
            await _until_roles_settle(engine, emu, servers, standby)
            returncode = await standby.signal(signal.SIGTERM, within=60)
            if returncode != 0:
                raise AssertionError(f"the standby exited {returncode}:\n{standby.text()[-4000:]}")
            result = DrillResult(takeover, caught_up)
            for server in servers:
                result.servers.append(await _check(engine, emu, server, posted))
        finally:
            await engine.dispose()
        return result
    finally:
        await active.stop()
        await standby.stop()


async def _until_posted(engine: Any, servers: int, active: BotProcess) -> None:
    """Wait for the active process to make each server's weekly post (due within 75 s)."""

    async def made() -> int:
        async with engine.connect() as conn:
            rows = await conn.scalars(
                select(ScheduledPost.guild_id).where(ScheduledPost.state == "posted")
            )
            return len(set(rows.all()))

    deadline = time.monotonic() + 120
    while await made() < servers:
        if time.monotonic() > deadline or active.process.returncode is not None:  # type: ignore[union-attr]
            raise AssertionError(
                f"no weekly posts from the active process:\n{active.text()[-3000:]}"
            )
        await asyncio.sleep(0.5)


async def _until_roles_settle(
    engine: Any, emu: Emulator, servers: list[SampleCommunity], standby: BotProcess
) -> None:
    """Wait (up to a minute) for the standby's role queue to give each promoted member's role."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        left = 0
        for server in servers:
            left += await _roles_left(engine, emu, server)
        if left == 0:
            return
        await asyncio.sleep(0.5)


async def _roles_left(engine: Any, emu: Emulator, server: SampleCommunity) -> int:
    role = server.tier_role_ids[TIER["key"]]
    async with engine.connect() as conn:
        tiers = dict(
            (
                await conn.execute(
                    select(TierState.user_id, TierState.tier_key).where(
                        TierState.guild_id == server.guild_id
                    )
                )
            ).all()
        )
    guild = emu.world.guilds[server.guild_id]
    return sum(
        (tiers.get(member) == TIER["key"]) != (role in guild.members[member].role_ids)
        for member in server.members.values()
    )


async def _check(
    engine: Any, emu: Emulator, server: SampleCommunity, posted: list[tuple[int, dict[str, Any]]]
) -> ServerCheck:
    mine = [m for guild_id, m in posted if guild_id == server.guild_id]
    settings = parse_config(
        community_config(
            server,
            emu,
            database_url="sqlite+aiosqlite://",
            tiers=[TIER],
            activity=ACTIVITY,
        ),
        require_token=False,
    ).settings
    counter = ActivityCounter(activity_rules(settings))
    for m in sorted(mine, key=lambda m: int(m["id"])):
        counter.observe_post(
            int(m["id"]),
            int(m["author"]["id"]),
            int(m["channel_id"]),
            None,
            None,
            datetime.fromisoformat(m["timestamp"]),
            m["content"],
        )
    expected = counter.drain().increments
    async with engine.connect() as conn:
        stored = {
            (user_id, day): messages
            for user_id, day, messages in (
                await conn.execute(
                    select(ActivityDay.user_id, ActivityDay.day, ActivityDay.messages).where(
                        ActivityDay.guild_id == server.guild_id
                    )
                )
            ).all()
        }
        post_ids = (
            await conn.scalars(
                select(ScheduledPost.message_id).where(
                    ScheduledPost.guild_id == server.guild_id, ScheduledPost.state == "posted"
                )
            )
        ).all()
    check = ServerCheck(server.guild_id, len(mine), sum(stored.values()))
    for key in expected.keys() | stored.keys():
        got, want = stored.get(key, 0), expected.get(key, 0)
        check.lost += max(0, want - got)
        check.doubled += max(0, got - want)
    bot_id = str(emu.bot_user_id)
    announced = [
        m["content"]
        for m in emu.messages(server.channels["announcements"])
        if m["author"]["id"] == bot_id
    ]
    check.posts = len(post_ids)
    check.posts_doubled = sum(n - 1 for n in Counter(announced).values() if n > 1)
    check.roles_left = await _roles_left(engine, emu, server)
    return check
