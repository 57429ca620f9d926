"""Migrations on SQLite and PostgreSQL: up, down, and in step with the models."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db import migrate
from db.base import Base
from tests.conftest import engine_for

ALL_REVISIONS = [
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
    "0012",
    "0013",
    "0014",
    "0015",
]
TABLES = {
    "members",
    "web_sign_in_tokens",
    "web_review_decisions",
    "contributions",
    "activity_days",
    "tier_states",
    "tier_changes",
    "nominations",
    "scheduled_posts",
    "guild_settings",
    "question_threads",
    "thanks",
    "channel_presence",
    "content_submissions",
    "tracked_events",
    "event_rsvps",
    "voice_sessions",
    "referrals",
    "spotlight_nominations",
    "spotlights",
    "newsletter_subscriptions",
    "newsletter_deliveries",
    "nps_responses",
    "survey_invites",
    "buddy_volunteers",
    "buddy_pairs",
    "user_groups",
    "group_members",
    "group_events",
}


async def _tables(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_to_head_then_downgrade_to_base(db_url):
    engine = engine_for(db_url)
    try:
        assert await migrate.current_revision(engine) is None
        assert await migrate.pending_revisions(engine) == ALL_REVISIONS

        await migrate.upgrade(engine)
        assert await _tables(engine) >= TABLES
        assert await migrate.current_revision(engine) == migrate.head_revision()
        assert await migrate.pending_revisions(engine) == []

        await migrate.downgrade(engine, "base")
        assert await _tables(engine) - {"alembic_version"} == set()
        assert await migrate.current_revision(engine) is None

        await migrate.upgrade(engine)  # and back up again: downgrade left nothing behind
        assert await _tables(engine) >= TABLES
    finally:
        await engine.dispose()


async def test_models_match_migrations(engine):
    """A model change without a migration fails here, on both databases."""

    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_processes_starting_together_migrate_one_at_a_time(db_url):
    """Two processes of one deployment start at once on an empty PostgreSQL database: one
    migrates, the other waits for it and finds nothing left to do (both created the same
    tables before, and one failed on a duplicate)."""
    engines = [engine_for(db_url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
        assert await migrate.current_revision(engines[0]) == migrate.head_revision()
    finally:
        for engine in engines:
            await engine.dispose()
