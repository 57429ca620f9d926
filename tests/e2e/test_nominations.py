"""/nominate, its review card and /nominations, end to end through the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.client import all_extensions
from bot.emulated import running_bot
from bot.services.nominations import Decided, Nominee
from db.models import Nomination, TierState
from emulator import permissions
from tests.e2e.conftest import PROBE_EXTENSION
from tests.e2e.util import (
    bot_posts,
    eventually,
    members_synced,
    private_reply,
    private_text,
    settled,
)

pytestmark = pytest.mark.e2e

REASON = "Runs the community call and mentors newcomers every week"
EPHEMERAL = 64


# ---------------------------------------------------------------------------- helpers
async def nominate(emu, community, moderator: int, member: int, tier: str, reason: str = REASON):
    return await emu.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        moderator,
        "nominate",
        options={"member": member, "tier": tier, "reason": reason},
    )


def cards(emu, community) -> list[dict[str, Any]]:
    return bot_posts(emu, community.channels["review"])


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


def status(message: dict[str, Any]) -> str:
    [embed] = message["embeds"]
    return str(embed["description"])


def fields(message: dict[str, Any]) -> dict[str, str]:
    [embed] = message["embeds"]
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def bot_dms(emu, user_id: int) -> list[dict[str, Any]]:
    return [m for m in emu.dms(user_id) if m["author"]["bot"]]


async def rows(bot, model, *where) -> list[Any]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(model).where(*where)))


async def card_for(emu, community, moderator: int, member: int, tier: str, **kw):
    await private_reply(await nominate(emu, community, moderator, member, tier, **kw))
    return cards(emu, community)[-1]


async def give_advisor_minimums(bot, user_id: int, *, tell: bool) -> None:
    """600+ points with 2 events hosted and 3 mentoring sessions: Advisor's numbers."""
    credits = [("event_hosted", f"event:{n}:host") for n in range(2)]
    credits += [("mentoring", f"manual:mentor:{n}") for n in range(3)]
    credits += [("content", f"content:{n}") for n in range(56)]
    contributions = bot.services.contributions
    async with bot.services.sessions() as session, session.begin():
        for kind, source in credits:
            await contributions.record(session, contributions.credit(kind, user_id, source))
    if tell:
        await bot.services.contributions.changed({user_id})


async def tier_of(bot, user_id: int) -> str | None:
    found = await rows(bot, TierState, TierState.user_id == user_id)
    return found[0].tier_key if found else None


def day(bot, when) -> str:
    local = when.astimezone(bot.settings.schedule.tz)
    return f"{local.day} {local:%b %Y}"


# ---------------------------------------------------------------------------- the card
async def test_nominate_posts_a_review_card_with_two_buttons(flywheel, emulator, community):
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    reply = await private_reply(await nominate(emulator, community, morgan, ada, "advisor"))
    [nomination] = await rows(flywheel.bot, Nomination)
    assert reply["content"] == (
        f"Nominated ada for Advisor (#{nomination.id}); the card is in the review channel."
    )
    [card] = cards(emulator, community)
    assert (nomination.status, nomination.tier_key, nomination.nominee_id) == (
        "pending",
        "advisor",
        ada,
    )
    assert nomination.nominated_by == morgan and nomination.reason == REASON
    assert nomination.review_message_id == int(card["id"])
    assert nomination.review_channel_id == community.channels["review"]
    assert button_ids(card) == [
        f"nomination:approve:{nomination.id}",
        f"nomination:reject:{nomination.id}",
    ]
    assert card["content"] == "Nomination of ada for Advisor to review"
    assert card["embeds"][0]["title"] == "ada for Advisor"
    assert fields(card) == {
        "Nominee": f"<@{ada}>",
        "Tier": "Advisor",
        "Nominated by": f"<@{morgan}>",
        "Reason": REASON,
    }
    assert status(card) == "Waiting for a moderator"
    assert card["embeds"][0]["footer"]["text"] == f"Nomination #{nomination.id}"
    assert card["allowed_mentions"] == {"parse": []}
    await settled(emulator, flywheel.bot)
    assert bot_dms(emulator, ada) == []  # nominees hear only about an approval


