"""The command tree with the one global error handler every slash command goes through."""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.errors import UserFacingError

log = logging.getLogger(__name__)


def _user_message(error: app_commands.AppCommandError) -> str | None:
    """The message for an error the user can act on, or None for a bug."""
    original = getattr(error, "original", None)
    if isinstance(original, UserFacingError):
        return str(original)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingAnyRole):
        return "Only moderators can use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"I'm missing the permission(s) {missing} here; a moderator can grant them."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works inside the server."
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid {error.type.name.lower()} here."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    return None


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Answer ``interaction`` privately, whether or not it was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)


class FlywheelTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message = _user_message(error)
        if message is None:
            reference = secrets.token_hex(4)
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "error %s in command %r for user %s",
                reference,
                command,
                interaction.user.id,
                exc_info=getattr(error, "original", error),
            )
            message = (
                "Sorry, something went wrong on my side. Moderators can find it in the logs "
                f"with reference `{reference}`."
            )
        await send_ephemeral(interaction, message)
