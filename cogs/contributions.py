"""/contribution submit, add and remove: members send evidence, moderators correct the ledger.

/contribution submit is for the kinds a server defines with ``credited = "review"`` (a talk, a
case study…): the link goes to the review card /share uses, and approval credits the kind.
Each moderator correction is answered privately and written to the mod log as one line saying
who did what and why. Names are plain text and nothing pings: reasons and notes are people's
own text.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.kind_choices import chosen_kind, key_of, kind_choices
from bot.outbox import NO_MENTIONS, member_name
from bot.services.adjustments import (
    MAX_POINTS,
    REASON_MAX,
    REASON_MIN,
    MemberRef,
)
from bot.tree import follow_up
from cogs.content import ContentReview, send_for_review

log = logging.getLogger(__name__)

MOD_LOG_FAILED = (
    "Recorded, but I couldn't write it to the mod log (channels.mod_log): "
    "check my permissions there."
)


class Contributions(commands.Cog):
    contribution = app_commands.Group(
        name="contribution",
        description="Submit a contribution for review; moderators correct the ledger",
        guild_only=True,
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.adjustments

    async def _audit(self, interaction: discord.Interaction[Any], line: str) -> None:
        """One line in the mod log; if it can't be posted, the moderator is told privately."""
        if await self.bot.outbox.mod_log(line):
            return
        try:
            await follow_up(interaction, MOD_LOG_FAILED, ephemeral=True)
        except discord.HTTPException:
            log.warning("contributions: could not tell the moderator either")

    @contribution.command(name="add", description="Add (or take away) points, with a reason")
    @app_commands.describe(
        member="Who the points are for",
        kind="What kind of contribution",
        points=f"Points, -{MAX_POINTS} to {MAX_POINTS} (negative takes points away)",
        reason="Why; it is kept with the points and shown in the mod log",
    )
    @moderator_only()
    async def add(
        self,
        interaction: discord.Interaction[Any],
        member: discord.User,
        kind: str,
        points: app_commands.Range[int, -MAX_POINTS, MAX_POINTS],
        reason: app_commands.Range[str, REASON_MIN, REASON_MAX],
    ) -> None:
        kind = chosen_kind(self.bot.settings.kinds, kind).key
        entry = await self.service.add(
            actor_id=interaction.user.id,
            member=MemberRef(
                user_id=member.id,
                in_guild=isinstance(member, discord.Member),
                is_bot=member.bot,
            ),
            kind=kind,
            points=points,
            reason=reason,
            request_id=interaction.id,
        )
        guild = interaction.guild
        who, actor = member_name(guild, entry.user_id), member_name(guild, interaction.user.id)
        await interaction.response.send_message(
            f"Recorded {entry.points:+d} {entry.kind} for {who} as contribution #{entry.id}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await self._audit(
            interaction,
            f"{actor} added {entry.points:+d} {entry.kind} to {who} (#{entry.id}): {entry.reason}",
        )

    @contribution.command(name="remove", description="Cancel a contribution, with a reason")
    @app_commands.rename(contribution_id="id")
    @app_commands.describe(
        contribution_id="The contribution's number (#123)",
        reason="Why; it is kept with the removal and shown in the mod log",
    )
    @moderator_only()
    async def remove(
        self,
        interaction: discord.Interaction[Any],
        contribution_id: app_commands.Range[int, 1],
        reason: app_commands.Range[str, REASON_MIN, REASON_MAX],
    ) -> None:
        removal = await self.service.remove(
            actor_id=interaction.user.id, contribution_id=contribution_id, reason=reason
        )
        guild = interaction.guild
        original, reversal = removal.original, removal.reversal
        who, actor = member_name(guild, original.user_id), member_name(guild, interaction.user.id)
        await interaction.response.send_message(
            f"Removed contribution #{original.id} ({original.points:+d} {original.kind} of "
            f"{who}); the reversal is #{reversal.id}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await self._audit(
            interaction,
            f"{actor} removed #{original.id} ({original.points:+d} {original.kind} of {who}) "
            f"as #{reversal.id}: {reversal.reason}",
        )

    @add.autocomplete("kind")
    async def _any_kind(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return kind_choices(self.bot.settings.kinds, current, name=lambda row: row.one.capitalize())

    @contribution.command(
        name="submit", description="Send evidence of a contribution (a talk, a case study…)"
    )
    @app_commands.describe(
        kind="What you did (the kinds this server credits on review)",
        evidence="A link that shows it: the recording, the article, the post",
        note="A line for the moderators (optional)",
    )
    async def submit(
        self,
        interaction: discord.Interaction[Any],
        kind: str,
        evidence: str,
        note: str | None = None,
    ) -> None:
        content = self.bot.services.content
        result = await content.submit(
            author_id=interaction.user.id,
            kind=key_of(content.reviewed_kinds(), kind),
            evidence=evidence,
            note=note,
        )
        review = self.bot.reviews.kind(ContentReview.key)
        assert isinstance(review, ContentReview), "the content cog registers the card"
        await send_for_review(self.bot, interaction, review, result)

    @submit.autocomplete("kind")
    async def _reviewed_kind(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return kind_choices(self.bot.services.content.reviewed_kinds(), current)


async def setup(bot: Community) -> None:
    await bot.add_cog(Contributions(bot))
