"""The ladder's daily sweep and per-member evaluation at 10,000 and 100,000 members.

    python bench/sweep.py [--sizes 10000,100000] [--rows-per-member 50] [--samples 1000]
                          [--rounds 3] [--seed 1] [--keep DIR] [--database URL]

For each size it builds a SQLite store with the real schema (``db.migrate.upgrade``) and fills
it with ``sqlite3`` directly: members who joined over two years, ``rows-per-member`` ledger rows
each on average (5,000,000 at 100,000 members) over the last year, unevenly spread (a few very
active members, a long tail), the matching ``activity_days`` rollups, and 0.5% of credits
reversed. With ``--database postgresql+asyncpg://...`` the same rows are then copied into a
fresh schema of that database (dropped at the end), so both stores hold the same data.
The tiers are the sample community's (Champion, Ambassador, Advisor; 90- and 180-day windows).
Then, in each of ``--rounds`` rounds (the ladder's tables emptied first), with the real
``LadderService``:

* the first sweep: bulk stats for every member, every decision, and the promotions it
  causes written (tier_states, tier_changes), in batches;
* a steady-state sweep the next day (what runs daily: few or no changes);
* per-member evaluation (``LadderService.evaluate({member})``, what runs after each
  contribution) of ``--samples`` random members, after 20 untimed ones: p50, p95 and mean
  (the p95 of 1,000 is the 50th slowest; of 200, the 10th, which one busy moment moved).

Each round prints its figures, then the medians over the rounds. The last two lines are
``sweep_100k_s <median first sweep at 100,000 members>`` and ``evaluate_p95_ms <median p95 of
one member's evaluation at the largest size>``. A benchmark, not a test: nothing is asserted.
Results and the machine are in bench/README.md.
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
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from bot.clock import FakeClock  # noqa: E402
from bot.config import Settings, parse_config  # noqa: E402
from bot.demo.community import TIERS  # noqa: E402
from bot.services.container import build_services  # noqa: E402
from db import migrate  # noqa: E402
from db.engine import create_engine, create_session_factory, is_sqlite  # noqa: E402

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
    "ix_activity_days_member_day",
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
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        f" AND name IN ({', '.join('?' for _ in LATE_INDEXES)})",
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


#: Tables the bench fills; the ladder's own tables are emptied before each round.
FILLED = ("members", "contributions", "activity_days")
LADDER_TABLES = ("tier_changes", "tier_states")
WARM_UP = 20


class Store:
    """Where a round runs: the SQLite file itself, or a fresh PostgreSQL schema with its rows."""

    def __init__(self, database: str | None) -> None:
        self.database = database
        self.schema = f"bench_sweep_{uuid.uuid4().hex[:10]}"

    def engine(self, path: Path) -> Any:
        if self.database is None or is_sqlite(self.database):
            return create_engine(f"sqlite+aiosqlite:///{path}")
        return create_engine(
            self.database, connect_args={"server_settings": {"search_path": self.schema}}
        )

    async def load(self, path: Path) -> None:
        """Copy the generated rows into a fresh schema (PostgreSQL only), indexes built after."""
        if self.database is None or is_sqlite(self.database):
            return
        await self.drop()
        engine = self.engine(path)
        async with engine.begin() as connection:
            await connection.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
        await migrate.upgrade(engine)
        await engine.dispose()
        import asyncpg  # only needed for PostgreSQL

        url = make_url(self.database)
        pg = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password,
            database=url.database, server_settings={"search_path": self.schema, "timezone": "UTC"},
        )  # fmt: skip
        source = sqlite3.connect(path)
        try:
            late = await pg.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1"
                " AND indexname = ANY($2::text[])",
                self.schema,
                list(LATE_INDEXES),
            )
            for row in late:
                await pg.execute(f'DROP INDEX "{row["indexname"]}"')
            for table in FILLED:
                columns = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
                cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
                await pg.copy_records_to_table(
                    table, records=_typed(table, cursor), columns=columns
                )
            for row in late:
                await pg.execute(row["indexdef"])
            await pg.execute(
                "SELECT setval(pg_get_serial_sequence('contributions', 'id'),"
                " (SELECT max(id) FROM contributions))"
            )
            # What autovacuum does to a live store: statistics, and the visibility map that
            # lets PostgreSQL answer from an index alone.
            await pg.execute("VACUUM ANALYZE")
        finally:
            source.close()
            await pg.close()

    async def drop(self) -> None:
        if self.database is None or is_sqlite(self.database):
            return
        engine = create_engine(self.database)
        async with engine.begin() as connection:
            await connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        await engine.dispose()


def _typed(table: str, cursor: sqlite3.Cursor) -> Any:
    """SQLite's rows as asyncpg's binary COPY wants them (aware datetimes, dates, booleans)."""
    names = [d[0] for d in cursor.description]
    kinds = [_KINDS.get((table, name)) for name in names]
    for row in cursor:
        yield tuple(
            value if kind is None or value is None else kind(value)
            for value, kind in zip(row, kinds, strict=True)
        )


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_KINDS: dict[tuple[str, str], Any] = {
    **{("members", c): _when for c in ("first_seen_at", "joined_at", "left_at", "last_active_at")},
    **{("members", c): bool for c in ("is_bot", "recognition_opt_out", "feedback_updates_opt_out")},
    ("contributions", "occurred_at"): _when,
    ("contributions", "recorded_at"): _when,
    ("activity_days", "day"): date.fromisoformat,
}


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[max(int(len(sorted_values) * share) - 1, 0)]


async def measure(engine: Any, samples: int, seed: int) -> dict[str, Any]:
    """One round: the ladder's tables emptied, the first sweep, the next day's, evaluations."""
    async with engine.begin() as connection:
        for table in LADDER_TABLES:
            await connection.exec_driver_sql(f"DELETE FROM {table}")
    clock = FakeClock(NOW)
    config = settings()
    service = build_services(config, clock, create_session_factory(engine)).ladder
    started = time.perf_counter()
    first = await service.sweep()
    first_s = time.perf_counter() - started

    clock.advance(timedelta(days=1))
    started = time.perf_counter()
    steady = await service.sweep()
    steady_s = time.perf_counter() - started

    rng = random.Random(seed)
    members = first.evaluated
    picks = [FIRST_USER + rng.randrange(members) for _ in range(WARM_UP + samples)]
    timings = []
    cpu_started = time.process_time()
    for n, user in enumerate(picks):
        if n == WARM_UP:
            cpu_started = time.process_time()
        started = time.perf_counter()
        await service.evaluate({user})
        if n >= WARM_UP:
            timings.append(time.perf_counter() - started)
    cpu_s = time.process_time() - cpu_started
    timings.sort()
    return {
        "evaluated": first.evaluated,
        "first_s": first_s,
        "promoted": first.count("promote"),
        "steady_s": steady_s,
        "steady_changes": len(steady.changes),
        "one_mean_ms": statistics.fmean(timings) * 1000,
        "one_p50_ms": percentile(timings, 0.50) * 1000,
        "one_p95_ms": percentile(timings, 0.95) * 1000,
        # CPU time of this process (the SQLite thread included) per evaluation: on a shared
        # machine, what the evaluation itself costs, without waiting for a CPU.
        "one_cpu_ms": cpu_s / samples * 1000,
    }


def line(size: int, result: dict[str, Any], label: str) -> str:
    return (
        f"{size:>7,} members {label}: first sweep {result['first_s']:.2f} s "
        f"({result['promoted']:,} promotions written); next day "
        f"{result['steady_s']:.2f} s ({result['steady_changes']} changes); "
        f"one member p50 {result['one_p50_ms']:.2f} ms, p95 {result['one_p95_ms']:.2f} ms, "
        f"mean {result['one_mean_ms']:.2f} ms (CPU {result['one_cpu_ms']:.2f} ms)"
    )


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rows-per-member", type=int, default=50)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build the stores in this directory, kept")
    parser.add_argument(
        "--database", help="PostgreSQL URL to run on (a fresh schema); default: the SQLite file"
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    store = Store(args.database)
    with tempfile.TemporaryDirectory(prefix="flywheel-sweep-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        results = {}
        for size in sizes:
            path = folder / f"sweep-{size}.db"
            path.unlink(missing_ok=True)
            started = time.perf_counter()
            counts = await build(path, size, args.rows_per_member, args.seed)
            await store.load(path)
            built_s = time.perf_counter() - started
            print(
                f"{size:>7,} members: built {counts['contributions']:,} ledger rows and "
                f"{counts['activity_days']:,} active days in {built_s:.1f} s",
                flush=True,
            )
            engine = store.engine(path)
            rounds = []
            try:
                for number in range(1, args.rounds + 1):
                    result = await measure(engine, args.samples, args.seed + number)
                    rounds.append(result)
                    print(line(size, result, f"round {number}"), flush=True)
            finally:
                await engine.dispose()
                await store.drop()
            results[size] = {key: median([r[key] for r in rounds]) for key in rounds[0]}
            print(line(size, results[size], f"median of {args.rounds}"), flush=True)
    if 100_000 in results:
        print(f"sweep_100k_s {results[100_000]['first_s']:.2f}")
    print(f"evaluate_p95_ms {results[sizes[-1]]['one_p95_ms']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
