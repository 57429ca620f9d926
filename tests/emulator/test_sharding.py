"""Sharding as Discord does it, seen by unmodified discord.py clients and raw websockets."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands

from bot.demo.community import build_sample_community
from emulator import Emulator, intents, sharding
from tests.e2e.util import eventually

from .conftest import IDENTIFY_WINDOW, TOKEN, make_client, running


async def _emulator(**kwargs: Any) -> Emulator:
    emu = Emulator(bot_token=TOKEN, heartbeat_interval=500, **kwargs)
    await emu.start()
    discord.http.Route.BASE = emu.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    return emu


@pytest.fixture
async def fresh():
    """Emulators made with :func:`_emulator` (own limits), stopped and unpointed afterwards."""
    made: list[Emulator] = []
    old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY

    async def make(**kwargs: Any) -> Emulator:
        made.append(await _emulator(**kwargs))
        return made[-1]

    try:
        yield make
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old
        for emu in made:
            await emu.stop()


class Sharded(discord.AutoShardedClient):
    """An AutoShardedClient scaled to the fixture's identify window (see ``ScaledClient``)."""

    async def before_identify_hook(self, shard_id, *, initial=False):
        if not initial:
            await asyncio.sleep(IDENTIFY_WINDOW)


def _communities(emu: Emulator, layout: list[tuple[int, int]]):
    guilds = []
    for n, shard in enumerate(layout):
        g = emu.create_guild(f"Community {n}", shard=shard)
        g.add_bot()
        g.create_text_channel("general")
        g.add_member(f"member{n}")
        guilds.append(g)
    return guilds


