"""Members' control over how they appear: opting out of public recognition and leaderboards."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Flywheel
from bot.services.members import MembersService

OPTED_OUT = (
    "Done: you won't be named in recognition posts, spotlights, awards, the newsletter, tier "
    "announcements or leaderboards. Your contributions still count toward your tier. "
    "/privacy optin undoes this."
)
ALREADY_OUT = "You're already opted out of public recognition. /privacy optin undoes this."
OPTED_IN = "Done: you can be named in recognition posts and leaderboards again."
ALREADY_IN = "You're not opted out: you can be named in recognition posts and leaderboards."


class Privacy(commands.Cog):
    privacy = app_commands.Group(
        name="privacy", description="Your data and how you appear", guild_only=True
    )

    def __init__(self, bot: Flywheel) -> None:
        self.bot = bot
        self.members = MembersService(bot.sessions, bot.settings, bot.clock)

    async def _set(self, interaction: discord.Interaction[Any], opt_out: bool) -> bool:
        return await self.members.set_recognition_opt_out(
            interaction.user.id, opt_out, name=interaction.user.display_name
        )

    @privacy.command(name="optout", description="Never name me in public recognition posts")
    async def optout(self, interaction: discord.Interaction[Any]) -> None:
        changed = await self._set(interaction, True)
        await interaction.response.send_message(
            OPTED_OUT if changed else ALREADY_OUT, ephemeral=True
        )

    @privacy.command(name="optin", description="Let recognition posts name me again")
    async def optin(self, interaction: discord.Interaction[Any]) -> None:
        changed = await self._set(interaction, False)
        await interaction.response.send_message(OPTED_IN if changed else ALREADY_IN, ephemeral=True)


async def setup(bot: Flywheel) -> None:
    await bot.add_cog(Privacy(bot))
