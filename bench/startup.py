"""Start-up on a big server: the bare discord.py client and Flywheel, each from connect to ready.

    python bench/startup.py [--members 100000] [--rows-per-member 50] [--rounds 3]
                            [--database URL] [--settle 3] [--profile FILE]

The emulator runs in a child process with the sample community plus ``--members`` members
(100,000). Like Discord, it sends a large guild's GUILD_CREATE with no member list and answers
the client's op 8 with GUILD_MEMBERS_CHUNKs of at most 1,000 members. A store is filled once
with a year of their history (``--rows-per-member`` ledger rows each on average, heavy-tailed,
and the matching activity rollups), the ladder swept over it and the members given the tier
roles it decided, as a bot that ran yesterday leaves things; 1% of the members joined and 1%
left while the bot was away, and 1% changed their name. Then, in each of ``--rounds`` rounds,
each client starts in a fresh process of its own:

* bare: a ``discord.Client`` with the bot's intents, ready when ``on_ready`` comes (every
  member chunked), then its start-up heap frozen as ``python -m bot run`` does for the bot;
* Flywheel: built and started as ``python -m bot run`` does (``bot.app.build``, the heap
  frozen when ready) on a fresh copy of the store, ready when the commands are synced
  (``flywheel_ready``), the members reconciled (``flywheel_members_synced``), the schedule's
  and the ladder's catch-up done and every start-up handler finished.

The clock starts before the client is built (for Flywheel that includes opening the store);
imports are timed apart. Peak RSS is the process's high-water mark (``VmHWM``) ``--settle``
seconds past ready. Each round prints both; the medians follow, and the last line is
``startup_extra_s <median Flywheel - bare> rss_extra_mb <median Flywheel - bare>``. Goals:
3 s and 150 MB at 100,000 members. ``--database postgresql+asyncpg://…/test`` runs Flywheel
on PostgreSQL: the store is seeded into a database of its own and each round gets a fresh
copy (``CREATE DATABASE … TEMPLATE``). A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

IMPORTS_STARTED = time.perf_counter()
SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

# Only what the bare client needs: its process must not carry the bot's modules in its heap.
from bench.child import EmulatorProcess, reply  # noqa: E402
from bot import endpoints  # noqa: E402
from bot.runtime import freeze_startup_heap  # noqa: E402

BARE_IMPORTS = time.perf_counter() - IMPORTS_STARTED

#: Ledger kinds and their share of rows; message_day rows are one per active day.
KINDS = (
    ("message_day", 0.60),
    ("thanks_received", 0.15),
    ("answer", 0.12),
    ("event_attended", 0.06),
    ("content", 0.03),
    ("event_hosted", 0.02),
    ("referral", 0.02),
)
HISTORY_DAYS = 365
BATCH = 20_000
#: Shares of the guild that changed while the bot was away.
DRIFT = 0.01
SEED_DB, RUN_DB = "flywheel_startup_seed", "flywheel_startup_run"


# --- The emulator's side (a child process) -------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """Build the guild, report it, give tier roles on request, then wait to be told to stop."""
    from bot.demo.community import EMULATOR_TOKEN, build_sample_community
    from emulator import Emulator

    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel")
    await emu.start()
    started = time.perf_counter()
    community = build_sample_community(emu, bot_role_position=10)
    guild = emu.guild(community.guild_id)
    joined = datetime.now(UTC).replace(microsecond=0)
    members = [
        guild.add_member(f"member{n}", joined_at=joined_at(joined, n).isoformat()).id
        for n in range(args.members)
    ]
    reply({
        "token": EMULATOR_TOKEN,
        "api_base": emu.api_base,
        "gateway_url": emu.gateway_url,
        "community": community.__dict__,
        "members": members,
        "joined": joined.isoformat(),
        "guild_members": len(guild.guild.members),
        "build_seconds": time.perf_counter() - started,
    })  # fmt: skip
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        request = json.loads(line)
        if request["op"] == "roles":
            for user_id, role_ids in request["roles"].items():
                guild.guild.members[int(user_id)].role_ids.extend(role_ids)
            reply({"given": len(request["roles"])})
        else:
            break
    await emu.stop()


# --- The store --------------------------------------------------------------------------------


def joined_at(base: datetime, n: int) -> datetime:
    """When the ``n``th member joined: the emulator's guild and the seeded store agree."""
    return base - timedelta(days=30 + n % 700, seconds=n)


