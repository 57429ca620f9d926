"""/thanks through the emulator: the public thank-you, its credit, and every refusal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import discord
import pytest
from sqlalchemy import select

from bot.app import App
from bot.client import all_extensions
from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from db.models import Contribution, Thanks
from tests.e2e.util import eventually

pytestmark = pytest.mark.e2e

EPHEMERAL = 64


async def thanks_rows(app: App) -> list[Thanks]:
    async with app.bot.services.sessions() as session:
        return list((await session.scalars(select(Thanks).order_by(Thanks.id))).all())


async def thanks_credits(app: App) -> list[Contribution]:
    async with app.bot.services.sessions() as session:
        rows = await session.scalars(
            select(Contribution)
            .where(Contribution.kind == "thanks_received")
            .order_by(Contribution.id)
        )
        return list(rows.all())


async def posted(app: App, emulator, channel_id: int, author_id: int, text: str) -> dict:
    """``author_id`` posts, and the bot has seen it (thanks need a recent post there)."""
    message = await emulator.post_message(channel_id, author_id, text)
    at = discord.utils.snowflake_time(int(message["id"]))
    activity = app.bot.services.activity

    async def seen() -> bool:
        return await activity.last_post([channel_id], author_id) == at

    await eventually(seen, interval=0.01)
    return message


async def thank(emulator, community, channel_id: int, giver: int, receiver: int, reason=None):
    options = {"member": receiver}
    if reason is not None:
        options["reason"] = reason
    interaction = await emulator.invoke_slash_command(
        community.guild_id, channel_id, giver, "thanks", options=options
    )
    response = await interaction.wait_answer(timeout=5)
    return interaction, response


@pytest.fixture
def start_bot(
    emulator, community, database_url, clock
) -> Callable[..., AbstractAsyncContextManager[App]]:
    def start(**sections: dict) -> AbstractAsyncContextManager[App]:
        data = community_config(community, emulator, database_url=database_url, **sections)
        config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
        return running_bot(config, clock=clock, extensions=all_extensions())

    return start


async def test_thanks_posts_publicly_pinging_only_the_receiver_and_credits_them(
    flywheel, emulator, community
):
    m, general = community.members, community.channels["general"]
    await posted(flywheel, emulator, general, m["grace"], "Try the migration guide, section 3.")

    interaction, response = await thank(
        emulator, community, general, m["ada"], m["grace"], "for   the migration\nguide"
    )

    assert response["type"] == 4
    data = response["data"]
    assert not int(data.get("flags") or 0) & EPHEMERAL
    assert data["content"] == f"🙏 <@{m['ada']}> thanked <@{m['grace']}>: for the migration guide"
    mentions = data["allowed_mentions"]
    assert mentions["parse"] == [] and [int(u) for u in mentions["users"]] == [m["grace"]]
    message = interaction.original
    assert [u["id"] for u in message["mentions"]] == [str(m["grace"])]

    [row] = await thanks_rows(flywheel)
    assert (row.giver_id, row.receiver_id, row.channel_id) == (m["ada"], m["grace"], general)
    assert row.reason == "for the migration guide"
    [credit] = await thanks_credits(flywheel)
    assert (credit.user_id, credit.points, credit.actor_id) == (m["grace"], 2, m["ada"])
    assert credit.source_id == f"thanks:{interaction.id}"
    assert row.contribution_id == credit.id


async def test_a_reason_with_everyone_and_role_mentions_pings_nobody_else(
    flywheel, emulator, community
):
    m, general = community.members, community.channels["general"]
    await posted(flywheel, emulator, general, m["grace"], "Here's how I fixed the sync bug.")
    reason = f"@everyone @here <@&{community.moderator_role_id}> <@{m['linus']}> look!"

    interaction, response = await thank(emulator, community, general, m["ada"], m["grace"], reason)

    assert response["data"]["content"].endswith(reason)
    message = interaction.original
    assert message["mention_everyone"] is False
    assert message["mention_roles"] == []
    assert [u["id"] for u in message["mentions"]] == [str(m["grace"])]


async def test_without_a_reason(flywheel, emulator, community):
    m, general = community.members, community.channels["general"]
    await posted(flywheel, emulator, general, m["grace"], "Pinned the answer in the FAQ.")
    _, response = await thank(emulator, community, general, m["ada"], m["grace"])
    assert response["data"]["content"] == f"🙏 <@{m['ada']}> thanked <@{m['grace']}>!"


async def assert_refused(emulator, community, channel_id, giver, receiver, text, reason=None):
    _, response = await thank(emulator, community, channel_id, giver, receiver, reason)
    assert response["data"]["content"] == text
    assert int(response["data"]["flags"]) & EPHEMERAL


async def test_refusals_say_exactly_why(flywheel, emulator, community):
    m, general = community.members, community.channels["general"]
    stranger = emulator.world.add_user("stranger")
    await posted(flywheel, emulator, general, m["grace"], "Here's how I fixed the sync bug.")

    await assert_refused(
        emulator, community, general, m["ada"], m["ada"],
        "You can't thank yourself — but thank you for being here!",
    )  # fmt: skip
    await assert_refused(
        emulator, community, general, m["ada"], emulator.bot_user_id,
        "Bots don't collect thanks — thank a person who helped you instead.",
    )  # fmt: skip
    await assert_refused(
        emulator, community, general, m["ada"], stranger.id,
        "That person isn't a member of this server, so they can't get thanks.",
    )  # fmt: skip
    await assert_refused(
        emulator, community, general, m["ada"], m["linus"],
        "Thanks go to someone who helped you here: this member hasn't posted in this channel "
        "in the last 72 hours.",
    )  # fmt: skip
    await assert_refused(
        emulator, community, general, m["ada"], m["grace"],
        "That reason is a bit long (201 characters). Please keep it to 200 characters or fewer.",
        reason="x" * 201,
    )  # fmt: skip

    await thank(emulator, community, general, m["ada"], m["grace"], "thanks!")
    await assert_refused(
        emulator, community, general, m["ada"], m["grace"],
        "You've already thanked this member today; you can thank them again tomorrow.",
    )  # fmt: skip
    assert len(await thanks_rows(flywheel)) == 1
    assert len(await thanks_credits(flywheel)) == 1


async def test_a_post_long_ago_is_not_recent(flywheel, emulator, community, clock):
    m, general = community.members, community.channels["general"]
    await posted(flywheel, emulator, general, m["grace"], "Here's how I fixed the sync bug.")
    clock.advance(timedelta(hours=73))
    await assert_refused(
        emulator, community, general, m["ada"], m["grace"],
        "Thanks go to someone who helped you here: this member hasn't posted in this channel "
        "in the last 72 hours.",
    )  # fmt: skip


async def test_daily_cap_then_a_new_day(start_bot, emulator, community, clock):
    m, general = community.members, community.channels["general"]
    async with start_bot(thanks={"daily_cap": 2}) as app:
        for name in ("grace", "linus", "margaret"):
            await posted(app, emulator, general, m[name], f"{name} explains the config file.")
        await thank(emulator, community, general, m["ada"], m["grace"])
        await thank(emulator, community, general, m["ada"], m["linus"])
        await assert_refused(
            emulator, community, general, m["ada"], m["margaret"],
            "You've given 2 thanks today, the daily limit. Thanks again tomorrow!",
        )  # fmt: skip

        clock.advance(timedelta(days=1))
        _, response = await thank(emulator, community, general, m["ada"], m["margaret"])
        assert response["data"]["content"] == f"🙏 <@{m['ada']}> thanked <@{m['margaret']}>!"
        assert [r.receiver_id for r in await thanks_rows(app)] == [
            m["grace"], m["linus"], m["margaret"]
        ]  # fmt: skip


async def test_in_a_thread_a_post_in_the_thread_or_its_parent_counts(flywheel, emulator, community):
    m, general = community.members, community.channels["general"]
    thread = await emulator.create_thread(general, m["ada"], "sync on windows")
    thread_id = int(thread["id"])
    await posted(flywheel, emulator, general, m["grace"], "Answered in the parent channel.")
    await posted(flywheel, emulator, thread_id, m["linus"], "Answered inside the thread.")

    _, in_thread = await thank(emulator, community, thread_id, m["ada"], m["grace"])
    _, in_parent = await thank(emulator, community, general, m["ada"], m["linus"])

    assert in_thread["data"]["content"] == f"🙏 <@{m['ada']}> thanked <@{m['grace']}>!"
    assert in_parent["data"]["content"] == f"🙏 <@{m['ada']}> thanked <@{m['linus']}>!"


async def test_a_replayed_interaction_is_recorded_once(start_bot, emulator, community, caplog):
    caplog.set_level(logging.INFO)
    m, general = community.members, community.channels["general"]

    async def replay(interaction, logged: str) -> None:
        caplog.clear()
        await emulator.replay_interaction(interaction)
        await eventually(lambda: logged in caplog.text)

    # Two thanks per pair a day are allowed, so only replay protection can stop a double.
    async with start_bot(thanks={"per_pair_per_day": 2}) as app:
        await posted(app, emulator, general, m["grace"], "Here's how I fixed the sync bug.")
        interaction, _ = await thank(emulator, community, general, m["ada"], m["grace"])
        answered = (list(interaction.followup_ids), len(interaction.edits))
        await replay(interaction, "delivered again (a gateway replay): ignored")
        assert len(await thanks_rows(app)) == 1
        assert (list(interaction.followup_ids), len(interaction.edits)) == answered

    # After a restart the bot has forgotten the interaction; the ledger has not.
    async with start_bot(thanks={"per_pair_per_day": 2}) as app:
        await replay(interaction, "already recorded")
        assert len(await thanks_rows(app)) == 1
        assert len(await thanks_credits(app)) == 1
