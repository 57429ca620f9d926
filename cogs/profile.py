"""/profile and /leaderboard: contributions as members see them.

/profile also shows the ladder: progress toward the next tier (each criterion met ✓ or missing ✗)
and, to the member themself and to moderators only, whether their tier is at risk.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator
from bot.community import Community
from bot.config import Settings
from bot.core.kinds import KindTable
from bot.errors import UserFacingError
from bot.interaction_gate import PUBLIC_ANSWER
from bot.kind_choices import chosen_kind, kind_choices
from bot.outbox import NO_MENTIONS
from bot.routing import services_of
from bot.services.ladder_views import Outlook, outlook
from bot.services.stats import PERIODS, LeaderboardPage, Period, Profile, StatsService

log = logging.getLogger(__name__)

PERIOD_LABELS: dict[Period, str] = {"week": "7 days", "month": "30 days", "all": "all time"}
BOARD_TITLES: dict[Period, str] = {
    "week": "the last 7 days",
    "month": "the last 30 days",
    "all": "all time",
}
ALL_KINDS = "all"
EVERY_KIND = app_commands.Choice(name="All contributions", value=ALL_KINDS)
NO_BOT_PROFILES = "Bots don't have profiles."
NOT_YOUR_BOARD = "Run /leaderboard to get your own."


def profile_embed(member: discord.Member, profile: Profile, kinds: KindTable) -> discord.Embed:
    tier = profile.tier_name or "No tier yet"
    if profile.tier_name and profile.tier_since:
        tier += f" (since {discord.utils.format_dt(profile.tier_since, 'D')})"
    active = " · ".join(f"{PERIOD_LABELS[p]}: {profile.active_days[p]}" for p in PERIODS)
    points = " · ".join(f"{PERIOD_LABELS[p]}: {profile.points(p)}" for p in PERIODS)
    embed = discord.Embed(
        title=f"{member.display_name}'s contributions",
        description=(
            f"{member.mention}\n**Tier:** {tier}\n**Active days:** {active}\n**Points:** {points}"
        ),
        colour=discord.Colour.blurple(),
    )
    for kind in profile.kinds:
        lines = []
        for period in PERIODS:
            totals = profile.totals[period].get(kind)
            count, pts = (totals.count, totals.points) if totals else (0, 0)
            lines.append(f"{PERIOD_LABELS[period].capitalize()}: **{count}** ({pts} pts)")
        embed.add_field(name=kinds.label(kind), value="\n".join(lines), inline=True)
    if not profile.kinds:
        embed.add_field(name="Contributions", value="No contributions yet.", inline=False)
    return embed


def tier_name(settings: Settings, key: str | None) -> str:
    for tier in settings.tiers:
        if tier.key == key:
            return tier.name
    return key or "no tier"


def outlook_lines(view: Outlook, settings: Settings, *, show_risk: bool) -> list[str]:
    """Progress toward the next tier, and (when ``show_risk``) the at-risk warning."""
    progress = view.progress
    lines: list[str] = []
    if progress.next is None:
        if progress.current is not None:
            current = tier_name(settings, progress.current)
            lines.append(f"**Ladder:** top of the ladder, no tier above {current}.")
    else:
        head = f"**Toward {tier_name(settings, progress.next)}:** "
        missing = len(progress.missing)
        if not progress.criteria:
            lines.append(head + "no requirements; promotion at the next evaluation.")
        elif missing == 0:
            lines.append(head + "every criterion is met; promotion at the next evaluation.")
        else:
            lines.append(head + f"{missing} of {len(progress.criteria)} criteria missing")
        lines += [f"• {criterion.describe()}" for criterion in progress.criteria]
    if show_risk and progress.at_risk:
        current = tier_name(settings, progress.current)
        due = progress.demotion_due_at
        when = f" on {discord.utils.format_dt(due, 'D')}" if due is not None else ""
        lines.append(f"⚠️ **At risk:** {current} would be lost{when} unless this changes.")
        lines += [f"• {criterion.describe()}" for criterion in view.below]
        lines.append("Taking a break? A moderator can grant a leave of absence.")
    return lines


def leaderboard_embed(board: LeaderboardPage, kinds: KindTable) -> discord.Embed:
    what = kinds.label(board.kind).lower() if board.kind else "all contributions"
    embed = discord.Embed(
        title=f"Leaderboard: {BOARD_TITLES[board.period]}",
        colour=discord.Colour.gold(),
    )
    if board.rows:
        lines = []
        for row in board.rows:
            unit = "point" if row.points == 1 else "points"
            line = f"**{row.rank}.** <@{row.user_id}> — {row.points} {unit}"
            if board.kind:
                line += f" ({row.count})"
            lines.append(line)
        embed.description = f"*{what.capitalize()}*\n" + "\n".join(lines)
    elif board.page == 0:
        embed.description = (
            f"No {what} in {BOARD_TITLES[board.period]} yet. "
            "Answer a question or thank a helper and this board starts filling up!"
        )
    else:
        embed.description = "No more members on this page."
    embed.set_footer(text=f"Page {board.page + 1}")
    return embed


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"flywheel:leaderboard:(?P<period>week|month|all):(?P<kind>[a-z_]+)"
    r":(?P<page>[0-9]{1,4}):(?P<owner>[0-9]+):(?P<direction>prev|next)",
):
    """Previous/Next: the state lives in the custom id, so old boards keep paging."""

    def __init__(
        self, *, period: Period, kind: str, page: int, owner: int, direction: str, enabled: bool
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label="Previous" if direction == "prev" else "Next",
                style=discord.ButtonStyle.secondary,
                disabled=not enabled,
                custom_id=f"flywheel:leaderboard:{period}:{kind}:{page}:{owner}:{direction}",
            )
        )
        self.period, self.kind, self.page, self.owner = period, kind, page, owner

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(
            period=cast(Period, match["period"]),
            kind=match["kind"],
            page=int(match["page"]),
            owner=int(match["owner"]),
            direction=match["direction"],
            enabled=True,
        )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner:
            await interaction.response.send_message(NOT_YOUR_BOARD, ephemeral=True)
            return False
        return True

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            kinds = services_of(interaction).settings.kinds
            if self.kind != ALL_KINDS and kinds.find(self.kind) is None:
                raise LookupError(f"cannot page leaderboard {self.custom_id!r}")
            stats = services_of(interaction).stats
            embed, view = await leaderboard_page(
                stats, kinds, interaction, self.period, self.kind, self.page
            )
            await interaction.response.edit_message(
                embed=embed, view=view, allowed_mentions=NO_MENTIONS
            )
        except Exception:
            log.exception("leaderboard paging failed for %s", interaction.user.id)
            if not interaction.response.is_done():
                await interaction.response.send_message(
                    "Sorry, I couldn't turn the page. Run /leaderboard again.", ephemeral=True
                )


async def leaderboard_page(
    stats: StatsService,
    kinds: KindTable,
    interaction: discord.Interaction,
    period: Period,
    kind: str,
    page: int,
) -> tuple[discord.Embed, discord.ui.View]:
    """One page of the leaderboard, with buttons to turn it (only for who asked)."""
    guild = interaction.guild
    shown = await stats.leaderboard(
        period,
        None if kind == ALL_KINDS else kind,
        page,
        is_present=lambda user_id: guild is not None and guild.get_member(user_id) is not None,
    )
    return leaderboard_embed(shown, kinds), page_buttons(shown, kind, interaction.user.id)


def page_buttons(board: LeaderboardPage, kind: str, owner: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for direction, page, enabled in (
        ("prev", max(board.page - 1, 0), board.page > 0),
        ("next", board.page + 1, board.has_more),
    ):
        view.add_item(
            PageButton(
                period=board.period,
                kind=kind,
                page=page,
                owner=owner,
                direction=direction,
                enabled=enabled,
            )
        )
    return view


class Profiles(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.stats = bot.services.stats

        self.ladder = bot.services.ladder

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(PageButton)

    @app_commands.command(name="profile", description="Contributions, active days and tier")
    @app_commands.describe(member="Whose profile to show (yours if left out)")
    @app_commands.guild_only()
    async def profile(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        target = member or interaction.user
        if target.bot:
            raise UserFacingError(NO_BOT_PROFILES)
        assert isinstance(target, discord.Member)
        profile = await self.stats.profile(target.id)
        embed = profile_embed(target, profile, self.bot.settings.kinds)
        view = await outlook(self.ladder, target.id)
        if view is not None:
            own = target.id == interaction.user.id
            show_risk = own or is_moderator(interaction.user, self.bot.settings)
            lines = outlook_lines(view, self.bot.settings, show_risk=show_risk)
            embed.description = "\n".join([embed.description or "", *lines])[:4096]
        await interaction.response.send_message(
            embed=embed,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(
        name="leaderboard", description="Who contributed most", extras=PUBLIC_ANSWER
    )
    @app_commands.describe(period="Which stretch of time", kind="Only one kind of contribution")
    @app_commands.choices(
        period=[app_commands.Choice(name=f"Last {v}" if p != "all" else "All time", value=p)
                for p, v in PERIOD_LABELS.items()],
    )  # fmt: skip
    @app_commands.guild_only()
    async def leaderboard(
        self, interaction: discord.Interaction, period: str = "month", kind: str = ALL_KINDS
    ) -> None:
        kinds = self.bot.settings.kinds
        if kind != ALL_KINDS:
            kind = chosen_kind(kinds, kind).key
        embed, view = await leaderboard_page(
            self.stats, kinds, interaction, cast(Period, period), kind, 0
        )
        await interaction.response.send_message(
            embed=embed, view=view, allowed_mentions=NO_MENTIONS
        )

    @leaderboard.autocomplete("kind")
    async def _kinds(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return kind_choices(self.bot.settings.kinds, current, first=(EVERY_KIND,))


async def setup(bot: Community) -> None:
    bot.add_dynamic_items(PageButton)
    await bot.add_cog(Profiles(bot))
