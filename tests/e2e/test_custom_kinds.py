"""A kind the server defines in ``[[kinds]]``, end to end: submitted, reviewed, credited, shown.

The sample community defines ``talk`` (``credited = "review"``, 15 points, award "Top
speaker"): members send a link with /contribution submit, moderators decide on the review
card /share uses, and the credit reaches the ladder, /profile and /leaderboard.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from db.models import ContentSubmission, Contribution
from tests.e2e.test_content import (
    button_ids,
    cards,
    field,
    rows,
    share,
    status,
)
from tests.e2e.util import eventually, private_reply, private_text

pytestmark = pytest.mark.e2e

TALK_URL = "https://youtube.example.com/watch?v=flywheel-talk"


async def submit(emu, community, who: str, kind: str, evidence: str, note: str | None = None):
    options: dict[str, Any] = {"kind": kind, "evidence": evidence}
    if note is not None:
        options["note"] = note
    return await emu.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.members[who],
        "contribution submit",
        options=options,
    )


async def test_a_talk_is_submitted_approved_and_credited_as_a_talk(flywheel, emulator, community):
    reply = await private_reply(
        await submit(emulator, community, "ada", "talk", TALK_URL, "Meetup Berlin, 20 minutes")
    )
    assert reply["content"] == (
        "Thanks! Your talk was sent to the moderators for review; I'll DM you when it's decided."
    )
    [card] = cards(emulator, community)
    assert card["content"] == "New talk from ada to review"
    assert field(card, "Kind") == "Talks given"
    assert card["embeds"][0]["title"] == "Meetup Berlin, 20 minutes"
    [submission] = await rows(flywheel.bot, ContentSubmission)
    assert (submission.credit_kind, submission.kind) == ("talk", "other")

    click = await emulator.click_button(card, community.moderators["morgan"], button_ids(card)[0])
    assert (await click.wait_answer(timeout=5))["type"] == 7
    [credit] = await rows(flywheel.bot, Contribution)
    ada = community.members["ada"]
    assert (credit.user_id, credit.kind, credit.points) == (ada, "talk", 15)
    assert credit.source_id == f"content:{submission.id}"
    assert status(emulator.message(card["id"])) == "Approved by morgan: +15 points to the author"
    dm = await eventually(lambda: [m for m in emulator.dms(ada) if m["author"]["bot"]])
    assert dm[-1]["content"] == (
        "Your talk 'Meetup Berlin, 20 minutes' was approved — +15 points. Thank you for sharing it!"
    )

    profile = await emulator.invoke_slash_command(
        community.guild_id, community.channels["general"], ada, "profile"
    )
    body = await profile.wait_answer(timeout=5)
    [embed] = body["data"]["embeds"]
    talks = next(f for f in embed["fields"] if f["name"] == "Talks given")
    assert "**1** (15 pts)" in talks["value"]

    board = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.members["grace"],
        "leaderboard",
        options={"period": "week", "kind": "talk"},
    )
    [embed] = (await board.wait_answer(timeout=5))["data"]["embeds"]
    assert embed["description"].startswith("*Talks given*\n**1.** <@")


async def test_a_link_is_credited_once_whichever_command_sent_it(flywheel, emulator, community):
    await private_reply(await share(emulator, community, "ada", TALK_URL, "My talk", "talk"))
    again = await submit(emulator, community, "grace", "talk", TALK_URL + "&utm_source=x")
    assert (await private_text(again)).startswith("That link was already shared by ada on ")
    own = await submit(emulator, community, "ada", "talk", TALK_URL)
    assert (await private_text(own)).startswith("You already shared that link on ")
    assert len(cards(emulator, community)) == 1


async def test_only_review_credited_kinds_can_be_submitted(flywheel, emulator, community):
    built_in = await submit(emulator, community, "ada", "answer", "https://example.com/a")
    assert await private_text(built_in) == (
        "'answer' is not a kind you can submit here. Pick one of: Talks given."
    )
    by_label = await submit(emulator, community, "ada", "Talks given", "not a link")
    assert await private_text(by_label) == "That doesn't look like a link: not a link"
    assert await rows(flywheel.bot, ContentSubmission) == []


async def test_kinds_are_suggested_while_typing(flywheel, emulator, community):
    typing = await emulator.invoke_autocomplete(
        community.guild_id,
        community.channels["general"],
        community.members["ada"],
        "contribution submit",
        {"kind": "ta", "evidence": "x"},
        focused="kind",
    )
    body = await typing.wait_answer(timeout=5)
    assert body["type"] == 8
    assert body["data"]["choices"] == [{"name": "Talks given", "value": "talk"}]

    board = await emulator.invoke_autocomplete(
        community.guild_id,
        community.channels["general"],
        community.members["ada"],
        "leaderboard",
        {"kind": "t"},
        focused="kind",
    )
    values = [c["value"] for c in (await board.wait_answer(timeout=5))["data"]["choices"]]
    assert values[0] == "all" and "talk" in values and "thanks_received" in values


async def test_moderators_credit_a_server_kind_by_hand(flywheel, emulator, community):
    record = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.moderators["morgan"],
        "contribution add",
        options={
            "member": community.members["grace"],
            "kind": "Talks given",
            "points": 20,
            "reason": "Keynote at the user conference",
        },
    )
    body = await record.wait_answer(timeout=5)
    assert body["data"]["content"].startswith("Recorded +20 talk for grace as contribution #")
    [credit] = await rows(flywheel.bot, Contribution)
    assert (credit.kind, credit.points) == ("talk", 20)
    unknown = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.moderators["morgan"],
        "contribution add",
        options={"member": community.members["grace"], "kind": "keynote", "points": 5,
                 "reason": "x" * 10},
    )  # fmt: skip
    text = (await unknown.wait_answer(timeout=5))["data"]["content"]
    assert text.startswith("There is no kind 'keynote' here. Pick one of: Active days credited")
    assert text.endswith("Talks given.")


async def test_a_tier_rule_counting_talks_promotes_on_approval(
    emulator, community, database_url, clock
):
    tiers = [
        {
            "key": "speaker",
            "name": "Speaker",
            "role_id": community.tier_role_ids["champion"],
            "window_days": 30,
            "min_counts": {"talk": 1},
        }
    ]
    data = community_config(community, emulator, database_url=database_url)
    data["tiers"] = tiers
    config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    assert config.settings.tiers[0].min_counts == {"talk": 1}
    async with running_bot(config, clock=clock) as app:
        await private_reply(await submit(emulator, community, "ada", "talk", TALK_URL))
        [card] = cards(emulator, community)
        click = await emulator.click_button(
            card, community.moderators["morgan"], button_ids(card)[0]
        )
        await click.wait_answer(timeout=5)
        ada = community.members["ada"]
        role = community.tier_role_ids["champion"]
        await eventually(lambda: role in emulator.member_roles(community.guild_id, ada))
        [credit] = await rows(app.bot, Contribution)
        assert credit.kind == "talk"
