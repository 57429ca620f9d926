"""Seeded history, read back by an unmodified discord.py as a backfill would read it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import discord
import discord.gateway
import discord.http
import pytest
import yarl

from emulator import Emulator, EmulatorError, RateLimits, permissions

from .conftest import TOKEN, make_client, running

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
READER = permissions.VIEW_CHANNEL | permissions.READ_MESSAGE_HISTORY


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """These tests are about what pages hold (every answer checked against Discord's spec);
    the buckets are tested in test_ratelimits."""
    emulator = Emulator(
        bot_token=TOKEN,
        bot_name="Flywheel",
        rate_limits=RateLimits().raised(20),
        check_responses=True,
    )
    await emulator.start()
    old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = emulator.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
    try:
        yield emulator
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old
        await emulator.stop()
    off_spec = [
        v for v in emulator.spec_violations if v.kind != "request" or set(v.errors) != {"limit"}
    ]
    assert not off_spec, off_spec  # only the deliberate out-of-range limits are refused


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


# ------------------------------------------------------------------ history pages
async def _refused(coro, status: int, code: int) -> None:
    with pytest.raises(discord.HTTPException) as info:
        await coro
    assert (info.value.status, info.value.code) == (status, code), info.value.text


async def test_history_pages_follow_before_after_and_around_as_discord_py_reads_them(emu, world):
    world.guild.edit_role(world.bot_role, permissions=READER)
    ids = emu.seed_history(
        world.general.id, [(world.alice.id, f"m{i}", _at(i)) for i in range(1050)]
    )
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        http = client.http
        newest = await http.logs_from(channel.id, 100)
        assert [int(m["id"]) for m in newest] == ids[-1:-101:-1]
        assert len(await http.logs_from(channel.id, 50)) == 50
        # An ``after`` page holds the messages right after it, newest first.
        page = await http.logs_from(channel.id, 100, after=ids[9])
        assert [int(m["id"]) for m in page] == ids[109:9:-1]
        around = await http.logs_from(channel.id, 5, around=ids[500])
        assert [int(m["id"]) for m in around] == ids[502:497:-1]
        oldest = [m.content async for m in channel.history(limit=None, oldest_first=True)]
        assert oldest == [f"m{i}" for i in range(1050)]
        since = [m.id async for m in channel.history(limit=None, after=_at(1000))]
        assert since == ids[1001:]  # discord.py reverses ``after`` pages to oldest first
        before = [m.id async for m in channel.history(limit=250, before=discord.Object(ids[300]))]
        assert before == ids[299:49:-1]
        for bad in (0, 101):
            await _refused(http.logs_from(channel.id, bad), 400, 50035)
        await _refused(http.logs_from(channel.id, 10, before=ids[5], after=ids[1]), 400, 50035)


async def test_history_needs_view_channel_and_is_empty_without_read_message_history(emu, world):
    [old] = emu.seed_history(world.general.id, [(world.alice.id, "old", T0)])
    post = emu.seed_thread(world.forum.id, world.alice.id, "p", T0, content="in a thread")
    world.guild.set_everyone_permissions(permissions.VIEW_CHANNEL)
    world.guild.edit_role(world.bot_role, permissions=permissions.VIEW_CHANNEL)
    client = make_client()
    async with running(client):
        http = client.http
        assert await http.logs_from(world.general.id, 100) == []
        assert await http.logs_from(post.id, 100) == []  # threads take the parent's rights
        await _refused(http.get_message(world.general.id, old), 403, 50001)
        await _refused(http.get_public_archived_threads(world.forum.id), 403, 50013)
        await _refused(http.logs_from(world.secret.id, 100), 403, 50001)  # no VIEW_CHANNEL
        world.guild.edit_role(world.bot_role, permissions=READER)
        [read] = await http.logs_from(post.id, 100)
        assert read["content"] == "in a thread"


async def test_archived_posts_page_by_archive_time_newest_first_with_has_more(emu, world):
    world.guild.edit_role(world.bot_role, permissions=READER)
    posts = [
        emu.seed_thread(
            world.forum.id,
            world.alice.id,
            f"post {i}",
            T0 + i * dt.timedelta(hours=1),
            content="q",
            archived=True,
            # archive order is not creation order: odd posts were archived much later
            archived_at=T0 + dt.timedelta(days=30 + (i % 2) * 30, minutes=i),
        )
        for i in range(130)
    ]
    emu.seed_thread(world.forum.id, world.bob.id, "still open", T0, content="q")
    expected = sorted(posts, key=lambda t: t.archive_timestamp, reverse=True)
    client = make_client()
    async with running(client):
        forum = client.get_channel(world.forum.id)
        listed = [t.id async for t in forum.archived_threads(limit=None)]
        assert listed == [t.id for t in expected]
        http = client.http
        first = await http.get_public_archived_threads(forum.id, limit=100)
        assert (len(first["threads"]), first["has_more"]) == (100, True)
        cursor = first["threads"][-1]["thread_metadata"]["archive_timestamp"]
        rest = await http.get_public_archived_threads(forum.id, before=cursor, limit=100)
        assert (len(rest["threads"]), rest["has_more"]) == (30, False)
        for bad in (1, 101):
            await _refused(http.get_public_archived_threads(forum.id, limit=bad), 400, 50035)
        await _refused(http.get_private_archived_threads(forum.id), 403, 50013)


async def test_reaction_users_page_by_user_id(emu, world):
    world.guild.edit_role(world.bot_role, permissions=READER)
    fans = [world.guild.add_member(f"fan{i}").id for i in range(130)]
    [mid] = emu.seed_history(
        world.general.id, [(world.alice.id, "ship it", T0, {"🎉": fans[::-1]})]
    )
    client = make_client()
    async with running(client):
        message = await client.get_channel(world.general.id).fetch_message(mid)
        [reaction] = message.reactions
        assert reaction.count == 130
        # Discord answers by ascending id; discord.py pages on the last id and yields each
        # page reversed, so every fan comes back exactly once in this order.
        ordered = sorted(fans)
        assert [u.id async for u in reaction.users()] == ordered[99::-1] + ordered[:99:-1]
        http = client.http
        page = await http.get_reaction_users(world.general.id, mid, "🎉", 25)
        assert [int(u["id"]) for u in page] == sorted(fans)[:25]
        after = await http.get_reaction_users(world.general.id, mid, "🎉", 100, after=fans[0])
        assert [int(u["id"]) for u in after] == sorted(fans)[1:101]
        assert await http.get_reaction_users(world.general.id, mid, "🎉", 25, type=1) == []
        for bad in (0, 101):
            await _refused(http.get_reaction_users(world.general.id, mid, "🎉", bad), 400, 50035)


async def test_seeded_history_lives_beside_live_messages(emu, world):
    world.guild.edit_role(
        world.bot_role, permissions=READER | permissions.MANAGE_MESSAGES | permissions.ADD_REACTIONS
    )
    live = await emu.post_message(world.general.id, world.alice.id, "live, today")
    older = emu.seed_history(
        world.general.id, [(world.bob.id, f"old{i}", _at(i)) for i in range(3)]
    )
    await emu.add_reaction(world.general.id, older[1], world.alice.id, "👍")
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        assert [m.content async for m in channel.history(limit=None)] == [
            "live, today",
            "old2",
            "old1",
            "old0",
        ]
        reacted = await channel.fetch_message(older[1])
        assert [(str(r.emoji), r.count) for r in reacted.reactions] == [("👍", 1)]
        await reacted.add_reaction("👍")
        await channel.get_partial_message(older[0]).delete()
        after = [m async for m in channel.history(limit=None, oldest_first=True)]
    assert [m.content for m in after] == ["old1", "old2", "live, today"]
    assert [r.me for r in after[0].reactions] == [True]
    assert emu.world.messages.get(older[0]) is None
    assert int(live["id"]) == emu.world.channels[world.general.id].last_message_id


async def test_paging_a_large_history_builds_no_lasting_objects(emu, world):
    """What lets a benchmark hold a million messages: seeded rows stay arrays, and reading
    them page by page keeps nothing (the REST route goes through the same ``page``/``peek``)."""
    channels = [world.general, world.announcements]
    start = T0.timestamp()
    for channel in channels:
        emu.seed_history(
            channel.id, [(world.alice.id, "x", start + i * 0.5) for i in range(50_000)]
        )
    store = emu.world.channels[world.general.id].messages
    seen, before = 0, None
    while page := store.page(100, before=before):
        assert all(store.peek(i) is not None for i in page)
        seen, before = seen + len(page), page[-1]
    assert seen == 50_000 == len(store)
    assert list(store.order) == sorted(store.order)
    assert store.objects == 0  # nothing was kept as a Message object


def test_reading_back_seeded_history_keeps_it_compact(emu, world):
    ids = emu.seed_history(world.general.id, [(world.alice.id, f"m{i}", _at(i)) for i in range(3)])
    assert [m["id"] for m in emu.messages(world.general.id)] == [str(i) for i in ids]
    assert emu.world.channels[world.general.id].messages.objects == 0


async def test_seeded_replies_and_system_messages_read_as_discord_py_expects(emu, world):
    world.guild.edit_role(world.bot_role, permissions=READER)
    [question] = emu.seed_history(world.general.id, [(world.alice.id, "how?", _at(0))])
    emu.seed_history(
        world.general.id,
        [
            {"author": world.bob.id, "content": "like this", "at": _at(2), "reply_to": question},
            {"author": world.bob.id, "content": "", "at": _at(1), "type": 7},
        ],
    )
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        reply, joined, asked = [m async for m in channel.history(limit=None)]
    assert reply.type is discord.MessageType.reply
    assert reply.reference is not None and reply.reference.message_id == question
    assert isinstance(reply.reference.resolved, discord.Message)
    assert reply.reference.resolved.content == "how?"
    assert joined.type is discord.MessageType.new_member and asked.content == "how?"
    assert emu.world.channels[world.general.id].messages.objects == 0


def test_seeded_ids_never_collide_across_channels_on_one_time_grid(emu, world):
    """Channels seeded on the same moments, past the 2**17 low-bit counter, get distinct ids:
    a backfill dedupes on message ids, so one collision would lose a message."""
    grid = [(world.alice.id, "m", T0 + dt.timedelta(milliseconds=i)) for i in range(2**17)]
    first = emu.seed_history(world.general.id, grid)
    second = emu.seed_history(world.announcements.id, grid)
    assert len(set(first) | set(second)) == 2**18


async def test_voice_channel_messages_also_need_connect(emu, world):
    """Text in voice: reading it takes CONNECT as well as the usual rights."""
    [said] = emu.seed_history(world.voice.id, [(world.alice.id, "in the lounge", T0)])
    world.guild.set_everyone_permissions(permissions.VIEW_CHANNEL)
    world.guild.edit_role(world.bot_role, permissions=READER)
    client = make_client()
    async with running(client):
        http = client.http
        assert await http.logs_from(world.voice.id, 100) == []
        await _refused(http.get_message(world.voice.id, said), 403, 50001)
        world.guild.edit_role(world.bot_role, permissions=READER | permissions.CONNECT)
        [read] = await http.logs_from(world.voice.id, 100)
        assert read["content"] == "in the lounge"


def test_an_archive_time_keeps_its_microseconds(emu, world):
    at = T0 + dt.timedelta(days=2, microseconds=123_456)
    post = emu.seed_thread(
        world.forum.id, world.alice.id, "p", T0, content="q", archived=True, archived_at=at
    )
    assert dt.datetime.fromisoformat(post.archive_timestamp) == at
