"""Demo scene: a question in the help forum, a first response, and Mark as answer."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.demo.community import SampleCommunity
from emulator import Emulator

MENU = "Mark as answer"


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    forum = c.channels["help"]
    title = "Cache on another disk?"

    async def mark(who: str, message_id: int) -> None:
        record = await emu.invoke_message_command(
            c.guild_id, thread_id, c.members[who], MENU, message_id=message_id
        )
        await record.wait_answer(timeout=5)

    async def show() -> None:
        """Print what the bot did for this step before the next one starts."""
        await asyncio.sleep(0.3)
        t.flush()

    t.step("A question in the help forum gets answers; the asker marks the one that worked")
    thread, _ = await emu.create_forum_post(
        forum,
        c.members["margaret"],
        title,
        "The cache fills my system disk. Can I move it somewhere else?",
        tags=["Question"],
    )
    thread_id = int(thread["id"])
    if isinstance(getattr(t, "names", None), dict):
        t.names[thread_id] = f"help › {title}"
    ken = await emu.post_message(thread_id, c.members["ken"], "Set cache_dir in the config file.")
    guido = await emu.post_message(
        thread_id, c.members["guido"], "Or symlink ~/.cache/flywheel to the other disk."
    )
    t.say("margaret asks; ken replies first (the time to first response is recorded), then guido")
    t.say("grace, who did not ask, tries Mark as answer on ken's reply; then margaret does")
    await mark("grace", int(ken["id"]))
    await mark("margaret", int(ken["id"]))
    tags = {tag["id"]: tag["name"] for tag in emu.channel(forum)["available_tags"]}
    applied = ", ".join(tags[tag] for tag in emu.channel(thread_id)["applied_tags"])
    t.say(f"the post's tags are now: {applied}")
    await show()

    t.step("The asker changes her mind: the credit moves, visibly")
    t.say("margaret marks guido's reply instead: ken's credit is reversed, guido is credited")
    t.say("then she tries to mark her own question, which is refused")
    await mark("margaret", int(guido["id"]))
    await mark("margaret", thread_id)
    await show()
