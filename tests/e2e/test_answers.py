"""Mark as answer in help threads, the Solved tag, and time to first response."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Config, parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from bot.services import answers
from db.models import Contribution, QuestionThread
from emulator import permissions as perms
from tests.e2e.util import bot_posts, eventually, private_reply, private_text, settled

pytestmark = pytest.mark.e2e

MENU = "Mark as answer"


@pytest.fixture
def bot_config(emulator, community, database_url) -> Config:
    """The sample config, with #general as a help text channel (its threads are questions)."""
    data = community_config(
        community,
        emulator,
        database_url=database_url,
        channels={"help_channels": [community.channels["general"]]},
    )
    return parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})


async def ask(emulator, community, asker: str = "linus") -> int:
    thread, _ = await emulator.create_forum_post(
        community.channels["help"],
        community.members[asker],
        "Sync fails on Windows",
        "Sync fails with a path error on Windows, any ideas?",
        tags=["Question"],
    )
    return int(thread["id"])


async def reply(emulator, community, thread_id: int, who: str, text: str) -> int:
    user = community.members.get(who) or community.moderators[who]
    message = await emulator.post_message(thread_id, user, text)
    return int(message["id"])


async def mark(emulator, community, thread_id: int, who: str, message_id: int) -> Any:
    user = community.members.get(who) or community.moderators[who]
    return await emulator.invoke_message_command(
        community.guild_id, thread_id, user, MENU, message_id=message_id
    )


async def answer_rows(flywheel) -> list[Contribution]:
    async with flywheel.bot.services.sessions() as session:
        rows = await session.scalars(
            select(Contribution).where(Contribution.kind == "answer").order_by(Contribution.id)
        )
        return list(rows)


async def question(flywheel, thread_id: int) -> QuestionThread | None:
    async with flywheel.bot.services.sessions() as session:
        return await session.get(QuestionThread, (flywheel.bot.guild_id, thread_id))


def solved_tag_id(emulator, community) -> str:
    forum = emulator.channel(community.channels["help"])
    return next(t["id"] for t in forum["available_tags"] if t["name"] == "Solved")


async def test_question_records_opening_and_first_response_by_someone_else(
    flywheel, emulator, community
):
    thread_id = await ask(emulator, community)
    await reply(emulator, community, thread_id, "linus", "Forgot to say: it's Windows 11.")
    opened = await eventually_question(flywheel, thread_id)
    assert opened.asker_id == community.members["linus"]
    assert opened.title == "Sync fails on Windows"
    await settled(emulator, flywheel.bot)
    assert (await question(flywheel, thread_id)).first_response_at is None  # asker only so far

    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
    await asyncio.sleep(0.01)  # a later millisecond: message times come from snowflakes
    await reply(emulator, community, thread_id, "grace", "Or a raw string.")

    await eventually(lambda: responded(flywheel, thread_id))
    await settled(emulator, flywheel.bot)  # both replies handled (concurrently): the earlier wins
    answered = await question(flywheel, thread_id)
    assert answered.first_responder_id == community.members["ada"]
    sent_at = datetime.fromisoformat(emulator.message(ada_reply)["timestamp"])
    assert abs((answered.first_response_at - sent_at).total_seconds()) < 1
    assert answered.first_response_at >= answered.opened_at


async def test_mark_as_answer_credits_tags_and_thanks_in_the_thread(flywheel, emulator, community):
    thread_id = await ask(emulator, community)
    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")

    confirmation = await private_text(
        await mark(emulator, community, thread_id, "linus", ada_reply)
    )
    assert confirmation == f"Marked <@{community.members['ada']}>'s reply as the answer."

    [credit] = await answer_rows(flywheel)
    assert credit.user_id == community.members["ada"] and credit.points == 10
    assert credit.source_id == f"answer:{thread_id}:{ada_reply}"
    assert credit.actor_id == community.members["linus"]
    assert solved_tag_id(emulator, community) in emulator.channel(thread_id)["applied_tags"]
    assert len(emulator.channel(thread_id)["applied_tags"]) == 2  # Question is kept

    [note] = bot_posts(emulator, thread_id)
    ada = community.members["ada"]
    link = f"/channels/{community.guild_id}/{thread_id}/{ada_reply}"
    assert note["content"].startswith("✅ Marked as the answer: ")
    assert link in note["content"] and f"thanks <@{ada}>!" in note["content"]
    assert [int(u) for u in note["allowed_mentions"]["users"]] == [ada]
    assert note["allowed_mentions"]["parse"] == []

    q = await question(flywheel, thread_id)
    assert (q.answer_message_id, q.answer_author_id) == (ada_reply, ada)
    assert q.answered_by == community.members["linus"]


