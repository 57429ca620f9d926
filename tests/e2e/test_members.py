"""The members table follows the guild: start-up sync, joins, leaves, rejoins, name changes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.emulated import running_bot
from bot.services.members import MembersService
from db.models import Member
from db.repositories.members import MemberRepository
from tests.e2e.util import bot_posts, eventually, slash

pytestmark = pytest.mark.e2e


async def member_row(bot: Any, user_id: int) -> Member | None:
    async with bot.services.sessions() as session:
        return await MemberRepository(session, bot.guild_id).get(user_id)


async def all_rows(bot: Any) -> dict[int, Member]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(select(Member).where(Member.guild_id == bot.guild_id))
        return {row.user_id: row for row in rows}


def rejoin(emulator: Any, guild_id: int, user_id: int, code: str | None = None) -> None:
    """An existing user joins again (the emulator's member_join always makes a new user)."""
    guild = emulator.world.guilds[guild_id]
    invite = guild.invites[code] if code is not None else None
    emulator.ops.member_join(guild, emulator.world.users[user_id], invite=invite)


async def test_start_up_records_every_member_including_the_bot(flywheel, emulator, community):
    bot = flywheel.bot
    expected = set(emulator.world.guilds[community.guild_id].members)

    async def synced() -> dict[int, Member] | None:
        rows = await all_rows(bot)
        return rows if set(rows) >= expected else None

    rows = await eventually(synced)
    assert rows[community.members["ada"]].display_name == "ada"
    assert rows[community.members["ada"]].left_at is None
    assert rows[community.members["ada"]].joined_at is not None
    assert rows[emulator.bot_user_id].is_bot
    assert not rows[community.moderators["morgan"]].is_bot


async def test_join_leave_and_rejoin_are_reflected(flywheel, emulator, community):
    bot = flywheel.bot
    newcomer = await emulator.member_join(community.guild_id, "hopper")
    first = await eventually(lambda: member_row(bot, newcomer.user_id))
    assert first.left_at is None and first.display_name == "hopper"

    await emulator.member_leave(community.guild_id, newcomer.user_id)

    async def gone() -> Member | None:
        row = await member_row(bot, newcomer.user_id)
        return row if row is not None and row.left_at is not None else None

    left = await eventually(gone)
    assert left.first_seen_at == first.first_seen_at

    rejoin(emulator, community.guild_id, newcomer.user_id)

    async def back() -> Member | None:
        row = await member_row(bot, newcomer.user_id)
        return row if row is not None and row.left_at is None else None

    returned = await eventually(back)
    assert returned.first_seen_at == first.first_seen_at, "history survives a rejoin"


async def test_a_nickname_change_updates_the_display_name(flywheel, emulator, community):
    bot = flywheel.bot
    ada = community.members["ada"]
    await eventually(lambda: member_row(bot, ada))
    await emulator.update_member(community.guild_id, ada, nick="Ada L.")

    async def renamed() -> bool:
        row = await member_row(bot, ada)
        return row is not None and row.display_name == "Ada L."

    await eventually(renamed)


async def test_members_who_left_while_the_bot_was_away_are_marked_left(
    emulator, community, bot_config, clock
):
    grace = community.members["grace"]
    async with running_bot(bot_config, clock=clock) as app:
        row = await eventually(lambda: member_row(app.bot, grace))
        assert row.left_at is None
    await emulator.member_leave(community.guild_id, grace)  # nobody is connected to see it
    async with running_bot(bot_config, clock=clock) as app:

        async def marked() -> bool:
            row = await member_row(app.bot, grace)
            return row is not None and row.left_at is not None

        await eventually(marked)
        ada = await member_row(app.bot, community.members["ada"])
        assert ada is not None and ada.left_at is None


@pytest.fixture
def held_sync(monkeypatch) -> asyncio.Event:
    """The start-up member sync waits for the returned event (a big server's sync, or a slow
    store), then runs as it would."""
    release = asyncio.Event()
    sync = MembersService.sync

    async def held(self: MembersService, members: Any) -> Any:
        await release.wait()
        return await sync(self, members)

    monkeypatch.setattr(MembersService, "sync", held)
    return release


async def test_a_command_during_the_start_up_member_sync_waits_for_it(
    held_sync, bot_config, clock, emulator, community
):
    """Before the sync the table holds no one (a first start): /nps send would survey nobody."""
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    async with running_bot(bot_config, clock=clock) as app:
        promoted = await slash(
            emulator, community, morgan, "tier set", member=ada, tier="champion", reason="helper"
        )
        deferred = await promoted.wait_response(timeout=5)
        assert deferred["type"] == 5, "the interaction gate acknowledges while it waits"
        assert await all_rows(app.bot) == {}, "the sync is still held"
        held_sync.set()
        answer = await promoted.wait_edit(timeout=10)
        assert answer["content"].startswith("ada's tier is now Champion")
        sent = await slash(emulator, community, morgan, "nps send")
        survey = await sent.wait_answer(timeout=5)
        assert "by DM to 1 tier member(s)" in survey["data"]["content"]


async def test_a_form_opens_during_the_start_up_member_sync(
    held_sync, bot_config, clock, emulator, community
):
    """A form must be the first answer (it cannot follow the gate's deferral), so a command that
    opens one does not wait for the sync: a big server's sync would turn it into an apology."""
    async with running_bot(bot_config, clock=clock):
        opened = await slash(emulator, community, community.members["ada"], "feedback submit")
        assert (await opened.wait_response(timeout=5))["type"] == 9, "a form, not a deferral"
        held_sync.set()


async def test_a_failed_start_up_member_sync_is_reported_and_commands_still_run(
    monkeypatch, bot_config, clock, emulator, community
):
    async def broken(self: MembersService, members: Any) -> Any:
        raise OSError("disk I/O error")

    monkeypatch.setattr(MembersService, "sync", broken)
    async with running_bot(bot_config, clock=clock):
        [alert] = await eventually(lambda: bot_posts(emulator, community.channels["mod-log"]))
        reported = alert["content"]
        assert "could not reconcile the member list at start-up (disk I/O error)" in reported
        shown = await slash(emulator, community, community.members["ada"], "profile")
        assert (await shown.wait_answer(timeout=5))["type"] == 4
