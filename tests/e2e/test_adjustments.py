"""/contribution add and /contribution remove: moderators correct the ledger, on the record."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from db.models import Contribution
from emulator import EmulatorError
from tests.e2e.util import bot_posts, eventually, settled

pytestmark = pytest.mark.e2e


async def run(emu, community, who: int, name: str, **options: Any):
    return await emu.invoke_slash_command(
        community.guild_id, community.channels["general"], who, name, options=options
    )


async def private_reply(record) -> str:
    body = await record.wait_answer(timeout=5)
    assert body["type"] == 4 and body["data"]["flags"] & 64, body
    return body["data"]["content"]


async def ledger(bot) -> list[Contribution]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(Contribution).order_by(Contribution.id)))


def audit_lines(emu, community) -> list[dict[str, Any]]:
    return bot_posts(emu, community.channels["mod-log"])


async def add(emu, community, *, by="morgan", member="ada", kind="content", points=5, reason="x"):
    return await run(
        emu,
        community,
        community.moderators.get(by) or community.members[by],
        "contribution add",
        member=community.members.get(member, member),
        kind=kind,
        points=points,
        reason=reason,
    )


async def test_a_moderator_adds_points_with_a_reason_and_it_is_audited(
    flywheel, emulator, community
):
    changed: list[frozenset[int]] = []

    async def listener(guild_id: int, users: frozenset[int]) -> None:
        changed.append(users)

    flywheel.bot.services.contributions.subscribe(listener)
    record = await add(emulator, community, points=5, reason="  Wrote the @everyone FAQ  ")
    reply = await private_reply(record)
    [row] = await ledger(flywheel.bot)
    assert reply == f"Recorded +5 content for ada as contribution #{row.id}."
    assert (row.user_id, row.kind, row.points) == (community.members["ada"], "content", 5)
    assert row.source_id == f"manual:{record.id}"
    assert row.actor_id == community.moderators["morgan"]
    assert row.reason == "Wrote the @everyone FAQ"
    assert changed == [frozenset({community.members["ada"]})]

    [line] = await eventually(lambda: audit_lines(emulator, community))
    assert line["content"] == f"morgan added +5 content to ada (#{row.id}): Wrote the @everyone FAQ"
    assert line["allowed_mentions"] == {"parse": []}
    assert line["mention_everyone"] is False and line["mentions"] == []


async def test_negative_points_take_points_away(flywheel, emulator, community):
    record = await add(emulator, community, kind="answer", points=-3, reason="Counted twice")
    reply = await private_reply(record)
    [row] = await ledger(flywheel.bot)
    assert reply == f"Recorded -3 answer for ada as contribution #{row.id}."
    [line] = await eventually(lambda: audit_lines(emulator, community))
    assert line["content"] == f"morgan added -3 answer to ada (#{row.id}): Counted twice"


async def test_additions_are_refused_with_a_clear_reason(flywheel, emulator, community):
    zero = await add(emulator, community, points=0, reason="Nothing")
    assert await private_reply(zero) == (
        "Points must not be zero: use a negative number to take points away."
    )
    short = await add(emulator, community, reason="  ab   ")
    assert await private_reply(short) == "The reason must be 3 to 300 characters long."
    # Too long never reaches the bot: the command declares max_length, Discord enforces it.
    with pytest.raises(EmulatorError, match="reason: longer than max_length"):
        await add(emulator, community, reason="x" * 301)
    bot = await add(emulator, community, member=emulator.bot_user_id, reason="For the bot")
    assert await private_reply(bot) == "Bots can't receive contributions."
    gone = community.members["guido"]
    await emulator.member_leave(community.guild_id, gone)
    await eventually(lambda: flywheel.bot.get_guild(community.guild_id).get_member(gone) is None)
    left = await add(emulator, community, member=gone, reason="Thanks for everything")
    assert await private_reply(left) == "That member is not in this server."
    assert await ledger(flywheel.bot) == []
    assert audit_lines(emulator, community) == []


async def test_a_moderator_removes_a_contribution_once(flywheel, emulator, community):
    await private_reply(await add(emulator, community, points=7, reason="Great talk"))
    [original] = await ledger(flywheel.bot)
    riley = community.moderators["riley"]

    record = await run(
        emulator, community, riley, "contribution remove", id=original.id, reason="Wrong member"
    )
    reply = await private_reply(record)
    [_, reversal] = await ledger(flywheel.bot)
    assert reply == (
        f"Removed contribution #{original.id} (+7 content of ada); the reversal is #{reversal.id}."
    )
    assert (reversal.points, reversal.reverses_id) == (-7, original.id)
    assert (reversal.actor_id, reversal.reason) == (riley, "Wrong member")
    await eventually(lambda: len(audit_lines(emulator, community)) == 2)
    assert audit_lines(emulator, community)[-1]["content"] == (
        f"riley removed #{original.id} (+7 content of ada) as #{reversal.id}: Wrong member"
    )

    again = await run(
        emulator, community, riley, "contribution remove", id=original.id, reason="Once more"
    )
    assert await private_reply(again) == (
        f"Contribution #{original.id} was already removed (by #{reversal.id})."
    )
    of_reversal = await run(
        emulator, community, riley, "contribution remove", id=reversal.id, reason="Undo it"
    )
    assert await private_reply(of_reversal) == (
        f"Contribution #{reversal.id} is itself a removal; it can't be removed."
    )
    unknown = await run(
        emulator, community, riley, "contribution remove", id=999999, reason="Who knows"
    )
    assert await private_reply(unknown) == "There is no contribution #999999 here."
    assert len(await ledger(flywheel.bot)) == 2
    assert len(audit_lines(emulator, community)) == 2


async def test_members_who_are_not_moderators_are_refused(flywheel, emulator, community):
    grace = community.members["grace"]
    added = await add(emulator, community, by="grace", reason="For myself")
    assert await private_reply(added) == "Only moderators can do that."
    removed = await run(emulator, community, grace, "contribution remove", id=1, reason="Nope")
    assert await private_reply(removed) == "Only moderators can do that."
    assert await ledger(flywheel.bot) == []
    assert audit_lines(emulator, community) == []


async def test_a_replayed_command_is_recorded_once(flywheel, emulator, community):
    record = await add(emulator, community, reason="Replay me")
    await private_reply(record)
    emulator.events.interaction_create(record.payload, community.guild_id)
    await settled(emulator, flywheel.bot)
    assert len(await ledger(flywheel.bot)) == 1
    assert len(audit_lines(emulator, community)) == 1
