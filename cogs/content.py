"""/share and its review card: Discord glue around ContentService.

The card's buttons, the rejection form and what follows a decision are the shared review-card
flow (``bot.review_card``); :class:`ContentReview` is what submissions bring to it. User text
(titles, reasons) never pings: every message goes out with no allowed mentions.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.community import Community
from bot.core.text import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_LIMIT,
    EMBED_TITLE_LIMIT,
    clip,
    day_label,
)
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS, member_name
from bot.review_card import CardState, Notice, review_buttons
from bot.services.content import (
    CONTENT_KINDS,
    KIND_CONTENT,
    REASON_MAX,
    REASON_MIN,
    ContentService,
    Decision,
    ShareResult,
    Submission,
)
from bot.tree import follow_up

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


class ContentReview:
    """Submissions on the shared review card: the author is told either way."""

    key = "content"
    noun = "submission"
    reason_label = "Reason (sent to the author)"
    reason_min, reason_max = REASON_MIN, REASON_MAX
    approval_is_slow = False

    def __init__(self, service: ContentService) -> None:
        self.service = service

    def label(self, sub: Submission) -> str:
        """What the submission is, in words: "blog post" for /share, "talk" for a kind of the
        server's own (its key if the config no longer has it)."""
        if sub.credit_kind == KIND_CONTENT:
            return KIND_LABELS.get(sub.kind, sub.kind)
        row = self.service.settings.kinds.find(sub.credit_kind)
        return row.one if row is not None else sub.credit_kind.replace("_", " ")

    async def check(self, record_id: int, moderator_id: int) -> Decision:
        return await self.service.check_decidable(record_id, moderator_id)

    async def approve(self, record_id: int, moderator_id: int) -> Decision:
        return await self.service.approve(record_id, moderator_id)

    async def reject(self, record_id: int, moderator_id: int, reason: str) -> Decision:
        return await self.service.reject(record_id, moderator_id, reason)

    async def waiting(self) -> list[Decision]:
        return [pending(sub) for sub in await self.service.pending_without_card()]

    async def current(self, record_id: int) -> Decision | None:
        sub = await self.service.get(record_id)
        if sub is None:
            return None
        credited = sub.status == "approved" and sub.contribution_id is not None
        points = self.service.settings.points_for(sub.credit_kind) if credited else 0
        return Decision(sub, decided_now=True, points=points)

    async def card_posted(self, record_id: int, channel_id: int, message_id: int) -> None:
        await self.service.card_posted(record_id, channel_id, message_id)

    def state(self, decision: Decision) -> CardState:
        sub = decision.submission
        return CardState(
            record_id=sub.id,
            status=sub.status,
            decided_now=decision.decided_now,
            decided_by=sub.decided_by,
            decided_at=sub.decided_at,
            channel_id=sub.review_channel_id,
            message_id=sub.review_message_id,
        )

    def card(
        self, guild: discord.Guild | None, decision: Decision, *, note: str = ""
    ) -> dict[str, Any]:
        sub, points = decision.submission, decision.points
        label = self.label(sub)
        embed = discord.Embed(
            title=clip(sub.title, EMBED_TITLE_LIMIT),
            url=sub.url,
            colour=STATUS_COLOURS.get(sub.status),
        )
        embed.add_field(name="Link", value=clip(sub.url, EMBED_FIELD_LIMIT), inline=False)
        if sub.credit_kind == KIND_CONTENT:
            embed.add_field(name="Kind", value=sub.kind)
        else:
            embed.add_field(name="Kind", value=self.service.settings.kinds.label(sub.credit_kind))
        embed.add_field(name="Author", value=f"<@{sub.author_id}>")
        embed.add_field(name="Submitted", value=discord.utils.format_dt(sub.submitted_at, "f"))
        if sub.status == "approved":
            status = f"Approved by {member_name(guild, sub.decided_by)}"
            if points:
                status += f": +{points} points to the author"
        elif sub.status == "rejected":
            status = (
                f"Rejected by {member_name(guild, sub.decided_by)}: {sub.decision_reason or ''}"
            )
        else:
            status = "Waiting for a moderator"
        if note:
            status += f"\n{note}"
        embed.description = clip(status, EMBED_DESCRIPTION_LIMIT)
        embed.set_footer(text=f"Submission #{sub.id}")
        return {
            "content": f"New {label} from {member_name(guild, sub.author_id)} to review",
            "embed": embed,
            "view": review_buttons(self.key, sub.id) if sub.status == "pending" else None,
            "allowed_mentions": NO_MENTIONS,
        }

    def notice(self, guild: discord.Guild | None, decision: Decision, moderator_id: int) -> Notice:
        sub = decision.submission
        label = self.label(sub)
        title = discord.utils.escape_markdown(sub.title)
        if sub.status == "approved":
            gained = f" — +{decision.points} points" if decision.points else ""
            text = f"Your {label} '{title}' was approved{gained}. Thank you for sharing it!"
        else:
            text = (
                f"Your {label} '{title}' was not approved. "
                f"The moderators said: {sub.decision_reason or 'no reason given'}"
            )
        return Notice(sub.author_id, text, unreachable=DM_FAILED)


def pending(sub: Submission) -> Decision:
    """A submission with no decision yet, as its card shows it."""
    return Decision(sub, decided_now=False)


class ContentCog(commands.Cog, name="Content"):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.content
        self.review = ContentReview(self.service)

    async def cog_load(self) -> None:
        self.bot.reviews.register(self.review)

    async def cog_unload(self) -> None:
        self.bot.reviews.unregister(self.review.key)

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
        await send_for_review(self.bot, interaction, self.review, result)


async def send_for_review(
    bot: Community,
    interaction: discord.Interaction[Any],
    review: ContentReview,
    result: ShareResult,
) -> None:
    """Answer a /share or /contribution submit: an earlier submission of the link is refused by
    name and day; a new one gets its review card and the member hears where it went."""
    sub = result.submission
    if result.duplicate:
        day = day_label(sub.submitted_at, bot.settings.schedule.tz)
        if sub.author_id == interaction.user.id:
            raise UserFacingError(f"You already shared that link on {day}.")
        raise UserFacingError(
            f"That link was already shared by {member_name(interaction.guild, sub.author_id)} "
            f"on {day}."
        )
    # Posting the card is a REST call that may be slow; acknowledge first.
    await interaction.response.defer(ephemeral=True, thinking=True)
    label = review.label(sub)
    if await bot.reviews.post_card(interaction.guild, review, pending(sub)):
        text = (
            f"Thanks! Your {label} was sent to the moderators for review; "
            "I'll DM you when it's decided."
        )
    else:
        text = (
            f"Your {label} was saved, but I couldn't post it for review: the moderators' "
            "review channel is misconfigured. Please let a moderator know."
        )
    await follow_up(interaction, text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: Community) -> None:
    await bot.add_cog(ContentCog(bot))
