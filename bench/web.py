"""Web benchmark: the leaderboard's and the health page's latency at 100,000 members and 5M
ledger rows.

A store is filled with ``--members`` members (100,000) and ``--ledger`` contributions
(5,000,000) of every built-in kind over the last year; then ``python -m bot web`` serves it, in
a process of its own as operators run it, with the emulator (another process) as Discord: the
staff pages ask it for the signed-in moderator's roles on every request. ``--clients``
concurrent clients (20) ask for leaderboard pages (every period, all kinds or one, the first
pages and deeper ones) for ``--seconds`` (30) a round, then, signed in as the sample
community's moderator, for the staff health page. Each round prints p50/p95/p99 and the
requests served; the last line is ``leaderboard_p95_ms <median p95 of the rounds>`` (goal <
200), after ``health_p95_ms``.

    python bench/web.py                                  # 100,000 members, 5M rows, 3 rounds
    python bench/web.py --members 10000 --ledger 500000 --rounds 1   # quicker
    python bench/web.py --database postgresql+asyncpg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.child import EmulatorProcess, reply  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.demo.community import EMULATOR_TOKEN, build_sample_community  # noqa: E402
from bot.services.container import build_services  # noqa: E402
from bot.services.stats import PERIODS  # noqa: E402
from db import migrate  # noqa: E402
from db.base import Base  # noqa: E402
from db.engine import create_engine, create_session_factory  # noqa: E402
from db.models import Contribution, Member  # noqa: E402
from emulator import Emulator  # noqa: E402

#: The kinds the clients filter the leaderboard by (and all kinds, more often).
BOARD_KINDS = ("answer", "message_day", "event_attended")
FIRST_USER = 300000000000000000
KINDS = ("message_day", "answer", "thanks_received", "event_hosted", "event_attended", "content")
BATCH = 50_000


async def serve_emulator() -> None:
    """The child process: the sample community, its ids, then wait to be told to stop."""
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel")
    await emu.start()
    community = build_sample_community(emu)
    reply({"api_base": emu.api_base, "gateway_url": emu.gateway_url, **community.__dict__})
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await emu.stop()


async def fill(url: str, guild: int, members: int, ledger: int, seed: int) -> float:
    """Members and contributions straight into the tables (the bench measures reading)."""
    started = time.perf_counter()
    engine = create_engine(url)
    try:
        if url.startswith("postgresql"):
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.drop_all)
                await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        await migrate.upgrade(engine)
        rng = random.Random(seed)
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            for first in range(0, members, BATCH):
                await connection.execute(
                    Member.__table__.insert(),
                    [
                        {
                            "guild_id": guild,
                            "user_id": FIRST_USER + n,
                            "display_name": f"member {n}",
                            "is_bot": False,
                            "first_seen_at": now - timedelta(days=400),
                            "joined_at": now - timedelta(days=400),
                            "left_at": now - timedelta(days=3) if n % 50 == 0 else None,
                            "recognition_opt_out": n % 97 == 0,
                            "feedback_updates_opt_out": False,
                        }
                        for n in range(first, min(first + BATCH, members))
                    ],
                )
        kinds = KINDS
        # A long tail, as communities have: a few members make most of the ledger.
        weights = [1 / (n + 10) for n in range(members)]
        for first in range(0, ledger, BATCH):
            count = min(BATCH, ledger - first)
            users = rng.choices(range(members), weights=weights, k=count)
            async with engine.begin() as connection:
                await connection.execute(
                    Contribution.__table__.insert(),
                    [
                        {
                            "guild_id": guild,
                            "user_id": FIRST_USER + user,
                            "kind": kinds[(first + i) % len(kinds)],
                            "points": rng.choice((1, 1, 1, 2, 5, 10)),
                            "source_id": f"bench:{first + i}",
                            "occurred_at": now - timedelta(seconds=rng.random() * 365 * 86400),
                            "recorded_at": now,
                        }
                        for i, user in enumerate(users)
                    ],
                )
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def leaderboard_urls(rng: random.Random) -> str:
    period = rng.choice(PERIODS)
    kind = rng.choice((None, *BOARD_KINDS))
    page = rng.choice((1, 1, 1, 2, 3, 11))
    query = f"period={period}&page={page}" + (f"&kind={kind}" if kind else "")
    return f"/leaderboard?{query}"


async def load(
    base: str,
    clients: int,
    seconds: float,
    seed: int,
    urls: Any,
    cookies: dict[str, str] | None = None,
) -> list[float]:
    """Latencies (ms) of every page ``clients`` clients got in ``seconds``."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        async with aiohttp.ClientSession(base, cookies=cookies) as session:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(urls(rng), allow_redirects=False) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{response.status} for {response.url}")
                latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


