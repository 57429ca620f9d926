"""The idle barrier: ``wait_idle`` returns only once nothing is left in flight, or fails loudly."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import discord
import pytest

from emulator.rest.router import Ctx
from tests.e2e.util import eventually

from .conftest import make_client, running


async def test_it_waits_for_a_request_in_flight(emu):
    release = asyncio.Event()

    async def slow(ctx: Ctx) -> dict[str, bool]:
        await release.wait()
        return {"ok": True}

    emu.rest.router.add("GET", "/test/slow", slow, auth=False)
    async with aiohttp.ClientSession() as http:
        request = asyncio.create_task(http.get(f"{emu.api_base}/test/slow"))
        await eventually(lambda: emu.rest.in_flight, interval=0.001)
        assert emu.busy() == ["REST GET /test/slow in flight"]
        loudly = re.escape("not idle within 0.3s: REST GET /test/slow in flight")
        with pytest.raises(TimeoutError, match=loudly):
            await emu.wait_idle(timeout=0.3)

        release.set()
        await emu.wait_idle()
        [record] = emu.requests("GET", "/test/slow")
        assert (record.status, record.response) == (200, {"ok": True}), "answered before idle"
        async with await request as response:
            assert response.status == 200
    assert emu.busy() == []


async def test_it_waits_until_the_client_has_read_and_handled_every_queued_event(emu, world):
    handled: list[str] = []
    client = make_client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        await asyncio.sleep(0.01)  # a handler that takes a moment
        handled.append(message.content)

    async with running(client):
        for n in range(30):
            await emu.post_message(world.general.id, world.alice.id, f"message {n}")
        queued = emu.busy(client)
        assert queued and "gateway frame(s) not yet written" in queued[0]

        await emu.wait_idle(client)

        assert sorted(handled) == sorted(f"message {n}" for n in range(30))
        assert emu.busy(client) == []


async def test_it_follows_a_handler_that_causes_another_event(emu, world):
    """A handler's request dispatches an event whose handler runs after the first one ended."""
    seen: list[str] = []
    client = make_client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        seen.append(message.content)
        if message.content == "ping":
            await message.channel.send("pong")  # MESSAGE_CREATE comes back to the client

    async with running(client):
        await emu.post_message(world.general.id, world.alice.id, "ping")
        await emu.wait_idle(client)
        assert seen == ["ping", "pong"]


async def test_it_fails_loudly_naming_a_handler_or_the_callers_work_still_running(emu, world):
    unstuck = asyncio.Event()
    worker: list[str] = ["worker 'digest' running"]
    client = make_client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        await unstuck.wait()

    async with running(client):
        await emu.post_message(world.general.id, world.alice.id, "hello")
        with pytest.raises(TimeoutError, match=re.escape("task 'discord.py: on_message' running")):
            await emu.wait_idle(client, timeout=0.3)

        unstuck.set()
        with pytest.raises(TimeoutError, match="worker 'digest' running"):
            await emu.wait_idle(client, busy=lambda: worker, timeout=0.3)
        worker.clear()
        await emu.wait_idle(client, busy=lambda: worker)
