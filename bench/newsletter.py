"""Composing the monthly newsletter at 10,000 and 100,000 members.

    python bench/newsletter.py [--sizes 10000,100000] [--rows-per-member 50] [--runs 3]
                               [--seed 1] [--keep DIR]

For each size it builds a SQLite store the way ``bench/sweep.py`` does (its ``build``: the real
schema, members, ``rows-per-member`` ledger rows each on average over the last year, heavy-tailed,
with the matching ``activity_days`` and 0.5% of credits reversed) and adds what the newsletter
reads besides the ledger, in proportion to it: a help thread for every accepted answer plus a
quarter more left unanswered (most with a first reply), scheduled events with RSVPs, shared
content, referrals, tier changes, members who opted out or left, and events still to come.

Then it times what the monthly newsletter does for October 2026 (posted 1 November): every
``RecognitionRepository`` query it needs (the month in numbers for the month and the one
before, approved content, tier changes, the top members, hidden members, upcoming events, daily
messages) and ``compose_newsletter`` + ``render_newsletter``. Each size is composed ``--runs``
times in fresh sessions; the median is reported, with a per-query breakdown of the fastest run.

``--keep DIR`` builds the stores there and keeps them; a later run with the same ``DIR`` reuses
them instead of building again. The last line is ``compose_100k_s <median seconds at 100,000
members>``. A benchmark, not a test: nothing is asserted. Results and the machine are in
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sweep import FIRST_USER, GUILD, NOW  # noqa: E402
from bench.sweep import build as build_ledger  # noqa: E402
from bot.core.newsletter import (  # noqa: E402
    ContentLink,
    MonthNumbers,
    NewsletterInputs,
    UpcomingEvent,
    compose_newsletter,
    render_newsletter,
)
from bot.core.periods import monthly_period  # noqa: E402
from bot.core.recognition import TierArrival  # noqa: E402
from bot.demo.community import TIERS  # noqa: E402
from db.engine import create_engine, create_session_factory  # noqa: E402
from db.repositories.recognition import RecognitionRepository  # noqa: E402

T = TypeVar("T")

TZ = ZoneInfo("UTC")  # the activity rollups of bench/sweep.py are UTC days
#: The newsletter for October 2026, posted at 09:00 on 1 November.
POSTED_AT = datetime(2026, 11, 1, 9, 0, tzinfo=TZ)
PREVIOUS_START = datetime(2026, 9, 1, tzinfo=TZ)
TOP_N = 5
UPCOMING_DAYS = 31
TIER_KEYS = [tier["key"] for tier in TIERS]
TIER_NAMES = {tier["key"]: tier["name"] for tier in TIERS}
YEAR_S = 365 * 86_400


def ts(epoch_sql: str) -> str:
    """SQL for how TZDateTime stores a timestamp on SQLite, from an epoch-seconds expression."""
    return f"strftime('%Y-%m-%d %H:%M:%S.000000', {epoch_sql}, 'unixepoch')"


def epoch(column: str) -> str:
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def fill_newsletter_data(db: sqlite3.Connection, members: int) -> None:
    """Everything but the ledger and activity, generated inside SQLite like the ledger.

    Volumes follow the ledger where it has them (a thread per accepted answer) and are a share
    of the membership elsewhere (per year: an event per 10 members, a shared piece per 50, a
    referral per 20, a tier change per 10). ``random()`` cannot be seeded; counts vary a little.
    """
    now = int(NOW.timestamp())
    year_ago = now - YEAR_S
    user = f"{FIRST_USER} + abs(random()) % {members}"
    # 1% opted out of recognition, 2% left.
    db.execute(
        f"UPDATE members SET recognition_opt_out = 1 WHERE (user_id * 7919) % 100 = 0"
        f" AND guild_id = {GUILD}"
    )
    db.execute(
        f"UPDATE members SET left_at = {ts(f'{year_ago} + (user_id * 104729) % {YEAR_S}')}"
        f" WHERE (user_id * 7919) % 100 IN (1, 2) AND guild_id = {GUILD}"
    )
    db.execute("CREATE TEMP TABLE seq (i INTEGER PRIMARY KEY)")
    db.executemany("INSERT INTO seq VALUES (?)", ((i,) for i in range(max(members, 100))))

    # Help threads: one per accepted answer (opened 0-10 h before it, first reply within the
    # wait), and a quarter more without an answer, 60% of them with a first reply.
    db.execute(
        "CREATE TEMP TABLE answered AS SELECT id, user_id,"
        f" {epoch('occurred_at')} AS at, abs(random()) % 36000 AS before"
        " FROM contributions WHERE kind = 'answer' AND reverses_id IS NULL"
    )
    db.execute(
        "INSERT INTO question_threads (guild_id, thread_id, parent_id, asker_id, title,"
        " opened_at, first_response_at, first_responder_id, answer_message_id,"
        " answer_author_id, answered_at, answered_by)"
        f" SELECT {GUILD}, {10**12} + id, 1, {user}, 'How do I ...?', {ts('at - before')},"
        f" {ts('at - before + abs(random()) % (before + 1)')}, user_id, {10**13} + id, user_id,"
        f" {ts('at')}, user_id FROM answered ORDER BY at"
    )
    db.execute(
        "INSERT INTO question_threads (guild_id, thread_id, parent_id, asker_id, title,"
        " opened_at, first_response_at, first_responder_id)"
        f" SELECT {GUILD}, {2 * 10**12} + id, 1, {user}, 'Why does ...?', {ts('at')},"
        f" CASE WHEN abs(random()) % 10 < 6 THEN {ts('at + abs(random()) % 86400')} END, {user}"
        " FROM (SELECT id, at - before AS at FROM answered WHERE abs(random()) % 4 = 0)"
        " ORDER BY at"
    )
    db.execute("DROP TABLE answered")

    # Events over the year (90% completed, 5% canceled, 5% never started), about 15 RSVPs each
    # (10% withdrawn); 40 events still to come in the two months after the newsletter.
    events = members // 10
    db.execute(
        "INSERT INTO tracked_events (guild_id, event_id, name, channel_id, creator_id, host_id,"
        " status, scheduled_start, started_at, ended_at, settled_at, attendee_count)"
        f" SELECT {GUILD}, {3 * 10**12} + i, 'Community call #' || i, 7, {user}, {user},"
        " CASE WHEN i % 20 = 0 THEN 'canceled' WHEN i % 20 = 1 THEN 'scheduled'"
        " ELSE 'completed' END,"
        f" {ts(f'{year_ago} + i * {YEAR_S // max(events, 1)}')},"
        f" {ts(f'{year_ago} + i * {YEAR_S // max(events, 1)}')},"
        f" CASE WHEN i % 20 > 1 THEN {ts(f'{year_ago} + i * {YEAR_S // max(events, 1)} + 3600')}"
        " END, NULL, CASE WHEN i % 20 > 1 THEN 3 + abs(random()) % 58 ELSE 0 END"
        f" FROM seq WHERE i < {events}"
    )
    posted = int(POSTED_AT.timestamp())
    db.execute(
        "INSERT INTO tracked_events (guild_id, event_id, name, channel_id, creator_id, host_id,"
        " status, scheduled_start, attendee_count)"
        f" SELECT {GUILD}, {4 * 10**12} + i, 'Upcoming session #' || i, 7, {user}, {user},"
        f" 'scheduled', {ts(f'{posted} + 3600 + i * 36 * 3600')}, 0 FROM seq WHERE i < 40"
    )
    db.execute(
        "INSERT OR IGNORE INTO event_rsvps (guild_id, event_id, user_id, created_at,"
        " withdrawn_at)"
        f" SELECT {GUILD}, event_id, {user}, scheduled_start,"
        " CASE WHEN abs(random()) % 10 = 0 THEN scheduled_start END"
        " FROM tracked_events JOIN seq ON seq.i < 15"
    )

    # Shared content (80% approved, 10% rejected, 10% pending), referrals (60% credited),
    # tier changes (mostly promotions, some demotions, 5% audit notes).
    pieces = members // 50
    db.execute(
        "INSERT INTO content_submissions (guild_id, author_id, url, title, kind, status,"
        " submitted_at, decided_by, decided_at)"
        f" SELECT {GUILD}, {user}, 'https://example.com/posts/' || i, 'A write-up, part ' || i,"
        " CASE i % 5 WHEN 0 THEN 'blog' WHEN 1 THEN 'video' WHEN 2 THEN 'tutorial'"
        " WHEN 3 THEN 'talk' ELSE 'other' END,"
        " CASE WHEN i % 10 < 8 THEN 'approved' WHEN i % 10 = 8 THEN 'rejected' ELSE 'pending'"
        f" END, {ts(f'{year_ago} + i * {YEAR_S // max(pieces, 1)}')}, 1,"
        f" CASE WHEN i % 10 < 9 THEN {ts(f'{year_ago} + i * {YEAR_S // max(pieces, 1)} + 7200')}"
        f" END FROM seq WHERE i < {pieces}"
    )
    referrals = members // 20
    joined = f"{year_ago} + i * {YEAR_S // max(referrals, 1)}"
    db.execute(
        "INSERT INTO referrals (guild_id, invitee_id, joined_at, attribution, invite_code,"
        " inviter_id, status, decided_at)"
        f" SELECT {GUILD}, {5 * 10**12} + i, {ts(joined)},"
        f" 'invite', 'code', {user},"
        " CASE WHEN i % 10 < 6 THEN 'credited' WHEN i % 10 < 8 THEN 'rejected' ELSE 'pending'"
        f" END, CASE WHEN i % 10 < 8 THEN"
        f" {ts(f'{joined} + 7 * 86400')} END"
        f" FROM seq WHERE i < {referrals}"
    )
    changes = members // 10
    db.execute(
        "INSERT INTO tier_changes (guild_id, user_id, from_tier, to_tier, reason, actor_id,"
        " created_at)"
        f" SELECT {GUILD}, {user},"
        " CASE i % 20 WHEN 0 THEN 'ambassador' WHEN 1 THEN 'champion' WHEN 2 THEN 'champion'"
        " WHEN 3 THEN 'champion' WHEN 4 THEN 'ambassador' ELSE NULL END,"
        " CASE i % 20 WHEN 0 THEN 'champion' WHEN 1 THEN NULL WHEN 2 THEN 'ambassador'"
        " WHEN 3 THEN 'champion' WHEN 4 THEN 'advisor' ELSE 'champion' END,"
        f" 'meets the numbers', NULL, {ts(f'{year_ago} + i * {YEAR_S // max(changes, 1)}')}"
        f" FROM seq WHERE i < {changes}"
    )
    db.execute("DROP TABLE seq")


async def build(path: Path, members: int, rows_per_member: int, seed: int) -> dict[str, int]:
    await build_ledger(path, members, rows_per_member, seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    fill_newsletter_data(db, members)
    db.commit()
    tables = (
        "members",
        "contributions",
        "activity_days",
        "question_threads",
        "tracked_events",
        "event_rsvps",
        "content_submissions",
        "referrals",
        "tier_changes",
    )
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    db.close()
    return counts


def arrivals(changes: list[tuple[int, str | None, str | None, datetime]]) -> list[TierArrival]:
    """Moves up into a configured tier, as the recognition service picks them."""
    found = []
    for user_id, old, new, at in changes:
        if new not in TIER_KEYS:
            continue
        if old in TIER_KEYS and TIER_KEYS.index(old) >= TIER_KEYS.index(new):
            continue
        found.append(TierArrival(user_id, TIER_NAMES[new], at))
    return found


async def compose_once(sessions: Any) -> tuple[float, dict[str, float], int]:
    """One newsletter, start to finish; returns (seconds, seconds per step, embeds)."""
    period = monthly_period(POSTED_AT, TZ)
    steps: dict[str, float] = {}

    async def timed(name: str, work: Callable[[], Awaitable[T]]) -> T:
        started = time.perf_counter()
        result = await work()
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - started
        return result

    started = time.perf_counter()
    async with sessions() as session:
        repo = RecognitionRepository(session, GUILD)
        numbers = await timed("month_numbers", lambda: repo.month_numbers(period.start, period.end))
        previous = await timed(
            "month_numbers", lambda: repo.month_numbers(PREVIOUS_START, period.start)
        )
        content = await timed(
            "approved_content", lambda: repo.approved_content(period.start, period.end)
        )
        changes = await timed("tier_changes", lambda: repo.tier_changes(period.start, period.end))
        top = await timed(
            "points_by_member",
            lambda: repo.points_by_member(period.start, period.end, limit=TOP_N * 4),
        )
        hidden = await timed("hidden_members", repo.hidden_members)
        upcoming = await timed(
            "upcoming_events",
            lambda: repo.upcoming_events(POSTED_AT, POSTED_AT + timedelta(days=UPCOMING_DAYS)),
        )
        daily = await timed(
            "daily_messages",
            lambda: repo.daily_messages(period.start.date(), period.end.date()),
        )
    composing = time.perf_counter()
    newsletter = compose_newsletter(
        NewsletterInputs(
            period=period,
            numbers=MonthNumbers(**vars(numbers)),
            previous=MonthNumbers(**vars(previous)),
            content=[ContentLink(*row) for row in content],
            arrivals=arrivals(changes),
            top=top,
            hidden=frozenset(hidden),
            upcoming=[UpcomingEvent(*row) for row in upcoming],
            daily_messages=daily,
            top_n=TOP_N,
        )
    )
    embeds = render_newsletter(newsletter, chart_filename="activity.png")
    done = time.perf_counter()
    steps["compose + render"] = done - composing
    return done - started, steps, len(embeds)


async def measure(path: Path, runs: int) -> dict[str, Any]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = create_session_factory(engine)
    try:
        results = [await compose_once(sessions) for _ in range(runs)]
    finally:
        await engine.dispose()
    totals = [total for total, _, _ in results]
    fastest = min(results, key=lambda r: r[0])
    return {
        "median_s": statistics.median(totals),
        "min_s": min(totals),
        "max_s": max(totals),
        "steps": fastest[1],
        "embeds": fastest[2],
    }


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rows-per-member", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build the stores in this directory, kept")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="flywheel-newsletter-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            path = folder / f"newsletter-{size}.db"
            if args.keep is None or not path.exists():
                path.unlink(missing_ok=True)
                started = time.perf_counter()
                counts = await build(path, size, args.rows_per_member, args.seed)
                built_s = time.perf_counter() - started
                listed = ", ".join(f"{n:,} {table}" for table, n in counts.items())
                print(f"{size:>7,} members: built in {built_s:.1f} s: {listed}", flush=True)
            result = await measure(path, args.runs)
            results[size] = result
            steps = ", ".join(f"{name} {s * 1000:.0f} ms" for name, s in result["steps"].items())
            print(
                f"{size:>7,} members: newsletter composed in {result['median_s']:.2f} s median "
                f"({result['min_s']:.2f}-{result['max_s']:.2f} s over {args.runs} runs, "
                f"{result['embeds']} embeds); fastest run: {steps}",
                flush=True,
            )
    if 100_000 in results:
        print(f"compose_100k_s {results[100_000]['median_s']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
