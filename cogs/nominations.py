"""/nominate, /nominations and the nomination card: Discord glue around NominationService.

The card's buttons are DynamicItems whose custom ids carry the nomination id, and the rejection
form is answered from its own custom id, so a card keeps working after a restart. Reasons are
user text: every message goes out with no allowed mentions, and only the nominee's DM names
anyone (it is sent to them).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATORS_ONLY, is_moderator, moderator_only
from bot.client import Flywheel
from bot.review_card import ReviewButton, reason_form, rejection_reason, review_buttons
from bot.services.nominations import (
    REASON_MAX,
    REASON_MIN,
    Decided,
    NominationInfo,
    Nominee,
)
from bot.tree import handled

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
STATUS_COLOURS = {
    "pending": discord.Colour.gold(),
    "approved": discord.Colour.green(),
    "rejected": discord.Colour.red(),
    "withdrawn": discord.Colour.light_grey(),
}
DM_FAILED = "Couldn't DM the nominee (they don't accept DMs from the bot)."
LIST_LIMIT = 20
STATUS_CHOICES = ("pending", "approved", "rejected", "all")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_article(name: str) -> str:
    """ "a Champion", "an Ambassador"."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


class Nominations(commands.Cog):
    review_kind = "nomination"

    def __init__(self, bot: Flywheel) -> None:
        self.bot = bot
        self.service = bot.services.nominations

    # ------------------------------------------------------------------ rendering
    def _name(self, guild: discord.Guild | None, user_id: int | None) -> str:
        """A member's display name as plain text; a (non-pinging) mention if unknown."""
        member = guild.get_member(user_id) if guild is not None and user_id else None
        if member is None:
            return f"<@{user_id}>"
        return discord.utils.escape_markdown(member.display_name)

    def _day(self, when: datetime) -> str:
        local = when.astimezone(self.bot.settings.schedule.tz)
        return f"{local.day} {local:%b %Y}"

    def _status(self, guild: discord.Guild | None, decided: Decided) -> str:
        nomination = decided.nomination
        by = self._name(guild, nomination.decided_by)
        nominee = self._name(guild, nomination.nominee_id)
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

    def _card(
        self, guild: discord.Guild | None, decided: Decided, *, note: str = ""
    ) -> dict[str, Any]:
        """Message fields for the review card in its current state."""
        nomination = decided.nomination
        nominee = self._name(guild, nomination.nominee_id)
        embed = discord.Embed(
            title=_clip(f"{nominee} for {nomination.tier_name}", 256),
            colour=STATUS_COLOURS.get(nomination.status),
        )
        embed.add_field(name="Nominee", value=f"<@{nomination.nominee_id}>")
        embed.add_field(name="Tier", value=nomination.tier_name)
        embed.add_field(name="Nominated by", value=f"<@{nomination.nominated_by}>")
        embed.add_field(name="Reason", value=_clip(nomination.reason, 1024), inline=False)
        status = self._status(guild, decided)
        if note:
            status += f"\n{note}"
        embed.description = _clip(status, 4096)
        embed.set_footer(text=f"Nomination #{nomination.id}")
        return {
            "content": f"Nomination of {nominee} for {nomination.tier_name} to review",
            "embed": embed,
            "view": review_buttons("nomination", nomination.id)
            if nomination.status == "pending"
            else None,
            "allowed_mentions": NO_MENTIONS,
        }

    def _already_decided(self, guild: discord.Guild | None, nomination: NominationInfo) -> str:
        when = self._day(nomination.decided_at) if nomination.decided_at else "earlier"
        return (
            f"Already {nomination.status} by {self._name(guild, nomination.decided_by)} on {when}."
        )

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
        who = self._name(interaction.guild, nomination.nominee_id)
        if await self._post_card(interaction.guild, nomination):
            text = (
                f"Nominated {who} for {nomination.tier_name} (#{nomination.id}); "
                "the card is in the review channel."
            )
        else:
            text = (
                f"The nomination of {who} for {nomination.tier_name} (#{nomination.id}) was "
                "saved, but I couldn't post its card: channels.review is misconfigured."
            )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _post_card(self, guild: discord.Guild | None, nomination: NominationInfo) -> bool:
        channel_id = self.bot.settings.channels.review
        channel = guild.get_channel(channel_id) if guild is not None else None
        if not isinstance(channel, discord.TextChannel):
            log.error(
                "nominations: channels.review (%s) is not a text channel the bot can see; "
                "nomination #%s is waiting without a review card",
                channel_id,
                nomination.id,
            )
            return False
        try:
            message = await channel.send(**self._card(guild, Decided(nomination, False)))
        except discord.HTTPException as exc:
            log.error(
                "nominations: could not post the card of nomination #%s in channels.review "
                "(#%s, %s): %s. Give the bot View Channel, Send Messages and Embed Links there; "
                "waiting cards are posted at the next start",
                nomination.id,
                channel.name,
                channel_id,
                exc,
            )
            return False
        await self.service.card_posted(nomination.id, channel.id, message.id)
        return True

    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        """Post the cards that could not be posted before (e.g. the permission is fixed now)."""
        for nomination in await self.service.pending_without_card():
            if not await self._post_card(guild, nomination):
                return

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
        embed.description = _clip("\n".join(lines), 4096)
        return embed

    def _line(self, guild: discord.Guild | None, row: NominationInfo) -> str:
        state = row.status
        if row.status == "approved":
            state = "approved, applied" if row.applied_at else "approved, waiting for minimums"
        line = (
            f"**#{row.id}** <@{row.nominee_id}> for {row.tier_name} — {state}; "
            f"by {self._name(guild, row.nominated_by)} on {self._day(row.created_at)}: "
            f"{_clip(row.reason, 80)}"
        )
        if row.review_channel_id and row.review_message_id and guild is not None:
            line += (
                f" ([card](https://discord.com/channels/{guild.id}/{row.review_channel_id}/"
                f"{row.review_message_id}))"
            )
        return line

    # ------------------------------------------------------------------ decisions
    async def _refuse(self, interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def approve_clicked(
        self, interaction: discord.Interaction[Any], nomination_id: int
    ) -> None:
        async with handled(interaction, f"approving nomination #{nomination_id}"):
            if not is_moderator(interaction.user, self.bot.settings):
                await self._refuse(interaction, MODERATORS_ONLY)
                return
            state = await self.service.check_decidable(nomination_id, interaction.user.id)
            if not state.decided_now:
                await self._refuse(
                    interaction, self._already_decided(interaction.guild, state.nomination)
                )
                return
            # The ladder may take a moment (it assigns roles and announces): acknowledge first.
            await interaction.response.defer()
            decided = await self.service.approve(nomination_id, interaction.user.id)
            if not decided.decided_now:
                await interaction.followup.send(
                    self._already_decided(interaction.guild, decided.nomination),
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
                return
            await self._announce(interaction, decided)

    async def reject_clicked(
        self, interaction: discord.Interaction[Any], nomination_id: int
    ) -> None:
        async with handled(interaction, f"opening the rejection form for #{nomination_id}"):
            if not is_moderator(interaction.user, self.bot.settings):
                await self._refuse(interaction, MODERATORS_ONLY)
                return
            state = await self.service.check_decidable(nomination_id, interaction.user.id)
            if not state.decided_now:
                await self._refuse(
                    interaction, self._already_decided(interaction.guild, state.nomination)
                )
                return
            form = reason_form(
                "nomination",
                nomination_id,
                title=f"Reject nomination #{nomination_id}",
                label="Reason (shown on the card and to nominator)",
                min_length=REASON_MIN,
                max_length=REASON_MAX,
            )
            await interaction.response.send_modal(form)
            # The submission is handled from its custom id (on_interaction), which also works
            # for a form opened before a restart; nothing needs to wait in memory for it.
            form.stop()

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        submitted = rejection_reason(interaction, "nomination")
        if submitted is None:
            return
        nomination_id, reason = submitted
        async with handled(interaction, f"rejecting nomination #{nomination_id}"):
            if not is_moderator(interaction.user, self.bot.settings):
                await self._refuse(interaction, MODERATORS_ONLY)
                return
            decided = await self.service.reject(nomination_id, interaction.user.id, reason)
            if not decided.decided_now:
                await self._refuse(
                    interaction, self._already_decided(interaction.guild, decided.nomination)
                )
                return
            await self._rejected(interaction, decided)

    async def _show(
        self, interaction: discord.Interaction[Any], decided: Decided, *, note: str = ""
    ) -> None:
        """Update the card: the clicked message itself, or the stored card (from a form)."""
        card = self._card(interaction.guild, decided, note=note)
        if interaction.message is not None and not interaction.response.is_done():
            await interaction.response.edit_message(**card)
        elif interaction.message is not None:
            await interaction.edit_original_response(**card)
        else:
            await self._refuse(interaction, f"Nomination #{decided.nomination.id} is rejected.")
            await self._edit_card(decided.nomination, card)

    async def _announce(self, interaction: discord.Interaction[Any], decided: Decided) -> None:
        """Approval: update the card, then tell the nominee (and the card if that fails)."""
        await self._show(interaction, decided)
        if await self._dm(decided.nomination.nominee_id, self._approved_text(decided)):
            return
        await self._edit_card(
            decided.nomination, self._card(interaction.guild, decided, note=DM_FAILED)
        )

    async def _rejected(self, interaction: discord.Interaction[Any], decided: Decided) -> None:
        """Rejection: the card shows the reason; the nominator (if someone else) is told."""
        await self._show(interaction, decided)
        nomination = decided.nomination
        if nomination.nominated_by == interaction.user.id:
            return
        nominee = self._name(interaction.guild, nomination.nominee_id)
        await self._dm(
            nomination.nominated_by,
            f"Your nomination of {nominee} for {nomination.tier_name} (#{nomination.id}) was not "
            f"approved by {self._name(interaction.guild, interaction.user.id)}: "
            f"{nomination.decision_note or 'no reason given'}",
        )

    def _approved_text(self, decided: Decided) -> str:
        tier = discord.utils.escape_markdown(decided.nomination.tier_name)
        text = f"🎉 You were nominated for {tier}, and the moderators approved it."
        if decided.outcome == "promoted":
            return f"{text} Congratulations, you're now {with_article(tier)}!"
        text += f" It takes effect as soon as you meet the {tier} minimums"
        if decided.missing:
            text += " (still missing: " + "; ".join(decided.missing) + ")"
        return f"{text}. /profile shows your progress."

    async def _edit_card(self, nomination: NominationInfo, card: dict[str, Any]) -> None:
        if nomination.review_channel_id is None or nomination.review_message_id is None:
            return
        channel = self.bot.get_channel(nomination.review_channel_id)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await channel.get_partial_message(nomination.review_message_id).edit(**card)
        except discord.HTTPException as exc:
            log.warning(
                "nominations: could not update the card of nomination #%s: %s", nomination.id, exc
            )

    async def _dm(self, user_id: int, text: str) -> bool:
        """DM a member; False (logged) when they can't be reached."""
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text, allowed_mentions=NO_MENTIONS)
        except discord.Forbidden as exc:
            log.info("nominations: could not DM member %s (%s)", user_id, exc.text or exc.status)
            return False
        except discord.HTTPException as exc:
            log.warning("nominations: DM to member %s failed: %s", user_id, exc)
            return False
        return True

    async def _tell(self, interaction: discord.Interaction[Any], text: str) -> None:
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await self._refuse(interaction, text)
        except discord.HTTPException:
            log.warning("nominations: could not tell %s about the failure", interaction.user.id)


async def setup(bot: Flywheel) -> None:
    bot.add_dynamic_items(ReviewButton)
    await bot.add_cog(Nominations(bot))
