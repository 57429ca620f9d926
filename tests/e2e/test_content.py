"""/share and the moderators' review card, end to end through the emulator."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.client import all_extensions
from bot.emulated import running_bot
from db.models import ContentSubmission, Contribution
from emulator import permissions
from tests.e2e.conftest import PROBE_EXTENSION
from tests.e2e.util import bot_posts, eventually, private_reply, private_text, settled

pytestmark = pytest.mark.e2e

SHARED = (
    "Thanks! Your blog post was sent to the moderators for review; I'll DM you when it's decided."
)


async def share(emu, community, who: str, url: str, title: str = "My first post", kind="blog"):
    return await emu.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.members[who],
        "share",
        options={"url": url, "title": title, "kind": kind},
    )


def cards(emu, community) -> list[dict[str, Any]]:
    return bot_posts(emu, community.channels["review"])


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


def field(message: dict[str, Any], name: str) -> str:
    [embed] = message["embeds"]
    return next(f["value"] for f in embed["fields"] if f["name"] == name)


def status(message: dict[str, Any]) -> str:
    [embed] = message["embeds"]
    return str(embed["description"])


async def shared_card(emu, community, who="ada", url="https://blog.example.com/post", **kw):
    await private_reply(await share(emu, community, who, url, **kw))
    return cards(emu, community)[-1]


async def rows(bot, model, *where) -> list[Any]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(model).where(*where)))


def day(bot, when) -> str:
    local = when.astimezone(bot.settings.schedule.tz)
    return f"{local.day} {local:%b %Y}"


async def test_share_posts_a_review_card_with_two_buttons(flywheel, emulator, community, clock):
    record = await share(
        emulator, community, "ada", "http://www.Blog.example.com/post/?utm_source=x", "  My post  "
    )
    reply = await private_reply(record)
    assert reply["content"] == SHARED

    [card] = cards(emulator, community)
    [submission] = await rows(flywheel.bot, ContentSubmission)
    assert submission.status == "pending" and submission.url == "https://blog.example.com/post"
    assert submission.title == "My post" and submission.author_id == community.members["ada"]
    assert submission.review_message_id == int(card["id"])
    assert submission.review_channel_id == community.channels["review"]
    assert button_ids(card) == [
        f"content:approve:{submission.id}",
        f"content:reject:{submission.id}",
    ]
    [embed] = card["embeds"]
    assert embed["title"] == "My post" and embed["url"] == "https://blog.example.com/post"
    assert field(card, "Kind") == "blog"
    assert field(card, "Author") == f"<@{community.members['ada']}>"
    assert status(card) == "Waiting for a moderator"
    assert card["content"] == "New blog post from ada to review"
    assert card["allowed_mentions"] == {"parse": []}


async def test_invalid_links_and_titles_are_refused_with_the_reason(flywheel, emulator, community):
    refusals = {
        "ftp://example.com/file": "Only http:// and https:// links can be shared (got ftp://…)",
        "not a url": "That doesn't look like a link: not a url",
        "http://localhost:8000/x": "Links to localhost or private addresses can't be shared",
        "example.com/x": "That doesn't look like a link: example.com/x (links start with https://)",
    }
    for url, message in refusals.items():
        assert await private_text(await share(emulator, community, "ada", url)) == message
    url = "https://example.com/ok"
    assert (
        await private_text(await share(emulator, community, "ada", url, title=" ab "))
        == "The title must be 3 to 200 characters long (it has 2)."
    )
    assert (
        await private_text(await share(emulator, community, "ada", url, title="x" * 201))
        == "The title must be 3 to 200 characters long (it has 201)."
    )
    assert (
        await private_text(await share(emulator, community, "ada", url, title="Two\nlines"))
        == "The title must fit on one line."
    )
    invisible = "\u200b" * 5 + "\u200d\u2060\ufeff"  # zero-width characters only
    assert (
        await private_text(await share(emulator, community, "ada", url, title=invisible))
        == "The title must be 3 to 200 characters long (it has 0)."
    )
    assert cards(emulator, community) == []
    assert await rows(flywheel.bot, ContentSubmission) == []


async def test_the_same_link_spelled_differently_is_refused_naming_who_shared_it(
    flywheel, emulator, community, clock
):
    await shared_card(emulator, community, "ada", "https://example.com/guide?utm_source=news")
    date = day(flywheel.bot, clock.now())
    again = await share(emulator, community, "grace", "http://www.example.com/guide/")
    assert await private_text(again) == f"That link was already shared by ada on {date}."
    own = await share(emulator, community, "ada", "https://example.com/guide#top")
    assert await private_text(own) == f"You already shared that link on {date}."
    assert len(cards(emulator, community)) == 1
    assert len(await rows(flywheel.bot, ContentSubmission)) == 1


async def test_only_moderators_can_decide(flywheel, emulator, community):
    card = await shared_card(emulator, community)
    [approve, reject] = button_ids(card)
    for custom_id in (approve, reject):
        click = await emulator.click_button(card, community.members["grace"], custom_id)
        assert await private_text(click) == "Only moderators can do that."
    [submission] = await rows(flywheel.bot, ContentSubmission)
    assert submission.status == "pending"
    assert await rows(flywheel.bot, Contribution) == []


async def test_a_rejection_form_sent_by_a_non_moderator_is_refused(flywheel, emulator, community):
    """The form is checked again on submission: its custom id can be sent by anyone."""
    card = await shared_card(emulator, community)
    opened = await emulator.click_button(card, community.moderators["riley"], button_ids(card)[1])
    assert (await opened.wait_answer(timeout=5))["type"] == 9
    forged = await emulator.submit_modal(
        opened, community.members["grace"], values={"reason": "no"}
    )
    assert await private_text(forged) == "Only moderators can do that."
    [submission] = await rows(flywheel.bot, ContentSubmission)
    assert submission.status == "pending"


async def test_a_card_whose_feature_is_not_loaded_answers_with_an_apology(
    emulator, community, bot_config, clock, caplog
):
    """No cog handles content cards in this run: the click is answered and logged, not lost."""
    async with running_bot(bot_config, clock=clock):
        card = await shared_card(emulator, community)
    extensions = [name for name in all_extensions() if name != "cogs.content"]
    async with running_bot(bot_config, clock=clock, extensions=extensions) as app:
        click = await emulator.click_button(
            card, community.moderators["morgan"], button_ids(card)[0]
        )
        assert (await private_text(click)).startswith("Sorry, something went wrong on my side.")
        [submission] = await rows(app.bot, ContentSubmission)
    assert submission.status == "pending"
    [error] = [r for r in caplog.records if r.name == "bot.tree"]
    assert error.exc_info is not None
    assert "no review kind 'content' is registered" in str(error.exc_info[1])


async def test_authors_cannot_approve_their_own_submission(flywheel, emulator, community):
    await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.moderators["morgan"],
        "share",
        options={"url": "https://example.com/mine", "title": "Mine", "kind": "talk"},
    )
    card = await eventually(lambda: cards(emulator, community) and cards(emulator, community)[-1])
    click = await emulator.click_button(card, community.moderators["morgan"], button_ids(card)[0])
    assert (
        await private_text(click)
        == "You can't decide on your own submission; another moderator will."
    )
    assert await rows(flywheel.bot, Contribution) == []


async def test_approval_credits_the_author_edits_the_card_and_tells_them(
    flywheel, emulator, community
):
    changed: list[frozenset[int]] = []

    async def listener(guild_id: int, users: frozenset[int]) -> None:
        changed.append(users)

    flywheel.bot.services.contributions.subscribe(listener)
    card = await shared_card(emulator, community)
    click = await emulator.click_button(card, community.moderators["morgan"], button_ids(card)[0])
    update = await click.wait_answer(timeout=5)
    assert update["type"] == 7
    assert changed == [frozenset({community.members["ada"]})]

    [submission] = await rows(flywheel.bot, ContentSubmission)
    [credit] = await rows(flywheel.bot, Contribution)
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    assert (credit.user_id, credit.kind, credit.points) == (ada, "content", 10)
    assert credit.source_id == f"content:{submission.id}" and credit.actor_id == morgan
    assert submission.status == "approved" and submission.decided_by == morgan
    assert submission.contribution_id == credit.id

    edited = emulator.message(card["id"])
    assert button_ids(edited) == []
    assert status(edited) == "Approved by morgan: +10 points to the author"
    dm = await eventually(lambda: [m for m in emulator.dms(ada) if m["author"]["bot"]])
    assert dm[-1]["content"] == (
        "Your blog post 'My first post' was approved — +10 points. Thank you for sharing it!"
    )


async def test_a_decision_is_made_exactly_once(flywheel, emulator, community, clock):
    card = await shared_card(emulator, community)
    approve = button_ids(card)[0]
    # Both moderators click before the bot has answered either of them.
    first = await emulator.click_button(card, community.moderators["morgan"], approve)
    second = await emulator.click_button(card, community.moderators["riley"], approve)
    bodies = [await first.wait_answer(timeout=5), await second.wait_answer(timeout=5)]
    assert sorted(b["type"] for b in bodies) == [4, 7]
    [winner] = [r for r, b in zip([first, second], bodies, strict=True) if b["type"] == 7]
    [loser] = [b for b in bodies if b["type"] == 4]
    name = "morgan" if winner is first else "riley"
    assert (
        loser["data"]["content"]
        == f"Already approved by {name} on {day(flywheel.bot, clock.now())}."
    )
    assert loser["data"]["flags"] & 64
    assert len(await rows(flywheel.bot, Contribution)) == 1
    await eventually(lambda: emulator.dms(community.members["ada"]))
    await settled(emulator, flywheel.bot)  # a second DM, if any, is sent by now
    assert len(emulator.dms(community.members["ada"])) == 1


async def test_rejection_asks_for_a_reason_and_tells_the_author(flywheel, emulator, community):
    card = await shared_card(emulator, community)
    [submission] = await rows(flywheel.bot, ContentSubmission)
    riley = community.moderators["riley"]
    opened = await emulator.click_button(card, riley, button_ids(card)[1])
    form = await opened.wait_answer(timeout=5)
    assert form["type"] == 9
    assert form["data"]["custom_id"] == f"content:reject-reason:{submission.id}"

    blank = await emulator.submit_modal(opened, riley, values={"reason": "   "})
    assert await private_text(blank) == "The reason must be 1 to 500 characters long."

    done = await emulator.submit_modal(opened, riley, values={"reason": "Not about our project"})
    assert (await done.wait_answer(timeout=5))["type"] == 7
    edited = emulator.message(card["id"])
    assert button_ids(edited) == []
    assert status(edited) == "Rejected by riley: Not about our project"
    [submission] = await rows(flywheel.bot, ContentSubmission)
    assert submission.status == "rejected"
    assert submission.decision_reason == "Not about our project"
    assert await rows(flywheel.bot, Contribution) == []
    dm = await eventually(lambda: emulator.dms(community.members["ada"]))
    assert dm[-1]["content"] == (
        "Your blog post 'My first post' was not approved. "
        "The moderators said: Not about our project"
    )

    again = await emulator.submit_modal(opened, riley, values={"reason": "Twice"})
    assert (
        await private_text(again)
        == f"Already rejected by riley on {day(flywheel.bot, submission.decided_at)}."
    )


async def test_closed_dms_are_noted_on_the_card(flywheel, emulator, community, caplog):
    card = await shared_card(emulator, community)
    ada = community.members["ada"]
    emulator.world.users[ada].accepts_dms = False
    with caplog.at_level(logging.INFO, logger="bot.outbox"):
        click = await emulator.click_button(
            card, community.moderators["morgan"], button_ids(card)[0]
        )
        await click.wait_answer(timeout=5)
        await eventually(lambda: "Couldn't DM" in status(emulator.message(card["id"])))
    assert any(f"could not DM member {ada}" in r.getMessage() for r in caplog.records)
    assert status(emulator.message(card["id"])).endswith(
        "Couldn't DM the author (they don't accept DMs from the bot)."
    )
    assert len(await rows(flywheel.bot, Contribution)) == 1


async def test_cards_and_forms_keep_working_after_a_restart(emulator, community, bot_config, clock):
    extensions = [*all_extensions(), PROBE_EXTENSION]
    riley, morgan = community.moderators["riley"], community.moderators["morgan"]
    async with running_bot(bot_config, clock=clock, extensions=extensions):
        first = await shared_card(emulator, community, "ada", "https://example.com/a")
        second = await shared_card(emulator, community, "grace", "https://example.com/b")
        opened = await emulator.click_button(second, riley, button_ids(second)[1])
        assert (await opened.wait_answer(timeout=5))["type"] == 9

    async with running_bot(bot_config, clock=clock, extensions=extensions) as app:
        click = await emulator.click_button(first, morgan, button_ids(first)[0])
        assert (await click.wait_answer(timeout=5))["type"] == 7
        done = await emulator.submit_modal(opened, riley, values={"reason": "Off topic"})
        assert (await done.wait_answer(timeout=5))["type"] == 7
        statuses = {s.author_id: s.status for s in await rows(app.bot, ContentSubmission)}
        assert statuses == {
            community.members["ada"]: "approved",
            community.members["grace"]: "rejected",
        }
        [credit] = await rows(app.bot, Contribution)
        assert credit.user_id == community.members["ada"]
        await eventually(lambda: emulator.dms(community.members["grace"]))


async def test_mentions_in_titles_and_reasons_never_ping(flywheel, emulator, community):
    role = community.tier_role_ids["champion"]
    title = f"@everyone @here look <@&{role}> <@{community.members['grace']}>"
    approved = await shared_card(emulator, community, "ada", "https://example.com/1", title=title)
    rejected = await shared_card(emulator, community, "ada", "https://example.com/2", title=title)
    morgan = community.moderators["morgan"]
    click = await emulator.click_button(approved, morgan, button_ids(approved)[0])
    approval = await click.wait_answer(timeout=5)
    opened = await emulator.click_button(rejected, morgan, button_ids(rejected)[1])
    await opened.wait_answer(timeout=5)
    done = await emulator.submit_modal(opened, morgan, values={"reason": f"@everyone {title}"})
    rejection = await done.wait_answer(timeout=5)
    dms = await eventually(
        lambda: (
            len(emulator.dms(community.members["ada"])) == 2
            and emulator.dms(community.members["ada"])
        )
    )

    sent = cards(emulator, community) + dms
    assert len(sent) == 4
    for message in sent:
        assert message["allowed_mentions"] == {"parse": []}, message
        assert message["mention_everyone"] is False
        assert message["mentions"] == [] and message["mention_roles"] == []
    for card_edit in (approval, rejection):  # the two cards, as the decisions edited them
        assert card_edit["data"].get("allowed_mentions") == {"parse": []}, card_edit


async def test_a_review_channel_without_permission_keeps_the_submission_and_says_so(
    flywheel, emulator, community, caplog
):
    emulator.guild(community.guild_id).set_overwrite(
        community.channels["review"], emulator.bot_user_id, deny=permissions.SEND_MESSAGES
    )
    with caplog.at_level(logging.ERROR, logger="bot.review_card"):
        reply = await private_reply(await share(emulator, community, "ada", "https://ex.com/p"))
    assert reply["content"] == (
        "Your blog post was saved, but I couldn't post it for review: the moderators' review "
        "channel is misconfigured. Please let a moderator know."
    )
    [submission] = await rows(flywheel.bot, ContentSubmission)
    assert submission.status == "pending" and submission.review_message_id is None
    assert cards(emulator, community) == []
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "channels.review" in error.getMessage() and f"#{submission.id}" in error.getMessage()


async def test_a_card_that_could_not_be_posted_is_posted_after_a_restart(
    emulator, community, bot_config, clock
):
    guild = emulator.guild(community.guild_id)
    review = community.channels["review"]
    guild.set_overwrite(review, emulator.bot_user_id, deny=permissions.SEND_MESSAGES)
    async with running_bot(bot_config, clock=clock):
        await private_reply(await share(emulator, community, "ada", "https://ex.com/p"))
    assert cards(emulator, community) == []
    guild.set_overwrite(review, emulator.bot_user_id, allow=permissions.SEND_MESSAGES)
    async with running_bot(bot_config, clock=clock) as app:
        [card] = await eventually(lambda: cards(emulator, community))

        async def card_recorded() -> ContentSubmission | None:
            # The bot records the card's id right after Discord answers the post.
            [row] = await rows(app.bot, ContentSubmission)
            return row if row.review_message_id is not None else None

        submission = await eventually(card_recorded)
        assert submission.review_message_id == int(card["id"])
        assert button_ids(card)[0] == f"content:approve:{submission.id}"


async def test_a_replayed_click_does_not_credit_twice(flywheel, emulator, community):
    card = await shared_card(emulator, community)
    approve = button_ids(card)[0]
    first = await emulator.click_button(card, community.moderators["morgan"], approve)
    await first.wait_answer(timeout=5)
    # The same click delivered again (as a resumed gateway session would).
    emulator.events.interaction_create(first.payload, community.guild_id)
    await settled(emulator, flywheel.bot)
    assert len(await rows(flywheel.bot, Contribution)) == 1
