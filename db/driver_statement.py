"""A hot read compiled once by SQLAlchemy and run with one call into the driver.

Through SQLAlchemy's asyncio adapters a one-row read costs several hand-offs: aiosqlite runs
every DBAPI call (cursor, execute, fetch, close) on its own thread, and asyncpg's adapter opens
a transaction first, a round trip of its own. For the read that runs after every contribution
those hand-offs cost more than the SQL. :class:`DriverStatement` keeps SQLAlchemy's compiled
SQL and its types' bind and result processors, and runs the statement on the session's own
driver connection in one call (``execute_fetchall`` on aiosqlite, ``fetchrow`` on asyncpg), so
it sees what the session sees, a what-if's uncommitted writes included. It runs past
SQLAlchemy's events, so ``echo`` and :mod:`db.faults` do not see it: keep it to reads whose
cost matters this much.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

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
