"""Demo scene: the weekly recognition post with its spotlight, then the monthly newsletter."""

from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.demo.community import SampleCommunity
from bot.demo.scenes import seen, show, tier_of, until
from emulator import Emulator

CHART_COPY = Path(tempfile.gettempdir()) / "flywheel-demo-newsletter-chart.png"


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    general = c.channels["general"]

    async def slash(user: int, name: str, **options: Any) -> None:
        record = await emu.invoke_slash_command(c.guild_id, general, user, name, options)
        await record.wait_answer(timeout=10)

    t.step("Recognition: a spotlight nomination, the weekly post, and a member who opts out")
    t.say("linus would rather not be named in public; morgan nominates grace for the spotlight")
    await slash(c.members["linus"], "privacy optout")
    await slash(
        c.moderators["morgan"],
        "spotlight nominate",
        member=c.members["grace"],
        reason="Turned three unanswered forum threads into a troubleshooting guide",
    )
    await show(t)
    t.clock.advance(timedelta(hours=1))
    t.say("an hour later, morgan previews the weekly recognition (only morgan sees it), then")
    t.say("posts it now")
    t.say("(on its own it goes out every Monday at 10:00; a period is never posted twice)")
    await slash(c.moderators["morgan"], "recognition preview")
    await slash(c.moderators["morgan"], "recognition send")
    await show(t)

    t.step("A month later: the monthly newsletter, with its chart and DMs to subscribers")
    now = t.clock.now()
    first_of_next = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
    t.clock.set(datetime.combine(first_of_next.date(), time(9, 0), tzinfo=now.tzinfo))
    t.say(f"the clock moves to {t.clock.now():%A %d %B %Y %H:%M}: the newsletter is due")
    tier = tier_of(emu, c, "katherine")
    if tier:
        t.say(f"katherine, a {tier}, subscribes to the newsletter by DM")
    else:
        t.say("katherine asks for the newsletter by DM; it is for tier members, and under your")
        t.say("config's rules she has no tier yet")
    await slash(c.members["katherine"], "newsletter subscribe")
    await show(t)
    t.say("riley posts it now with /newsletter send (it posts itself at the scheduled time too)")
    await slash(c.moderators["riley"], "newsletter send")
    posts = await until(lambda: _newsletters(emu, c.channels["announcements"]), within=10)
    await seen(lambda: emu.dms(c.members["katherine"]), within=5)
    await show(t)
    if not posts[-1].get("attachments"):
        t.say("(no chart: it is off in your config, newsletter.chart = false)")
        return
    url = posts[-1]["attachments"][0]["url"]
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        CHART_COPY.write_bytes(await response.read())
    t.say(f"the newsletter's chart of daily activity is saved at {CHART_COPY}")


def _newsletters(emu: Emulator, channel_id: int) -> list[dict[str, Any]]:
    return [
        m
        for m in emu.messages(channel_id)
        if m["author"]["id"] == str(emu.bot_user_id)
        and any(e.get("title", "").startswith("Monthly newsletter") for e in m.get("embeds", []))
    ]
