"""Hot statements compiled once by SQLAlchemy and run with one call into the driver.

Through SQLAlchemy's asyncio adapters a one-row read costs several hand-offs: aiosqlite runs
every DBAPI call (cursor, execute, fetch, close) on its own thread, and asyncpg's adapter opens
a transaction first, a round trip of its own. For the read that runs after every contribution
those hand-offs cost more than the SQL. :class:`DriverStatement` keeps SQLAlchemy's compiled
SQL and its types' bind and result processors, and runs the statement on the session's own
driver connection in one call (``execute_fetchall`` on aiosqlite, ``fetchrow`` on asyncpg), so
it sees what the session sees, a what-if's uncommitted writes included. It runs past
SQLAlchemy's events, so ``echo`` and :mod:`db.faults` do not see it: keep it to reads whose
cost matters this much.

:class:`DriverBatch` does the same for a write of many rows: SQLAlchemy's ``executemany``
builds a parameter dictionary per row and runs every value through its type's processor, which
for a batch of 40,000 presence rows cost more than SQLite's own work. The batch is compiled
once, each row is a plain tuple with only the values whose type needs it processed, and it
runs through the connection's ``exec_driver_sql``, so SQLAlchemy's events (``echo``,
:mod:`db.faults`) still see it. It sends up to 512 rows a statement (one multi-row
``VALUES``), not one statement a row: Python's sqlite3 lets go of the interpreter lock around
every step of a statement and takes it back after, so an ``executemany`` (or a ``RETURNING``
row) costs a hand-over per row between aiosqlite's thread and a busy event loop, each one
waiting for the loop to yield. Measured with the loop busy, 4,000 upserted rows took 8.3 s
row by row, 0.77 s as multi-row statements returning a column, 0.06 s without (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import Dialect, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Insert, Select

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class DriverStatement:
    """``statement`` compiled for one dialect: its SQL, its binds in order, its processors."""

    dialect: str
    sql: str
    #: Bind names in the SQL's order; with ``?`` placeholders a name comes once per use.
    order: tuple[str, ...]
    #: Each bind once, with its type's processor (a name used 30 times is processed once).
    binds: Mapping[str, Processor]
    #: Values of the binds the statement carries itself (constants in ``CASE``, ``LIMIT``).
    carried: Mapping[str, Any]
    results: tuple[Processor, ...]

    @classmethod
    def compile(cls, statement: Select[*tuple[Any, ...]], dialect: Dialect) -> DriverStatement:
        if dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"no driver call for the {dialect.name} dialect")
        compiled = statement.compile(dialect=dialect)
        late = [n for n, bind in compiled.binds.items() if bind.expanding or bind.literal_execute]
        if late:
            # Rendered at each execution by SQLAlchemy, which this call bypasses.
            raise ValueError(f"parameters rendered at execution are not supported: {late}")
        order = tuple(compiled.positiontup or ())
        binds = {
            name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in dict.fromkeys(order)
        }
        carried = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None
        }
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        return cls(dialect.name, compiled.string, order, binds, carried, results)

    async def first(
        self, connection: AsyncConnection, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row for ``params`` (by bind name), its values processed; None if none."""
        values = {**self.carried, **params}
        bound = {
            name: values[name] if process is None else process(values[name])
            for name, process in self.binds.items()
        }
        args = [bound[name] for name in self.order]
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if self.dialect == "sqlite":
            rows = list(await driver.execute_fetchall(self.sql, args))
            row = rows[0] if rows else None
        else:
            row = await driver.fetchrow(self.sql, *args)
        if row is None:
            return None
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self.results, strict=True)
        )


#: Rows a statement, largest first: a batch goes as statements of these sizes, so each size is
#: compiled once and a batch of any length takes few statements (4,000 rows: 7 of 512, 6 of 64,
#: 4 of 8). 512 rows of up to 63 columns stay under SQLite's and PostgreSQL's 32,766 parameters.
CHUNK_ROWS = (512, 64, 8, 1)
MAX_PARAMETERS = 32_766


@dataclass(frozen=True)
class DriverBatch:
    """An ``INSERT`` compiled for one dialect, run for many rows of plain tuples.

    The rows of one batch must not conflict with each other (an upsert's key twice):
    PostgreSQL refuses a statement that updates a row twice.
    """

    statement: Insert
    dialect: Dialect
    #: The columns each row gives, in order.
    columns: tuple[str, ...]
    #: Per column, its type's bind processor for this dialect (None: passed as it is).
    processors: tuple[Processor, ...]
    #: The SQL for a statement of so many rows, compiled on first use.
    _sql: dict[int, str] = field(default_factory=dict, compare=False)

    @classmethod
    def compile(cls, statement: Insert, columns: Sequence[str], dialect: Dialect) -> DriverBatch:
        """``statement`` (an ``INSERT`` without values, upserts included) for rows of
        ``columns``; each column must be bound once, in that order."""
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        order = tuple(compiled.positiontup or ())
        if order != tuple(columns):
            raise ValueError(f"the statement binds {order}, not the columns {tuple(columns)}")
        if CHUNK_ROWS[0] * len(columns) > MAX_PARAMETERS:
            raise ValueError(f"{len(columns)} columns are too many for {CHUNK_ROWS[0]} rows")
        table = statement.table
        processors = tuple(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        )
        return cls(statement, dialect, tuple(columns), processors)

    def sql(self, rows: int) -> str:
        """The statement with ``rows`` rows of ``VALUES``, bound row after row."""
        sql = self._sql.get(rows)
        if sql is None:
            table = self.statement.table
            names = [[f"{column}_{i}" for column in self.columns] for i in range(rows)]
            statement = self.statement.values(
                [
                    {
                        column: bindparam(name, type_=table.c[column].type)
                        for column, name in zip(self.columns, row, strict=True)
                    }
                    for row in names
                ]
            )
            compiled = statement.compile(dialect=self.dialect)
            if tuple(compiled.positiontup or ()) != tuple(chain.from_iterable(names)):
                raise ValueError("the multi-row statement does not bind its rows in order")
            sql = self._sql[rows] = compiled.string
        return sql

    def prepare(self) -> DriverBatch:
        """Compile the statement of every size now (a 512-row one takes SQLAlchemy about
        40 ms): at start-up, not in the first write under load."""
        for size in CHUNK_ROWS:
            self.sql(size)
        return self

    def rows(self, values: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """``values`` (one sequence per row, in ``columns`` order) as the driver takes them."""
        processors = self.processors
        return [
            tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))
            for row in values
        ]

    async def execute(self, connection: AsyncConnection, values: Iterable[Sequence[Any]]) -> int:
        """Write ``values`` on ``connection`` (in its transaction), up to 512 rows a statement;
        returns how many rows were given."""
        rows = self.rows(values)
        done = 0
        for size in CHUNK_ROWS:
            while len(rows) - done >= size:
                chunk = rows[done : done + size]
                await connection.exec_driver_sql(self.sql(size), tuple(chain.from_iterable(chunk)))
                done += size
        return len(rows)


def per_dialect(
    build: Callable[[str], Insert], columns: Sequence[str]
) -> Callable[[Dialect], DriverBatch]:
    """A :class:`DriverBatch` of ``build(dialect name)``, compiled once per dialect on first use."""
    batches: dict[str, DriverBatch] = {}

    def batch(dialect: Dialect) -> DriverBatch:
        compiled = batches.get(dialect.name)
        if compiled is None:
            compiled = DriverBatch.compile(build(dialect.name), columns, dialect)
            batches[dialect.name] = compiled
        return compiled

    return batch
