"""Gateway behaviour as an unmodified discord.py client sees it."""

from __future__ import annotations

import asyncio
import datetime
import json
import zlib

import aiohttp
import discord
import pytest

from emulator import Emulator, intents, permissions
from tests.e2e.util import eventually

from .conftest import TOKEN, ScaledClient, make_client, running


async def test_ready_delivers_the_whole_guild(emu, world):
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        assert guild is not None and guild.name == "Demo Community"
        assert guild.owner_id == world.owner.id
        assert [r.name for r in guild.roles] == [
            "@everyone",
            "Member",
            "Moderator",
            "Flywheel",
            "Admin",
        ]
        assert guild.get_role(world.bot_role.id).position == 10
        assert guild.me.top_role.id == world.bot_role.id
        general = guild.get_channel(world.general.id)
        assert isinstance(general, discord.TextChannel)
        assert general.topic == "chat" and general.category.name == "Community"
        assert isinstance(guild.get_channel(world.announcements.id), discord.TextChannel)
        assert guild.get_channel(world.announcements.id).is_news()
        assert isinstance(guild.get_channel(world.voice.id), discord.VoiceChannel)
        assert isinstance(guild.get_channel(world.stage.id), discord.StageChannel)
        forum = guild.get_channel(world.forum.id)
        assert isinstance(forum, discord.ForumChannel)
        assert [t.name for t in forum.available_tags] == ["Solved", "Question"]
        assert {m.name for m in guild.members} == {"owner", "Flywheel", "alice", "bob", "shy"}
        assert guild.member_count == 5 and guild.chunked
        assert guild.get_member(world.alice.id).roles[-1].id == world.member_role.id
        # hidden channel: the bot still knows it exists, but cannot read it
        secret = guild.get_channel(world.secret.id)
        assert not secret.permissions_for(guild.me).view_channel
        assert client.application_id == emu.application_id
        assert client.user.id == emu.bot_user_id and client.user.bot
        # discord.py asked for zlib-stream and got compressed binary frames
        assert [c.compress for c in emu.gateway.connections] == ["zlib-stream"]

    [identify] = [e for e in emu.gateway_log if e["dir"] == "recv" and e["op"] == 2]
    assert identify["d"]["token"] == "<redacted>"
    assert emu.identified_intents == [discord.Intents.all().value]


async def test_heartbeats_are_acknowledged(emu, world):
    client = make_client()
    async with running(client):
        await eventually(lambda: client.latency != float("inf"), within=3)
        assert client.latency < 1.0
    assert any(e["op"] == 1 for e in emu.gateway_log if e["dir"] == "recv")


async def test_without_presences_discord_py_chunks_members_with_op_8(emu, world):
    wanted = discord.Intents.default()
    wanted.members = True  # chunk at startup, but GUILD_CREATE only carries the bot
    client = make_client(wanted)
    async with running(client):
        guild = client.get_guild(world.guild.id)
        assert len(guild.members) == 5 and guild.chunked
    requests = [e for e in emu.gateway_log if e["dir"] == "recv" and e["op"] == 8]
    assert len(requests) == 1 and requests[0]["d"]["nonce"]
    assert "GUILD_MEMBERS_CHUNK" in [e["t"] for e in emu.gateway_log if e["dir"] == "send"]


async def test_message_content_intent_is_honoured(emu, world):
    seen: list[discord.Message] = []
    no_content = discord.Intents.default()  # no MESSAGE_CONTENT
    client = make_client(no_content)
    client.event(_collector(seen))
    async with running(client):
        await emu.post_message(
            world.general.id, world.alice.id, "plain text", embeds=[{"title": "t"}]
        )
        await emu.post_message(world.general.id, world.alice.id, f"hey <@{emu.bot_user_id}>")
        await emu.post_dm(world.alice.id, "a direct message")
        await eventually(lambda: len(seen) == 3)
    plain, mention, dm = seen
    assert plain.content == "" and plain.embeds == []
    assert mention.content == f"hey <@{emu.bot_user_id}>" and client.user in mention.mentions
    assert dm.content == "a direct message" and isinstance(dm.channel, discord.DMChannel)

    seen.clear()
    client = make_client(discord.Intents.all())
    client.event(_collector(seen))
    async with running(client):
        await emu.post_message(world.general.id, world.alice.id, "now visible")
        await eventually(lambda: len(seen) == 1)
    assert seen[0].content == "now visible" and seen[0].author.id == world.alice.id


def _collector(sink: list):
    async def on_message(message: discord.Message) -> None:
        sink.append(message)

    return on_message


