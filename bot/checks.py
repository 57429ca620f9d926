"""Who counts as a moderator, checked on the server side for every command and button.

Discord's default member permissions only hide commands in the UI; a member can still invoke
them (or press an old button), so every moderator action checks again here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.config import Settings
from bot.routing import community_of

T = TypeVar("T")

MODERATORS_ONLY = "Only moderators can do that."


def is_moderator(member: discord.abc.User, settings: Settings) -> bool:
    """Manage Server (or Administrator), or one of the configured moderator roles."""
    if not isinstance(member, discord.Member):
        return False
    permissions = member.guild_permissions
    if permissions.manage_guild or permissions.administrator:
        return True
    return any(role.id in settings.moderator_role_ids for role in member.roles)


def moderator_only() -> Callable[[T], T]:
    """App-command check: refuse non-moderators with a clear (ephemeral) message."""

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if is_moderator(interaction.user, community_of(interaction).settings):
            return True
        raise app_commands.CheckFailure(MODERATORS_ONLY)

    return app_commands.check(predicate)