def bench_config(info: dict[str, Any], url: str) -> dict[str, Any]:
    from bot.demo.community import SampleCommunity, community_config

    community = SampleCommunity(**info["community"])
    endpoints_ = SimpleNamespace(api_base=info["api_base"], gateway_url=info["gateway_url"])
    return community_config(
        community,
        endpoints_,  # type: ignore[arg-type]
        database_url=url,
        logging={"level": "ERROR"},
    )


def history(
    rng: random.Random, users: list[int], per_member: int, now: datetime
) -> tuple[list[tuple[datetime, int, str, int, str]], list[tuple[int, str, int]]]:
    """The members' year, oldest first as a live ledger grows: (when, user, kind, points,
    source) ledger rows, and (user, day, messages) activity rollups. Heavy-tailed: a few very
    active members, a long tail."""
    ledger: list[tuple[datetime, int, str, int, str]] = []
    days: list[tuple[int, str, int]] = []
    others = [kind for kind, _ in KINDS[1:]]
    weights = [share for _, share in KINDS[1:]]
    for user in users:
        count = max(1, round(min(rng.paretovariate(1.3), 400.0) * per_member / 3.5))
        active = min(round(count * KINDS[0][1]), HISTORY_DAYS)
        for ago in rng.sample(range(1, HISTORY_DAYS + 1), active):
            # Within the day ``ago`` days back: an offset back from ``now`` crossed midnight
            # when the benchmark ran early in the UTC day, and two days fell on one date.
            midnight = datetime.combine((now - timedelta(days=ago)).date(), dtime(), tzinfo=UTC)
            moment = midnight + timedelta(seconds=rng.randrange(36_000))
            day = moment.date().isoformat()
            days.append((user, day, rng.randint(1, 30)))
            ledger.append((moment, user, "message_day", 1, f"day:{user}:{day}"))
        for n, kind in enumerate(rng.choices(others, weights=weights, k=count - active)):
            moment = now - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))
            ledger.append((moment, user, kind, 2, f"bench:{user}:{n}"))
    ledger.sort()
    days.sort(key=lambda row: row[1])
    return ledger, days


def load_sqlite(path: str, guild: int, ledger: list[Any], days: list[Any]) -> None:
    """Straight through sqlite3, timestamps as the store keeps them (naive UTC text)."""
    import sqlite3

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    with contextlib.closing(sqlite3.connect(path)) as db, db:
        # The indexes are built after the load, as bench/sweep.py does: minutes faster.
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('contributions', 'activity_days')"
        ).fetchall()
        for name, _sql in indexes:
            db.execute(f"DROP INDEX {name}")
        db.executemany(
            "INSERT INTO contributions (guild_id, user_id, kind, points, source_id, occurred_at,"
            " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (guild, user, kind, points, source, stamp(at), stamp(at))
                for at, user, kind, points, source in ledger
            ),
        )
        db.executemany(
            "INSERT INTO activity_days (guild_id, user_id, day, messages) VALUES (?, ?, ?, ?)",
            ((guild, user, day, messages) for user, day, messages in days),
        )
        for _name, sql in indexes:
            db.execute(sql)


