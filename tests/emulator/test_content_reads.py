"""MESSAGE_CONTENT governs REST reads of message history too, as Discord documents it.

Without the intent approved for the app, a read of someone else's message returns it with
``content``, ``embeds``, ``attachments`` and ``components`` empty; the bot's own messages, DMs
and messages that mention the bot stay whole. Start-up recovery (reading back the bot's own
posts) and a history backfill depend on exactly this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from emulator import Emulator, intents, permissions

TOKEN = "emulator-token"


@dataclass
class Reads:
    emu: Emulator
    channel_id: int
    alice_id: int

    async def get(self, path: str) -> Any:
        headers = {"Authorization": f"Bot {TOKEN}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.get(f"{self.emu.api_base}{path}") as response,
        ):
            assert response.status == 200, await response.text()
            return await response.json()


async def reads_with(privileged: int) -> AsyncIterator[Reads]:
    emu = Emulator(bot_token=TOKEN, bot_name="Flywheel", privileged_intents=privileged)
    await emu.start()
    try:
        guild = emu.create_guild("Community", owner_name="owner")
        guild.add_bot(roles=[guild.create_role("Flywheel", permissions=permissions.ADMINISTRATOR)])
        channel = guild.create_text_channel("general")
        alice = guild.add_member("alice")
        yield Reads(emu, channel.id, alice.id)
    finally:
        await emu.stop()


@pytest.fixture
async def without_intent() -> AsyncIterator[Reads]:
    async for reads in reads_with(intents.GUILD_MEMBERS | intents.GUILD_PRESENCES):
        yield reads


@pytest.fixture
async def with_intent() -> AsyncIterator[Reads]:
    async for reads in reads_with(intents.PRIVILEGED):
        yield reads


def whole(message: dict[str, Any], content: str) -> bool:
    return message["content"] == content


def emptied(message: dict[str, Any]) -> bool:
    return (
        message["content"] == ""
        and message["embeds"] == []
        and message["attachments"] == []
        and message["components"] == []
    )


async def test_without_the_intent_others_messages_are_read_empty(without_intent: Reads):
    emu, channel = without_intent.emu, without_intent.channel_id
    secret = await emu.post_message(channel, without_intent.alice_id, "the secret plan")
    mention = await emu.post_message(
        channel, without_intent.alice_id, f"<@{emu.bot_user_id}> can you help?"
    )
    history = {m["id"]: m for m in await without_intent.get(f"/channels/{channel}/messages")}
    one = await without_intent.get(f"/channels/{channel}/messages/{secret['id']}")

    assert emptied(history[secret["id"]]) and emptied(one)
    assert history[secret["id"]]["author"]["id"] == str(without_intent.alice_id)
    assert whole(history[mention["id"]], f"<@{emu.bot_user_id}> can you help?")


async def test_the_bots_own_messages_and_dms_stay_whole(without_intent: Reads):
    emu, channel = without_intent.emu, without_intent.channel_id
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(
            f"{emu.api_base}/channels/{channel}/messages", json={"content": "ref abc123"}
        ) as posted,
    ):
        own = await posted.json()
    dm = await emu.post_dm(without_intent.alice_id, "hello bot")

    [read_own] = [
        m for m in await without_intent.get(f"/channels/{channel}/messages") if m["id"] == own["id"]
    ]
    assert whole(read_own, "ref abc123")
    read_dm = await without_intent.get(f"/channels/{dm['channel_id']}/messages/{dm['id']}")
    assert whole(read_dm, "hello bot")


async def test_with_the_intent_every_message_is_read_whole(with_intent: Reads):
    emu, channel = with_intent.emu, with_intent.channel_id
    secret = await emu.post_message(channel, with_intent.alice_id, "the secret plan")
    one = await with_intent.get(f"/channels/{channel}/messages/{secret['id']}")
    assert whole(one, "the secret plan")
