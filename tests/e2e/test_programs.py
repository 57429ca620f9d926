"""Beta programs and user research end to end: a program created, joined within its tier and
seats, a tester's report accepted on the review card, the close thanking every tester and
crediting the accepted one; a research call volunteered for within its criteria, a volunteer
picked (told by DM) and credited for taking part."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.client import all_extensions
from bot.emulated import running_bot
from db.models import (
    BetaProgram,
    BetaTester,
    Contribution,
    GroupMember,
    ResearchCall,
    ResearchVolunteer,
    TierState,
    UserGroup,
)
from emulator import permissions
from tests.e2e.util import bot_posts, eventually, private_reply, private_text, settled

pytestmark = pytest.mark.e2e


async def rows(bot, model, *where) -> list[Any]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(model).where(*where)))


async def give_tier(bot, user_id: int, tier: str) -> None:
    now = datetime.now(UTC)
    async with bot.services.sessions() as session, session.begin():
        session.add(
            TierState(
                guild_id=bot.settings.discord.guild_id,
                user_id=user_id,
                tier_key=tier,
                tier_since=now,
                updated_at=now,
            )
        )


async def slash(emu, community, who: int, command: str, /, **options: Any) -> Any:
    """``who`` runs ``/command`` in #general (options may be called ``name``)."""
    return await emu.invoke_slash_command(
        community.guild_id, community.channels["general"], who, command, options=options
    )


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def test_a_beta_program_is_joined_reported_on_and_closed_with_credit(
    emulator, community, flywheel
) -> None:
    emu, bot = emulator, flywheel.bot
    m, mods = community.members, community.moderators
    for name in ("ada", "grace", "linus"):
        await give_tier(bot, m[name], "champion")

    # Members can't create programs; a moderator opens one for Champions, two seats.
    refused = await slash(emu, community, m["ada"], "beta create", name="Offline mode")
    assert "Only the product team and moderators" in await private_text(refused)
    created = await slash(
        emu, community, mods["riley"], "beta create", name="Offline mode", min_tier="champion",
        seats=2, until="2099-12-31",
    )  # fmt: skip
    answer = await private_reply(created)
    assert "is open in" in answer["content"], answer
    [program] = await rows(bot, BetaProgram)
    assert program.thread_id is not None
    thread = emu.world.channels[program.thread_id]
    [post] = bot_posts(emu, community.channels["programs"])
    assert button_ids(post) == [f"beta:join:{program.id}"]
    join = button_ids(post)[0]

    # Below the tier: refused. Two Champions take both seats; the third finds it full.
    below = await emu.click_button(post, m["margaret"], join)
    assert "for Champion members and above" in await private_text(below)
    for name in ("ada", "grace"):
        joined = await emu.click_button(post, m[name], join)
        reply = await private_reply(joined)
        assert "Welcome to the beta" in reply["content"], reply
    full = await emu.click_button(post, m["linus"], join)
    assert "every seat" in await private_text(full)
    again = await emu.click_button(post, m["ada"], join)
    assert "already testing" in await private_text(again)
    assert {m["ada"], m["grace"]} <= set(thread.thread_members)
    assert m["linus"] not in thread.thread_members
    [program] = await rows(bot, BetaProgram)
    assert program.taken == 2

    # Ada reports; a moderator accepts it on the review card. Grace's report is rejected.
    for name, text in (("ada", "Sync loses edits made offline."), ("grace", "Looks fine to me!")):
        sent = await slash(emu, community, m[name], "beta report", program=program.id, text=text)
        assert "Your report is with the team" in (await private_reply(sent))["content"]
    ada_card, grace_card = bot_posts(emu, community.channels["review"])[-2:]
    approve = await emu.click_button(ada_card, mods["morgan"], button_ids(ada_card)[0])
    await approve.wait_answer(timeout=5)
    opened = await emu.click_button(grace_card, mods["morgan"], button_ids(grace_card)[1])
    assert (await opened.wait_answer(timeout=5))["type"] == 9
    rejected = await emu.submit_modal(
        opened, mods["morgan"], values={"reason": "Please describe what you tried."}
    )
    await rejected.wait_answer(timeout=5)
    await eventually(lambda: any("was not accepted" in d["content"] for d in emu.dms(m["grace"])))
    assert any("was accepted" in d["content"] for d in emu.dms(m["ada"]))

    # Closing thanks both testers by DM, credits Ada alone, archives the thread.
    closed = await slash(emu, community, mods["riley"], "beta close", program=program.id)
    assert "1 tester(s) with an accepted report" in (await private_reply(closed))["content"]
    await settled(emu, bot)
    for name in ("ada", "grace"):
        assert sum("Thank you for testing" in d["content"] for d in emu.dms(m[name])) == 1
    assert any("beta testing credit" in d["content"] for d in emu.dms(m["ada"]))
    credits = await rows(bot, Contribution, Contribution.kind == "beta_testing")
    assert [(c.user_id, c.points) for c in credits] == [(m["ada"], 8)]
    assert {t.thanks for t in await rows(bot, BetaTester)} == {"sent"}
    assert emu.world.channels[program.thread_id].archived is True
    late = await slash(emu, community, m["ada"], "beta report", program=program.id, text="x" * 20)
    assert "is closed" in await private_text(late)


