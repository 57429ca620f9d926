"""/tiers (the ladder as members see it) and /tier preview (the moderators' what-if report).

``/tier`` is the ladder cog's command group; ``preview`` is added to it here, at load time
(cogs load in alphabetical order, so the group exists by then). Without the ladder cog the
group is created here with ``preview`` alone.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.config import TierConfig
from bot.core.kinds import KindTable
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS
from bot.routing import services_of
from bot.services.ladder import LadderService
from bot.services.ladder_views import build_report, render, requirements
from bot.tree import follow_up

log = logging.getLogger(__name__)

NO_TIERS = "This community has no tiers configured yet."
PREVIEW_CLIPPED = "… ({more} more lines: run `python -m bot tiers preview` for the full report)"


def seats_line(tier: TierConfig, held: int) -> str:
    if tier.seats is None:
        return f"**Members:** {held} (no seat limit)"
    free = max(tier.seats - held, 0)
    return f"**Seats:** {held} of {tier.seats} held, {free} available"


def ladder_embed(
    tiers: tuple[TierConfig, ...], kinds: KindTable, seats_taken: dict[str, int]
) -> discord.Embed:
    embed = discord.Embed(
        title="The ladder",
        description=(
            "Tiers from the first step up. You move up as soon as you meet every requirement; "
            "/profile shows your progress toward the next one."
        ),
        colour=discord.Colour.blurple(),
    )
    for number, tier in enumerate(tiers[:25], start=1):
        lines = [f"**Requirements:** {requirements(tier, kinds)}"]
        if tier.benefits:
            lines.append(f"**Benefits:** {tier.benefits}")
        if tier.commitment:
            lines.append(f"**Commitment:** {tier.commitment}")
        lines.append(seats_line(tier, seats_taken.get(tier.key, 0)))
        if tier.resources:
            lines.append("**Resources:** " + " · ".join(tier.resources))
        value = "\n".join(lines)
        embed.add_field(
            name=f"{number}. {tier.name}",
            value=value if len(value) <= 1024 else value[:1023] + "…",
            inline=False,
        )
    return embed


def for_discord(lines: list[str]) -> list[str]:
    """The plain report for an embed: no blank lines, section titles in bold."""
    return [
        f"**{line}**" if index and not line.startswith(" ") else line
        for index, line in enumerate(lines)
        if line
    ]


def clip_lines(lines: list[str], limit: int = 4000) -> str:
    """Whole lines up to ``limit`` characters, then a note of how many were left out."""
    shown: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > limit:
            shown.append(PREVIEW_CLIPPED.format(more=len(lines) - index))
            break
        shown.append(line)
        size += len(line) + 1
    return "\n".join(shown)


class Tiers(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.ladder = bot.services.ladder

    @app_commands.command(
        name="tiers", description="The ladder: requirements, benefits and seats of every tier"
    )
    @app_commands.guild_only()
    async def tiers(self, interaction: discord.Interaction[Any]) -> None:
        tiers = self.bot.settings.tiers
        if not tiers:
            raise UserFacingError(NO_TIERS)
        seats = await self.ladder.seats_taken()
        await interaction.response.send_message(
            embed=ladder_embed(tiers, self.bot.settings.kinds, seats),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def send_preview(ladder: LadderService, interaction: discord.Interaction[Any]) -> None:
    """The what-if report (same as ``python -m bot tiers preview``), only for who asked."""
    settings = ladder.settings
    if not settings.tiers:
        raise UserFacingError(NO_TIERS)
    # Evaluating every member can take a few seconds in a big server.
    await interaction.response.defer(ephemeral=True, thinking=True)
    report = build_report(await ladder.plan(None))
    guild = interaction.guild

    def name_of(user_id: int) -> str:
        member = guild.get_member(user_id) if guild is not None else None
        return discord.utils.escape_markdown(member.display_name) if member else f"<@{user_id}>"

    lines = render(
        report, name_of=name_of, tier_names={tier.key: tier.name for tier in settings.tiers}
    )
    embed = discord.Embed(
        title="Tier preview (what-if)",
        description=clip_lines(for_discord(lines)),
        colour=discord.Colour.gold(),
    )
    await follow_up(interaction, embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


def preview_command() -> app_commands.Command[Any, ..., None]:
    """``/tier preview``, built per bot (a command belongs to one group)."""

    @app_commands.command(
        name="preview", description="What-if: who would be promoted, warned or demoted right now"
    )
    @moderator_only()
    async def preview(interaction: discord.Interaction[Any]) -> None:
        await send_preview(services_of(interaction).ladder, interaction)

    return preview


def _tier_group(bot: Community) -> tuple[app_commands.Group, bool]:
    """The ``/tier`` group (the ladder cog's) and whether it was created here."""
    existing = bot.tree.get_command("tier", guild=discord.Object(bot.guild_id))
    if isinstance(existing, app_commands.Group):
        return existing, False
    group = app_commands.Group(
        name="tier", description="Members' tiers (moderators)", guild_only=True
    )
    return group, True


async def setup(bot: Community) -> None:
    await bot.add_cog(Tiers(bot))
    group, created = _tier_group(bot)
    group.add_command(preview_command())
    if created:
        bot.tree.add_command(group, guild=discord.Object(bot.guild_id))