async def test_a_card_is_posted_once_though_two_posts_of_it_overlap(flywheel, emulator, community):
    """The command posting a new card while the ready catch-up posts the cards still waiting
    (a slow start under load): the catch-up read the record before the command's card was
    recorded, and both sent one."""
    bot = flywheel.bot
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    await members_synced(bot, [ada])
    guild = bot.get_guild(community.guild_id)
    review = bot.reviews.kind("nomination")
    nominee = Nominee(user_id=ada, name="ada", is_bot=False, in_guild=True)
    nomination = await bot.services.nominations.nominate(
        nominee, "advisor", nominated_by=morgan, reason=REASON
    )
    command = bot.reviews.post_card(guild, review, Decided(nomination, decided_now=False))
    await asyncio.gather(command, bot.reviews.on_flywheel_ready(guild))
    await settled(emulator, bot)
    [card] = cards(emulator, community)
    [row] = await rows(bot, Nomination)
    assert row.review_message_id == int(card["id"])


async def test_tier_names_are_suggested_while_typing(flywheel, emulator, community):
    record = await emulator.invoke_autocomplete(
        community.guild_id,
        community.channels["general"],
        community.moderators["morgan"],
        "nominate",
        {"member": community.members["ada"], "tier": "amb", "reason": "x"},
        focused="tier",
    )
    body = await record.wait_answer(timeout=5)
    assert body["type"] == 8
    assert body["data"]["choices"] == [{"name": "Ambassador", "value": "ambassador"}]


async def test_refusals_say_exactly_why(flywheel, emulator, community):
    m, mods = community.members, community.moderators
    morgan = mods["morgan"]
    stranger = emulator.world.add_user("stranger")
    refusals = [
        (m["grace"], m["ada"], "advisor", "Only moderators can do that."),
        (morgan, emulator.bot_user_id, "advisor", "Bots can't be nominated."),
        (
            morgan,
            stranger.id,
            "advisor",
            "That person isn't a member of this server, so they can't be nominated.",
        ),
        (morgan, morgan, "advisor", "You can't nominate yourself; ask another moderator to."),
        (
            morgan,
            m["ada"],
            "wizard",
            "There is no tier called 'wizard'. Tiers: Champion, Ambassador, Advisor.",
        ),
    ]
    for moderator, member, tier, text in refusals:
        got = await private_text(await nominate(emulator, community, moderator, member, tier))
        assert got == text
    blank = await nominate(emulator, community, morgan, m["ada"], "advisor", reason="   ")
    assert await private_text(blank) == "The reason must be 1 to 500 characters long."
    assert await rows(flywheel.bot, Nomination) == []
    assert cards(emulator, community) == []

    # A second pending nomination for the same member and tier; the tier's name works too.
    await card_for(emulator, community, morgan, m["ada"], "advisor")
    [first] = await rows(flywheel.bot, Nomination)
    again = await nominate(emulator, community, mods["riley"], m["ada"], "Advisor")
    assert (
        await private_text(again)
        == f"ada already has a pending nomination for Advisor (#{first.id})."
    )
    # Another tier for the same member is a separate nomination.
    await card_for(emulator, community, morgan, m["ada"], "champion")
    assert len(await rows(flywheel.bot, Nomination)) == 2

    # A member who already holds the tier, or a higher one.
    ladder = flywheel.bot.services.ladder
    await ladder.set_tier(m["grace"], "ambassador", reason="founding member", actor_id=morgan)
    held = await nominate(emulator, community, morgan, m["grace"], "ambassador")
    assert await private_text(held) == "grace already holds Ambassador."
    higher = await nominate(emulator, community, morgan, m["grace"], "champion")
    assert await private_text(higher) == "grace already holds Ambassador, above Champion."
    assert len(await rows(flywheel.bot, Nomination)) == 2


