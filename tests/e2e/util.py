"""Readers over the emulator's records and the waiting helpers (polling, the idle barrier)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from db.models import Member
from emulator import Emulator


def bot_posts(emu: Any, channel_id: int) -> list[dict[str, Any]]:
    """Messages the bot posted in a channel, oldest first."""
    return [m for m in emu.messages(channel_id) if m["author"]["id"] == str(emu.bot_user_id)]


def command_syncs(emu: Any) -> list[Any]:
    return [r for r in emu.request_log if r.method == "PUT" and r.path.endswith("/commands")]


async def eventually(
    check: Callable[[], Any], *, within: float = 5.0, interval: float = 0.05
) -> Any:
    """Poll ``check`` (plain or async) until it returns something truthy, and return that.

    The bot reacts asynchronously; this is the one polling helper of the test suite.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(interval)


async def members_synced(bot: Any, user_ids: Iterable[int]) -> None:
    """Wait for the start-up sync of the members table: the ladder evaluates known members."""
    wanted = set(user_ids)

    async def synced() -> bool:
        async with bot.services.sessions() as session:
            return wanted <= set(await session.scalars(select(Member.user_id)))

    await eventually(synced)


async def settled(emu: Emulator, bot: Any, *, within: float = 10.0) -> None:
    """Wait until nothing more happens unless the test acts, or fail naming what stayed busy.

    Use it before checking that something did *not* happen: a fixed sleep passes vacuously
    when the bot is slow. Quiet means the emulator has no frame unsent and no request in flight,
    the bot has read every event and runs no handler, and no task it spawned is running.
    """

    def spawned() -> list[str]:
        backgrounds = [bot.background] + [c.services.background for c in bot.communities]
        return [f"background task {t.get_name()!r}" for b in backgrounds for t in b.pending]

    await emu.wait_idle(bot, busy=spawned, timeout=within)


async def slash(emu: Any, community: Any, who: int, name: str, **options: Any) -> Any:
    """``who`` runs ``/name`` in #general."""
    return await emu.invoke_slash_command(
        community.guild_id, community.channels["general"], who, name, options=options
    )


async def private_reply(record: Any, *, within: float = 10) -> dict[str, Any]:
    """The ephemeral answer to an interaction, wherever a deferral put it."""
    body = await record.wait_answer(timeout=within)
    assert body["type"] == 4 and body["data"]["flags"] & 64, body
    return dict(body["data"])


async def private_text(record: Any) -> str:
    """The text of the ephemeral answer (a refusal, a confirmation)."""
    return str((await private_reply(record))["content"])
