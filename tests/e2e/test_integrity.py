"""Collusion end to end: two members thanking each other daily, through /thanks.

The thank-yous are posted as always; past the pair cap they carry no points, and the weekly
integrity note in the mod log names the pair.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.contributions import PAIR_CAPPED
from tests.e2e.test_thanks import posted, thank, thanks_credits
from tests.e2e.util import bot_posts

pytestmark = pytest.mark.e2e


async def test_a_pair_thanking_each_other_daily_stops_counting_and_is_noted(
    flywheel, emulator, community, clock
):
    m, general = community.members, community.channels["general"]
    ada, grace = m["ada"], m["grace"]
    for day in range(3):
        if day:
            clock.advance(timedelta(days=1))
        for giver, receiver in ((ada, grace), (grace, ada)):
            await posted(flywheel, emulator, general, receiver, f"day {day}: how I fixed it")
            _, response = await thank(emulator, community, general, giver, receiver)
            assert response["data"]["content"] == f"🙏 <@{giver}> thanked <@{receiver}>!"

    credits = await thanks_credits(flywheel)
    assert [(c.user_id, c.points) for c in credits] == [
        (grace, 2), (ada, 2), (grace, 2), (ada, 2), (grace, 0), (ada, 0)
    ]  # fmt: skip
    assert credits[-1].reason == PAIR_CAPPED.format(cap=2)

    assert await flywheel.bot.get_cog("Integrity").post_note() is True
    [text] = [
        p["content"]
        for p in bot_posts(emulator, community.channels["mod-log"])
        if p["content"].startswith("🔎 **Integrity note**")
    ]
    assert f"<@{min(ada, grace)}> ⇄ <@{max(ada, grace)}>: 3 and 3" in text
    # A note for people to look at: it pings nobody.
    [post] = [p for p in bot_posts(emulator, community.channels["mod-log"]) if p["content"] == text]
    assert post["mentions"] == []