async def signed_in(base: str, url: str, data: dict[str, Any], user_id: int) -> dict[str, str]:
    """The session cookie of ``user_id``, signed in by a link from the sign-in service."""
    settings = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN}).settings
    engine = create_engine(url)
    try:
        services = build_services(settings, SystemClock(), create_session_factory(engine))
        token = await services.web_sign_in.issue(user_id)
    finally:
        await engine.dispose()
    async with (
        aiohttp.ClientSession(base) as session,
        session.get(f"/sign-in?token={token}", allow_redirects=False) as response,
    ):
        if response.status != 303:
            raise RuntimeError(f"sign-in answered {response.status}")
        return {name: morsel.value for name, morsel in response.cookies.items()}


def measured(name: str, number: int, latencies: list[float], args: argparse.Namespace) -> float:
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{name} round {number}: {len(latencies):,} pages in {args.seconds:g} s "
        f"({len(latencies) / args.seconds:,.0f}/s) by {args.clients} clients: "
        f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, "
        f"max {max(latencies):.0f} ms",
        flush=True,
    )
    return q[94]


async def serve_and_measure(
    config: Path, args: argparse.Namespace, port: int, url: str, data: dict[str, Any], staff: int
) -> tuple[list[float], list[float]]:
    env = {**os.environ, "FLYWHEEL_WEB_SECRET": "b" * 40, "DISCORD_TOKEN": EMULATOR_TOKEN}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", "--config", str(config),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
                if server.returncode is not None:
                    break
            else:
                raise RuntimeError("python -m bot web did not come up")
            if server.returncode is not None:
                assert server.stderr is not None
                problem = (await server.stderr.read()).decode()
                raise RuntimeError(f"python -m bot web stopped: {problem}")
        cookies = await signed_in(base, url, data, staff)
        started = time.perf_counter()
        async with aiohttp.ClientSession(base, cookies=cookies) as session:
            for period in PERIODS:
                for kind in (None, *BOARD_KINDS):
                    query = f"period={period}" + (f"&kind={kind}" if kind else "")
                    async with session.get(f"/leaderboard?{query}") as response:
                        await response.read()
            async with session.get("/staff/health") as response:
                await response.read()
        print(
            f"cold start: {time.perf_counter() - started:.1f} s to load every board once and "
            "the health page (each computed from the ledger, then shared)",
            flush=True,
        )
        boards, health = [], []
        for number in range(1, args.rounds + 1):
            latencies = await load(
                base, args.clients, args.seconds, args.seed + number, leaderboard_urls
            )
            boards.append(measured("leaderboard", number, latencies, args))
            latencies = await load(
                base, args.clients, args.seconds, number, lambda _rng: "/staff/health", cookies
            )
            health.append(measured("health", number, latencies, args))
        return boards, health
    finally:
        if server.returncode is None:
            server.terminate()
        await server.wait()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def bench(args: argparse.Namespace) -> float:
    emulator, info = await EmulatorProcess.start(SCRIPT)
    try:
        with tempfile.TemporaryDirectory(prefix="flywheel-bench-web-") as scratch:
            url = args.database or f"sqlite+aiosqlite:///{Path(scratch) / 'flywheel.db'}"
            guild = info["guild_id"]
            took = await fill(url, guild, args.members, args.ledger, args.seed)
            print(
                f"filled {args.members:,} members and {args.ledger:,} ledger rows in {took:.0f} s"
            )
            port = free_port()
            data = {
                "discord": {
                    "guild_id": guild,
                    "api_base": info["api_base"],
                    "gateway_url": info["gateway_url"],
                },
                "database": {"url": url},
                "channels": {
                    "announcements": info["channels"]["announcements"],
                    "review": info["channels"]["review"],
                    "mod_log": info["channels"]["mod-log"],
                },
                "logging": {"level": "WARNING"},
                "roles": {"moderators": [info["moderator_role_id"]]},
                "web": {"enabled": True, "bind": f"127.0.0.1:{port}"},
            }
            config = Path(scratch) / "web.toml"
            config.write_text(toml(data), encoding="utf-8")
            staff = info["moderators"]["morgan"]
            boards, health = await serve_and_measure(config, args, port, url, data, staff)
    finally:
        await emulator.stop()
    print(f"health_p95_ms {statistics.median(health):.0f}")
    return statistics.median(boards)


def toml(data: dict[str, Any]) -> str:
    """The few shapes this config uses: tables of strings, numbers, booleans and id lists."""
    lines = []
    for section, body in data.items():
        lines.append(f"[{section}]")
        for key, value in body.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            else:
                lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=5_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", help="store URL (default: a temporary SQLite file)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve_emulator())
        return
    p95 = asyncio.run(bench(args))
    print(f"leaderboard_p95_ms {p95:.0f}")


if __name__ == "__main__":
    main()