async def _raw_identify(emu: Emulator, shard: list[Any] | None, **extra: Any) -> dict[str, Any]:
    """IDENTIFY over a raw websocket: the first answer (a frame, or ``{"close": code}``)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(emu.gateway_url) as ws:
        await ws.receive_json()
        d: dict[str, Any] = {"token": TOKEN, "intents": intents.GUILDS, "properties": {}, **extra}
        if shard is not None:
            d["shard"] = shard
        await ws.send_json({"op": 2, "d": d})
        msg = await ws.receive()
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return {"close": ws.close_code}
        return msg.json()


def _sessions_that_got(emu: Emulator, event: str) -> list[int | None]:
    """Shard ids of the sessions ``event`` was dispatched to, in order."""
    return [e["shard"] for e in emu.gateway_log if e["dir"] == "send" and e["t"] == event]


# ------------------------------------------------------------------- building communities
async def test_create_guild_on_a_shard_picks_an_id_on_that_shard(emu):
    layout = [(0, 2), (0, 2), (1, 2), (1, 2), (2, 3), (0, 1)]
    guilds = [emu.create_guild(f"G{n}", shard=shard) for n, shard in enumerate(layout)]
    assert [sharding.shard_of(g.id, n) for g, (_i, n) in zip(guilds, layout, strict=True)] == [
        i for i, _n in layout
    ]
    later = emu.world.new_id()
    ids = [g.id for g in guilds] + [later]
    assert ids == sorted(set(ids)), "ids stay unique and monotonic"
    with pytest.raises(ValueError, match="no shard"):
        emu.create_guild("Nowhere", shard=(2, 2))


async def test_sample_communities_on_chosen_shards(emu):
    communities = [build_sample_community(emu, member_count=2, shard=(n % 2, 2)) for n in range(4)]
    shards = [sharding.shard_of(c.guild_id, 2) for c in communities]
    assert shards == [0, 1, 0, 1]
    assert len({c.guild_id for c in communities}) == 4
    assert all(emu.bot_user_id in emu.world.guilds[c.guild_id].members for c in communities)


# ------------------------------------------------------------------------ GET /gateway/bot
async def test_gateway_bot_follows_the_spec_and_counts_session_starts(fresh):
    emu = await fresh(check_responses=True, session_start_total=50, max_concurrency=2)
    client = make_client()
    await client.login(TOKEN)
    try:
        shards, url, limit = await client.http.get_bot_gateway()
        assert (shards, url) == (1, emu.gateway_url.rstrip("/"))
        assert limit == {
            "total": 50,
            "remaining": 50,
            "reset_after": 24 * 3600 * 1000,
            "max_concurrency": 2,
        }
        assert (await _raw_identify(emu, [0, 2]))["t"] == "READY"
        assert (await _raw_identify(emu, [1, 2]))["t"] == "READY"
        emu.session_starts.advance(3600)
        _, _, limit = await client.http.get_bot_gateway()
        assert limit["remaining"] == 48
        assert 22 * 3600 * 1000 < limit["reset_after"] <= 23 * 3600 * 1000, "the hour is gone"

        # Discord recommends one shard per 1,000 guilds; a test may fix the number instead.
        for n in range(1001):
            emu.create_guild(f"G{n}").add_bot()
        assert (await client.http.get_bot_gateway())[0] == 2
        emu.recommended_shards = 5
        assert (await client.http.get_bot_gateway())[0] == 5
    finally:
        await client.close()
    assert emu.spec_violations == []
    assert [r.path for r in emu.requests("GET", r"^/gateway/bot$")] == ["/gateway/bot"] * 4


# ------------------------------------------------------------------------- one client
async def test_auto_sharded_client_takes_the_recommended_shard_count(emu):
    emu.recommended_shards = 2
    guilds = _communities(emu, [(0, 2), (1, 2)])
    client = Sharded(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with running(client):
        await eventually(lambda: len(client.guilds) == 2)
        assert client.shard_count == 2
        assert {g.id: g.shard_id for g in client.guilds} == {guilds[0].id: 0, guilds[1].id: 1}
    assert [r.path for r in emu.requests("GET", r"^/gateway/bot$")] == ["/gateway/bot"]


async def test_auto_sharded_client_gets_each_guild_on_its_shard_and_each_event_once(fresh):
    """Stock discord.py against Discord's own 5-second identify window."""
    emu = await fresh()
    guilds = _communities(emu, [(0, 2), (1, 2), (0, 2), (1, 2)])
    seen: list[tuple[int | None, str]] = []
    client = discord.AutoShardedClient(
        intents=discord.Intents.all(), shard_count=2, shard_ids=[0, 1], guild_ready_timeout=0.05
    )

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append((message.guild.id if message.guild else None, message.content))

    async with running(client, timeout=20):
        await eventually(lambda: len(client.guilds) == 4, within=10)
        assert {g.id: g.shard_id for g in client.guilds} == {
            g.id: n % 2 for n, g in enumerate(guilds)
        }
        ready = [e for e in emu.gateway_log if e["dir"] == "send" and e["t"] == "READY"]
        assert len(ready) == 2
        assert sorted(s.shard_id for s in emu.sessions) == [0, 1]
        assert sorted(_sessions_that_got(emu, "GUILD_CREATE")) == [0, 0, 1, 1]
        for g in guilds:
            await emu.post_message(g.channel("general").id, g.owner.user_id, f"hello {g.id}")
        dm_user = guilds[1].add_member("dm-sender")
        await emu.post_dm(dm_user.user_id, "a direct message")
        await eventually(lambda: len(seen) == 5, within=10)
        await emu.wait_idle(client)
    assert collections.Counter(seen) == collections.Counter(
        [(g.id, f"hello {g.id}") for g in guilds] + [(None, "a direct message")]
    )
    assert sorted(_sessions_that_got(emu, "MESSAGE_CREATE")) == [0, 0, 0, 1, 1]


async def test_interactions_go_to_the_guilds_shard_and_dms_to_shard_0(emu):
    emu.session_starts.max_concurrency = 2
    guilds = _communities(emu, [(0, 2), (1, 2)])
    client = Sharded(
        intents=discord.Intents.all(), shard_count=2, shard_ids=[0, 1], guild_ready_timeout=0.05
    )
    tree = app_commands.CommandTree(client)
    answered: list[tuple[int | None, int | None]] = []

    @tree.command(name="ping", description="pong")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def ping(inter: discord.Interaction) -> None:
        answered.append((inter.guild_id, inter.guild.shard_id if inter.guild else None))
        await inter.response.send_message("pong", ephemeral=True)

    async with running(client):
        await tree.sync()
        for g in guilds:
            inter = await emu.invoke_slash_command(
                g.id, g.channel("general").id, g.owner.user_id, "ping"
            )
            await inter.wait_response(timeout=5)
        user = guilds[1].add_member("dm-user")
        inter = await emu.invoke_slash_command(
            None, emu.dm_channel(user.user_id).id, user.user_id, "ping"
        )
        await inter.wait_response(timeout=5)
    assert answered == [(guilds[0].id, 0), (guilds[1].id, 1), (None, None)]
    assert _sessions_that_got(emu, "INTERACTION_CREATE") == [0, 1, 0]