async def test_bot_only_hears_channels_it_can_view(emu, world):
    seen: list[discord.Message] = []
    client = make_client()
    client.event(_collector(seen))
    async with running(client):
        world.guild.set_overwrite(world.secret, world.alice, allow=permissions.VIEW_CHANNEL)
        await emu.post_message(world.secret.id, world.alice.id, "psst")
        await emu.post_message(world.general.id, world.alice.id, "hello")
        await emu.wait_idle(client)
    assert [m.content for m in seen] == ["hello"]


async def test_member_events_need_the_members_intent(emu, world):
    joined: list[discord.Member] = []
    without = discord.Intents.default()
    client = make_client(without)

    @client.event
    async def on_member_join(member):
        joined.append(member)

    async with running(client):
        await emu.member_join(world.guild.id, "carol")
        await emu.wait_idle(client)
    assert joined == []
    assert not [e for e in emu.gateway_log if e.get("t") == "GUILD_MEMBER_ADD"]

    client = make_client()
    client.event(on_member_join)
    async with running(client):
        member = await emu.member_join(world.guild.id, "dave")
        await eventually(lambda: len(joined) == 1)
    assert joined[0].id == member.id and joined[0].name == "dave"


async def test_voice_scheduled_event_and_invite_events(emu, world):
    seen: list[tuple] = []
    client = make_client()

    @client.event
    async def on_voice_state_update(member, before, after):
        seen.append(("voice", member.id, _cid(before.channel), _cid(after.channel)))

    @client.event
    async def on_scheduled_event_create(event):
        seen.append(("event", event.name, event.status))

    @client.event
    async def on_scheduled_event_update(before, after):
        seen.append(("event-update", after.status))

    @client.event
    async def on_scheduled_event_user_add(event, user):
        seen.append(("rsvp", event.id, user.id))

    @client.event
    async def on_invite_create(invite):
        seen.append(("invite", invite.code, invite.inviter.id))

    async with running(client):
        await emu.voice_join(world.guild.id, world.alice.id, world.voice.id, self_mute=True)
        # discord.py mutates the cached VoiceState, so let the handler see this one first
        await eventually(lambda: len(seen) == 1)
        assert client.get_guild(world.guild.id).get_member(world.alice.id).voice.self_mute
        start = discord.utils.utcnow() + datetime.timedelta(hours=1)
        event = await emu.create_scheduled_event(
            world.guild.id, world.alice.id, "AMA", start, channel_id=world.voice.id
        )
        await eventually(lambda: len(seen) == 2)
        await emu.event_add_user(world.guild.id, event.id, world.bob.id)
        await emu.start_scheduled_event(world.guild.id, event.id)
        invite = await emu.create_invite(world.general.id, world.alice.id)
        await emu.voice_leave(world.guild.id, world.alice.id)
        await eventually(lambda: len(seen) == 6)
        guild = client.get_guild(world.guild.id)
        assert guild.get_member(world.alice.id).voice is None
        assert guild.scheduled_events[0].status is discord.EventStatus.active
    assert seen == [
        ("voice", world.alice.id, None, world.voice.id),
        ("event", "AMA", discord.EventStatus.scheduled),
        ("rsvp", event.id, world.bob.id),
        ("event-update", discord.EventStatus.active),
        ("invite", invite.code, world.alice.id),
        ("voice", world.alice.id, world.voice.id, None),
    ]


def _cid(channel):
    return channel.id if channel is not None else None


async def test_resume_replays_events_missed_while_disconnected(emu, world):
    seen: list[discord.Message] = []
    resumed = asyncio.Event()
    client = make_client()
    client.event(_collector(seen))

    @client.event
    async def on_resumed():
        resumed.set()

    async with running(client):
        [session] = emu.sessions
        await emu.drop_gateway(session)
        await emu.post_message(world.general.id, world.alice.id, "sent while you were away")
        await asyncio.wait_for(resumed.wait(), 10)
        await emu.wait_idle(client)
    assert [m.content for m in seen] == ["sent while you were away"]
    received = [e["op"] for e in emu.gateway_log if e["dir"] == "recv" and e["op"] in (2, 6)]
    assert received == [2, 6], "one IDENTIFY, then RESUME (no fresh IDENTIFY)"
    assert session.resumes == 1 and len(emu.sessions) == 1


async def test_unknown_session_gets_invalid_session_and_reidentifies(emu, world):
    client = ScaledClient(intents=discord.Intents.all(), guild_ready_timeout=0.05)
    async with running(client):
        [session] = emu.sessions
        emu.invalidate_session(session)
        await emu.drop_gateway(session)
        await eventually(
            lambda: len(emu.sessions) == 1 and emu.sessions[0] is not session, within=10
        )
        await eventually(lambda: client.is_ready())
    ops = [e["op"] for e in emu.gateway_log if e["dir"] == "recv" and e["op"] in (2, 6)]
    assert ops == [2, 6, 2]
    assert [e["op"] for e in emu.gateway_log if e["dir"] == "send" and e["op"] == 9] == [9]


