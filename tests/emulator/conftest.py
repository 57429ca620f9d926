"""Fixtures: a started emulator with discord.py pointed at it, a demo world, and a
helper that runs an unmodified discord.py client against it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import discord.gateway
import discord.http
import pytest
import yarl

from emulator import Emulator, GuildHandle, permissions
from emulator.world import Channel, Member, Role

TOKEN = "emulator-token"
#: The identify window (Discord: 5 s) scaled down so tests that re-identify stay quick; clients
#: that re-identify wait this long first, as discord.py waits 5 s against Discord.
IDENTIFY_WINDOW = 0.2


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(
        bot_token=TOKEN,
        bot_name="Flywheel",
        heartbeat_interval=500,
        identify_window=IDENTIFY_WINDOW,
    )
    await emulator.start()
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = emulator.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
    try:
        yield emulator
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
        await emulator.stop()


@dataclass
class DemoWorld:
    guild: GuildHandle
    bot_role: Role
    mod_role: Role
    top_role: Role
    member_role: Role
    general: Channel
    announcements: Channel
    secret: Channel
    forum: Channel
    voice: Channel
    stage: Channel
    owner: Member
    alice: Member
    bob: Member
    shy: Member


@pytest.fixture
def world(emu: Emulator) -> DemoWorld:
    g = emu.create_guild("Demo Community", owner_name="owner")
    member_role = g.create_role("Member", permissions=0, position=1)
    mod_role = g.create_role("Moderator", permissions=permissions.MANAGE_MESSAGES, position=2)
    bot_role = g.create_role(
        "Flywheel",
        permissions=permissions.MANAGE_ROLES
        | permissions.MANAGE_CHANNELS
        | permissions.MANAGE_GUILD,
        position=10,
    )
    top_role = g.create_role("Admin", permissions=permissions.ADMINISTRATOR, position=20)
    g.add_bot(roles=[bot_role])
    category = g.create_category("Community")
    general = g.create_text_channel("general", category=category, topic="chat")
    announcements = g.create_announcement_channel("announcements")
    secret = g.create_text_channel(
        "secret",
        overwrites={
            g.everyone: (0, permissions.VIEW_CHANNEL),
            bot_role: (0, permissions.VIEW_CHANNEL),
        },
    )
    forum = g.create_forum_channel("help", tags=["Solved", "Question"])
    voice = g.create_voice_channel("Lounge")
    stage = g.create_stage_channel("Town Hall")
    alice = g.add_member("alice", roles=[member_role])
    bob = g.add_member("bob")
    shy = g.add_member("shy", accepts_dms=False)
    return DemoWorld(
        guild=g,
        bot_role=bot_role,
        mod_role=mod_role,
        top_role=top_role,
        member_role=member_role,
        general=general,
        announcements=announcements,
        secret=secret,
        forum=forum,
        voice=voice,
        stage=stage,
        owner=g.owner,
        alice=alice,
        bob=bob,
        shy=shy,
    )


class ScaledClient(discord.Client):
    """discord.py waits 5 s (Discord's identify window) before a non-initial IDENTIFY; against
    the fixture's scaled-down window it waits that instead, so a test that starts a second
    client (and gets op 9, as a second process would from Discord) is not held up 5 s."""

    async def before_identify_hook(self, shard_id, *, initial=False):
        if not initial:
            await asyncio.sleep(IDENTIFY_WINDOW)


def make_client(intents: discord.Intents | None = None, **kwargs) -> discord.Client:
    kwargs.setdefault("guild_ready_timeout", 0.05)
    return ScaledClient(intents=intents or discord.Intents.all(), **kwargs)


@contextlib.asynccontextmanager
async def running(client: discord.Client, token: str = TOKEN, timeout: float = 10.0):  # noqa: ASYNC109
    """Log in, connect in the background, wait for READY; always close cleanly."""
    task: asyncio.Task | None = None
    try:
        await client.login(token)
        task = asyncio.create_task(client.connect(reconnect=True))
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # surface the connection error
            raise TimeoutError("discord.py client never became ready")
        yield client
    finally:
        await client.close()
        if task is not None:
            with contextlib.suppress(
                asyncio.CancelledError, discord.ConnectionClosed, TimeoutError
            ):
                await asyncio.wait_for(task, 5)