async def test_a_guild_joined_while_connected_reaches_its_shard_only(emu):
    emu.session_starts.max_concurrency = 2
    _communities(emu, [(0, 2)])
    joined: list[tuple[int, int]] = []
    client = Sharded(
        intents=discord.Intents.all(), shard_count=2, shard_ids=[0, 1], guild_ready_timeout=0.05
    )

    @client.event
    async def on_guild_join(guild: discord.Guild) -> None:
        joined.append((guild.id, guild.shard_id))

    async with running(client):
        await eventually(lambda: len(client.guilds) == 1)
        before = len(_sessions_that_got(emu, "GUILD_CREATE"))
        new = emu.create_guild("Late", shard=(1, 2))
        new.add_bot()
        await eventually(lambda: joined)
        await emu.wait_idle(client)
    assert joined == [(new.id, 1)]
    assert _sessions_that_got(emu, "GUILD_CREATE")[before:] == [1]


# ------------------------------------------------------------------ one client per shard
async def test_a_client_per_shard_sees_only_its_guilds(emu):
    emu.session_starts.max_concurrency = 2
    guilds = _communities(emu, [(0, 2), (1, 2), (1, 2)])
    clients = [
        Sharded(
            intents=discord.Intents.all(),
            shard_count=2,
            shard_ids=[shard],
            guild_ready_timeout=0.05,
        )
        for shard in (0, 1)
    ]
    seen: dict[int, list[int | None]] = {0: [], 1: []}
    for shard, client in enumerate(clients):

        async def on_message(message: discord.Message, shard: int = shard) -> None:
            seen[shard].append(message.guild.id if message.guild else None)

        client.event(on_message)
    async with running(clients[0]), running(clients[1]):
        await eventually(lambda: len(clients[0].guilds) == 1 and len(clients[1].guilds) == 2)
        assert [g.id for g in clients[0].guilds] == [guilds[0].id]
        assert sorted(g.id for g in clients[1].guilds) == sorted([guilds[1].id, guilds[2].id])
        for g in guilds:
            await emu.post_message(g.channel("general").id, g.owner.user_id, "hi")
        await emu.post_dm(guilds[2].add_member("dm").user_id, "dm")
        await eventually(lambda: len(seen[0]) + len(seen[1]) == 4)
        await emu.wait_idle(clients[0])
        await emu.wait_idle(clients[1])
    assert seen == {0: [guilds[0].id, None], 1: [guilds[1].id, guilds[2].id]}


async def test_member_requests_for_another_shards_guild_get_nothing(emu):
    here, there = _communities(emu, [(0, 2), (1, 2)])
    async with aiohttp.ClientSession() as http, http.ws_connect(emu.gateway_url) as ws:
        await ws.receive_json()
        d = {"token": TOKEN, "intents": intents.GUILDS, "properties": {}, "shard": [0, 2]}
        await ws.send_json({"op": 2, "d": d})
        assert (await ws.receive_json())["t"] == "READY"
        assert (await ws.receive_json())["t"] == "GUILD_CREATE"
        for guild in (there, here):
            request = {"guild_id": str(guild.id), "user_ids": [str(guild.owner.user_id)]}
            await ws.send_json({"op": 8, "d": request})
        chunk = await ws.receive_json()
    assert chunk["t"] == "GUILD_MEMBERS_CHUNK" and chunk["d"]["guild_id"] == str(here.id)
    ignored = [e for e in emu.gateway_log if e["t"] == "IGNORED"]
    assert [e["guild_id"] for e in ignored] == [str(there.id)]


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("shard", [[2, 2], [0, 0], [-1, 2], ["0", "2"], [0], [0, 2, 1], 0])
async def test_invalid_shard_closes_with_4010(emu, shard):
    assert await _raw_identify(emu, shard) == {"close": 4010}


