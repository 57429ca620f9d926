"""Engine and session factories, built by the composition root at start-up (never at import)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import SingletonThreadPool, StaticPool

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
    engine = create_async_engine(url, echo=echo, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


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


def side_by_side(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether sessions of ``sessions`` get connections of their own, so their statements can
    run at the same time: not on :func:`what_if`'s one connection, nor on an in-memory SQLite
    database's."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return False
    return not isinstance(bind.sync_engine.pool, StaticPool | SingletonThreadPool)


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
