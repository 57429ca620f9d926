"""The newsletter's staff copy: the month's program health and its CSV, in the mod log.

A step of the newsletter's schedule entry (``cogs/recognition.py``), run right after the
newsletter is posted, so moderators read how the program did next to what members read.
"""

from __future__ import annotations

import io

import discord

from bot.client import Flywheel
from bot.core.embeds import paginate
from bot.core.health import render_health
from bot.core.periods import Period
from bot.posting import to_embed


async def post_staff_copy(bot: Flywheel, period: Period, newsletter_url: str) -> bool:
    """Page by page; stops at the first page the mod log refuses (the outbox logs why)."""
    report, text, filename = await bot.services.health.export()
    pages = paginate(render_health(report))
    for number, page in enumerate(pages, start=1):
        posted = await bot.outbox.mod_log(
            (
                f"**Staff copy** of the newsletter for {period.label} "
                f"({newsletter_url}): how the program is doing against its targets."
            )
            if number == 1
            else "",
            embeds=[to_embed(spec) for spec in page],
            files=[discord.File(io.BytesIO(text.encode("utf-8")), filename=filename)]
            if number == len(pages)
            else [],
        )
        if not posted:
            return False
    return True
