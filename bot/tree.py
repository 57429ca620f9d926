"""The command tree with the one global error handler every slash command goes through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.interaction_gate import opens_form
from bot.routing import community_of

CogT = TypeVar("CogT", bound=commands.Cog)

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()

#: How long a slash command waits for its server's start-up member sync (the interaction
#: gate acknowledges for it meanwhile); 100,000 members take a few seconds.
MEMBER_SYNC_WAIT_SECONDS = 30.0
STARTING_UP = (
    "Flywheel is still starting up: it is reading this server's member list. Try again in a minute."
)


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
        return _not_usable(error)
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    return None


def _not_usable(error: app_commands.TransformerError) -> str:
    """Why an option's value was refused, naming it the way the user picked it."""
    name = getattr(error.value, "name", None)
    shown = discord.utils.escape_markdown(str(name)) if name else "That value"
    kind = error.type
    if kind is discord.AppCommandOptionType.user:
        # A user who left, or was never here: the option asks for a member of this server.
        return f"{shown} isn't a member of this server, so they can't be picked here."
    if kind is discord.AppCommandOptionType.channel:
        return f"{shown} isn't a channel this command can use."
    if kind is discord.AppCommandOptionType.role:
        return f"{shown} isn't a role this command can use."
    return f"{shown} isn't a valid {kind.name.replace('_', ' ')} here."


#: Discord's answer to a follow-up once the interaction token's 15 minutes are over.
TOKEN_EXPIRED = 50027
LATE_NOTE = (
    "This took longer than Discord keeps a command open (15 minutes), so here is the answer by DM."
)


async def follow_up(
    interaction: discord.Interaction[Any], content: str | None = None, **message: Any
) -> None:
    """The answer to a deferred command; past the token's 15 minutes, the same answer by DM.

    Long work (a report, an export) can outlive the interaction token: Discord then refuses
    the follow-up (401, 50027) and the answer would be lost. It goes to the member's DMs
    instead, with a note why; a member who doesn't accept DMs is logged.
    """
    try:
        if content is None:
            await interaction.followup.send(**message)
        else:
            await interaction.followup.send(content, **message)
        return
    except discord.HTTPException as exc:
        if exc.code != TOKEN_EXPIRED:
            raise
    message.pop("ephemeral", None)
    message.setdefault("allowed_mentions", NONE)
    for file in [message.get("file"), *message.get("files", ())]:
        if isinstance(file, discord.File):
            file.reset(seek=True)  # the refused follow-up may have read it
    text = LATE_NOTE if content is None else f"{content}\n\n{LATE_NOTE}"
    log.info("interaction %s: the token expired; answering by DM", interaction.id)
    try:
        await interaction.user.send(text if len(text) <= 2000 else content, **message)
    except discord.HTTPException as exc:
        log.warning("could not DM %s the answer to a late command: %s", interaction.user.id, exc)


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Answer ``interaction`` privately, whether or not it was already acknowledged."""
    try:
        if interaction.response.is_done():
            await follow_up(interaction, content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)


def apology(reference: str) -> str:
    return (
        "Sorry, something went wrong on my side. Moderators can find it in the logs "
        f"with reference `{reference}`."
    )


@contextlib.asynccontextmanager
async def handled(interaction: discord.Interaction[Any], action: str) -> AsyncIterator[None]:
    """The tree's error policy for button and form callbacks, which bypass ``on_error``.

    A user error is shown privately; an interaction that can no longer be answered (a replay,
    40060) is logged; a bug is logged with a reference and the user gets the apology.
    """
    try:
        yield
    except UserFacingError as exc:
        await send_ephemeral(interaction, str(exc))
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s while %s: %s", interaction.id, action, exc)
    except Exception:
        reference = secrets.token_hex(4)
        log.exception("error %s while %s for user %s", reference, action, interaction.user.id)
        await send_ephemeral(interaction, apology(reference))


class FlywheelTree(app_commands.CommandTree):
    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """A slash command waits for its server's start-up member sync.

        Until it has run, the members table may miss who joined while the bot was away (on a
        first start it holds no one): ``/nps send`` would survey nobody, without a word.
        Autocomplete cannot wait (it has no deferral) and shows the table as it is; nor can a
        command that opens a form (a form cannot follow the gate's deferral; its submission is
        not held back either).
        """
        if (
            interaction.guild_id is None
            or interaction.type is not discord.InteractionType.application_command
            or opens_form(interaction.command)
        ):
            return True
        try:
            synced = community_of(interaction).members_synced
        except LookupError:
            return True
        if synced.is_set():
            return True
        try:
            await asyncio.wait_for(synced.wait(), MEMBER_SYNC_WAIT_SECONDS)
        except TimeoutError:
            await send_ephemeral(interaction, STARTING_UP)
            return False
        return True

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
            message = apology(reference)
        await send_ephemeral(interaction, message)


def loaded_cog(interaction: discord.Interaction[Any], cog_type: type[CogT]) -> CogT:
    """The loaded cog of ``cog_type``, for a persistent button or form (they hold no state)."""
    cog = community_of(interaction).get_cog(cog_type.__cog_name__)
    if not isinstance(cog, cog_type):
        raise RuntimeError(f"the {cog_type.__cog_name__} cog is not loaded")
    return cog
