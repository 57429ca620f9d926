"""``/program``: how the ambassador program is doing, for moderators.

``/program health`` shows the report (``HealthService`` + ``bot.core.health``) as private embeds;
``/program export`` sends the same numbers as a CSV file, privately, for spreadsheets. Both are
read-only, so they are safe to run at any time.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.core.embeds import paginate
from bot.core.health import render_health
from bot.outbox import NO_MENTIONS
from bot.posting import to_embed
from bot.tree import follow_up

log = logging.getLogger(__name__)


class Program(commands.Cog):
    program = app_commands.Group(
        name="program", description="Program health and its numbers (moderators)", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.health

    @program.command(name="health", description="How the program is doing against its targets")
    @moderator_only()
    async def health(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.service.report()
        pages = paginate(
            render_health(report),
            footer=lambda i, n: f"Only you see this · part {i} of {n}" if n > 1 else "",
        )
        for page in pages:
            # Members are shown as mentions so moderators can click through; nobody is pinged.
            await follow_up(
                interaction,
                embeds=[to_embed(spec) for spec in page],
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )

    @program.command(name="export", description="The health numbers as a CSV file")
    @moderator_only()
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report, text, filename = await self.service.export()
        await follow_up(
            interaction,
            f"Program health numbers for {report.period_label} and {report.previous_label}: "
            "one row per metric per period (metric, period, value, target, status), then the "
            "weekly, cohort, tier-movement and group tables. Only you see this.",
            file=discord.File(io.BytesIO(text.encode("utf-8")), filename=filename),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: Community) -> None:
    await bot.add_cog(Program(bot))