async def test_bad_token_is_rejected_on_rest_and_gateway(emu, world):
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login("wrong-token")
    await client.close()

    async with aiohttp.ClientSession() as session, session.ws_connect(emu.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] == 500
        await ws.send_json({"op": 2, "d": {"token": "nope", "intents": 1, "properties": {}}})
        closing = await ws.receive()
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4004


async def test_privileged_intents_must_be_enabled_for_the_app():
    emu = Emulator(bot_token=TOKEN, privileged_intents=0)
    await emu.start()
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(emu.gateway_url) as ws:
            await ws.receive_json()
            await ws.send_json(
                {
                    "op": 2,
                    "d": {"token": TOKEN, "intents": intents.MESSAGE_CONTENT, "properties": {}},
                }
            )
            await ws.receive()
        assert ws.close_code == 4014
    finally:
        await emu.stop()


async def test_zlib_stream_transport_compression(emu, world):
    url = emu.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
    inflator = zlib.decompressobj()
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        frame = await ws.receive()
        assert frame.type is aiohttp.WSMsgType.BINARY and frame.data.endswith(b"\x00\x00\xff\xff")
        assert json.loads(inflator.decompress(frame.data))["op"] == 10
        await ws.send_json(
            {"op": 2, "d": {"token": TOKEN, "intents": intents.GUILDS, "properties": {}}}
        )
        ready = json.loads(inflator.decompress((await ws.receive()).data))
        assert ready["t"] == "READY" and ready["s"] == 1
        guild_create = json.loads(inflator.decompress((await ws.receive()).data))
        assert guild_create["t"] == "GUILD_CREATE" and guild_create["s"] == 2
        members = guild_create["d"]["members"]
        assert [m["user"]["id"] for m in members] == [str(emu.bot_user_id)]


async def _request_members(emu: Emulator, request: dict) -> list[dict]:
    """Identify with the members intent, send op 8, return the GUILD_MEMBERS_CHUNKs' data."""
    async with aiohttp.ClientSession() as session, session.ws_connect(emu.gateway_url) as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json(
            {
                "op": 2,
                "d": {
                    "token": TOKEN,
                    "intents": intents.GUILDS | intents.GUILD_MEMBERS,
                    "properties": {},
                },
            }
        )
        while (await ws.receive_json())["t"] != "GUILD_CREATE":
            pass
        await ws.send_json({"op": 8, "d": request})
        chunks: list[dict] = []
        while not chunks or len(chunks) < chunks[0]["chunk_count"]:
            frame = await ws.receive_json(timeout=5)
            if frame["t"] == "GUILD_MEMBERS_CHUNK":
                chunks.append(frame["d"])
        return chunks


def _crowd(emu: Emulator, members: int):
    guild = emu.create_guild("Crowd", guild_id=(1 << 22) * 3000)
    guild.add_bot()
    for n in range(members):
        guild.add_member(f"member{n}")
    return guild


async def test_the_whole_member_list_comes_in_chunks_of_at_most_1000(emu):
    guild = _crowd(emu, 2498)  # 2,500 with the owner and the bot
    chunks = await _request_members(
        emu, {"guild_id": str(guild.id), "query": "", "limit": 0, "nonce": "n" * 32}
    )
    assert [len(c["members"]) for c in chunks] == [1000, 1000, 500]
    assert [(c["chunk_index"], c["chunk_count"]) for c in chunks] == [(0, 3), (1, 3), (2, 3)]
    assert {c["nonce"] for c in chunks} == {"n" * 32}
    assert len({m["user"]["id"] for c in chunks for m in c["members"]}) == 2500


async def test_a_nonce_longer_than_32_bytes_is_ignored(emu):
    # Discord: "If you send an invalid nonce it will be ignored and the reply member_chunk(s)
    # will not have a nonce set."
    guild = _crowd(emu, 3)
    chunks = await _request_members(
        emu, {"guild_id": str(guild.id), "query": "", "limit": 0, "nonce": "n" * 33}
    )
    assert len(chunks) == 1 and "nonce" not in chunks[0]
    assert len(chunks[0]["members"]) == 5


async def test_a_query_returns_at_most_100_members_whatever_the_limit(emu):
    # Discord caps a name query at 100 members; only the empty query with limit 0 lists all.
    guild = _crowd(emu, 150)
    chunks = await _request_members(
        emu, {"guild_id": str(guild.id), "query": "member", "limit": 1000}
    )
    assert [len(c["members"]) for c in chunks] == [100]
