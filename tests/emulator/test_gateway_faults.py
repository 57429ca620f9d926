"""The gateway's failure paths: enforced on a raw websocket, survived by discord.py."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord

from emulator import Chaos, Emulator
from tests.e2e.util import eventually

from .conftest import TOKEN, ScaledClient, make_client, running
from .test_gateway import _collector


async def _raw(emu: Emulator) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(emu.gateway_url)
    hello = await ws.receive_json()
    assert hello["op"] == 10
    return session, ws


async def _closed_with(ws: aiohttp.ClientWebSocketResponse, within: float = 5.0) -> int | None:
    async def closing() -> None:
        async for _ in ws:
            pass

    await asyncio.wait_for(closing(), within)
    return ws.close_code


def _identify() -> dict[str, Any]:
    return {"op": 2, "d": {"token": TOKEN, "intents": 513, "properties": {}}}


async def test_a_client_that_stops_heartbeating_is_closed_and_its_session_ends(emu, world):
    session, ws = await _raw(emu)
    async with session:
        await ws.send_json(_identify())
        assert (await ws.receive_json())["t"] == "READY"
        # heartbeat_interval is 500 ms here: silence for 750 ms makes it a zombie.
        assert await _closed_with(ws) == 4009
    assert emu.sessions == [], "a timed-out session can't be resumed"


async def test_more_than_120_frames_a_minute_close_with_4008(emu, world):
    session, ws = await _raw(emu)
    async with session:
        for _ in range(121):
            if ws.closed:
                break
            await ws.send_json({"op": 1, "d": None})
        assert await _closed_with(ws) == 4008


async def test_a_frame_that_is_not_json_closes_with_4002(emu, world):
    session, ws = await _raw(emu)
    async with session:
        await ws.send_str("{not json")
        assert await _closed_with(ws) == 4002


async def test_an_op_before_identifying_closes_with_4003(emu, world):
    session, ws = await _raw(emu)
    async with session:
        await ws.send_json({"op": 3, "d": {"status": "online"}})
        assert await _closed_with(ws) == 4003


async def test_the_server_asks_for_a_heartbeat_and_discord_py_answers(emu, world):
    client = make_client()
    async with running(client):
        heartbeats = lambda: [e for e in emu.gateway_log if e["dir"] == "recv" and e["op"] == 1]  # noqa: E731
        before = len(heartbeats())
        emu.request_heartbeat()
        await eventually(lambda: len(heartbeats()) > before, within=0.4)  # before its own beat


async def test_op_7_and_resumable_op_9_resume_and_replay_what_was_missed(emu, world):
    seen: list[discord.Message] = []
    client = make_client()
    client.event(_collector(seen))
    async with running(client):
        [session] = emu.sessions
        for n, ask in enumerate((emu.reconnect, lambda: emu.invalid_session(resumable=True))):
            ask()
            await emu.post_message(world.general.id, world.alice.id, f"during {n}")
            await eventually(lambda n=n: len(seen) > n, within=10)
        await emu.wait_idle(client)
    assert [m.content for m in seen] == ["during 0", "during 1"]
    assert session.resumes == 2 and len(emu.sessions) == 1
    identifies = [e for e in emu.gateway_log if e["dir"] == "recv" and e["op"] == 2]
    assert len(identifies) == 1, "resumed both times, never identified again"


async def test_op_9_not_resumable_makes_the_client_identify_again(emu, world):
    client = ScaledClient(intents=discord.Intents.all(), guild_ready_timeout=0.05)
    async with running(client):
        [session] = emu.sessions
        emu.invalid_session(resumable=False)
        await eventually(
            lambda: len(emu.sessions) == 1 and emu.sessions[0] is not session, within=10
        )
    identifies = [e for e in emu.gateway_log if e["dir"] == "recv" and e["op"] == 2]
    assert len(identifies) == 2


async def test_with_chaos_every_message_arrives_once_and_in_order(emu, world):
    emu.chaos = Chaos(seed=3, mean_interval=0.1)
    emu.chaos.start(emu.gateway)  # emu.stop() stops it
    seen: list[discord.Message] = []
    client = make_client()
    client.event(_collector(seen))
    async with running(client):
        for n in range(40):
            await emu.post_message(world.general.id, world.alice.id, f"message {n}")
            await asyncio.sleep(0.03)
        await eventually(lambda: len(seen) >= 40, within=20)
        await asyncio.sleep(0.3)
    assert [m.content for m in seen] == [f"message {n}" for n in range(40)]
    assert sum(emu.chaos.made.values()) >= 5, emu.chaos.made
    assert emu.chaos.made["drop"] + emu.chaos.made["reconnect"] > 0