async def load_postgres(url: str, guild: int, ledger: list[Any], days: list[Any]) -> None:
    """Through asyncpg's COPY, then ANALYZE as autovacuum would have by now."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        database=parsed.database,
    )  # fmt: skip
    try:
        # The indexes are built after the load: minutes faster.
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN"
            " ('contributions', 'activity_days') AND indexname NOT IN"
            " (SELECT conname FROM pg_constraint)"
        )
        for row in indexes:
            await connection.execute(f"DROP INDEX {row['indexname']}")
        await connection.copy_records_to_table(
            "contributions",
            records=(
                (guild, user, kind, points, source, at, at)
                for at, user, kind, points, source in ledger
            ),
            columns=[
                "guild_id", "user_id", "kind", "points", "source_id", "occurred_at",
                "recorded_at",
            ],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "activity_days",
            records=((guild, user, date.fromisoformat(day), n) for user, day, n in days),
            columns=["guild_id", "user_id", "day", "messages"],
        )
        for row in indexes:
            await connection.execute(row["indexdef"])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def seed_store(
    store: Store, info: dict[str, Any], emulator: EmulatorProcess, args: argparse.Namespace
) -> dict[str, Any]:
    """A year of history for the guild's members, the ladder swept, the roles it gives worn."""
    from bot.clock import SystemClock
    from bot.config import parse_config
    from bot.services.container import build_services
    from bot.services.role_sync import desired_roles
    from db import migrate
    from db.engine import create_engine, create_session_factory
    from db.models import Member

    url = store.seed_url
    started = time.perf_counter()
    guild = info["community"]["guild_id"]
    everyone: list[int] = info["members"]
    drift = int(len(everyone) * DRIFT)
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    # The last ``drift`` members joined while the bot was away: not in the store yet. As many
    # stored members left meanwhile: still present in the store, gone from the guild.
    known = everyone[: len(everyone) - drift]
    joined = datetime.fromisoformat(info["joined"])
    departed = [10**17 + n for n in range(drift)]
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            stored = known + departed
            for first in range(0, len(stored), BATCH):
                await connection.execute(
                    Member.__table__.insert(),
                    [
                        {
                            "guild_id": guild,
                            "user_id": user,
                            # 1% changed their name since the bot last saw them.
                            "display_name": f"old name {n}" if n % 100 == 7 else f"member{n}",
                            "is_bot": False,
                            "first_seen_at": now - timedelta(days=400),
                            "joined_at": joined_at(joined, n) if n < len(known) else now,
                            "left_at": None,
                            "recognition_opt_out": n % 97 == 0,
                            "feedback_updates_opt_out": False,
                        }
                        for n, user in enumerate(stored[first : first + BATCH], start=first)
                    ],
                )
        ledger, days = history(rng, known + departed, args.rows_per_member, now)
        rows = len(ledger)
        if store.postgres:
            await load_postgres(url, guild, ledger, days)
        else:
            sqlite_path = url.split("///", 1)[1]
            await asyncio.to_thread(load_sqlite, sqlite_path, guild, ledger, days)
        del ledger, days
        filled = time.perf_counter() - started
        # The ladder as yesterday's bot left it: swept, its decisions recorded and worn.
        settings = parse_config(
            bench_config(info, url), env={"DISCORD_TOKEN": info["token"]}
        ).settings
        services = build_services(settings, SystemClock(), create_session_factory(engine))
        swept = time.perf_counter()
        report = await services.ladder.sweep()
        await services.ladder.record_sweep()
        swept = time.perf_counter() - swept
        desired = await services.ladder.desired_tiers()
        present = set(everyone)
        roles = {
            str(user): sorted(desired_roles(tier, settings))
            for user, tier in desired.items()
            if user in present and tier is not None
        }
        emulator.send({"op": "roles", "roles": roles})
        await emulator.read()
    finally:
        await engine.dispose()
    return {
        "ledger_rows": rows,
        "fill_seconds": filled,
        "sweep_seconds": swept,
        "promoted": report.count("promote"),
        "tiered": len(roles),
        "seconds": time.perf_counter() - started,
    }


