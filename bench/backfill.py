"""Backfill benchmark: how close the history backfill reads to what Discord's rate limits allow.

The emulator, in a child process, enforces Discord's limits as Flywheel meets them (a history
bucket of 5 requests per 5 s per channel, 50 requests a second in all). ``--messages`` past
messages (1,000,000 by default) from ``--members`` members (10,000) are seeded across
``--channels`` text channels (50) over the last 180 days; in each of ``--rounds`` rounds (3) a
fresh bot on a fresh store connects, then its backfill reads them all (100 a page) and credits
them. The rate the limits allow is

    min(channels × 5 / 5 s, 50 / s) × 100 messages a page

and the rate achieved is the messages read over the reading time (from the first page to the
last channel done). Crediting after the reading (the cooldown in time order, day credits, the
closing ladder sweep) is timed and printed apart. The last line is
``backfill_ratio <median achieved/allowed>``; the peak memory of the bot's process and of the
emulator's is printed before it.

    python bench/backfill.py                          # 1,000,000 messages, about 17 minutes
    python bench/backfill.py --messages 100000 --rounds 1     # quicker
    python bench/backfill.py --database postgresql+asyncpg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.child import EmulatorProcess, reply  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.demo.community import (  # noqa: E402
    EMULATOR_TOKEN,
    SampleCommunity,
    build_sample_community,
    community_config,
)
from bot.emulated import running_bot  # noqa: E402
from bot.history import DiscordHistory  # noqa: E402
from bot.services.backfill import PAGE  # noqa: E402
from emulator import Emulator  # noqa: E402
from emulator.ratelimits import DISCORD_LIMITS, RateLimits  # noqa: E402

SPAN = timedelta(days=180)
WORDS = (
    "release", "migration", "config", "deploy", "question", "answer", "docs", "guide", "plugin",
    "cache", "token", "webhook", "schema", "query", "index", "retry", "timeout", "latency",
    "metric", "dashboard", "feature", "bug", "fix", "thanks",
)  # fmt: skip


def history_limit() -> tuple[int, float]:
    """(requests, seconds) of the emulator's history bucket: the numbers the ratio uses."""
    [limit] = [limit for limit in DISCORD_LIMITS if limit.name == "message history"]
    return limit.requests, limit.per


def allowed_per_second(channels: int) -> float:
    """Messages a second Discord's limits allow a backfill of ``channels`` channels."""
    requests, per = history_limit()
    pages = min(channels * requests / per, float(RateLimits().global_per_second))
    return pages * PAGE


def seed(emu: Emulator, args: argparse.Namespace, now: datetime) -> tuple[Any, list[int]]:
    """The sample community plus ``--members`` members and ``--channels`` chat channels, each
    channel given its share of ``--messages`` past messages (oldest first)."""
    community = build_sample_community(emu)
    guild = emu.guild(community.guild_id)
    members = [guild.add_member(f"member{n}").id for n in range(args.members)]
    channels = [guild.create_text_channel(f"chat-{n}").id for n in range(args.channels)]
    rng = random.Random(args.seed)
    span_s = SPAN.total_seconds() - 3600
    per_channel = args.messages // args.channels
    for channel in channels:
        moments = sorted(rng.random() * span_s for _ in range(per_channel))
        rows = [
            (
                rng.choice(members),
                " ".join(rng.choices(WORDS, k=rng.randint(2, 12))),
                now - timedelta(seconds=span_s - offset),
            )
            for offset in moments
        ]
        emu.seed_history(channel, rows)
    return community, channels


