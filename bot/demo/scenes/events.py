"""Demo scene: a community call: RSVPs, who really attended, and credit for the host.

Attendance is voice time, timed by the bot's clock, so the scene moves the demo's clock
(``t.clock``) to let the call last.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.demo.community import SampleCommunity
from emulator import Emulator


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c, m, gid = community, community.members, community.guild_id
    voice = c.channels["events"]

    t.step("A community call: RSVPs, voice attendance and host credit")
    call = await emu.create_scheduled_event(
        gid,
        m["ada"],
        "Community call",
        datetime.now(UTC) + timedelta(hours=1),
        channel_id=voice,
    )
    for name in ("grace", "linus", "margaret", "ken", "radia"):
        await emu.event_add_user(gid, call.id, m[name])
    t.say("ada scheduled 'Community call' in #community-calls; 5 members marked it interested")
    await asyncio.sleep(0.2)

    await emu.start_scheduled_event(gid, call.id)
    await asyncio.sleep(0.2)
    for name in ("grace", "linus", "margaret", "dennis"):
        await emu.voice_join(gid, m[name], voice)
    await emu.voice_join(gid, m["ken"], voice, self_mute=True, self_deaf=True)
    await emu.voice_join(gid, m["frances"], voice)
    t.say("the call started: grace, linus, margaret and dennis joined the voice channel;")
    t.say("ken joined muted and deafened; frances dropped in too")
    await asyncio.sleep(0.2)
    t.clock.advance(timedelta(minutes=4))
    await emu.voice_leave(gid, m["frances"])
    t.say("frances left after 4 minutes (10 are needed to count); radia never came")
    await asyncio.sleep(0.2)
    t.clock.advance(timedelta(minutes=41))
    await emu.end_scheduled_event(gid, call.id)
    t.say("45 minutes in, ada ended the event: the bot settles it once and tells moderators")
    await asyncio.sleep(0.3)
    t.flush()

    t.step("/event report: a moderator compares RSVPs with attendance")
    report = await emu.invoke_slash_command(
        gid, c.channels["general"], c.moderators["morgan"], "event report", {"event": str(call.id)}
    )
    await report.wait_answer(timeout=5)
    t.say("morgan asked for the report; only morgan sees it")
