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
runs as one ``executemany`` through the connection's ``exec_driver_sql``, so SQLAlchemy's
events (``echo``, :mod:`db.faults`) still see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
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


@dataclass(frozen=True)
class DriverBatch:
    """An ``INSERT`` compiled for one dialect, run for many rows of plain tuples."""

    sql: str
    #: The columns each row gives, in order.
    columns: tuple[str, ...]
    #: Per column, its type's bind processor for this dialect (None: passed as it is).
    processors: tuple[Processor, ...]

    @classmethod
    def compile(cls, statement: Insert, columns: Sequence[str], dialect: Dialect) -> DriverBatch:
        """``statement`` (an ``INSERT`` without values, upserts included) for rows of
        ``columns``; each column must be bound once, in that order."""
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        order = tuple(compiled.positiontup or ())
        if order != tuple(columns):
            raise ValueError(f"the statement binds {order}, not the columns {tuple(columns)}")
        table = statement.table
        processors = tuple(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        )
        return cls(compiled.string, tuple(columns), processors)

    def rows(self, values: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """``values`` (one sequence per row, in ``columns`` order) as the driver takes them."""
        processors = self.processors
        return [
            tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))
            for row in values
        ]

    async def execute(self, connection: AsyncConnection, values: Iterable[Sequence[Any]]) -> int:
        """Write ``values`` in one ``executemany`` on ``connection`` (in its transaction);
        returns how many rows were given."""
        rows = self.rows(values)
        if rows:
            await connection.exec_driver_sql(self.sql, rows)
        return len(rows)
