"""Backfill benchmark: how close the history backfill reads to what Discord's rate limits allow.

The emulator enforces Discord's limits as Flywheel meets them (a history bucket of 5 requests
per 5 s per channel, 50 requests a second in all). ``--messages`` past messages (1,000,000 by
default) from ``--members`` members (10,000) are seeded across ``--channels`` text channels
(50) over the last 180 days; the real bot connects, then its backfill reads them all (100 a
page) and credits them. The rate the limits allow is

    min(channels × 5 / 5 s, 50 / s) × 100 messages a page

and the rate achieved is the messages read over the reading time (from the first page to the
last channel done). Crediting after the reading (the cooldown in time order, day credits, the
closing ladder sweep) is timed and printed apart. The last line is
``backfill_ratio <achieved/allowed>``; peak memory (RSS of this process, which also holds the
emulator) is printed before it.

    python bench/backfill.py                          # 1,000,000 messages, a few minutes
    python bench/backfill.py --messages 100000        # quicker
    python bench/backfill.py --database postgresql+asyncpg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.clock import FakeClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.demo.community import EMULATOR_TOKEN, build_sample_community, community_config  # noqa: E402
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


async def bench(args: argparse.Namespace) -> float:
    now = datetime.now(UTC)
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel")
    await emu.start()
    try:
        started = time.perf_counter()
        community, channels = seed(emu, args, now)
        print(
            f"seeded {args.messages // args.channels * args.channels:,} messages from "
            f"{args.members:,} members in {len(channels)} channels in "
            f"{time.perf_counter() - started:.1f} s"
        )
        with tempfile.TemporaryDirectory() as scratch:
            url = args.database or f"sqlite+aiosqlite:///{Path(scratch) / 'flywheel.db'}"
            data = community_config(community, emu, database_url=url)
            data["activity"] = {"cooldown_seconds": 60, "min_length": 10}
            config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
            async with running_bot(config, clock=FakeClock(now), ready_timeout=120) as app:
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
                    channel_ids=channels,
                    on_progress=on_progress,
                )
                end = time.perf_counter()
        reading = (read_done[0] if read_done else end) - begin
        read = report.progress.messages_read
        achieved = read / reading
        allowed = allowed_per_second(len(channels))
        requests, per = history_limit()
        print(
            f"read {read:,} messages in {reading:.1f} s; credited in {end - begin - reading:.1f} s"
        )
        print(
            f"members credited {report.members:,}, active days {report.active_days:,}, "
            f"promoted {sum(report.promoted.values()):,}"
        )
        print(
            f"allowed {allowed:,.0f} msg/s (history bucket {requests} per {per:g} s per channel "
            f"× {len(channels)} channels, global {RateLimits().global_per_second}/s, {PAGE} a page)"
        )
        print(f"achieved {achieved:,.0f} msg/s")
        scopes = Counter(scope for _route, scope, _wait in emu.limiter.served_429)
        routes = Counter(route for route, _scope, _wait in emu.limiter.served_429)
        print(f"429s served {sum(scopes.values())} {dict(scopes)} {dict(routes)}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak_rss_mb {peak_mb:.0f}")
        return achieved / allowed
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", help="store URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    ratio = asyncio.run(bench(args))
    print(f"backfill_ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
