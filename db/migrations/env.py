"""Alembic environment.

Two ways in: Flywheel's own code (``db.migrate``) hands over an open connection in
``config.attributes["connection"]``; the ``alembic`` command line gives a URL (``-x url=...`` or
``FLYWHEEL_DATABASE_URL``) and this file opens an async engine for it.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from db import models  # noqa: F401  (registers the tables on Base.metadata)
from db.base import Base
from db.engine import create_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "FLYWHEEL_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite+aiosqlite:///flywheel.db ...")
    return url


async def _run_async() -> None:
    engine = create_engine(_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (connection := config.attributes.get("connection")) is not None:
    _configure(connection)
else:
    asyncio.run(_run_async())