class Store:
    """Where the seeded store lives, and a fresh copy of it for each Flywheel run."""

    def __init__(self, database: str | None, scratch: Path) -> None:
        self.database = database
        self.scratch = scratch

    @property
    def postgres(self) -> bool:
        return bool(self.database and self.database.startswith("postgresql"))

    def _url(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        assert self.database is not None
        return make_url(self.database).set(database=name).render_as_string(hide_password=False)

    @property
    def seed_url(self) -> str:
        if self.postgres:
            return self._url(SEED_DB)
        if self.database:
            raise SystemExit("--database: a PostgreSQL URL (SQLite uses a temporary file)")
        return f"sqlite+aiosqlite:///{self.scratch / 'seed.db'}"

    async def _admin(self, *statements: str) -> None:
        from db.engine import create_engine

        engine = create_engine(self.database or "", isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                for statement in statements:
                    await connection.exec_driver_sql(statement)
        finally:
            await engine.dispose()

    async def create(self) -> None:
        if self.postgres:
            await self._admin(
                f"DROP DATABASE IF EXISTS {RUN_DB}",
                f"DROP DATABASE IF EXISTS {SEED_DB}",
                f"CREATE DATABASE {SEED_DB}",
            )

    async def fresh_copy(self) -> str:
        """A URL of a copy of the seeded store, as it was before any run.

        The copy is written to disk before the round starts: left to the kernel, the 2 GB of
        the SQLite copy (or PostgreSQL's copied pages) were written back while Flywheel
        started, a cost of the benchmark's own set-up that the bare client never paid.
        """
        if self.postgres:
            await self._admin(
                f"DROP DATABASE IF EXISTS {RUN_DB}",
                f"CREATE DATABASE {RUN_DB} TEMPLATE {SEED_DB}",
                "CHECKPOINT",
            )
            await asyncio.to_thread(os.sync)
            return self._url(RUN_DB)
        run = self.scratch / "run.db"
        await asyncio.to_thread(self._copy, self.scratch / "seed.db", run)
        return f"sqlite+aiosqlite:///{run}"

    @staticmethod
    def _copy(seed: Path, run: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{run}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(seed, run)
        os.sync()

    async def drop(self) -> None:
        if self.postgres:
            await self._admin(
                f"DROP DATABASE IF EXISTS {RUN_DB}", f"DROP DATABASE IF EXISTS {SEED_DB}"
            )


# --- The clients' side (each in a fresh process) -------------------------------------------


def rss_mb() -> float:
    """This process's resident set now (``VmRSS``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident set (``VmHWM``).

    Not ``getrusage``'s ``ru_maxrss``: Linux keeps that across ``exec``, so a client started by
    a parent holding the seeded history in memory would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bare_client(info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    # The bot's intents (``bot.client.required_intents``, read by the parent process).
    client = discord.Client(intents=discord.Intents._from_value(info["intents"]))
    ready = asyncio.Event()

    @client.event
    async def on_ready() -> None:
        ready.set()

    # Equal terms: the bot freezes its heap before connecting and again when ready.
    freeze_startup_heap()
    runner = asyncio.create_task(client.start(info["token"]))
    try:
        await asyncio.wait_for(ready.wait(), timeout=600)
        freeze_startup_heap()
        seconds = time.perf_counter() - started
        guild = client.get_guild(info["community"]["guild_id"])
        assert guild is not None
        marks = {"ready (members chunked)": seconds}
        result = {"seconds": seconds, "marks": marks, "rss_ready_mb": peak_rss_mb()}
        result["members"], result["chunked"] = len(guild.members), guild.chunked
        await asyncio.sleep(args.settle)
        result["peak_rss_mb"] = peak_rss_mb()
        return result
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


class PeakWatch:
    """Samples the resident set every 20 ms in a thread: when the peak came, between which
    milestones (the milestones' own readings miss a passing peak)."""

    def __init__(self) -> None:
        self.peak, self.at = 0.0, 0.0
        self._started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            rss = rss_mb()
            if rss > self.peak:
                self.peak, self.at = rss, time.perf_counter() - self._started

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def flywheel(info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    imports = time.perf_counter()
    from bot.app import build
    from bot.clock import SystemClock
    from bot.config import parse_config

    imports = time.perf_counter() - imports
    started = time.perf_counter()
    watch = PeakWatch()
    marks: dict[str, float] = {}
    rss: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = time.perf_counter() - started
        rss[name] = rss_mb()

    config = parse_config(bench_config(info, args.url), env={"DISCORD_TOKEN": info["token"]})
    # As `python -m bot run` builds it (bot.app.serve): the start-up heap frozen when ready.
    app = await build(config, clock=SystemClock(), freeze_heap_when_ready=True)
    mark("built (store open)")
    bot = app.bot
    synced = asyncio.Event()

    async def on_flywheel_members_synced(_guild: discord.Guild) -> None:
        synced.set()

    bot.add_listener(on_flywheel_members_synced)

    async def on_connect() -> None:
        if "gateway connected" not in marks:
            mark("gateway connected")

    bot.add_listener(on_connect)

    async def on_ready() -> None:
        # What the bare client's whole start-up is: connected and every member chunked.
        if "gateway ready (members chunked)" not in marks:
            mark("gateway ready (members chunked)")

    bot.add_listener(on_ready)
    runner = asyncio.create_task(bot.start(info["token"]))
    try:
        waits = {
            "commands synced (flywheel_ready)": bot.flywheel_ready,
            "members reconciled": synced,
            "schedule caught up": bot.schedule.caught_up,
            "ladder caught up": bot.services.tiers.caught_up,
        }
        for name, event in waits.items():
            await asyncio.wait_for(event.wait(), timeout=600)
            mark(name)
        await handlers_done()
        mark("start-up handlers done")
        seconds = time.perf_counter() - started
        guild = bot.get_guild(bot.guild_id)
        assert guild is not None
        result: dict[str, Any] = {
            "seconds": seconds,
            "marks": marks,
            "rss": rss,
            "imports": imports,
            "rss_ready_mb": peak_rss_mb(),
            "members": len(guild.members),
            "chunked": guild.chunked,
        }
        await asyncio.sleep(args.settle)
        watch.stop()
        result["peak_rss_mb"] = peak_rss_mb()
        result["peak_at"] = watch.at
        return result
    finally:
        await app.close()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def handlers_done() -> None:
    """Until no start-up listener (``on_flywheel_*``, run by discord.py as tasks) is running."""
    while running := [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("discord.py: on_flywheel") and not task.done()
    ]:
        await asyncio.wait(running)


CLIENTS = {"bare": bare_client, "flywheel": flywheel}


async def client_process(args: argparse.Namespace, info: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.ERROR)
    endpoints.point_at(info["api_base"], info["gateway_url"])
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    result = await CLIENTS[args.client](info, args)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    result.setdefault("imports", 0.0)
    result["imports"] += BARE_IMPORTS
    sys.stdout.write(json.dumps({"result": result}) + "\n")


async def run_client(
    kind: str,
    info_path: Path,
    url: str,
    args: argparse.Namespace,
    profile: str | None,
    script: Path = SCRIPT,
) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "--client", kind, "--info", str(info_path), "--url", url,
        "--settle", str(args.settle), *(["--profile", profile] if profile else []),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await process.communicate()
    for line in stdout.decode().splitlines():
        if line.startswith('{"result"'):
            result: dict[str, Any] = json.loads(line)["result"]
            return result
    raise RuntimeError(f"the {kind} client process stopped without a result")


@dataclass
class Figures:
    seconds: list[float]
    rss: list[float]


def describe(name: str, result: dict[str, Any]) -> str:
    rss = result.get("rss", {})
    marks = ", ".join(
        f"{k} {v:.2f}" + (f" ({rss[k]:.0f} MB)" if k in rss else "")
        for k, v in result["marks"].items()
    )
    return (
        f"  {name:<9} ready in {result['seconds']:6.2f} s, peak RSS {result['peak_rss_mb']:6.0f} MB"
        f" ({result['rss_ready_mb']:.0f} at ready); {result['members']:,} members cached"
        f"{'' if result['chunked'] else ' (NOT chunked)'}; imports {result['imports']:.2f} s\n"
        f"  {'':<9} {marks}"
        + (f"; peak at {result['peak_at']:.2f} s" if "peak_at" in result else "")
    )


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    emulator, info = await EmulatorProcess.start(SCRIPT, "--members", str(args.members))
    clients = [("bare", "bare", SCRIPT), ("flywheel", "flywheel", SCRIPT)]
    if args.baseline_root:
        # Another checkout's bot (with this script copied in), on the same store: before/after.
        clients.append(("baseline", "flywheel", Path(args.baseline_root) / "bench" / "startup.py"))
    figures = {name: Figures([], []) for name, _, _ in clients}
    try:
        print(
            f"emulator: guild of {info['guild_members']:,} members built in "
            f"{info['build_seconds']:.1f} s",
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix="flywheel-bench-startup-") as tmp:
            scratch = Path(tmp)
            store = Store(args.database, scratch)
            await store.create()
            try:
                seeded = await seed_store(store, info, emulator, args)
                print(
                    f"store ({'PostgreSQL' if store.postgres else 'SQLite'}): "
                    f"{len(info['members']):,} members, {seeded['ledger_rows']:,} ledger rows over "
                    f"a year, filled in {seeded['fill_seconds']:.0f} s; the ladder swept in "
                    f"{seeded['sweep_seconds']:.1f} s ({seeded['promoted']:,} promoted, "
                    f"{seeded['tiered']:,} wearing tier roles)",
                    flush=True,
                )
                from bot.client import required_intents

                info["intents"] = required_intents().value
                info_path = scratch / "info.json"
                info_path.write_text(json.dumps(info))
                for number in range(1, args.rounds + 1):
                    print(f"round {number} of {args.rounds}", flush=True)
                    for name, kind, script in clients:
                        url = await store.fresh_copy() if kind == "flywheel" else ""
                        profile = args.profile if name == "flywheel" and number == 1 else None
                        result = await run_client(kind, info_path, url, args, profile, script)
                        print(describe(name, result), flush=True)
                        figures[name].seconds.append(result["seconds"])
                        figures[name].rss.append(result["peak_rss_mb"])
            finally:
                await store.drop()
    finally:
        await emulator.stop()
    bare, fly = figures["bare"], figures["flywheel"]
    for name, f in figures.items():
        print(
            f"median of {args.rounds}: {name:<8} {statistics.median(f.seconds):6.2f} s, "
            f"{statistics.median(f.rss):5.0f} MB"
        )
    extra_s = statistics.median(fly.seconds) - statistics.median(bare.seconds)
    extra_mb = statistics.median(fly.rss) - statistics.median(bare.rss)
    print(f"startup_extra_s {extra_s:.2f} rss_extra_mb {extra_mb:.0f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rows-per-member", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after ready for RSS")
    parser.add_argument("--database", help="a PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--profile", help="cProfile Flywheel's first start-up into this file")
    parser.add_argument(
        "--baseline-root", help="also start the bot of this checkout (before/after figures)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=sorted(CLIENTS), help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        asyncio.run(serve(arguments))
    elif arguments.client:
        asyncio.run(client_process(arguments, json.loads(Path(arguments.info).read_text())))
    else:
        asyncio.run(main(arguments))
