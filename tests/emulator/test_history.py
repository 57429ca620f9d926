"""Seeded history, read back by an unmodified discord.py as a backfill would read it."""

from __future__ import annotations

import datetime as dt

import discord
import pytest

from emulator import EmulatorError, permissions

from .conftest import make_client, running

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
READER = permissions.VIEW_CHANNEL | permissions.READ_MESSAGE_HISTORY


def _at(n: int) -> dt.datetime:
    return T0 + n * dt.timedelta(minutes=7)


async def test_seeded_messages_read_back_with_their_times_authors_and_reactions(emu, world):
    world.guild.edit_role(world.bot_role, permissions=READER)
    rows = [(world.alice.id if i % 2 else world.bob.id, f"m{i}", _at(i)) for i in range(250)]
    rows.reverse()  # any input order; ids follow the moments
    ids = emu.seed_history(world.general.id, rows)
    [liked] = emu.seed_history(
        world.general.id, [(world.bob.id, "thanks!", _at(300), {"✅": [world.alice.id]})]
    )
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        history = [m async for m in channel.history(limit=None)]
    assert [m.content for m in history] == ["thanks!", *[f"m{i}" for i in range(249, -1, -1)]]
    assert [m.created_at for m in history[1:]] == [_at(i) for i in range(249, -1, -1)]
    assert history[-1].author.id == world.bob.id and history[-2].author.id == world.alice.id
    assert sorted(ids) == [m.id for m in reversed(history[1:])]
    assert history[0].id == liked
    [reaction] = history[0].reactions
    assert (str(reaction.emoji), reaction.count, reaction.me) == ("✅", 1, False)


async def test_seeded_ids_are_unique_snowflakes_of_their_moments_even_when_they_tie(emu, world):
    same = [(world.alice.id, f"tie{i}", T0) for i in range(5000)]
    ids = emu.seed_history(world.general.id, same)
    more = emu.seed_history(world.announcements.id, same)
    assert len(set(ids) | set(more)) == 10_000
    assert ids == sorted(ids)  # ties keep the input order
    assert {discord.utils.snowflake_time(i) for i in ids} == {T0}
    assert emu.world.channels[world.general.id].last_message_id == ids[-1]


async def test_seeded_forum_posts_and_threads_show_as_discord_lists_them(emu, world):
    world.guild.edit_role(world.bot_role, permissions=READER)
    old = emu.seed_thread(
        world.forum.id,
        world.alice.id,
        "How do I deploy?",
        T0,
        content="Stuck on step 3",
        tags=["Question", "Solved"],
        archived=True,
        messages=[(world.bob.id, "Try this", T0 + 2 * DAY, {"✅": [world.alice.id]})],
    )
    fresh = emu.seed_thread(
        world.forum.id, world.bob.id, "Open question", T0 + 3 * DAY, content="Anyone?"
    )
    [root] = emu.seed_history(world.general.id, [(world.alice.id, "let's talk", T0)])
    side = emu.seed_thread(world.general.id, world.alice.id, "side", T0, from_message=root)
    client = make_client()
    async with running(client):
        forum = client.get_channel(world.forum.id)
        archived = [t async for t in forum.archived_threads()]
        assert [t.id for t in archived] == [old.id]
        post = archived[0]
        assert post.archived and post.owner_id == world.alice.id
        assert [t.name for t in post.applied_tags] == ["Question", "Solved"]
        assert post.created_at == T0
        # The starter message's id is the post's, as on Discord.
        starter = await post.fetch_message(post.id)
        assert starter.content == "Stuck on step 3" and starter.author.id == world.alice.id
        replies = [m async for m in post.history(limit=None, oldest_first=True)]
        assert [m.content for m in replies] == ["Stuck on step 3", "Try this"]
        assert [str(r.emoji) for r in replies[1].reactions] == ["✅"]
        guild = client.get_guild(world.guild.id)
        active = await guild.active_threads()
        assert {t.id for t in active} == {fresh.id, side.id}
        parent = await client.get_channel(world.general.id).fetch_message(root)
        assert parent.thread is not None and parent.thread.id == side.id
    assert old.archive_timestamp is not None
    assert dt.datetime.fromisoformat(old.archive_timestamp) == T0 + 3 * DAY  # last + 1440 min


def test_seeding_refuses_what_could_not_have_happened(emu, world):
    future = dt.datetime.now(dt.UTC) + DAY
    with pytest.raises(EmulatorError, match="past"):
        emu.seed_history(world.general.id, [(world.alice.id, "later", future)])
    with pytest.raises(EmulatorError, match="unknown author"):
        emu.seed_history(world.general.id, [(12345, "who", T0)])
    with pytest.raises(EmulatorError, match="naive"):
        emu.seed_history(world.general.id, [(world.alice.id, "tz?", dt.datetime(2026, 1, 1))])
    with pytest.raises(EmulatorError, match="holds no messages"):
        emu.seed_history(world.forum.id, [(world.alice.id, "hi", T0)])
    thread = emu.seed_thread(world.forum.id, world.alice.id, "post", T0, content="x")
    with pytest.raises(EmulatorError, match="past of this channel"):
        emu.seed_history(thread.id, [(world.alice.id, "before the post", T0 - DAY)])
    with pytest.raises(EmulatorError, match="no tag"):
        emu.seed_thread(world.forum.id, world.alice.id, "p", T0, content="x", tags=["Nope"])
    assert list(emu.world.channels[world.general.id].messages) == []


def test_seeded_messages_materialize_once_and_stay_editable(emu, world):
    [mid] = emu.seed_history(world.general.id, [(world.alice.id, "hi", T0)])
    msg = emu.world.messages[mid]
    assert msg is emu.world.channels[world.general.id].messages[mid]
    msg.content = "edited"
    assert emu.message(mid)["content"] == "edited"
    assert mid not in dict(emu.world.messages)  # iteration lists live messages only
