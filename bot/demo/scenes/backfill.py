"""Demo scene: day one on a community with history. /backfill reads months of #general and
the help forum, and the long-time helpers are on the ladder at once, told by one summary post."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import until
from emulator import Emulator

HELPERS = ("leslie", "shafi", "edsger")
ASKERS = ("lynn", "john", "adele", "annie")


def seed(emu: Emulator, c: SampleCommunity, now: datetime) -> None:
    """Two months of history from before Flywheel was installed (no gateway events)."""
    rows = [
        (c.members[name], f"{name} on day {day}: here is how I set up the release build", at)
        for day in range(10, 70, 2)
        for i, name in enumerate(HELPERS)
        if (at := now - timedelta(days=day, hours=i))
    ]
    emu.seed_history(c.channels["general"], sorted(rows, key=lambda r: r[2]))
    for h, helper in enumerate(HELPERS):
        for a, asker in enumerate(ASKERS):
            opened = now - timedelta(days=12 + 10 * a + h)
            emu.seed_thread(
                c.channels["help"], c.members[asker], f"Question {a + 1} for {helper}", opened,
                content="How do I get this working?", tags=["Solved"], archived=True,
                messages=[
                    {"author": c.members[helper], "content": "Here is what worked for me",
                     "at": opened + timedelta(minutes=20 + h),
                     "reactions": {"✅": [c.members[asker]]}},
                ],
            )  # fmt: skip


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    seed(emu, c, datetime.now(UTC))
    t.step("Day one on a community with history: /backfill credits what the bot would have")
    t.say(
        "#general and the help forum hold two months of history from before Flywheel: "
        + ", ".join(HELPERS)
        + " helped every week and answered four questions each (Solved tag + the asker's ✅)"
    )
    owner = emu.world.guilds[c.guild_id].owner_id
    await emu.invoke_slash_command(
        c.guild_id, c.channels["general"], owner, "backfill start", options={"since": "90d"}
    )

    def finished() -> bool:
        return any("finished" in m.get("content", "") for m in emu.messages(c.channels["general"]))

    await until(finished, within=20)
    await asyncio.sleep(0.3)
    t.say("one summary post instead of an announcement and a DM per member; roles follow")
