"""Engine and session factories, built by the composition root at start-up (never at import)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Dialect, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState, SingletonThreadPool, StaticPool

#: How long a SQLite writer waits for a lock before failing, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 5000


#: Settings for the bot's PostgreSQL connections, unless the caller gives its own. JIT
#: compilation pays off on long analytical queries; the bot's are short, and on the sweep's
#: ledger read (1 s) it cost 170 ms. A random read costs about what a sequential one does on
#: the SSDs PostgreSQL runs on today (its documentation suggests lowering the default of 4):
#: at 4 the planner chose to read the whole ledger over the sweep's index-only scan of one
#: part of it, 0.9 s against 0.6 s.
POSTGRES_SETTINGS = {"jit": "off", "random_page_cost": "1.1"}


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str | URL, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite every connection gets WAL, foreign keys and a busy timeout,
    on PostgreSQL :data:`POSTGRES_SETTINGS`.

    The pool hands out the connection returned last (``pool_use_lifo``): a sweep reads with
    several connections side by side, and handing them out in turn afterwards left each
    evaluation on a connection whose page cache (SQLite) or prepared statements (asyncpg)
    were colder than the one just used.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database not in (None, "", ":memory:"):
        kwargs.setdefault("pool_use_lifo", True)  # an in-memory SQLite has a pool of one
    if parsed.get_backend_name() == "postgresql":
        connect_args = dict(kwargs.get("connect_args", {}))
        given = connect_args.get("server_settings", {})
        connect_args["server_settings"] = {**POSTGRES_SETTINGS, **given}
        kwargs["connect_args"] = connect_args
    if parsed.get_backend_name() == "sqlite":
        # Reset on return by :func:`_rollback_if_begun` instead (SQLAlchemy's custom reset).
        kwargs.setdefault("pool_reset_on_return", None)
    engine = create_async_engine(url, echo=echo, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if kwargs["pool_reset_on_return"] is None:
            event.listen(engine.sync_engine, "reset", _rollback_if_begun)
    return engine


def _rollback_if_begun(
    dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState
) -> None:
    """SQLite's reset on return: a rollback only if a transaction is open.

    aiosqlite runs every call on its own thread, and a rollback with nothing to roll back is
    still a trip there and back: after a read on a connection with no transaction (a
    :class:`~db.driver_statement.DriverStatement` on :func:`reading`'s connection) it was a
    third of what one member's evaluation cost beyond the SQL. sqlite3 knows whether a
    transaction is open without a trip (``in_transaction``).
    """
    if state.transaction_was_reset or not state.asyncio_safe:
        return  # rolled back by the Connection already; or no event loop (garbage collected)
    driver = record.driver_connection
    if driver is None or getattr(driver, "in_transaction", True):
        dbapi_connection.rollback()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Deleted and overwritten content is zeroed, not left in free pages: an erased
        # member's name must not survive in the database file.
        cursor.execute("PRAGMA secure_delete=ON")
        # WAL lets readers (reports, backups) run while the bot writes. In-memory databases
        # answer "memory" and stay as they are.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_session_factory(
    engine: AsyncEngine, *, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no lazy reload on access).

    ``info`` is carried by every session (a server's lease fence, see ``bot.leases``).
    """
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


@asynccontextmanager
async def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncConnection]:
    """A connection for reads run at the driver (:class:`~db.driver_statement.DriverStatement`).

    From the engine, no transaction is begun on it, so handing it back costs no rollback (on
    SQLite, no trip to aiosqlite's thread: :func:`_rollback_if_begun`); under :func:`what_if`
    it is the what-if's own connection, so the read sees the what-if's writes.
    """
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncConnection):
        yield bind
        return
    if not isinstance(bind, AsyncEngine):
        raise TypeError(f"sessions bound to {bind!r}: expected an engine or a connection")
    async with bind.connect() as connection:
        yield connection


def side_by_side(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether sessions of ``sessions`` get connections of their own, so their statements can
    run at the same time: not on :func:`what_if`'s one connection, nor on an in-memory SQLite
    database's."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return False
    return not isinstance(bind.sync_engine.pool, StaticPool | SingletonThreadPool)


def bound_dialect(sessions: async_sessionmaker[AsyncSession]) -> Dialect | None:
    """The dialect of the store ``sessions`` open, if they are bound to one."""
    dialect: Dialect | None = getattr(sessions.kw.get("bind"), "dialect", None)
    return dialect


def dialect_of(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    """The dialect name (``sqlite``, ``postgresql``) of the store ``sessions`` open, if bound."""
    dialect = bound_dialect(sessions)
    return None if dialect is None else str(dialect.name)


def create_what_if_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An engine for :func:`what_if`: on SQLite, transactions begin when asked, not lazily.

    The sqlite3 driver opens a transaction only before a write, so a SAVEPOINT issued first
    would start (and its RELEASE commit) the real transaction: here BEGIN is sent explicitly,
    as SQLAlchemy's SQLite documentation recommends for savepoints.
    """
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _driver_never_begins)
        event.listen(engine.sync_engine, "begin", _begin)
    return engine


def _driver_never_begins(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


@asynccontextmanager
async def what_if(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on one connection inside one transaction that is rolled back at the end.

    Services run unchanged on them (their commits become savepoints), so a dry run can do the
    real work, read its effect (``tiers preview``) and leave the store as it was, on SQLite
    (with :func:`create_what_if_engine`) and PostgreSQL alike.
    """
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield async_sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        finally:
            await transaction.rollback()