async def test_too_many_guilds_on_one_shard_closes_with_4011(fresh):
    emu = await fresh(max_guilds_per_shard=2, max_concurrency=4)
    _communities(emu, [(0, 2), (0, 2), (1, 2)])
    assert await _raw_identify(emu, None) == {"close": 4011}
    assert await _raw_identify(emu, [0, 1]) == {"close": 4011}
    assert (await _raw_identify(emu, [0, 2]))["t"] == "READY"
    assert (await _raw_identify(emu, [1, 2]))["t"] == "READY"
    client = make_client()
    with pytest.raises(discord.ConnectionClosed) as closed:
        async with running(client):
            pass
    assert closed.value.code == 4011


async def test_identifying_faster_than_max_concurrency_gets_invalid_session(emu):
    emu.create_guild("G", shard=(0, 4)).add_bot()
    # max_concurrency 1: one IDENTIFY per window for the whole app
    assert (await _raw_identify(emu, [0, 4]))["t"] == "READY"
    assert await _raw_identify(emu, [1, 4]) == {"op": 9, "d": False, "s": None, "t": None}
    # max_concurrency 2: keys are shard_id % 2, so shards 1 and 2 go together, 3 waits for 1
    emu.session_starts.advance(IDENTIFY_WINDOW)
    emu.session_starts.max_concurrency = 2
    emu.session_starts.buckets.clear()
    assert (await _raw_identify(emu, [1, 4]))["t"] == "READY"
    assert (await _raw_identify(emu, [2, 4]))["t"] == "READY"
    assert (await _raw_identify(emu, [3, 4]))["op"] == 9
    emu.session_starts.advance(IDENTIFY_WINDOW)
    assert (await _raw_identify(emu, [3, 4]))["t"] == "READY"


async def test_a_client_that_identifies_too_fast_is_caught(emu):
    guilds = _communities(emu, [(0, 2), (1, 2)])

    class TooFast(discord.AutoShardedClient):
        async def before_identify_hook(self, shard_id, *, initial=False):
            return None  # ignores the identify window

    client = TooFast(
        intents=discord.Intents.all(), shard_count=2, shard_ids=[0, 1], guild_ready_timeout=0.05
    )
    async with running(client):
        await eventually(lambda: len(client.guilds) == 2, within=10)
        assert {g.id: g.shard_id for g in client.guilds} == {guilds[0].id: 0, guilds[1].id: 1}
    refused = [e for e in emu.gateway_log if e["op"] == 9 and e["dir"] == "send"]
    assert refused and all(e["reason"] == "identify rate limited" for e in refused)


async def test_spending_the_session_start_limit_resets_the_token(fresh):
    emu = await fresh(session_start_total=2, max_concurrency=8)
    _communities(emu, [(0, 1)])
    async with aiohttp.ClientSession() as http, http.ws_connect(emu.gateway_url) as live:
        await live.receive_json()
        d = {"token": TOKEN, "intents": intents.GUILDS, "properties": {}, "shard": [0, 2]}
        await live.send_json({"op": 2, "d": d})
        assert (await live.receive_json())["t"] == "READY"
        assert (await _raw_identify(emu, [1, 2]))["t"] == "READY"
        assert await _raw_identify(emu, [0, 2]) == {"close": 4004}
        while not live.closed:
            await live.receive()
    assert live.close_code == 4004, "every active session is terminated"
    assert emu.sessions == [] and emu.token_resets == 1 and emu.bot_token != TOKEN
    client = make_client()
    with pytest.raises(discord.LoginFailure):
        await client.login(TOKEN)
    await client.close()
    # the new token identifies again once the 24-hour period has passed
    new = emu.bot_token
    d = {"token": new, "intents": intents.GUILDS, "properties": {}}
    async with aiohttp.ClientSession() as http:
        emu.session_starts.advance(24 * 3600)
        async with http.ws_connect(emu.gateway_url) as ws:
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": d})
            assert (await ws.receive_json())["t"] == "READY"
