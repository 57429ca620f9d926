"""/share and its review card: Discord glue around ContentService.

The card's buttons are DynamicItems whose custom ids carry the submission id, and the rejection
form is answered from its own custom id too, so a card keeps working after a restart. User text
(titles, reasons) never pings: every message goes out with no allowed mentions.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import MODERATORS_ONLY, is_moderator
from bot.client import Flywheel
from bot.errors import UserFacingError
from bot.review_card import ReviewButton, reason_form, rejection_reason, review_buttons
from bot.services.content import REASON_MAX, REASON_MIN, Decision, Submission
from bot.tree import handled
from db.models import CONTENT_KINDS

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
KIND_LABELS = {
    "blog": "blog post",
    "video": "video",
    "tutorial": "tutorial",
    "talk": "talk",
    "other": "submission",
}
STATUS_COLOURS = {
    "pending": discord.Colour.gold(),
    "approved": discord.Colour.green(),
    "rejected": discord.Colour.red(),
}
DM_FAILED = "Couldn't DM the author (they don't accept DMs from the bot)."


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ContentCog(commands.Cog, name="Content"):
    review_kind = "content"

    def __init__(self, bot: Flywheel) -> None:
        self.bot = bot
        self.service = bot.services.content

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

    def _card(
        self, guild: discord.Guild | None, sub: Submission, *, points: int = 0, note: str = ""
    ) -> dict[str, Any]:
        """Message fields for the review card in its current state."""
        label = KIND_LABELS.get(sub.kind, sub.kind)
        embed = discord.Embed(
            title=_clip(sub.title, 256), url=sub.url, colour=STATUS_COLOURS.get(sub.status)
        )
        embed.add_field(name="Link", value=_clip(sub.url, 1024), inline=False)
        embed.add_field(name="Kind", value=sub.kind)
        embed.add_field(name="Author", value=f"<@{sub.author_id}>")
        embed.add_field(name="Submitted", value=discord.utils.format_dt(sub.submitted_at, "f"))
        if sub.status == "approved":
            status = f"Approved by {self._name(guild, sub.decided_by)}"
            if points:
                status += f": +{points} points to the author"
        elif sub.status == "rejected":
            status = f"Rejected by {self._name(guild, sub.decided_by)}: {sub.decision_reason or ''}"
        else:
            status = "Waiting for a moderator"
        if note:
            status += f"\n{note}"
        embed.description = _clip(status, 4096)
        embed.set_footer(text=f"Submission #{sub.id}")
        return {
            "content": f"New {label} from {self._name(guild, sub.author_id)} to review",
            "embed": embed,
            "view": review_buttons("content", sub.id) if sub.status == "pending" else None,
            "allowed_mentions": NO_MENTIONS,
        }

    def _already_decided(self, guild: discord.Guild | None, sub: Submission) -> str:
        when = self._day(sub.decided_at) if sub.decided_at else "earlier"
        return f"Already {sub.status} by {self._name(guild, sub.decided_by)} on {when}."

    # ------------------------------------------------------------------ /share
    @app_commands.command(
        name="share", description="Share something you made; moderators review it"
    )
    @app_commands.describe(
        url="Link to it (http or https)",
        title="Its title, on one line",
        kind="What it is",
    )
    @app_commands.choices(
        kind=[app_commands.Choice(name=kind, value=kind) for kind in CONTENT_KINDS]
    )
    @app_commands.guild_only()
    async def share(
        self, interaction: discord.Interaction[Any], url: str, title: str, kind: str
    ) -> None:
        result = await self.service.share(
            author_id=interaction.user.id, url=url, title=title, kind=kind
        )
        sub = result.submission
        if result.duplicate:
            if sub.author_id == interaction.user.id:
                raise UserFacingError(
                    f"You already shared that link on {self._day(sub.submitted_at)}."
                )
            raise UserFacingError(
                f"That link was already shared by {self._name(interaction.guild, sub.author_id)} "
                f"on {self._day(sub.submitted_at)}."
            )
        # Posting the card is a REST call that may be slow; acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        label = KIND_LABELS.get(sub.kind, sub.kind)
        if await self._post_card(interaction.guild, sub):
            text = (
                f"Thanks! Your {label} was sent to the moderators for review; "
                "I'll DM you when it's decided."
            )
        else:
            text = (
                f"Your {label} was saved, but I couldn't post it for review: the moderators' "
                "review channel is misconfigured. Please let a moderator know."
            )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _post_card(self, guild: discord.Guild | None, sub: Submission) -> bool:
        channel_id = self.bot.settings.channels.review
        channel = guild.get_channel(channel_id) if guild is not None else None
        if not isinstance(channel, discord.TextChannel):
            log.error(
                "content: channels.review (%s) is not a text channel the bot can see; "
                "submission #%s is waiting without a review card",
                channel_id,
                sub.id,
            )
            return False
        try:
            message = await channel.send(**self._card(guild, sub))
        except discord.HTTPException as exc:
            log.error(
                "content: could not post the review card for submission #%s in channels.review "
                "(#%s, %s): %s. Give the bot View Channel, Send Messages and Embed Links there; "
                "waiting cards are posted at the next start",
                sub.id,
                channel.name,
                channel_id,
                exc,
            )
            return False
        await self.service.card_posted(sub.id, channel.id, message.id)
        return True

    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        """Post the cards that could not be posted before (e.g. the permission is fixed now)."""
        for sub in await self.service.pending_without_card():
            if not await self._post_card(guild, sub):
                return

    # ------------------------------------------------------------------ decisions
    async def _refuse(self, interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def approve_clicked(
        self, interaction: discord.Interaction[Any], submission_id: int
    ) -> None:
        async with handled(interaction, f"approving submission #{submission_id}"):
            if not is_moderator(interaction.user, self.bot.settings):
                await self._refuse(interaction, MODERATORS_ONLY)
                return
            decision = await self.service.approve(submission_id, interaction.user.id)
            if not decision.decided_now:
                await self._refuse(
                    interaction, self._already_decided(interaction.guild, decision.submission)
                )
                return
            await self._announce(interaction, decision)

    async def reject_clicked(
        self, interaction: discord.Interaction[Any], submission_id: int
    ) -> None:
        async with handled(interaction, f"opening the rejection form for #{submission_id}"):
            if not is_moderator(interaction.user, self.bot.settings):
                await self._refuse(interaction, MODERATORS_ONLY)
                return
            state = await self.service.check_decidable(submission_id, interaction.user.id)
            if not state.decided_now:
                await self._refuse(
                    interaction, self._already_decided(interaction.guild, state.submission)
                )
                return
            form = reason_form(
                "content",
                submission_id,
                title=f"Reject submission #{submission_id}",
                label="Reason (sent to the author)",
                min_length=REASON_MIN,
                max_length=REASON_MAX,
            )
            await interaction.response.send_modal(form)
            # The submission is handled from its custom id (on_interaction), which also works
            # for a form opened before a restart; nothing needs to wait in memory for it.
            form.stop()

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        submitted = rejection_reason(interaction, "content")
        if submitted is None:
            return
        submission_id, reason = submitted
        async with handled(interaction, f"rejecting submission #{submission_id}"):
            if not is_moderator(interaction.user, self.bot.settings):
                await self._refuse(interaction, MODERATORS_ONLY)
                return
            decision = await self.service.reject(submission_id, interaction.user.id, reason)
            if not decision.decided_now:
                await self._refuse(
                    interaction, self._already_decided(interaction.guild, decision.submission)
                )
                return
            await self._announce(interaction, decision)

    async def _announce(self, interaction: discord.Interaction[Any], decision: Decision) -> None:
        """Show the decision on the card, then tell the author (and the card if that fails)."""
        sub = decision.submission
        card = self._card(interaction.guild, sub, points=decision.points)
        if interaction.message is not None:
            await interaction.response.edit_message(**card)
        else:
            await self._refuse(interaction, f"Submission #{sub.id} is {sub.status}.")
            await self._edit_card(sub, card)
        if await self._dm(sub.author_id, self._outcome_text(sub, decision.points)):
            return
        await self._edit_card(
            sub, self._card(interaction.guild, sub, points=decision.points, note=DM_FAILED)
        )

    async def _edit_card(self, sub: Submission, card: dict[str, Any]) -> None:
        if sub.review_channel_id is None or sub.review_message_id is None:
            return
        channel = self.bot.get_channel(sub.review_channel_id)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await channel.get_partial_message(sub.review_message_id).edit(**card)
        except discord.HTTPException as exc:
            log.warning("content: could not update the card of submission #%s: %s", sub.id, exc)

    def _outcome_text(self, sub: Submission, points: int) -> str:
        label = KIND_LABELS.get(sub.kind, sub.kind)
        title = discord.utils.escape_markdown(sub.title)
        if sub.status == "approved":
            gained = f" — +{points} points" if points else ""
            return f"Your {label} '{title}' was approved{gained}. Thank you for sharing it!"
        return (
            f"Your {label} '{title}' was not approved. "
            f"The moderators said: {sub.decision_reason or 'no reason given'}"
        )

    async def _dm(self, user_id: int, text: str) -> bool:
        """DM a member; False (logged) when they can't be reached."""
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text, allowed_mentions=NO_MENTIONS)
        except discord.Forbidden as exc:
            log.info("content: could not DM member %s (%s)", user_id, exc.text or exc.status)
            return False
        except discord.HTTPException as exc:
            log.warning("content: DM to member %s failed: %s", user_id, exc)
            return False
        return True


async def setup(bot: Flywheel) -> None:
    bot.add_dynamic_items(ReviewButton)
    await bot.add_cog(ContentCog(bot))
