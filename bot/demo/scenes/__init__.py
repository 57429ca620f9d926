"""Demo scenes: each feature plays a short stretch of community life on the emulator.

A scene is ``async def scene(emu, community, transcript)``; ``bot.demo`` plays them in order
and prints what the bot did after each one. A scene that depends on what the config's rules
let happen (a member promoted earlier) also has ``skipped(emu, community, transcript)``, which
returns why it cannot play this time, or None: the demo says so instead of waiting in vain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def seen(check: Callable[[], Any], within: float = 5.0) -> Any:
    """``check()``'s first truthy result while the bot reacts (asynchronously), else None."""
    for _ in range(int(within / 0.05)):
        result = check()
        if result:
            return result
        await asyncio.sleep(0.05)
    return None


async def until(check: Callable[[], Any], within: float = 5.0) -> Any:
    """Like :func:`seen`, for what the scene cannot go on without."""
    result = await seen(check, within)
    if not result:
        raise TimeoutError("the bot did not react in time")
    return result


async def press(emu: Any, card: dict[str, Any], user_id: int, custom_id_prefix: str) -> Any:
    """Press the button on ``card`` whose custom id starts with ``custom_id_prefix``."""
    button = next(
        b["custom_id"]
        for row in card["components"]
        for b in row["components"]
        if b["custom_id"].startswith(custom_id_prefix)
    )
    record = await emu.click_button(card, user_id, button)
    await record.wait_answer(timeout=5)
    return record


async def show(t: Any) -> None:
    """Print what the bot did for this step before the next one starts."""
    await asyncio.sleep(0.3)
    t.flush()


def tier_of(emu: Any, community: Any, member: str) -> str | None:
    """The name of the highest tier ``member`` holds now (None: no tier), read from her roles."""
    roles = set(emu.member_roles(community.guild_id, community.members[member]))
    held = [key for key, role in community.tier_role_ids.items() if role in roles]
    return held[-1].replace("_", " ").title() if held else None
