"""Small readers over the emulator's records, shared by end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


def bot_posts(emu: Any, channel_id: int) -> list[dict[str, Any]]:
    """Messages the bot posted in a channel, oldest first."""
    return [m for m in emu.messages(channel_id) if m["author"]["id"] == str(emu.bot_user_id)]


def command_syncs(emu: Any) -> list[Any]:
    return [r for r in emu.request_log if r.method == "PUT" and r.path.endswith("/commands")]


async def eventually(
    check: Callable[[], Any], *, within: float = 5.0, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy (the bot reacts asynchronously)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(interval)


async def eventually_async(
    check: Callable[[], Awaitable[Any]], *, within: float = 5.0, interval: float = 0.05
) -> Any:
    """Like :func:`eventually`, for checks that read the store (the bot writes it async)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(interval)


async def slash(emu: Any, community: Any, who: int, name: str, **options: Any) -> Any:
    """``who`` runs ``/name`` in #general."""
    return await emu.invoke_slash_command(
        community.guild_id, community.channels["general"], who, name, options=options
    )


async def private_reply(record: Any, *, within: float = 10) -> dict[str, Any]:
    """The ephemeral answer to an interaction, following a deferral to its edit."""
    body = await record.wait_response(timeout=within)
    assert body["type"] in (4, 5) and body["data"]["flags"] & 64, body
    if body["type"] == 5:  # deferred ("thinking…"): the answer edits that message
        return dict(await record.wait_edit(timeout=within))
    return dict(body["data"])
