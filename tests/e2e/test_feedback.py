"""The product feedback loop end to end: a request posted in the forum, voted up, planned,
shipped, its voters told by DM and its author credited; the forum's tags kept by the bot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.client import all_extensions
from bot.emulated import running_bot
from db.faults import StoreFaults
from db.models import Contribution, FeedbackItem, FeedbackNotice
from emulator import permissions
from tests.e2e.util import bot_posts, eventually, settled

pytestmark = pytest.mark.e2e

REQUEST = {
    "title": "Dark mode for the mobile app",
    "problem": "Reading the app at night hurts the eyes; the white screen is too bright.",
    "wanted": "A dark theme that follows the phone's setting.",
}


def forum(emu, community):
    return emu.world.channels[community.channels["feedback"]]


def tag_names(emu, channel) -> list[str]:
    parent = emu.world.channels[channel.parent_id] if channel.parent_id else channel
    names = {t.id: t.name for t in parent.available_tags}
    if channel.parent_id:
        return [names[t] for t in channel.applied_tags]
    return [t.name for t in channel.available_tags]


def posts(emu, community) -> list[Any]:
    return [c for c in emu.world.channels.values() if c.parent_id == community.channels["feedback"]]


def starter(emu, thread) -> dict[str, Any]:
    from emulator import payloads

    return payloads.message(emu.world, emu.world.messages[thread.id])


def button(message: dict[str, Any], label_start: str) -> dict[str, Any]:
    for row in message["components"]:
        for comp in row["components"]:
            if comp.get("label", "").startswith(label_start):
                return comp
    raise AssertionError(f"no button {label_start!r} in {message['components']}")


async def submit(emu, community, who: int, *, area: str = "Mobile app", **fields: str) -> Any:
    opened = await emu.invoke_slash_command(
        community.guild_id, community.channels["general"], who, "feedback submit"
    )
    body = await opened.wait_answer(timeout=5)
    assert body["type"] == 9, body  # a form
    values = {**REQUEST, **fields}
    inputs = _input_ids(opened.modal)
    return await emu.submit_modal(
        opened,
        who,
        values={
            inputs["Title"]: values["title"],
            inputs["The problem"]: values["problem"],
            inputs["What would help"]: values["wanted"],
            inputs["Area"]: [area],
        },
    )


def _input_ids(modal: dict[str, Any]) -> dict[str, str]:
    """Label → custom id of each input of a form (text inputs and labelled selects)."""
    found: dict[str, str] = {}
    for comp in modal["components"]:
        if comp["type"] == 1:
            for inner in comp["components"]:
                found[inner["label"]] = inner["custom_id"]
        elif comp["type"] == 18:
            found[comp["label"]] = comp["component"]["custom_id"]
    return found


async def rows(bot, model, *where) -> list[Any]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(model).where(*where)))


async def test_a_request_is_voted_up_planned_shipped_and_its_voters_are_told(
    emulator, community, flywheel, clock
) -> None:
    emu, bot = emulator, flywheel.bot
    m, mods = community.members, community.moderators
    # The bot created the status tags on the forum at start-up.
    await eventually(lambda: "Shipped" in tag_names(emu, forum(emu, community)))
    assert tag_names(emu, forum(emu, community)) == [
        "Open",
        "Planned",
        "In progress",
        "Shipped",
        "Declined",
    ]

    done = await submit(emu, community, m["ada"])
    reply = (await done.wait_answer(timeout=5))["data"]
    assert "Your request is posted" in reply["content"]
    [thread] = posts(emu, community)
    assert thread.name == REQUEST["title"]
    assert tag_names(emu, thread) == ["Open"]
    first = starter(emu, thread)
    assert first["embeds"][0]["footer"]["text"].startswith("Feedback #")
    assert button(first, "Vote")["label"] == "Vote (0)"

    # Three members vote; one changes their mind.
    for name in ("grace", "linus", "guido"):
        click = await emu.click_button(
            thread.id, m[name], button(starter(emu, thread), "Vote")["custom_id"]
        )
        await click.wait_answer(timeout=5)
    again = await emu.click_button(
        thread.id, m["guido"], button(starter(emu, thread), "Vote")["custom_id"]
    )
    await again.wait_answer(timeout=5)
    await eventually(lambda: button(starter(emu, thread), "Vote")["label"] == "Vote (2)")

    # A member can't set a status; a moderator plans it, then ships it.
    status_id = button(starter(emu, thread), "Planned")["custom_id"]
    refused = await emu.click_button(thread.id, m["grace"], status_id)
    body = await refused.wait_answer(timeout=5)
    assert "Only the product team and moderators" in body["data"]["content"]

    opened = await emu.click_button(thread.id, mods["riley"], status_id)
    assert (await opened.wait_answer(timeout=5))["type"] == 9
    [note_id] = _input_ids(opened.modal).values()
    planned = await emu.submit_modal(
        opened, mods["riley"], values={note_id: "On the roadmap for May."}
    )
    await planned.wait_answer(timeout=5)
    await eventually(lambda: tag_names(emu, thread) == ["Planned"])

    shipped = await emu.invoke_slash_command(
        community.guild_id,
        thread.id,
        mods["riley"],
        "feedback status",
        options={"status": "shipped", "note": "Dark mode is out in version 3.2."},
    )
    answer = (await shipped.wait_answer(timeout=5))["data"]
    assert "now **Shipped**" in answer["content"]
    await eventually(lambda: tag_names(emu, thread) == ["Shipped"])
    await settled(emu, bot)

    # The author and both voters got a DM for each change; the withdrawn voter none.
    for name in ("ada", "grace", "linus"):
        texts = [d["content"] for d in emu.dms(m[name])]
        planned_dms = [t for t in texts if "is now **Planned**" in t and "On the roadmap" in t]
        shipped_dms = [t for t in texts if "is now **Shipped**" in t]
        assert len(planned_dms) == 1 and len(shipped_dms) == 1, texts
    assert not any("is now" in d["content"] for d in emu.dms(m["guido"]))
    # The notes are in the thread, and the vote button is closed.
    notes = [msg.content for msg in emu.world.messages.values() if msg.channel_id == thread.id]
    assert any("Status: Shipped" in n for n in notes)
    assert button(starter(emu, thread), "Vote")["disabled"] is True

    [item] = await rows(bot, FeedbackItem)
    credits = await rows(bot, Contribution, Contribution.kind == "feedback")
    assert sorted(c.source_id for c in credits) == [
        f"feedback:{item.id}:planned",
        f"feedback:{item.id}:shipped",
    ]
    assert {c.user_id for c in credits} == {m["ada"]}
    assert sum(c.points for c in credits) == 3 + 10
    notices = await rows(bot, FeedbackNotice)
    assert {n.state for n in notices} == {"sent"} and len(notices) == 6

    # /feedback top and next month's newsletter show it.
    top = await emu.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        m["grace"],
        "feedback top",
        options={"status": "shipped"},
    )
    embed = (await top.wait_answer(timeout=5))["data"]["embeds"][0]
    assert REQUEST["title"] in embed["description"] and "2 votes" in embed["description"]

    now = clock.now().astimezone(bot.settings.schedule.tz)
    clock.set((now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=12))
    send = await emu.invoke_slash_command(
        community.guild_id, community.channels["general"], mods["morgan"], "newsletter send"
    )
    await send.wait_answer(timeout=10)
    await settled(emu, bot)
    letters = bot_posts(emu, community.channels["announcements"])
    shipped_section = [
        e for p in letters for e in p["embeds"] if e.get("title") == "You asked, we shipped"
    ]
    assert shipped_section, [e.get("title") for p in letters for e in p["embeds"]]
    line = shipped_section[0]["description"]
    assert REQUEST["title"] in line and f"<@{m['ada']}>" in line and "2 votes" in line


async def test_a_similar_open_request_is_offered_before_a_duplicate(
    emulator, community, flywheel
) -> None:
    emu, m = emulator, community.members
    await (await submit(emu, community, m["ada"])).wait_answer(timeout=5)
    dup = await submit(emu, community, m["grace"], title="Mobile app dark mode please")
    body = await dup.wait_answer(timeout=5)
    assert "read alike" in body["data"]["content"]
    assert REQUEST["title"] in body["data"]["content"]
    assert len(posts(emu, community)) == 1
    # Posting anyway makes a second post.
    anyway = await emu.click_button(
        dup.original_message_id,
        m["grace"],
        button(body["data"], "Post mine anyway")["custom_id"],
    )
    await anyway.wait_answer(timeout=5)
    await eventually(lambda: len(posts(emu, community)) == 2)


async def test_votes_of_members_who_left_stop_counting_and_opted_out_voters_get_no_dm(
    emulator, community, flywheel
) -> None:
    emu, bot = emulator, flywheel.bot
    m, mods = community.members, community.moderators
    await (await submit(emu, community, m["ada"])).wait_answer(timeout=5)
    [thread] = posts(emu, community)
    for name in ("grace", "linus"):
        vote_id = button(starter(emu, thread), "Vote")["custom_id"]
        await (await emu.click_button(thread.id, m[name], vote_id)).wait_answer(timeout=5)
    quiet = await emu.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        m["linus"],
        "privacy updates",
        options={"dms": "off"},
    )
    assert "no more DMs" in (await quiet.wait_answer(timeout=5))["data"]["content"]
    await emu.member_leave(community.guild_id, m["grace"])
    # Grace left: her vote stops counting; Linus's (DMs off) still counts.
    await eventually(lambda: _votes(bot, 1), within=5)

    declined = await emu.invoke_slash_command(
        community.guild_id,
        thread.id,
        mods["riley"],
        "feedback status",
        options={"status": "declined", "note": "Not something we will build."},
    )
    await declined.wait_answer(timeout=5)
    await settled(emu, bot)
    assert any("is now **Declined**" in d["content"] for d in emu.dms(m["ada"]))
    assert not any("is now" in d["content"] for d in emu.dms(m["linus"]))
    assert not await rows(bot, Contribution, Contribution.kind == "feedback")


async def _votes(bot, count: int) -> bool:
    ranked = await bot.services.feedback.top()
    return bool(ranked) and ranked[0].votes == count


async def test_a_post_whose_record_fails_is_recorded_at_the_next_start_never_posted_twice(
    emulator, community, bot_config, clock
) -> None:
    """The store refuses to record the post's thread after Discord made it (SQLite busy)."""
    emu, m = emulator, community.members
    async with running_bot(bot_config, clock=clock, extensions=all_extensions()) as app:
        faults = StoreFaults.attach(app.engine)
        refused = faults.fail(match=r"UPDATE feedback_items SET thread_id", times=None)
        try:
            reply = (await (await submit(emu, community, m["ada"])).wait_answer(timeout=15))["data"]
        finally:
            faults.detach()
        assert "Your request is posted" in reply["content"], "it is out: the reply says so"
        assert refused.hits == 3, "recording was retried"
        [thread] = posts(emu, community)
        [item] = await rows(app.bot, FeedbackItem)
        assert item.thread_id is None
    async with running_bot(bot_config, clock=clock, extensions=all_extensions()) as app:

        async def recorded() -> bool:
            [item] = await rows(app.bot, FeedbackItem)
            return item.thread_id == thread.id

        await eventually(recorded, within=10)
        await settled(emu, app.bot)
        assert posts(emu, community) == [thread], "found by its footer, not posted again"