@pytest.mark.store_pace  # a refusal comes before the form only from a store in time
async def test_only_moderators_can_decide_and_not_on_their_own(flywheel, emulator, community):
    m, mods = community.members, community.moderators
    card = await card_for(emulator, community, mods["morgan"], m["ada"], "advisor")
    [approve, reject] = button_ids(card)
    for custom_id in (approve, reject):
        click = await emulator.click_button(card, m["grace"], custom_id)
        assert await private_text(click) == "Only moderators can do that."
    # A form submitted by someone else than the moderator who opened it is checked too.
    opened = await emulator.click_button(card, mods["riley"], reject)
    assert (await opened.wait_answer(timeout=5))["type"] == 9
    forged = await emulator.submit_modal(opened, m["grace"], values={"reason": "no"})
    assert await private_text(forged) == "Only moderators can do that."

    own = await card_for(emulator, community, mods["riley"], mods["morgan"], "champion")
    for custom_id in button_ids(own):
        click = await emulator.click_button(own, mods["morgan"], custom_id)
        assert (
            await private_text(click)
            == "You can't decide on your own nomination; another moderator will."
        )
    assert {n.status for n in await rows(flywheel.bot, Nomination)} == {"pending"}


# ---------------------------------------------------------------------------- approval
async def test_approval_with_the_minimums_met_promotes_at_once(flywheel, emulator, community):
    bot = flywheel.bot
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    await members_synced(flywheel.bot, community.members.values())
    await give_advisor_minimums(bot, ada, tell=True)
    assert await tier_of(bot, ada) is None  # Advisor needs a nomination

    card = await card_for(emulator, community, morgan, ada, "advisor")
    click = await emulator.click_button(card, morgan, button_ids(card)[0])
    assert (await click.wait_answer(timeout=5))["type"] == 7  # the card, updated
    edited = await eventually(
        lambda: not button_ids(emulator.message(card["id"])) and emulator.message(card["id"])
    )
    assert status(edited) == "Approved by morgan: ada is now an Advisor."
    assert await tier_of(bot, ada) == "advisor"
    [nomination] = await rows(bot, Nomination)
    assert nomination.status == "approved" and nomination.decided_by == morgan
    assert nomination.applied_at is not None

    advisor_role = community.tier_role_ids["advisor"]
    await eventually(lambda: advisor_role in emulator.member_roles(community.guild_id, ada))
    told = await eventually(
        lambda: [d for d in bot_dms(emulator, ada) if d["content"].startswith("🎉 You were")]
    )
    assert told[0]["content"] == (
        "🎉 You were nominated for Advisor, and the moderators approved it. "
        "Congratulations, you're now an Advisor!"
    )


