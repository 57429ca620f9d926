"""Demo scene: a member thanks the person who just helped them, and the limits say no kindly."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.demo.community import SampleCommunity
from emulator import Emulator


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    m = c.members
    # A channel of its own, so "posted here recently" depends only on this scene.
    channel = emu.guild(c.guild_id).create_text_channel("sync-help").id
    await asyncio.sleep(0.1)

    async def thanks(giver: str, receiver: str, reason: str | None = None) -> None:
        options: dict[str, Any] = {"member": m[receiver]}
        if reason is not None:
            options["reason"] = reason
        record = await emu.invoke_slash_command(c.guild_id, channel, m[giver], "thanks", options)
        await record.wait_answer(timeout=5)

    t.step("/thanks: linus thanks grace for her help in #sync-help")
    await emu.post_message(channel, m["linus"], "Sync fails on Windows with a path error, ideas?")
    await emu.post_message(
        channel, m["grace"], "Use forward slashes in sync.paths; 2.3 fixes the backslash bug."
    )
    t.say("linus asked, grace answered; linus runs /thanks grace with a reason")
    t.say("the reason mentions @everyone, but only grace is pinged")
    await thanks("linus", "grace", "the forward-slash tip fixed it @everyone")
    await asyncio.sleep(0.3)
    t.flush()

    t.step("/thanks refuses, privately and saying why")
    t.say("linus thanks grace a second time today; ken thanks himself; ada thanks margaret,")
    t.say("who hasn't posted in #sync-help")
    await thanks("linus", "grace", "still works!")
    await thanks("ken", "ken")
    await thanks("ada", "margaret", "for the release notes")
    await asyncio.sleep(0.3)
    t.flush()

    t.step("Two friends trade thanks every day: past the pair cap they earn nothing")
    t.say("ken and radia thank each other three days running; from the third day on each")
    t.say("thank-you is still posted, but counts 0 points ([integrity] pair_credits_per_week = 2)")
    for day in range(3):
        if day:
            t.clock.advance(timedelta(days=1))
        for giver, receiver in (("ken", "radia"), ("radia", "ken")):
            await emu.post_message(channel, m[receiver], f"Day {day + 1}: a small sync tip")
            await asyncio.sleep(0.1)
            await thanks(giver, receiver, "great tip")
    await asyncio.sleep(0.3)
    t.flush()
    t.say("a moderator asks for the integrity note (it also goes to the mod log every Monday)")
    note = await emu.invoke_slash_command(
        c.guild_id, channel, c.moderators["morgan"], "integrity", {}
    )
    await note.wait_answer(timeout=5)
    t.flush()
