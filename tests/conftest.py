"""Shared fixtures: stores on SQLite and PostgreSQL, an injectable clock."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from db import migrate
from db.engine import create_engine, create_session_factory

POSTGRES_URL = os.environ.get(
    "FLYWHEEL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def postgres_required() -> bool:
    """CI (and anyone who sets FLYWHEEL_REQUIRE_POSTGRES=1) fails instead of skipping."""
    return os.environ.get("FLYWHEEL_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"


_pg_state: dict[str, str | None] = {}


async def _postgres_problem() -> str | None:
    """None if PostgreSQL answers at POSTGRES_URL, else why not (checked once per session)."""
    if "problem" not in _pg_state:
        import asyncpg

        url = make_url(POSTGRES_URL)
        try:
            conn = await asyncio.wait_for(
                asyncpg.connect(
                    host=url.host,
                    port=url.port or 5432,
                    user=url.username,
                    password=url.password,
                    database=url.database,
                ),
                timeout=5,
            )
            await conn.close()
            _pg_state["problem"] = None
        except Exception as exc:
            _pg_state["problem"] = f"{type(exc).__name__}: {exc}"
    return _pg_state["problem"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """A URL to an empty database: a temporary SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
        return
    problem = await _postgres_problem()
    if problem is not None:
        message = (
            f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}). Start PostgreSQL or point "
            "FLYWHEEL_TEST_POSTGRES_URL at one to run the store tests on it."
        )
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    import asyncpg

    url = make_url(POSTGRES_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield str(url.update_query_dict({"options": f"-csearch_path={schema}"}))
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


def engine_for(url: str, *, factory: Callable[..., AsyncEngine] = create_engine) -> AsyncEngine:
    """An engine for a test URL; PostgreSQL's schema travels as asyncpg server settings.
    ``factory``: ``db.engine.create_what_if_engine`` for a what-if."""
    parsed = make_url(url)
    options = parsed.query.get("options")
    if parsed.get_backend_name() == "postgresql" and options:
        search_path = str(options).removeprefix("-csearch_path=")
        return factory(
            parsed.difference_update_query(["options"]),
            connect_args={"server_settings": {"search_path": search_path}},
        )
    return factory(url)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head."""
    engine = engine_for(db_url)
    await migrate.upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