async def test_approval_without_the_minimums_is_recorded_and_applied_later(
    flywheel, emulator, community
):
    bot = flywheel.bot
    ada, riley = community.members["ada"], community.moderators["riley"]
    await members_synced(flywheel.bot, community.members.values())
    card = await card_for(emulator, community, community.moderators["morgan"], ada, "advisor")
    click = await emulator.click_button(card, riley, button_ids(card)[0])
    assert (await click.wait_answer(timeout=5))["type"] == 7  # the card, updated
    edited = await eventually(
        lambda: not button_ids(emulator.message(card["id"])) and emulator.message(card["id"])
    )
    assert status(edited) == (
        "Approved by riley. Recorded: it applies as soon as ada meets the Advisor minimums.\n"
        "Still missing: 0/600 points ✗; 0/2 events hosted ✗; 0/3 mentoring sessions ✗"
    )
    [nomination] = await rows(bot, Nomination)
    assert nomination.status == "approved" and nomination.applied_at is None
    assert await tier_of(bot, ada) is None
    dm = await eventually(lambda: bot_dms(emulator, ada))
    assert dm[-1]["content"] == (
        "🎉 You were nominated for Advisor, and the moderators approved it. It takes effect as "
        "soon as you meet the Advisor minimums (still missing: 0/600 points ✗; "
        "0/2 events hosted ✗; 0/3 mentoring sessions ✗). /profile shows your progress."
    )

    # The contributions land later: the ladder applies the approved nomination.
    await give_advisor_minimums(bot, ada, tell=True)
    assert await tier_of(bot, ada) == "advisor"
    [nomination] = await rows(bot, Nomination)
    assert nomination.applied_at is not None
    advisor_role = community.tier_role_ids["advisor"]
    await eventually(lambda: advisor_role in emulator.member_roles(community.guild_id, ada))

    listed = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        riley,
        "nominations",
        options={"status": "approved"},
    )
    body = await listed.wait_answer(timeout=5)
    assert "approved, applied" in body["data"]["embeds"][0]["description"]


async def test_a_decision_is_made_exactly_once(flywheel, emulator, community, clock):
    ada, mods = community.members["ada"], community.moderators
    card = await card_for(emulator, community, mods["morgan"], ada, "champion")
    approve = button_ids(card)[0]
    first = await emulator.click_button(card, mods["morgan"], approve)
    second = await emulator.click_button(card, mods["riley"], approve)
    bodies = [await first.wait_answer(timeout=5), await second.wait_answer(timeout=5)]
    # Both may be acknowledged before either decides; exactly one decides, the other is told.
    await eventually(lambda: bot_dms(emulator, ada))
    await settled(emulator, flywheel.bot)
    [refusal] = [body["data"]["content"] for body in bodies if body["type"] == 4]
    assert refusal.startswith("Already approved by ") and refusal.endswith(
        f" on {day(flywheel.bot, clock.now())}."
    )
    # The same click delivered again (as a resumed gateway session would).
    emulator.events.interaction_create(first.payload, community.guild_id)
    await settled(emulator, flywheel.bot)
    assert len(bot_dms(emulator, ada)) == 1
    [nomination] = await rows(flywheel.bot, Nomination)
    assert nomination.status == "approved"


# ---------------------------------------------------------------------------- rejection
async def test_rejection_asks_for_a_reason_and_tells_the_nominator_only(
    flywheel, emulator, community
):
    ada, mods = community.members["ada"], community.moderators
    card = await card_for(emulator, community, mods["morgan"], ada, "ambassador")
    [nomination] = await rows(flywheel.bot, Nomination)
    riley = mods["riley"]
    opened = await emulator.click_button(card, riley, button_ids(card)[1])
    form = await opened.wait_answer(timeout=5)
    assert form["type"] == 9
    assert form["data"]["custom_id"] == f"nomination:reject-reason:{nomination.id}"

    blank = await emulator.submit_modal(opened, riley, values={"reason": "  "})
    assert await private_text(blank) == "The reason must be 1 to 500 characters long."

    note = "Not yet: let's revisit after the next release"
    done = await emulator.submit_modal(opened, riley, values={"reason": note})
    assert (await done.wait_answer(timeout=5))["type"] == 7
    edited = emulator.message(card["id"])
    assert button_ids(edited) == []
    assert status(edited) == f"Rejected by riley: {note}"
    [nomination] = await rows(flywheel.bot, Nomination)
    assert (nomination.status, nomination.decision_note) == ("rejected", note)
    dm = await eventually(lambda: bot_dms(emulator, mods["morgan"]))
    assert dm[-1]["content"] == (
        f"Your nomination of ada for Ambassador (#{nomination.id}) was not approved by riley: "
        f"{note}"
    )
    await settled(emulator, flywheel.bot)
    assert bot_dms(emulator, ada) == []  # a "not yet" is not sent to the nominee

    again = await emulator.submit_modal(opened, riley, values={"reason": "Twice"})
    assert (
        await private_text(again)
        == f"Already rejected by riley on {day(flywheel.bot, nomination.decided_at)}."
    )


