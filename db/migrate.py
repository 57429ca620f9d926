"""Run Alembic migrations from Flywheel's own code, on the engine it already has."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code, so an installed package needs no ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def known_revisions() -> set[str]:
    """Every revision this code has a migration for."""
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


#: The PostgreSQL advisory lock that makes processes starting together migrate one at a time.
MIGRATION_LOCK = 0x466C7977  # "Flyw"


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate to ``revision`` in one transaction. On PostgreSQL, processes that start together
    take turns (an advisory lock held until commit): the next one finds the work done."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Revisions between the database and head, oldest first (empty when up to date)."""
    current = await current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    pending = [rev.revision for rev in script.iterate_revisions("head", current)]
    return list(reversed(pending))


async def check_writable(engine: AsyncEngine) -> None:
    """Write once and roll back, so a store the bot can read but not write (a read-only file,
    a read-only replica) fails at start-up rather than at its first real write."""
    async with engine.connect() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        await conn.rollback()
