"""Demo scene: newcomers arrive through invites; the bot works out who brought whom.

Invite tracking is silent (the bot only reads invite counts), so the narration says what the
bot recorded. The inviter is credited later, once the newcomer has stayed and taken part.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.demo.community import SampleCommunity
from emulator import Emulator

#: The demo server's vanity URL (discord.gg/flywheel-hq), set before the bot starts.
VANITY_CODE = "flywheel-hq"


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c, m, gid = community, community.members, community.guild_id
    general = c.channels["general"]

    t.step("Invites: who brought whom")
    adas = await emu.create_invite(general, m["ada"])
    await emu.member_join(gid, "hopper", invite_code=adas.code)
    await asyncio.sleep(0.3)
    t.say("ada shared an invite and hopper joined through it: the bot saw its use count rise")
    t.say("and recorded ada as hopper's referrer, credited once hopper has stayed 7 days")
    t.say("and been active")

    graces = await emu.create_invite(general, m["grace"])
    await emu.member_join(gid, "pat", invite_code=graces.code)
    await emu.member_join(gid, "sam", invite_code=adas.code)
    await asyncio.sleep(0.3)
    t.say("pat (grace's invite) and sam (ada's) joined at the same moment: both counts rose")
    t.say("before the bot looked, so pat's join is recorded as ambiguous and sam's as unknown;")
    t.say("neither credits anyone: a wrong credit is worse than a missed one")

    await emu.member_join(gid, "wanderer")
    await asyncio.sleep(0.3)
    t.say("wanderer came in through no invite the bot can see: recorded as unknown")

    await emu.member_join(gid, "visitor", invite_code=VANITY_CODE)
    await asyncio.sleep(0.3)
    t.say(f"visitor came through the server's vanity URL (discord.gg/{VANITY_CODE}): its use")
    t.say("count rose, so the join is recorded as a vanity join, credited to nobody")
