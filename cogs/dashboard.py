"""/dashboard: a single-use link to the web dashboard, shown only to the member who asked.

The link carries a token the web redeems once (``WebSignInService``); it is sent with embeds
suppressed so Discord's link preview does not fetch, and so spend, it before the member does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Flywheel
from bot.config import Settings
from bot.outbox import NO_MENTIONS

SIGN_IN = (
    "Your sign-in link to the web dashboard (only you can see this; it works once, for 10 "
    "minutes; don't share it):\n{link}"
)
NOT_SET_UP = (
    "The web dashboard isn't set up in this server. A server admin sets `[web] public_url` "
    "(the address people reach it at) in the bot's config, with `enabled = true` to serve it "
    "from the bot, or runs `python -m bot web` beside it."
)


def sign_in_link(settings: Settings, token: str) -> str:
    base = settings.web.public_url
    assert base is not None
    return f"{base}/sign-in?{urlencode({'token': token})}"


class Dashboard(commands.Cog):
    def __init__(self, bot: Flywheel) -> None:
        self.bot = bot
        self.sign_in = bot.services.web_sign_in

    @app_commands.command(
        name="dashboard", description="A sign-in link to the web dashboard, only for you"
    )
    @app_commands.guild_only()
    async def dashboard(self, interaction: discord.Interaction[Any]) -> None:
        settings = self.bot.settings
        if settings.web.public_url is None:
            await interaction.response.send_message(NOT_SET_UP, ephemeral=True)
            return
        token = await self.sign_in.issue(interaction.user.id)
        await interaction.response.send_message(
            SIGN_IN.format(link=sign_in_link(settings, token)),
            ephemeral=True,
            suppress_embeds=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: Flywheel) -> None:
    await bot.add_cog(Dashboard(bot))
