"""The weekly integrity note in the mod log (``[integrity]``, ``schedule.integrity_note``), and
``/integrity`` for a moderator who wants to look now."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.config import WEEKDAYS
from bot.outbox import NO_MENTIONS
from bot.scheduling import Recurring
from bot.tree import follow_up

log = logging.getLogger(__name__)

NOTE_JOB_ID = "integrity-note"


class Integrity(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.integrity

    async def cog_load(self) -> None:
        at = self.bot.settings.schedule.integrity_note
        cron = {"day_of_week": WEEKDAYS[at.weekday], "hour": at.time.hour, "minute": at.time.minute}
        self.bot.schedule.add(Recurring(NOTE_JOB_ID, self.post_note, cron=cron))

    async def cog_unload(self) -> None:
        self.bot.schedule.remove(NOTE_JOB_ID)

    @app_commands.command(
        name="integrity", description="Members who credited each other this week (moderators)"
    )
    @app_commands.guild_only()
    @moderator_only()
    async def integrity(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.service.weekly_note()
        threshold = self.bot.settings.integrity.reciprocal_threshold
        quiet = (
            "Nothing to look at: in the last 7 days no members credited each other "
            f"{threshold} times or more each (thanks, accepted answers)."
        )
        await follow_up(interaction, text or quiet, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def post_note(self) -> bool:
        """Post the week's note if there is something to look at; True if posted."""
        text = await self.service.weekly_note()
        if text is None:
            log.info("integrity: no reciprocal pairs or rings this week")
            return False
        return await self.bot.outbox.mod_log(text)


async def setup(bot: Community) -> None:
    await bot.add_cog(Integrity(bot))
