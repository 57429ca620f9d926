"""Demo scene: a member's contributions cross the first tier's thresholds; the ladder promotes her.

With the sample tiers, Champion takes 50 points and 3 accepted answers in 90 days, and activity
in 2 different weeks. The emulator stamps new messages with the real time, so katherine's post
from last week is replayed with last week's timestamp; everything else happens now. The last
contribution (a moderator's mentoring credit) makes the ladder re-evaluate her at once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import seen
from emulator import Emulator
from emulator.snowflake import time_snowflake

MENU = "Mark as answer"
HELPER = "katherine"
QUESTIONS = (
    ("donald", "Sync stalls at 99%", "It always hangs on the last file.", "Exclude the lock file."),
    ("sophie", "Proxy settings?", "Where do I set an HTTP proxy?", "Use the proxy key in config."),
    ("bjarne", "Windows paths", "Backslashes break my ignore file.", "Use forward slashes there."),
)


def _post_earlier(
    emu: Emulator, channel_id: int, author_id: int, text: str, ago: timedelta
) -> None:
    """A message written ``ago`` (real time, as the emulator's ids carry it), delivered now."""
    channel = emu.world.channels[channel_id]
    message_id = time_snowflake(datetime.now(UTC) - ago) | 0x5A5
    emu.ops.send_message(channel, author_id, {"content": text}, message_id=message_id)


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    if not c.tier_role_ids:
        t.step("The ladder: no tiers are configured, so nobody moves up")
        return
    first_key, role = next(iter(c.tier_role_ids.items()))
    first = first_key.replace("_", " ").title()
    general, forum, gid = c.channels["general"], c.channels["help"], c.guild_id
    helper = c.members[HELPER]

    async def show() -> None:
        """Print what the bot did for this step before the next one starts."""
        await asyncio.sleep(0.3)
        t.flush()

    t.step(f"The ladder: katherine's contributions cross the {first} thresholds")
    _post_earlier(
        emu,
        general,
        helper,
        "Wrote up how I profile the sync engine: flame graphs first, then the hot loop.",
        timedelta(days=7),
    )
    await emu.post_message(
        general, helper, "Profiling notes, part two: the cache layer is now twice as fast."
    )
    t.say("a week ago katherine shared her profiling notes in #general (replayed with last")
    t.say("week's date); today she posts part two: she has been active in two different weeks")

    for asker, title, question, answer in QUESTIONS:
        thread, _ = await emu.create_forum_post(
            forum, c.members[asker], title, question, tags=["Question"]
        )
        thread_id = int(thread["id"])
        if isinstance(getattr(t, "names", None), dict):
            t.names[thread_id] = f"help › {title}"
        reply = await emu.post_message(thread_id, helper, answer)
        record = await emu.invoke_message_command(
            gid, thread_id, c.members[asker], MENU, message_id=int(reply["id"])
        )
        await record.wait_answer(timeout=5)
    t.say("donald, sophie and bjarne each mark katherine's reply as the answer:")
    t.say("3 accepted answers, 30 points; the ladder looks at her after each one")
    await show()

    t.step("A moderator credits her mentoring, and the ladder looks at her again at once")
    # Her activity is counted in batches: let the last one land before the final credit.
    await asyncio.sleep(1.0)
    record = await emu.invoke_slash_command(
        gid,
        general,
        c.moderators["riley"],
        "contribution add",
        {
            "member": helper,
            "kind": "mentoring",
            "points": 20,
            "reason": "Ran two onboarding sessions for newcomers",
        },
    )
    await record.wait_answer(timeout=5)
    t.say("riley records +20 points for katherine's mentoring sessions: 50 points now")
    if await seen(lambda: role in emu.member_roles(gid, helper)):
        await seen(lambda: emu.dms(helper))
        t.say(f"every {first} criterion is met: the bot gives her the {first} role, announces")
        t.say("it in #announcements (pinging only her) and DMs her the welcome, benefits and")
        t.say("commitment")
    else:
        t.say(f"katherine doesn't meet every {first} criterion of this configuration yet,")
        t.say("so the ladder keeps her where she is")
    await show()
