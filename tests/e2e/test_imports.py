"""Imported points become tiers and roles when the real bot runs: members it had not seen are
placed (and announced) at its start; members it knew are promoted quietly by the import and get
their role at the next start, with no announcement."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import parse_config
from bot.core.imports import ImportRow
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from bot.import_cli import run_import
from db import migrate
from db.engine import create_engine
from tests.e2e.util import bot_posts, eventually, members_synced, settled

pytestmark = pytest.mark.e2e

TIERS = [{"key": "champion", "name": "Champion", "window_days": 90, "min_points": 500}]


async def test_imported_members_get_their_tier_and_role_when_the_bot_runs(
    emulator, community, database_url, clock
):
    config = parse_config(
        community_config(community, emulator, database_url=database_url, tiers=TIERS),
        env={"DISCORD_TOKEN": EMULATOR_TOKEN},
    )
    ada, grace = community.members["ada"], community.members["grace"]
    role = community.tier_role_ids["champion"]
    announcements = community.channels["announcements"]
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    await engine.dispose()

    # Installed a minute ago and never started: nobody is known yet.
    first, _ = await run_import(
        config, "mee6", [ImportRow(ada, 1523, 5210, "MEE6: 152340 XP", "p.json:players[0]")],
        dry_run=False,
    )  # fmt: skip
    assert (first.imported, first.unseen, first.promoted) == (1, 1, {})

    async with running_bot(config, clock=clock) as app:
        await members_synced(app.bot, community.members.values())
        await asyncio.wait_for(app.bot.services.tiers.caught_up.wait(), timeout=5)
        await eventually(lambda: role in emulator.member_roles(community.guild_id, ada))
        await settled(emulator, app.bot)
    assert [m["content"] for m in bot_posts(emulator, announcements)] == [
        f"🎉 <@{ada}> is now a Champion!"
    ], "a member the bot had not seen is placed at its start, as any promotion"

    # The bot knows everyone now: an import promotes quietly and the next start gives the role.
    second, _ = await run_import(
        config, "tatsu", [ImportRow(grace, 800, None, "", "t.csv:2")], dry_run=False
    )
    assert (second.unseen, second.promoted) == (0, {"champion": 1})
    assert role not in emulator.member_roles(community.guild_id, grace), "no Discord call"

    async with running_bot(config, clock=clock) as app:
        await asyncio.wait_for(app.bot.services.tiers.caught_up.wait(), timeout=5)
        await eventually(lambda: role in emulator.member_roles(community.guild_id, grace))
        await settled(emulator, app.bot)
    assert [m["content"] for m in bot_posts(emulator, announcements)] == [
        f"🎉 <@{ada}> is now a Champion!"
    ], "no announcement for an imported promotion"