async def test_re_marking_moves_the_credit_visibly_and_can_move_it_back(
    flywheel, emulator, community
):
    thread_id = await ask(emulator, community)
    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
    grace_reply = await reply(emulator, community, thread_id, "grace", "Quote the path.")
    ada, grace = community.members["ada"], community.members["grace"]

    await private_text(await mark(emulator, community, thread_id, "linus", ada_reply))
    moved = await private_text(await mark(emulator, community, thread_id, "linus", grace_reply))
    assert moved == (
        f"Marked <@{grace}>'s reply as the answer. The credit moved from <@{ada}>'s earlier answer."
    )
    first, reversal, second = await answer_rows(flywheel)
    assert (first.user_id, first.points) == (ada, 10)
    assert (reversal.user_id, reversal.points, reversal.reverses_id) == (ada, -10, first.id)
    assert reversal.reason == f"answer moved to message {grace_reply}"
    assert reversal.actor_id == community.members["linus"]
    assert (second.user_id, second.points) == (grace, 10)
    assert second.source_id == f"answer:{thread_id}:{grace_reply}"

    await private_text(await mark(emulator, community, thread_id, "linus", ada_reply))
    rows = await answer_rows(flywheel)
    back, grace_reversal = rows[-1], rows[-2]
    assert (back.user_id, back.points) == (ada, 10)
    assert back.source_id == f"answer:{thread_id}:{ada_reply}:2"
    assert (grace_reversal.reverses_id, grace_reversal.points) == (second.id, -10)
    assert sum(r.points for r in rows if r.user_id == ada) == 10
    assert sum(r.points for r in rows if r.user_id == grace) == 0
    assert len(bot_posts(emulator, thread_id)) == 3
    tags = emulator.channel(thread_id)["applied_tags"]
    assert tags.count(solved_tag_id(emulator, community)) == 1


async def test_a_moderator_may_mark_in_someone_elses_thread(flywheel, emulator, community):
    thread_id = await ask(emulator, community)
    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
    await private_text(await mark(emulator, community, thread_id, "riley", ada_reply))
    [credit] = await answer_rows(flywheel)
    assert credit.user_id == community.members["ada"]
    assert credit.actor_id == community.moderators["riley"]


async def test_every_refusal_is_explained_privately(flywheel, emulator, community):
    thread_id = await ask(emulator, community)
    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
    linus_more = await reply(emulator, community, thread_id, "linus", "Still failing for me.")
    morgan_reply = await reply(emulator, community, thread_id, "morgan", "Check the docs.")
    general = await emulator.post_message(
        community.channels["general"], community.members["ada"], "Hello there, everyone"
    )

    outside = await emulator.invoke_message_command(
        community.guild_id, community.channels["general"], community.members["linus"], MENU,
        message_id=int(general["id"]),
    )  # fmt: skip
    assert await private_text(outside) == answers.NOT_HELP_THREAD
    by_bystander = await mark(emulator, community, thread_id, "grace", ada_reply)
    assert await private_text(by_bystander) == answers.NOT_ALLOWED
    own = await mark(emulator, community, thread_id, "linus", linus_more)
    assert await private_text(own) == "You can't accept your own answer."
    moderator_own = await mark(emulator, community, thread_id, "morgan", morgan_reply)
    assert await private_text(moderator_own) == "You can't accept your own answer."
    the_question = await mark(emulator, community, thread_id, "linus", thread_id)
    assert await private_text(the_question) == answers.QUESTION_ITSELF
    askers = await mark(emulator, community, thread_id, "morgan", linus_more)
    assert await private_text(askers) == answers.ASKERS_MESSAGE
    assert await answer_rows(flywheel) == []

    await private_text(await mark(emulator, community, thread_id, "linus", ada_reply))
    again = await mark(emulator, community, thread_id, "linus", ada_reply)
    assert await private_text(again) == "That message is already the accepted answer."
    [note] = bot_posts(emulator, thread_id)
    from_bot = await mark(emulator, community, thread_id, "morgan", int(note["id"]))
    assert await private_text(from_bot) == answers.BOT_MESSAGE
    assert len(await answer_rows(flywheel)) == 1


