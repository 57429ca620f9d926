"""/nominate, /nominations and the nomination card: Discord glue around NominationService.

The card's buttons, the rejection form and what follows a decision are the shared review-card
flow (``bot.review_card``); :class:`NominationReview` is what nominations bring to it. Reasons
are user text: every message goes out with no allowed mentions, and only the nominee's DM names
anyone (it is sent to them).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.core.text import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_TITLE_LIMIT,
    clip,
    day_label,
    with_article,
)
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS, member_name
from bot.review_card import CardState, Notice, review_buttons
from bot.services.nominations import (
    REASON_MAX,
    REASON_MIN,
    Decided,
    NominationInfo,
    NominationService,
    Nominee,
)
from bot.tree import follow_up

STATUS_COLOURS = {
    "pending": discord.Colour.gold(),
    "approved": discord.Colour.green(),
    "rejected": discord.Colour.red(),
    "withdrawn": discord.Colour.light_grey(),
}
DM_FAILED = "Couldn't DM the nominee (they don't accept DMs from the bot)."
LIST_LIMIT = 20
STATUS_CHOICES = ("pending", "approved", "rejected", "all")


class NominationReview:
    """Nominations on the shared review card.

    Approving may promote (roles, an announcement), so the click is acknowledged first; the
    nominee hears of an approval, the nominator (if someone else) of a rejection.
    """

    key = "nomination"
    noun = "nomination"
    reason_label = "Reason (shown on the card and to nominator)"
    reason_min, reason_max = REASON_MIN, REASON_MAX
    approval_is_slow = True

    def __init__(self, service: NominationService) -> None:
        self.service = service

    async def check(self, record_id: int, moderator_id: int) -> Decided:
        return await self.service.check_decidable(record_id, moderator_id)

    async def approve(self, record_id: int, moderator_id: int) -> Decided:
        return await self.service.approve(record_id, moderator_id)

    async def reject(self, record_id: int, moderator_id: int, reason: str) -> Decided:
        return await self.service.reject(record_id, moderator_id, reason)

    async def waiting(self) -> list[Decided]:
        return [Decided(n, decided_now=False) for n in await self.service.pending_without_card()]

    async def current(self, record_id: int) -> Decided | None:
        try:
            return await self.service.outcome(record_id)
        except UserFacingError:
            return None  # no such nomination any more

    async def card_posted(self, record_id: int, channel_id: int, message_id: int) -> None:
        await self.service.card_posted(record_id, channel_id, message_id)

    def state(self, decision: Decided) -> CardState:
        nomination = decision.nomination
        return CardState(
            record_id=nomination.id,
            status=nomination.status,
            decided_now=decision.decided_now,
            decided_by=nomination.decided_by,
            decided_at=nomination.decided_at,
            channel_id=nomination.review_channel_id,
            message_id=nomination.review_message_id,
        )

    def _status(self, guild: discord.Guild | None, decided: Decided) -> str:
        nomination = decided.nomination
        by = member_name(guild, nomination.decided_by)
        nominee = member_name(guild, nomination.nominee_id)
        if nomination.status == "pending":
            return "Waiting for a moderator"
        if nomination.status == "rejected":
            return f"Rejected by {by}: {nomination.decision_note or ''}"
        if nomination.status == "approved":
            if decided.outcome == "promoted" or nomination.applied_at is not None:
                return f"Approved by {by}: {nominee} is now {with_article(nomination.tier_name)}."
            text = (
                f"Approved by {by}. Recorded: it applies as soon as {nominee} meets the "
                f"{nomination.tier_name} minimums."
            )
            if decided.missing:
                text += "\nStill missing: " + "; ".join(decided.missing)
            return text
        return f"{nomination.status.capitalize()}."

    def card(
        self, guild: discord.Guild | None, decision: Decided, *, note: str = ""
    ) -> dict[str, Any]:
        nomination = decision.nomination
        nominee = member_name(guild, nomination.nominee_id)
        embed = discord.Embed(
            title=clip(f"{nominee} for {nomination.tier_name}", EMBED_TITLE_LIMIT),
            colour=STATUS_COLOURS.get(nomination.status),
        )
        embed.add_field(name="Nominee", value=f"<@{nomination.nominee_id}>")
        embed.add_field(name="Tier", value=nomination.tier_name)
        embed.add_field(name="Nominated by", value=f"<@{nomination.nominated_by}>")
        embed.add_field(
            name="Reason", value=clip(nomination.reason, EMBED_FIELD_LIMIT), inline=False
        )
        status = self._status(guild, decision)
        if note:
            status += f"\n{note}"
        embed.description = clip(status, EMBED_DESCRIPTION_LIMIT)
        embed.set_footer(text=f"Nomination #{nomination.id}")
        return {
            "content": f"Nomination of {nominee} for {nomination.tier_name} to review",
            "embed": embed,
            "view": review_buttons(self.key, nomination.id)
            if nomination.status == "pending"
            else None,
            "allowed_mentions": NO_MENTIONS,
        }

    def notice(
        self, guild: discord.Guild | None, decision: Decided, moderator_id: int
    ) -> Notice | None:
        nomination = decision.nomination
        if nomination.status == "approved":
            return Notice(nomination.nominee_id, _approved_text(decision), unreachable=DM_FAILED)
        if nomination.nominated_by == moderator_id:
            return None
        nominee = member_name(guild, nomination.nominee_id)
        return Notice(
            nomination.nominated_by,
            f"Your nomination of {nominee} for {nomination.tier_name} (#{nomination.id}) was not "
            f"approved by {member_name(guild, moderator_id)}: "
            f"{nomination.decision_note or 'no reason given'}",
        )


def _approved_text(decided: Decided) -> str:
    tier = discord.utils.escape_markdown(decided.nomination.tier_name)
    text = f"🎉 You were nominated for {tier}, and the moderators approved it."
    if decided.outcome == "promoted":
        return f"{text} Congratulations, you're now {with_article(tier)}!"
    text += f" It takes effect as soon as you meet the {tier} minimums"
    if decided.missing:
        text += " (still missing: " + "; ".join(decided.missing) + ")"
    return f"{text}. /profile shows your progress."


class Nominations(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.nominations
        self.review = NominationReview(self.service)

    async def cog_load(self) -> None:
        self.bot.reviews.register(self.review)

    async def cog_unload(self) -> None:
        self.bot.reviews.unregister(self.review.key)

    # ------------------------------------------------------------------ /nominate
    async def tier_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.casefold()
        return [
            app_commands.Choice(name=tier.name, value=tier.key)
            for tier in self.bot.settings.tiers
            if typed in tier.name.casefold() or typed in tier.key
        ][:25]

    @app_commands.command(name="nominate", description="Nominate a member for a tier")
    @app_commands.describe(
        member="Who you nominate",
        tier="The tier you nominate them for",
        reason="Why; shown to the moderators on the review card",
    )
    @app_commands.autocomplete(tier=tier_names)
    @app_commands.guild_only()
    @moderator_only()
    async def nominate(
        self,
        interaction: discord.Interaction[Any],
        member: discord.User,
        tier: str,
        reason: app_commands.Range[str, REASON_MIN, REASON_MAX],
    ) -> None:
        nomination = await self.service.nominate(
            Nominee(
                user_id=member.id,
                name=discord.utils.escape_markdown(member.display_name),
                is_bot=member.bot,
                in_guild=isinstance(member, discord.Member),
            ),
            tier,
            nominated_by=interaction.user.id,
            reason=reason,
        )
        # Posting the card is a REST call that may be slow; acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        who = member_name(interaction.guild, nomination.nominee_id)
        posted = await self.bot.reviews.post_card(
            interaction.guild, self.review, Decided(nomination, decided_now=False)
        )
        if posted:
            text = (
                f"Nominated {who} for {nomination.tier_name} (#{nomination.id}); "
                "the card is in the review channel."
            )
        else:
            text = (
                f"The nomination of {who} for {nomination.tier_name} (#{nomination.id}) was "
                "saved, but I couldn't post its card: channels.review is misconfigured."
            )
        await follow_up(interaction, text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ------------------------------------------------------------------ /nominations
    @app_commands.command(name="nominations", description="List nominations")
    @app_commands.describe(status="Which nominations (pending if left out)")
    @app_commands.choices(
        status=[app_commands.Choice(name=s.capitalize(), value=s) for s in STATUS_CHOICES]
    )
    @app_commands.guild_only()
    @moderator_only()
    async def nominations(
        self, interaction: discord.Interaction[Any], status: str = "pending"
    ) -> None:
        rows = await self.service.listing(None if status == "all" else status)
        await interaction.response.send_message(
            embed=self._listing(interaction.guild, status, rows),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    def _listing(
        self, guild: discord.Guild | None, status: str, rows: list[NominationInfo]
    ) -> discord.Embed:
        what = "" if status == "all" else f"{status} "
        embed = discord.Embed(
            title=f"Nominations: {status}", colour=STATUS_COLOURS.get(status, discord.Colour.gold())
        )
        if not rows:
            embed.description = f"No {what}nominations."
            return embed
        lines = [self._line(guild, row) for row in rows[:LIST_LIMIT]]
        if len(rows) > LIST_LIMIT:
            lines.append(f"… and {len(rows) - LIST_LIMIT} more")
        embed.description = clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT)
        return embed

    def _line(self, guild: discord.Guild | None, row: NominationInfo) -> str:
        state = row.status
        if row.status == "approved":
            state = "approved, applied" if row.applied_at else "approved, waiting for minimums"
        line = (
            f"**#{row.id}** <@{row.nominee_id}> for {row.tier_name} — {state}; "
            f"by {member_name(guild, row.nominated_by)} on "
            f"{day_label(row.created_at, self.bot.settings.schedule.tz)}: {clip(row.reason, 80)}"
        )
        if row.review_channel_id and row.review_message_id and guild is not None:
            line += (
                f" ([card](https://discord.com/channels/{guild.id}/{row.review_channel_id}/"
                f"{row.review_message_id}))"
            )
        return line


async def setup(bot: Community) -> None:
    await bot.add_cog(Nominations(bot))
