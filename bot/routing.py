"""Which server's program an interaction belongs to (see :mod:`bot.community`).

Persistent buttons, forms and app-command checks are shared by every server's cogs: they find
their server's program from the interaction, here, rather than from a cog instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.community import Community
    from bot.services.container import Services


def community_of(interaction: discord.Interaction[Any], guild_id: int | None = None) -> Community:
    """The community of the interaction's guild, or of ``guild_id`` for a DM button that
    names its server (in a DM Discord names no guild)."""
    find = getattr(interaction.client, "community", None)
    if find is None:
        raise TypeError("Flywheel's components only run in the Flywheel bot")
    community: Community = find(interaction.guild_id or guild_id)
    return community


def services_of(interaction: discord.Interaction[Any], guild_id: int | None = None) -> Services:
    """The program's services, for a persistent button or form that outlives its message."""
    return community_of(interaction, guild_id).services
