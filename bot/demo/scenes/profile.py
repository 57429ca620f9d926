"""Demo scene: members look at their standing with /profile and /leaderboard."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.demo.community import SampleCommunity
from emulator import Emulator


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    general = c.channels["general"]

    async def answered(asker: str, helper: str, question: str) -> None:
        thread, _ = await emu.create_forum_post(
            c.channels["help"], c.members[asker], question, f"{question} Thanks in advance!"
        )
        thread_id = int(thread["id"])
        if isinstance(getattr(t, "names", None), dict):
            t.names[thread_id] = f"help › {question}"
        reply = await emu.post_message(thread_id, c.members[helper], "Here's how I did it: ...")
        record = await emu.invoke_message_command(
            c.guild_id, thread_id, c.members[asker], "Mark as answer", message_id=reply["id"]
        )
        await record.wait_answer(timeout=5)

    async def slash(user: str, name: str, **options: Any) -> None:
        record = await emu.invoke_slash_command(c.guild_id, general, c.members[user], name, options)
        await record.wait_answer(timeout=5)

    t.step("Members check their standing with /profile and /leaderboard")
    t.say("frances answers dennis's and alan's questions, tim answers hedy's")
    await answered("dennis", "frances", "How do I run the tests offline?")
    await answered("alan", "frances", "Where do plugins go?")
    await answered("hedy", "tim", "Can I change the log format?")
    await asyncio.sleep(0.3)
    t.flush()
    t.say("frances looks at her profile (only she sees it); tim posts the 30-day leaderboard")
    await slash("frances", "profile")
    await slash("tim", "leaderboard", period="month")
    await asyncio.sleep(0.3)
    t.flush()
