"""Running the bot with its web pages against the emulator, and following a /dashboard link."""

from __future__ import annotations

import re
import socket
from typing import Any

from bot.config import Config, parse_config
from bot.demo.community import EMULATOR_TOKEN, SampleCommunity, community_config
from emulator import Emulator

EPHEMERAL = 64
LINK = re.compile(r"(http://\S+/sign-in\?token=[A-Za-z0-9_\-]+)")


def free_port() -> int:
    """A port the OS says is free now (the web must know its public URL before it binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def web_config(emulator: Emulator, community: SampleCommunity, database_url: str) -> Config:
    port = free_port()
    return parse_config(
        community_config(
            community,
            emulator,
            database_url=database_url,
            web={
                "enabled": True,
                "bind": f"127.0.0.1:{port}",
                "public_url": f"http://127.0.0.1:{port}",
            },
        ),
        env={"DISCORD_TOKEN": EMULATOR_TOKEN},
    )


async def dashboard_link(emulator: Emulator, community: SampleCommunity, user_id: int) -> str:
    """Type /dashboard in #general as ``user_id``; the link from the private reply."""
    record = await emulator.invoke_slash_command(
        community.guild_id, community.channels["general"], user_id, "dashboard"
    )
    body: dict[str, Any] = await record.wait_answer(timeout=5)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL, body
    match = LINK.search(str(body["data"]["content"]))
    assert match, body["data"]["content"]
    return match.group(1)
