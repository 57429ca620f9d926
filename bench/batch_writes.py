"""A batch write on SQLite while the event loop is busy: one statement a row, or many rows one.

Python's sqlite3 lets go of the interpreter lock around every step of a statement and takes it
back after. aiosqlite runs the statement on its own thread, so each step ends with that thread
waiting for the event loop to yield the lock: once per row for an ``executemany``, and once per
row returned by ``RETURNING``. During ingestion the loop is busy, and the flush (presence,
the rollups) waited that long once per row. This compares, on one store, with a task keeping
the loop busy as ingestion does (pure Python, yielding every millisecond):

* ``executemany``: one statement a row, as presence was written before;
* ``returning``: the rollup upsert as SQLAlchemy sent it, multi-row ``INSERT``s returning a
  column (``insertmanyvalues``);
* ``batch``: :class:`db.driver_statement.DriverBatch`, 512 rows a statement, nothing returned.

Each upserts the same ``--rows`` rollups (4,000: a busy half-second's at 5,000 members),
``--rounds`` times, in turn. Printed: the medians of the write's wall time and of the CPU
the process spent outside the loop's thread (aiosqlite's). The last line is
``batch_speedup <x>``, how many times faster the batch is than the slowest way.

    python bench/batch_writes.py [--rows 4000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.ext.asyncio import AsyncConnection  # noqa: E402

from db.driver_statement import DriverBatch  # noqa: E402
from db.engine import create_engine  # noqa: E402
from db.models import ActivityDay, Base  # noqa: E402
from db.upsert import insert_on  # noqa: E402

GUILD = 1
DAY = date(2026, 12, 6)


def rollup_upsert(dialect: str):  # type: ignore[no-untyped-def]
    stmt = insert_on(dialect, ActivityDay)
    return stmt.on_conflict_do_update(
        index_elements=["guild_id", "user_id", "day"],
        set_={"messages": ActivityDay.messages + stmt.excluded.messages},
    )


async def busy_loop(stop: asyncio.Event) -> None:
    """Pure Python work, yielding to the loop every millisecond, as ingestion keeps it."""
    while not stop.is_set():
        until = time.perf_counter() + 0.001
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'batch.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        dialect = engine.dialect
        rollups = DriverBatch.compile(
            rollup_upsert("sqlite"), ("guild_id", "user_id", "day", "messages"), dialect
        ).prepare()
        returning = rollup_upsert("sqlite").returning(ActivityDay.user_id)

        async def by_executemany(connection: AsyncConnection) -> None:
            rows = rollups.rows((GUILD, user, DAY, 1) for user in users)
            await connection.exec_driver_sql(rollups.sql(1), rows)

        async def by_returning(connection: AsyncConnection) -> None:
            rows = [
                {"guild_id": GUILD, "user_id": user, "day": DAY, "messages": 1} for user in users
            ]
            await connection.execute(returning, rows)

        async def by_batch(connection: AsyncConnection) -> None:
            await rollups.execute(connection, ((GUILD, user, DAY, 1) for user in users))

        users = range(args.rows)
        ways: dict[str, Callable[[AsyncConnection], Awaitable[None]]] = {
            "executemany": by_executemany,
            "returning": by_returning,
            "batch": by_batch,
        }
        walls: dict[str, list[float]] = {name: [] for name in ways}
        threads: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, write in ways.items():
                stop = asyncio.Event()
                busy = asyncio.create_task(busy_loop(stop))
                await asyncio.sleep(0.05)
                process, loop_thread = time.process_time(), time.thread_time()
                wall = time.perf_counter()
                async with engine.begin() as connection:
                    await write(connection)
                walls[name].append(time.perf_counter() - wall)
                outside = (time.process_time() - process) - (time.thread_time() - loop_thread)
                threads[name].append(outside)
                stop.set()
                await busy
        await engine.dispose()

    print(f"{args.rows:,} rows a write, the loop busy; medians of {args.rounds} rounds")
    for name in ways:
        wall, thread = statistics.median(walls[name]), statistics.median(threads[name])
        print(f"{name:12} {wall * 1000:9.1f} ms   aiosqlite's thread {thread * 1000:7.1f} ms CPU")
    slowest = max(statistics.median(walls[name]) for name in ways)
    print(f"batch_speedup {slowest / statistics.median(walls['batch']):.1f}")


if __name__ == "__main__":
    asyncio.run(main())
