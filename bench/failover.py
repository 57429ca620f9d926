"""Fail-over benchmark: how long a standby takes to take over a killed process, and what is
lost or counted twice.

The drill of ``tests/e2e/test_failover.py`` (``bot.demo.failover``) at scale: two real
``python -m bot run`` processes on a fresh PostgreSQL database, the emulator (in this process)
with 2 shards and 4 servers and Discord's identify limits. ``--messages`` messages (100,000 by
default) are posted across the servers; after two fifths the active process is killed with
SIGKILL, three tenths more are posted while no process listens, and the rest once the standby
has taken over and caught up from history. Takeover is the time from the kill until both
shards are connected again by the standby.

Each of ``--rounds`` rounds prints its figures; the last line is
``failover_lost <n> doubled <n> takeover_s <median s>`` (goal 0, 0, < 30), with lost and
doubled summed over the rounds.

    python bench/failover.py                              # 100,000 messages
    python bench/failover.py --messages 10000 --rounds 1  # quicker
    python bench/failover.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/test

CI runs it with ``--messages 20000 --rounds 1 --require-goals`` (exit 1 when a goal is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo.community import EMULATOR_TOKEN
from bot.demo.failover import DrillResult, fresh_database, run_drill
from emulator import Emulator

DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
GOAL_TAKEOVER_S = 30


async def one_round(args: argparse.Namespace, number: int) -> DrillResult:
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel")
    await emu.start()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="flywheel-failover-") as workdir:
            async with fresh_database(args.database) as database_url:
                result = await run_drill(
                    emu,
                    Path(workdir),
                    database_url,
                    messages=args.messages,
                    say=lambda line: print(f"  round {number}: {line}", flush=True),
                )
    finally:
        await emu.stop()
    for server in result.servers:
        print(
            f"  round {number}: server {server.guild_id}: {server.messages:,} messages, "
            f"{server.counted:,} counted, lost {server.lost}, doubled {server.doubled}, "
            f"{server.posts} scheduled post(s), doubled {server.posts_doubled}, "
            f"roles left {server.roles_left}",
            flush=True,
        )
    print(
        f"round {number}: takeover {result.takeover_s:.1f} s, caught up from history "
        f"{result.caught_up_s:.1f} s after the kill, lost {result.lost}, doubled "
        f"{result.doubled}, posts doubled {result.posts_doubled}, roles left "
        f"{result.roles_left} ({time.monotonic() - started:.0f} s in all)",
        flush=True,
    )
    return result


async def main(args: argparse.Namespace) -> int:
    results = [await one_round(args, n + 1) for n in range(args.rounds)]
    lost = sum(r.lost for r in results)
    doubled = sum(r.doubled for r in results)
    takeover = statistics.median(r.takeover_s for r in results)
    print(f"rounds: {args.rounds}; takeover: {', '.join(f'{r.takeover_s:.1f}' for r in results)} s")
    print(f"failover_lost {lost} doubled {doubled} takeover_s {takeover:.1f}")
    others = sum(r.posts_doubled + r.roles_left for r in results)
    met = lost == 0 and doubled == 0 and others == 0 and takeover < GOAL_TAKEOVER_S
    if args.require_goals and not met:
        print("goals not met: 0 lost, 0 doubled, each post once, no role left, takeover < 30 s")
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help="a PostgreSQL URL; each round makes a fresh database beside it (the drill needs "
        "PostgreSQL: SQLite serves one process)",
    )
    parser.add_argument(
        "--require-goals",
        action="store_true",
        help="exit 1 unless the goals are met (CI runs it so)",
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
