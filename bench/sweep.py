"""The ladder's daily sweep and per-member evaluation at 10,000 and 100,000 members.

    python bench/sweep.py [--sizes 10000,100000] [--rows-per-member 50] [--samples 200]
                          [--seed 1] [--keep DIR]

For each size it builds a SQLite store with the real schema (``db.migrate.upgrade``) and fills
it with ``sqlite3`` directly: members who joined over two years, ``rows-per-member`` ledger rows
each on average (5,000,000 at 100,000 members) over the last year, unevenly spread (a few very
active members, a long tail), the matching ``activity_days`` rollups, and 0.5% of credits
reversed. The tiers are the sample community's (Champion, Ambassador, Advisor; 90- and
180-day windows). Then, with the real ``LadderService``:

* the first sweep: bulk stats for every member, every decision, and the promotions it
  causes written (tier_states, tier_changes), in batches;
* a steady-state sweep the next day (what runs daily: few or no changes);
* per-member evaluation (``LadderService.evaluate({member})``, what runs after each
  contribution): the mean and 95th percentile over ``--samples`` random members.

The last line is ``sweep_100k_s <seconds of the first sweep at 100,000 members>``. A benchmark,
not a test: nothing is asserted. Results and the machine are in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.clock import FakeClock  # noqa: E402
from bot.config import Settings, parse_config  # noqa: E402
from bot.demo.community import TIERS  # noqa: E402
from bot.services.container import build_services  # noqa: E402
from db import migrate  # noqa: E402
from db.engine import create_engine, create_session_factory  # noqa: E402

GUILD = 111111111111111111
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 365
FIRST_USER = 10**15
#: (kind, share of ledger rows). message_day rows double as the activity_days rollups.
KINDS = (
    ("message_day", 0.60),
    ("thanks_received", 0.15),
    ("answer", 0.12),
    ("event_attended", 0.06),
    ("content", 0.03),
    ("referral", 0.02),
    ("event_hosted", 0.01),
    ("mentoring", 0.01),
)
DAY_SHARE = dict(KINDS)["message_day"]
REVERSED_SHARE = 0.005
#: Indexes that would grow in random order during the load: dropped, then rebuilt after it.
LATE_INDEXES = (
    "ix_contributions_member_time",
    "ix_contributions_guild_time",
    "ix_contributions_reverses",
    "ix_activity_days_guild_day",
)


def settings() -> Settings:
    tiers = [{**tier, "role_id": 900 + i} for i, tier in enumerate(TIERS)]
    raw = {
        "discord": {"guild_id": GUILD},
        "database": {"url": "sqlite+aiosqlite:///unused.db"},
        "channels": {"announcements": 2, "review": 3, "mod_log": 4},
        "tiers": tiers,
    }
    return parse_config(raw, env={"DISCORD_TOKEN": "x"}).settings


def stamp(moment: datetime) -> str:
    """How TZDateTime stores a timestamp on SQLite (naive UTC, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def stamp_of(epoch_seconds: int) -> str:
    return stamp(datetime.fromtimestamp(epoch_seconds, UTC))


def member_plans(
    rng: random.Random, members: int, rows_per_member: int
) -> list[tuple[int, int, int, int, int]]:
    """Per member: (user id, active days, other credits, day stride, day phase).

    Rows per member are heavy-tailed with the requested mean; message_day credits (one per
    active day, at most one a day) take their share, the rest are other kinds. Active days are
    ``phase + i * stride`` (mod 365) with a stride coprime to 365, so they never repeat.
    """
    weights = [min(rng.paretovariate(1.3), 400.0) for _ in range(members)]
    scale = members * rows_per_member / sum(weights)
    strides = [n for n in range(1, 60) if n % 5 and n % 73]
    plans = []
    for index, weight in enumerate(weights):
        count = max(1, round(weight * scale))
        days = min(round(count * DAY_SHARE), HISTORY_DAYS)
        plans.append(
            (
                FIRST_USER + index,
                days,
                count - days,
                rng.choice(strides),
                rng.randrange(HISTORY_DAYS),
            )
        )
    return plans


def fill(db: sqlite3.Connection, rng: random.Random, members: int, rows_per_member: int) -> None:
    """Members, ledger and activity, generated inside SQLite.

    Formatting five million rows in Python would dominate the build. The ledger is written
    oldest first, as a live one is, with source ids in that order so the unique (guild, kind,
    source) index grows at its end. SQLite's random() cannot be seeded: the ledger's kinds and
    times vary a little from run to run (the members' activity levels do not).
    """
    now = int(NOW.timestamp())
    joined = now - 730 * 86_400
    db.executemany(
        "INSERT INTO members (guild_id, user_id, display_name, is_bot, first_seen_at, joined_at,"
        " recognition_opt_out) VALUES (?, ?, 'member', 0, ?, ?, 0)",
        (
            (GUILD, FIRST_USER + i, stamp(NOW), stamp_of(joined + rng.randrange(700 * 86_400)))
            for i in range(members)
        ),
    )
    db.execute(
        "CREATE TEMP TABLE plan (user INTEGER PRIMARY KEY, days INT, others INT, stride INT,"
        " phase INT)"
    )
    plans = member_plans(rng, members, rows_per_member)
    db.executemany("INSERT INTO plan VALUES (?, ?, ?, ?, ?)", plans)
    most = db.execute("SELECT max(max(days), max(others)) FROM plan").fetchone()[0]
    db.execute("CREATE TEMP TABLE seq (i INTEGER PRIMARY KEY)")
    db.executemany("INSERT INTO seq VALUES (?)", ((i,) for i in range(most)))
    # Other kinds by weight: a random pick in 0..9999 falls in one kind's [low, high).
    config = settings()
    others = [(kind, share) for kind, share in KINDS if kind != "message_day"]
    total = sum(share for _, share in others)
    db.execute("CREATE TEMP TABLE kinds (low INT, high INT, kind TEXT, points INT)")
    low = 0
    for n, (kind, share) in enumerate(others, start=1):
        high = 10_000 if n == len(others) else low + round(share / total * 10_000)
        db.execute(
            "INSERT INTO kinds VALUES (?, ?, ?, ?)", (low, high, kind, config.points_for(kind))
        )
        low = high
    db.execute("CREATE TEMP TABLE day (user INT, ago INT)")
    db.execute(
        f"INSERT INTO day SELECT user, 1 + (phase + i * stride) % {HISTORY_DAYS}"
        " FROM plan JOIN seq ON seq.i < plan.days"
    )
    db.execute("CREATE TEMP TABLE gen (at INT, user INT, kind TEXT, points INT)")
    db.execute(
        f"INSERT INTO gen SELECT {now} - ago * 86400 - abs(random()) % 36000, user,"
        " 'message_day', 1 FROM day"
    )
    # The picks are stored first: a subquery's random() would be drawn again per reference.
    db.execute("CREATE TEMP TABLE pick (user INT, pick INT)")
    db.execute(
        "INSERT INTO pick SELECT user, abs(random()) % 10000 FROM plan"
        " JOIN seq ON seq.i < plan.others"
    )
    db.execute(
        f"INSERT INTO gen SELECT {now} - abs(random()) % {HISTORY_DAYS * 86_400}, user, kind,"
        " points FROM pick JOIN kinds ON pick >= low AND pick < high"
    )
    db.execute(
        "INSERT INTO contributions (guild_id, user_id, kind, points, source_id, occurred_at,"
        f" recorded_at) SELECT {GUILD}, user, kind, points,"
        " printf('bench:%d:%d', at, gen.rowid),"
        " strftime('%Y-%m-%d %H:%M:%S.000000', at, 'unixepoch'), ? FROM gen ORDER BY at",
        (stamp(NOW),),
    )
    db.execute(
        f"INSERT INTO activity_days SELECT {GUILD}, user, date({now} - ago * 86400, 'unixepoch'),"
        " 1 + abs(random()) % 30 FROM day ORDER BY ago DESC"
    )
    for table in ("plan", "seq", "kinds", "day", "pick", "gen"):
        db.execute(f"DROP TABLE {table}")


async def build(path: Path, members: int, rows_per_member: int, seed: int) -> dict[str, int]:
    """A store at ``path`` with the real schema, filled with ``sqlite3``; returns row counts."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(engine)
    await engine.dispose()
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA threads=4")
    # Indexes that would grow in random order are built after the load (much faster).
    late = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN (?, ?, ?, ?)",
        LATE_INDEXES,
    ).fetchall()
    for name, _ in late:
        db.execute(f"DROP INDEX {name}")
    fill(db, rng, members, rows_per_member)
    total = db.execute("SELECT max(id) FROM contributions").fetchone()[0]
    reversed_ids = sorted(rng.sample(range(1, total + 1), int(total * REVERSED_SHARE)))
    db.executemany(
        "INSERT INTO contributions (guild_id, user_id, kind, points, source_id, occurred_at,"
        " recorded_at, actor_id, reason, reverses_id)"
        " SELECT guild_id, user_id, kind, -points, 'reversal:' || id, ?, ?, 1, 'bench', id"
        " FROM contributions WHERE id = ?",
        ((stamp(NOW), stamp(NOW), i) for i in reversed_ids),
    )
    for _, sql in late:
        db.execute(sql)
    db.commit()
    counts = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("members", "contributions", "activity_days")
    }
    db.close()
    return counts


async def measure(path: Path, samples: int, seed: int) -> dict[str, Any]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    clock = FakeClock(NOW)
    config = settings()
    service = build_services(config, clock, create_session_factory(engine)).ladder
    try:
        started = time.perf_counter()
        first = await service.sweep()
        first_s = time.perf_counter() - started

        clock.advance(timedelta(days=1))
        started = time.perf_counter()
        steady = await service.sweep()
        steady_s = time.perf_counter() - started

        rng = random.Random(seed)
        members = first.evaluated
        picks = [FIRST_USER + rng.randrange(members) for _ in range(samples)]
        timings = []
        for user in picks:
            started = time.perf_counter()
            await service.evaluate({user})
            timings.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    timings.sort()
    return {
        "evaluated": first.evaluated,
        "first_s": first_s,
        "promoted": first.count("promote"),
        "steady_s": steady_s,
        "steady_changes": len(steady.changes),
        "one_mean_ms": statistics.fmean(timings) * 1000,
        "one_p95_ms": timings[int(len(timings) * 0.95) - 1] * 1000,
    }


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rows-per-member", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build the stores in this directory, kept")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="flywheel-sweep-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        results = {}
        for size in sizes:
            path = folder / f"sweep-{size}.db"
            path.unlink(missing_ok=True)
            started = time.perf_counter()
            counts = await build(path, size, args.rows_per_member, args.seed)
            built_s = time.perf_counter() - started
            print(
                f"{size:>7,} members: built {counts['contributions']:,} ledger rows and "
                f"{counts['activity_days']:,} active days in {built_s:.1f} s",
                flush=True,
            )
            result = await measure(path, args.samples, args.seed)
            results[size] = result
            print(
                f"{size:>7,} members: first sweep {result['first_s']:.2f} s "
                f"({result['promoted']:,} promotions written); next day "
                f"{result['steady_s']:.2f} s ({result['steady_changes']} changes); "
                f"one member {result['one_mean_ms']:.1f} ms mean, "
                f"{result['one_p95_ms']:.1f} ms p95",
                flush=True,
            )
    if 100_000 in results:
        print(f"sweep_100k_s {results[100_000]['first_s']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