async def test_a_request_discord_refused_is_posted_at_the_next_start(
    emulator, community, bot_config, clock
) -> None:
    emu, m = emulator, community.members
    feedback_forum = community.channels["feedback"]
    guild = emu.guild(community.guild_id)
    guild.set_overwrite(feedback_forum, community.bot_role_id, deny=permissions.SEND_MESSAGES)
    async with running_bot(bot_config, clock=clock, extensions=all_extensions()) as app:
        reply = (await (await submit(emu, community, m["ada"])).wait_answer(timeout=10))["data"]
        assert "couldn't post it yet" in reply["content"]
        alerts = [p["content"] for p in bot_posts(emu, community.channels["mod-log"])]
        assert any("could not be posted" in a and "Send Messages" in a for a in alerts), alerts
        assert posts(emu, community) == []
        await settled(emu, app.bot)
    guild.set_overwrite(
        feedback_forum,
        community.bot_role_id,
        allow=permissions.MANAGE_CHANNELS | permissions.SEND_MESSAGES | permissions.EMBED_LINKS,
    )
    async with running_bot(bot_config, clock=clock, extensions=all_extensions()) as app:
        await eventually(lambda: len(posts(emu, community)) == 1, within=10)
        [item] = await eventually(
            lambda: rows(app.bot, FeedbackItem, FeedbackItem.thread_id.is_not(None))
        )
        assert item.thread_id == posts(emu, community)[0].id


async def test_a_status_set_on_an_archived_post_reopens_it_and_shows(
    emulator, community, flywheel
) -> None:
    """Forum posts are archived after a quiet while; the bot no longer has them in its cache."""
    emu, m, mods = emulator, community.members, community.moderators
    await (await submit(emu, community, m["ada"])).wait_answer(timeout=5)
    [thread] = posts(emu, community)
    await emu.archive_thread(thread.id)
    await eventually(lambda: flywheel.bot.get_channel(thread.id) is None)
    done = await emu.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        mods["riley"],
        "feedback status",
        options={"status": "planned", "note": "Picked for next month.", "request": 1},
    )
    reply = (await done.wait_answer(timeout=5))["data"]
    assert "could not be updated" not in reply["content"], reply["content"]
    assert tag_names(emu, thread) == ["Planned"] and not thread.archived
    notes = [msg.content for msg in emu.world.messages.values() if msg.channel_id == thread.id]
    assert any("Status: Planned" in n for n in notes)