async def test_cards_and_forms_keep_working_after_a_restart(emulator, community, bot_config, clock):
    extensions = [*all_extensions(), PROBE_EXTENSION]
    m, mods = community.members, community.moderators
    async with running_bot(bot_config, clock=clock, extensions=extensions):
        first = await card_for(emulator, community, mods["morgan"], m["ada"], "champion")
        second = await card_for(emulator, community, mods["morgan"], m["grace"], "champion")
        opened = await emulator.click_button(second, mods["riley"], button_ids(second)[1])
        assert (await opened.wait_answer(timeout=5))["type"] == 9

    async with running_bot(bot_config, clock=clock, extensions=extensions) as app:
        click = await emulator.click_button(first, mods["riley"], button_ids(first)[0])
        assert (await click.wait_answer(timeout=5))["type"] == 7  # the card, updated
        done = await emulator.submit_modal(opened, mods["riley"], values={"reason": "Later"})
        assert (await done.wait_answer(timeout=5))["type"] == 7
        await eventually(lambda: not button_ids(emulator.message(first["id"])))
        statuses = {n.nominee_id: n.status for n in await rows(app.bot, Nomination)}
        assert statuses == {m["ada"]: "approved", m["grace"]: "rejected"}
        await eventually(lambda: bot_dms(emulator, m["ada"]))


async def test_mentions_in_reasons_never_ping(flywheel, emulator, community):
    m, mods = community.members, community.moderators
    role = community.tier_role_ids["champion"]
    reason = f"@everyone @here look <@&{role}> <@{m['grace']}>"
    approved = await card_for(
        emulator, community, mods["morgan"], m["ada"], "champion", reason=reason
    )
    rejected = await card_for(
        emulator, community, mods["morgan"], m["linus"], "champion", reason=reason
    )
    click = await emulator.click_button(approved, mods["riley"], button_ids(approved)[0])
    await click.wait_answer(timeout=5)
    opened = await emulator.click_button(rejected, mods["riley"], button_ids(rejected)[1])
    await opened.wait_answer(timeout=5)
    done = await emulator.submit_modal(opened, mods["riley"], values={"reason": reason})
    await done.wait_answer(timeout=5)
    nominee_dm = await eventually(lambda: bot_dms(emulator, m["ada"]))
    nominator_dm = await eventually(lambda: bot_dms(emulator, mods["morgan"]))
    await eventually(lambda: not button_ids(emulator.message(approved["id"])))

    sent = [emulator.message(approved["id"]), emulator.message(rejected["id"])]
    sent += nominee_dm + nominator_dm
    assert reason in fields(sent[0])["Reason"] and reason in status(sent[1])
    for message in sent:
        assert message["allowed_mentions"] == {"parse": []}, message
        assert message["mention_everyone"] is False
        assert message["mentions"] == [] and message["mention_roles"] == []