async def test_a_double_invocation_credits_once(flywheel, emulator, community):
    thread_id = await ask(emulator, community)
    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
    first, second = await asyncio.gather(
        mark(emulator, community, thread_id, "linus", ada_reply),
        mark(emulator, community, thread_id, "linus", ada_reply),
    )
    replies = [(await private_reply(first))["content"], (await private_reply(second))["content"]]
    assert answers.ALREADY_ACCEPTED in replies
    assert any(r.startswith("Marked ") for r in replies), replies
    assert len(await answer_rows(flywheel)) == 1
    assert len(bot_posts(emulator, thread_id)) == 1


async def test_a_replayed_older_mark_does_not_move_the_credit_back(
    flywheel, emulator, community, caplog
):
    caplog.set_level(logging.INFO)
    thread_id = await ask(emulator, community)
    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
    grace_reply = await reply(emulator, community, thread_id, "grace", "Quote the path.")
    first = await mark(emulator, community, thread_id, "linus", ada_reply)
    await private_text(first)
    await private_text(await mark(emulator, community, thread_id, "linus", grace_reply))

    def ledger(rows: list[Any]) -> list[tuple[int, int, int]]:
        return [(r.id, r.user_id, r.points) for r in rows]

    before = ledger(await answer_rows(flywheel))

    # The gateway delivers the first "Mark as answer" again (a replay after a resume).
    await emulator.replay_interaction(first)
    await eventually(lambda: f"interaction {first.id} was delivered again" in caplog.text)
    assert ledger(await answer_rows(flywheel)) == before, "grace keeps the credit"
    assert len(bot_posts(emulator, thread_id)) == 2


async def test_threads_of_help_text_channels_are_questions_too(flywheel, emulator, community):
    thread = await emulator.create_thread(
        community.channels["general"], community.members["linus"], "Build broken?"
    )
    thread_id = int(thread["id"])
    ada_reply = await reply(emulator, community, thread_id, "ada", "Run make clean first.")
    await private_text(await mark(emulator, community, thread_id, "linus", ada_reply))
    [credit] = await answer_rows(flywheel)
    assert credit.user_id == community.members["ada"]
    q = await eventually(lambda: responded(flywheel, thread_id))
    assert q.first_responder_id == community.members["ada"]
    [note] = bot_posts(emulator, thread_id)
    assert note["content"].startswith("✅ Marked as the answer")


async def test_without_permission_to_tag_the_answer_still_counts(flywheel, emulator, community):
    guild = emulator.guild(community.guild_id)
    guild.set_overwrite(
        community.channels["help"], community.bot_role_id, deny=perms.MANAGE_THREADS
    )
    await settled(emulator, flywheel.bot)  # the bot knows it can't tag
    thread_id = await ask(emulator, community)
    ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
    confirmation = await private_text(
        await mark(emulator, community, thread_id, "linus", ada_reply)
    )
    assert confirmation.splitlines()[1] == (
        "I couldn't add the Solved tag: I need the Manage Threads permission there."
    )
    assert solved_tag_id(emulator, community) not in emulator.channel(thread_id)["applied_tags"]
    assert len(await answer_rows(flywheel)) == 1
    assert len(bot_posts(emulator, thread_id)) == 1


async def eventually_question(flywheel, thread_id: int) -> QuestionThread:
    return await eventually(lambda: question(flywheel, thread_id))


async def responded(flywheel, thread_id: int) -> QuestionThread | None:
    """The question once its first response is recorded."""
    q = await question(flywheel, thread_id)
    return q if q is not None and q.first_response_at is not None else None


async def test_a_question_asked_while_the_bot_was_away_is_picked_up_on_reply(
    emulator, community, bot_config, clock
):
    thread_id = await ask(emulator, community)  # the bot is not running yet
    async with running_bot(bot_config, clock=clock) as app:
        ada_reply = await reply(emulator, community, thread_id, "ada", "Use forward slashes.")
        q = await eventually(lambda: responded(app, thread_id))
        assert q.asker_id == community.members["linus"]
        assert q.first_responder_id == community.members["ada"]
        assert q.opened_at <= q.first_response_at
        await private_text(await mark(emulator, community, thread_id, "linus", ada_reply))
        [credit] = await answer_rows(app)
        assert credit.user_id == community.members["ada"]
