"""Demo scene: members chat; real messages count towards their active days, noise doesn't.

Activity is tracked silently (no message from the bot), so the narration says what counted and
why, using the same text rule the bot applies (with the default settings).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.core.activity import ActivityRules, text_qualifies
from bot.demo.community import SampleCommunity
from emulator import Emulator

_DEFAULTS = ActivityRules()


def _verdict(text: str) -> str:
    reason = text_qualifies(text, _DEFAULTS.min_length)
    return "counts" if reason is None else f"doesn't count: {reason}"


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    general = c.channels["general"]

    t.step("Members chat in #general; Flywheel counts real messages into daily activity")
    chat = [
        ("ada", "Has anyone benchmarked the new sync engine on a big monorepo?"),
        ("grace", "Yes, about three times faster once the cache was warm."),
        ("ken", "lol"),
        ("radia", "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥"),
        ("dennis", "hahahahahahahahahahaha"),
        ("frances", "<@{grace}> https://example.com/benchmarks"),
    ]
    for name, template in chat:
        text = template.format(grace=c.members["grace"])
        await emu.post_message(general, c.members[name], text)
        shown = template.replace("<@{grace}>", "@grace")
        t.say(f"{name}: {shown!r} ({_verdict(text)})")

    await emu.post_message(general, c.members["grace"], "And --dry-run shows what it would sync.")
    t.say(
        "grace again, seconds later: a good message, but inside the "
        f"{_DEFAULTS.cooldown_seconds} s cooldown, so it doesn't count (no farming by bursts)"
    )

    oops = await emu.post_message(general, c.members["margaret"], "Release is out today, enjoy!")
    await asyncio.sleep(0.1)
    await emu.delete_message(general, oops["id"])
    t.say(
        "margaret posts, then deletes it a moment later: deleted within "
        f"{_DEFAULTS.uncount_deleted_within_seconds // 60} minutes, so it is taken back"
    )
    t.say(
        "the bot says nothing: ada's and grace's messages go into one rollup row per member "
        "and day, written in batches every half second; the day's point follows once the "
        "message is past the 5-minute window in which deleting it takes it back"
    )
    await asyncio.sleep(0.3)
    t.flush()