# --- The emulator's side (a child process) -------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """Seed the history, report the ids, then answer ``stats`` requests (JSON lines on stdin).

    In a process of its own the emulator's work (1M stored messages, every page rendered) is
    neither billed to the bot's memory nor able to hold up the bot's event loop, so the pacing
    the backfill does is what the rate limiter sees.
    """
    now = datetime.now(UTC)
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel")
    await emu.start()
    started = time.perf_counter()
    community, channels = seed(emu, args, now)
    reply({
        "api_base": emu.api_base,
        "gateway_url": emu.gateway_url,
        "community": community.__dict__,
        "channels": channels,
        "now": now.isoformat(),
        "seeded": args.messages // args.channels * args.channels,
        "seed_seconds": time.perf_counter() - started,
    })  # fmt: skip
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        if json.loads(line)["op"] != "stats":
            break
        served = emu.limiter.served_429
        reply({
            "scopes": dict(Counter(scope for _route, scope, _wait in served)),
            "routes": dict(Counter(route for route, _scope, _wait in served)),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        })  # fmt: skip
        served.clear()
        emu.request_log.clear()  # it keeps every page it served: gigabytes over 3 rounds
    await emu.stop()


# --- The bot's side ------------------------------------------------------------------------


@dataclass
class Round:
    ratio: float
    achieved: float
    reading: float
    crediting: float
    global_429s: int


async def one_round(info: dict[str, Any], args: argparse.Namespace, number: int) -> Round:
    """A fresh store and a fresh bot read the whole history once."""
    community = SampleCommunity(**info["community"])
    endpoints = SimpleNamespace(api_base=info["api_base"], gateway_url=info["gateway_url"])
    now = datetime.fromisoformat(info["now"])
    with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as scratch:
        url = args.database or f"sqlite+aiosqlite:///{Path(scratch) / 'flywheel.db'}"
        if args.database:
            await reset_database(url)
        data = community_config(community, endpoints, database_url=url)  # type: ignore[arg-type]
        data["activity"] = {"cooldown_seconds": 60, "min_length": 10}
        config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
        # Frozen start-up heap, as `python -m bot run` does (bot/runtime.py).
        async with running_bot(
            config, clock=FakeClock(now), ready_timeout=120, freeze_heap_when_ready=True
        ) as app:
            bot = app.bot
            guild = bot.get_guild(bot.guild_id)
            assert guild is not None and guild.me is not None
            read_done: list[float] = []

            async def on_progress(progress: Any) -> None:
                if progress.channels_done == progress.channels_total and not read_done:
                    read_done.append(time.perf_counter())

            begin = time.perf_counter()
            report = await bot.services.backfill.run(
                DiscordHistory(guild, guild.me),
                span=SPAN,
                channel_ids=info["channels"],
                on_progress=on_progress,
            )
            end = time.perf_counter()
    reading = (read_done[0] if read_done else end) - begin
    read = report.progress.messages_read
    achieved = read / reading
    stats = await EMULATOR.ask("stats") if EMULATOR else {}
    scopes = stats.get("scopes", {})
    print(
        f"round {number}: read {read:,} messages in {reading:.1f} s ({achieved:,.0f} msg/s), "
        f"credited in {end - begin - reading:.1f} s; members {report.members:,}, active days "
        f"{report.active_days:,}, promoted {sum(report.promoted.values()):,}; 429s served "
        f"{sum(scopes.values())} {scopes} {stats.get('routes', {})}",
        flush=True,
    )
    return Round(
        achieved / allowed_per_second(len(info["channels"])),
        achieved,
        reading,
        end - begin - reading,
        scopes.get("global", 0),
    )


async def reset_database(url: str) -> None:
    """A PostgreSQL store starts each round empty, like the temporary SQLite file does."""
    from db.base import Base
    from db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        await engine.dispose()


EMULATOR: EmulatorProcess | None = None


async def bench(args: argparse.Namespace) -> float:
    global EMULATOR
    EMULATOR, info = await EmulatorProcess.start(
        SCRIPT, "--messages", str(args.messages), "--members", str(args.members),
        "--channels", str(args.channels), "--seed", str(args.seed),
    )  # fmt: skip
    try:
        print(
            f"seeded {info['seeded']:,} messages from {args.members:,} members in "
            f"{len(info['channels'])} channels in {info['seed_seconds']:.1f} s (emulator process)"
        )
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(await one_round(info, args, number))
            await asyncio.sleep(5)  # every history bucket full again
        stats = await EMULATOR.ask("stats")
    finally:
        await EMULATOR.stop()
    requests, per = history_limit()
    allowed = allowed_per_second(len(info["channels"]))
    print(
        f"allowed {allowed:,.0f} msg/s (history bucket {requests} per {per:g} s per channel "
        f"× {len(info['channels'])} channels, global {RateLimits().global_per_second}/s, "
        f"{PAGE} a page)"
    )
    print(
        f"median of {len(rounds)} rounds: achieved "
        f"{statistics.median(r.achieved for r in rounds):,.0f} msg/s, reading "
        f"{statistics.median(r.reading for r in rounds):.1f} s, crediting "
        f"{statistics.median(r.crediting for r in rounds):.1f} s, global 429s "
        f"{statistics.median(r.global_429s for r in rounds):g} "
        f"(rounds: {', '.join(f'{r.ratio:.2f}' for r in rounds)})"
    )
    bot_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak_rss_mb bot {bot_mb:.0f}, emulator {stats['peak_rss_mb']:.0f}")
    return statistics.median(r.ratio for r in rounds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", help="store URL (default: a temporary SQLite file)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args))
        return
    ratio = asyncio.run(bench(args))
    print(f"backfill_ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