async def test_a_research_call_checks_its_criteria_and_credits_who_took_part(
    emulator, community, flywheel
) -> None:
    emu, bot = emulator, flywheel.bot
    m, mods = community.members, community.moderators
    now = datetime.now(UTC)
    async with bot.services.sessions() as session, session.begin():
        group = UserGroup(
            guild_id=community.guild_id, name="Berlin", name_key="berlin", kind="local",
            region="Europe", created_by=mods["riley"], created_at=now,
        )  # fmt: skip
        session.add(group)
        await session.flush()
        session.add(
            GroupMember(
                group_id=group.id, user_id=m["ada"], guild_id=community.guild_id,
                part="member", joined_at=now,
            )
        )  # fmt: skip
    recruited = await slash(
        emu, community, mods["riley"], "research recruit", title="Onboarding interviews",
        details="Thirty minutes on video about your first week.", region="Europe", seats=1,
    )  # fmt: skip
    assert "is posted in" in (await private_reply(recruited))["content"]
    [post] = bot_posts(emu, community.channels["programs"])
    [volunteer] = button_ids(post)

    outside = await emu.click_button(post, m["grace"], volunteer)
    assert "user group in Europe" in await private_text(outside)
    inside = await emu.click_button(post, m["ada"], volunteer)
    assert "Thanks for volunteering" in await private_text(inside)

    call_id = int(volunteer.rsplit(":", 1)[1])
    listed = await slash(emu, community, mods["riley"], "research volunteers", call=call_id)
    body = await listed.wait_answer(timeout=5)
    assert "ada" in body["data"]["embeds"][0]["description"]

    picked = await slash(
        emu, community, mods["riley"], "research pick", call=call_id, member=m["ada"]
    )
    assert "told by DM" in (await private_reply(picked))["content"]
    assert sum("You were picked" in d["content"] for d in emu.dms(m["ada"])) == 1
    twice = await slash(
        emu, community, mods["riley"], "research pick", call=call_id, member=m["ada"]
    )
    assert "picked already" in (await private_reply(twice))["content"]

    took = await slash(
        emu, community, mods["riley"], "research took-part", call=call_id, member=m["ada"]
    )
    assert "+8 points" in (await private_reply(took))["content"]
    credits = await rows(bot, Contribution, Contribution.kind == "user_research")
    assert [(c.user_id, c.points) for c in credits] == [(m["ada"], 8)]
    [row] = await rows(bot, ResearchVolunteer)
    assert row.pick_notice == "sent" and row.took_part_at is not None
    await settled(emu, bot)


async def test_a_program_and_a_call_discord_refused_are_posted_once_at_the_next_start(
    emulator, community, bot_config, clock
) -> None:
    """Saved while the bot may not post: moderators are told; the next start posts each once,
    and a post whose record was lost (a crash after sending) is found, not made again."""
    emu, mods = emulator, community.members | community.moderators
    channel = community.channels["programs"]
    guild = emu.guild(community.guild_id)
    guild.set_overwrite(channel, community.bot_role_id, deny=permissions.SEND_MESSAGES)
    async with running_bot(bot_config, clock=clock, extensions=all_extensions()) as app:
        created = await slash(emu, community, mods["riley"], "beta create", name="Offline mode")
        assert "posted at the next start" in (await private_reply(created))["content"]
        called = await slash(
            emu, community, mods["riley"], "research recruit", title="Interviews",
            details="Thirty minutes on video.",
        )  # fmt: skip
        assert "posted at the next start" in (await private_reply(called))["content"]
        alerts = [p["content"] for p in bot_posts(emu, community.channels["mod-log"])]
        assert any("could not be made" in a and "Send Messages" in a for a in alerts), alerts
        assert bot_posts(emu, channel) == []
        [program] = await rows(app.bot, BetaProgram)
        assert program.message_id is None
        await settled(emu, app.bot)
    guild.set_overwrite(channel, community.bot_role_id)
    async with running_bot(bot_config, clock=clock, extensions=all_extensions()) as app:
        await eventually(lambda: len(bot_posts(emu, channel)) == 2, within=10)
        await settled(emu, app.bot)
        [program] = await rows(app.bot, BetaProgram)
        [call] = await rows(app.bot, ResearchCall)
        by_button = {button_ids(p)[0]: int(p["id"]) for p in bot_posts(emu, channel)}
        assert by_button == {
            f"beta:join:{program.id}": program.message_id,
            f"research:volunteer:{call.id}": call.message_id,
        }
        assert program.thread_id is not None
        # A crash right after sending: the post is out, its record is not.
        async with app.bot.services.sessions() as session, session.begin():
            await session.execute(
                update(BetaProgram).values(message_id=None).where(BetaProgram.id == program.id)
            )
    async with running_bot(bot_config, clock=clock, extensions=all_extensions()) as app:
        [program] = await eventually(
            lambda: rows(app.bot, BetaProgram, BetaProgram.message_id.is_not(None))
        )
        await settled(emu, app.bot)
        assert len(bot_posts(emu, channel)) == 2, "found by its Join button, not posted again"
        assert program.message_id == by_button[f"beta:join:{program.id}"]