# ---------------------------------------------------------------------------- /nominations
async def test_nominations_lists_by_status(flywheel, emulator, community, clock):
    m, mods = community.members, community.moderators
    morgan, riley = mods["morgan"], mods["riley"]
    pending = await card_for(emulator, community, morgan, m["ada"], "champion")
    approved = await card_for(emulator, community, morgan, m["grace"], "advisor")
    rejected = await card_for(emulator, community, morgan, m["linus"], "ambassador")
    click = await emulator.click_button(approved, riley, button_ids(approved)[0])
    await click.wait_answer(timeout=5)
    await eventually(lambda: not button_ids(emulator.message(approved["id"])))
    opened = await emulator.click_button(rejected, riley, button_ids(rejected)[1])
    await opened.wait_answer(timeout=5)
    await (await emulator.submit_modal(opened, riley, values={"reason": "No"})).wait_answer()
    ids = {n.nominee_id: n.id for n in await rows(flywheel.bot, Nomination)}
    today = day(flywheel.bot, clock.now())

    async def listing(user: int, **options: Any) -> dict[str, Any]:
        record = await emulator.invoke_slash_command(
            community.guild_id, community.channels["general"], user, "nominations", options
        )
        return (await record.wait_answer(timeout=5))["data"]

    data = await listing(riley)
    assert data["flags"] & EPHEMERAL and data["allowed_mentions"] == {"parse": []}
    [embed] = data["embeds"]
    assert embed["title"] == "Nominations: pending"
    card_link = (
        f"https://discord.com/channels/{community.guild_id}/{community.channels['review']}/"
        f"{pending['id']}"
    )
    assert embed["description"] == (
        f"**#{ids[m['ada']]}** <@{m['ada']}> for Champion — pending; by morgan on {today}: "
        f"{REASON} ([card]({card_link}))"
    )
    approved_lines = (await listing(riley, status="approved"))["embeds"][0]["description"]
    assert f"<@{m['grace']}> for Advisor — approved, waiting for minimums;" in approved_lines
    everything = (await listing(riley, status="all"))["embeds"][0]["description"].splitlines()
    assert [line.split()[0] for line in everything] == [
        f"**#{ids[m['linus']]}**",
        f"**#{ids[m['grace']]}**",
        f"**#{ids[m['ada']]}**",
    ]
    assert "— rejected;" in everything[0]
    empty = (await listing(riley, status="rejected"))["embeds"][0]
    assert len(empty["description"].splitlines()) == 1

    refused = await emulator.invoke_slash_command(
        community.guild_id, community.channels["general"], m["ada"], "nominations", {}
    )
    assert await private_text(refused) == "Only moderators can do that."


# ---------------------------------------------------------------------------- failures
async def test_closed_dms_are_noted_on_the_card(flywheel, emulator, community):
    ada = community.members["ada"]
    emulator.world.users[ada].accepts_dms = False
    card = await card_for(emulator, community, community.moderators["morgan"], ada, "champion")
    click = await emulator.click_button(card, community.moderators["riley"], button_ids(card)[0])
    await click.wait_answer(timeout=5)
    await eventually(lambda: "Couldn't DM" in status(emulator.message(card["id"])))
    assert status(emulator.message(card["id"])).endswith(
        "\nCouldn't DM the nominee (they don't accept DMs from the bot)."
    )


async def test_a_card_that_could_not_be_posted_is_posted_after_a_restart(
    emulator, community, bot_config, clock
):
    guild = emulator.guild(community.guild_id)
    review = community.channels["review"]
    guild.set_overwrite(review, emulator.bot_user_id, deny=permissions.SEND_MESSAGES)
    morgan, ada = community.moderators["morgan"], community.members["ada"]
    async with running_bot(bot_config, clock=clock) as app:
        reply = await private_reply(await nominate(emulator, community, morgan, ada, "champion"))
        [nomination] = await rows(app.bot, Nomination)
        assert reply["content"] == (
            f"The nomination of ada for Champion (#{nomination.id}) was saved, but I couldn't "
            "post its card: channels.review is misconfigured."
        )
    assert cards(emulator, community) == []
    guild.set_overwrite(review, emulator.bot_user_id, allow=permissions.SEND_MESSAGES)
    async with running_bot(bot_config, clock=clock) as app:
        [card] = await eventually(lambda: cards(emulator, community))

        async def card_recorded() -> Nomination | None:
            # The bot records the card's id right after Discord answers the post.
            [row] = await rows(app.bot, Nomination)
            return row if row.review_message_id is not None else None

        nomination = await eventually(card_recorded)
        assert nomination.review_message_id == int(card["id"])
        assert button_ids(card)[0] == f"nomination:approve:{nomination.id}"
