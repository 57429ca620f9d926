"""Demo scene: a moderator checks the program's health, then exports its numbers as CSV."""

from __future__ import annotations

from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import show
from emulator import Emulator

#: CSV lines quoted in the transcript: the header and the first rows.
CSV_LINES_SHOWN = 6


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    general = c.channels["general"]

    async def slash(user: int, name: str) -> Any:
        record = await emu.invoke_slash_command(c.guild_id, general, user, name, {})
        await record.wait_answer(timeout=10)
        return record

    t.step("Program health: is the ambassador program working?")
    t.say("morgan looks at last month against the program's targets (only morgan sees it)")
    await slash(c.moderators["morgan"], "program health")
    await show(t)

    t.say("riley exports the same numbers for the program's spreadsheet")
    record = await slash(c.moderators["riley"], "program export")
    await show(t)
    message = record.original or {}
    for attachment in message.get("attachments") or []:
        data = emu.world.attachment_blobs.get(int(attachment["id"]), b"")
        lines = data.decode("utf-8-sig").splitlines()
        t.say(f"{attachment['filename']} has {len(lines) - 1} rows; it starts:")
        for line in lines[:CSV_LINES_SHOWN]:
            t.say(f"    {line}")
