"""``/thanks member [reason]``: a public thank-you in the channel, pinging only the receiver."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.community import Community
from bot.errors import UserFacingError
from bot.interaction_gate import PUBLIC_ANSWER
from bot.outbox import only
from bot.services.thanks import (
    AlreadyHandled,
    GiveThanks,
    ThanksGiven,
    ThanksRefused,
)

log = logging.getLogger(__name__)


def thank_you(given: ThanksGiven) -> str:
    text = f"🙏 <@{given.giver_id}> thanked <@{given.receiver_id}>"
    return f"{text}: {given.reason}" if given.reason else f"{text}!"


class Thanks(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.thanks

    @app_commands.command(
        name="thanks",
        description="Thank a member who helped you here",
        extras=PUBLIC_ANSWER,  # a slow store defers publicly: the thank-you replaces "thinking"
    )
    @app_commands.describe(member="Who helped you", reason="What they did (optional)")
    @app_commands.guild_only()
    async def thanks(
        self, interaction: discord.Interaction, member: discord.User, reason: str | None = None
    ) -> None:
        if interaction.guild_id != self.bot.guild_id or interaction.channel_id is None:
            raise UserFacingError("Thanks only work in the community server.")
        channel = interaction.channel
        parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
        outcome = await self.service.give(
            GiveThanks(
                interaction_id=interaction.id,
                giver_id=interaction.user.id,
                receiver_id=member.id,
                receiver_is_bot=member.bot,
                receiver_in_guild=isinstance(member, discord.Member),
                channel_id=interaction.channel_id,
                parent_channel_id=parent_id,
                reason=reason,
            ),
        )
        if isinstance(outcome, ThanksRefused):
            raise UserFacingError(outcome.refusal.message)
        if isinstance(outcome, AlreadyHandled):
            log.info("thanks: interaction %s was already recorded (replayed)", interaction.id)
            return
        await interaction.response.send_message(
            # The receiver is pinged; the giver and anything in the reason are not.
            thank_you(outcome),
            allowed_mentions=only(outcome.receiver_id),
        )


async def setup(bot: Community) -> None:
    await bot.add_cog(Thanks(bot))
