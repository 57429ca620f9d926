"""The recognition rhythm on Discord: scheduled posts, catch-up, and the moderators' commands.

Each post (weekly recognition, quarterly awards, monthly newsletter, rituals) runs the same way:
claim the period in the store, compose it (``RecognitionService`` + ``bot.core``), send it
(``bot.posting.Poster``), record it. APScheduler only wakes the cog at the configured local
times; what is due is always worked out from the injected clock and the store, so a restart, a
late wake-up or a moderator's manual send can never post a period twice.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import daily_activity_png
from bot.checks import moderator_only
from bot.community import Community
from bot.config import RitualConfig
from bot.core.embeds import EmbedSpec, paginate
from bot.core.newsletter import render_newsletter
from bot.core.periods import Period, current_period
from bot.core.recognition import render_awards, render_weekly
from bot.core.rhythm import (
    NEWSLETTER,
    QUARTERLY,
    RITUAL_PREFIX,
    WEEKLY,
    Rhythm,
    cron_fields,
    period_for_key,
    rhythms,
)
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS, paced
from bot.posting import Attachment, Draft, Poster, PostFailed, PostUnrecorded, to_embed
from bot.scheduling import OncePerPeriod
from bot.services.recognition import Claim, ClaimResult
from bot.staff_copy import post_staff_copy
from bot.tree import follow_up

log = logging.getLogger(__name__)

CHART_FILENAME = "activity.png"
CONFIRM_TIMEOUT_SECONDS = 120

PostChoice = Literal["weekly", "awards"]
Compose = Callable[[Period, bool], Awaitable[Draft]]
"""A period's post as plain embeds (``True``: for real, so a spotlight is recorded)."""
AfterPost = Callable[[Period, Draft, discord.Message], Awaitable[None]]


class ConfirmRepost(discord.ui.View):
    """'Post it again?' — a second post for a period needs a deliberate click."""

    def __init__(self, moderator_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_SECONDS)
        self.moderator_id = moderator_id
        self.confirmed: bool | None = None
        self.done = asyncio.Event()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.moderator_id:
            await interaction.response.send_message(
                "Only the moderator who asked can confirm this.", ephemeral=True
            )
            return False
        return True

    async def _finish(self, interaction: discord.Interaction[Any], confirmed: bool) -> None:
        self.confirmed = confirmed
        self.stop()
        self.done.set()
        text = "Posting it again…" if confirmed else "Cancelled: nothing was posted."
        await interaction.response.edit_message(content=text, view=None)

    @discord.ui.button(label="Post again", style=discord.ButtonStyle.danger)
    async def again(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await self._finish(interaction, True)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        await self._finish(interaction, False)

    async def on_timeout(self) -> None:
        self.done.set()


class Recognition(commands.Cog):
    recognition = app_commands.Group(
        name="recognition",
        description="Weekly recognition and quarterly awards (moderators)",
        guild_only=True,
    )
    newsletter = app_commands.Group(
        name="newsletter", description="The monthly newsletter", guild_only=True
    )
    spotlight = app_commands.Group(
        name="spotlight", description="Member spotlights (moderators)", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.recognition
        self.poster = Poster(bot, self.service)
        self.rhythms = {rhythm.kind: rhythm for rhythm in rhythms(bot.settings)}
        #: How each post is composed and what follows it, by kind: the registry's entries.
        self.composers: dict[str, Compose] = {
            WEEKLY: self._weekly,
            QUARTERLY: self._awards,
            NEWSLETTER: self._newsletter,
        }
        self.after_post: dict[str, AfterPost] = {NEWSLETTER: self._after_newsletter}
        for ritual in bot.settings.rituals:
            self.composers[RITUAL_PREFIX + ritual.key] = partial(self._ritual, ritual)
            self.after_post[RITUAL_PREFIX + ritual.key] = partial(self._after_ritual, ritual)

    @property
    def tz(self) -> Any:
        return self.bot.settings.schedule.tz

    def entry(self, rhythm: Rhythm) -> OncePerPeriod:
        """The schedule's entry for one recognition post."""
        return OncePerPeriod(
            kind=rhythm.kind,
            title=rhythm.title,
            period_kind=rhythm.period_kind,
            cadence=rhythm.cadence,
            cron=cron_fields(rhythm),
            grace=rhythm.grace,
            deliver=partial(self._send, rhythm),
            period_from_key=partial(period_for_key, rhythm, tz=self.tz),
        )

    async def cog_load(self) -> None:
        for rhythm in self.rhythms.values():
            self.bot.schedule.add(self.entry(rhythm))

    async def cog_unload(self) -> None:
        for kind in self.rhythms:
            self.bot.schedule.remove(kind)

    @commands.Cog.listener()
    async def on_flywheel_caught_up(self) -> None:
        """After the schedule's start-up catch-up: newsletter DMs a restart interrupted."""
        try:
            await self._resume_newsletter_dms()
        except Exception:
            log.exception("recognition: resuming the newsletter DMs failed")

    # ------------------------------------------------------------------ posting
    async def post(self, rhythm: Rhythm, period: Period, *, force: bool = False) -> ClaimResult:
        return await self.bot.schedule.send_now(rhythm.kind, period, force=force)

    async def _send(self, rhythm: Rhythm, period: Period, claim: Claim, recovering: bool) -> None:
        try:
            draft = await self.compose(rhythm, period, record=True)
        except Exception:
            # Nothing is out yet; after a crash parts may be: then leave the claim for recovery.
            if not recovering:
                await self.service.release(claim, note="failed: internal error")
            log.exception("recognition: composing the %s for %s failed", rhythm.title, period.key)
            return
        try:
            message = await self.poster.publish(
                draft, claim, rhythm.channel_id, recovering=recovering
            )
        except PostFailed as failed:
            await self.bot.outbox.alert(
                f"**{rhythm.title.capitalize()}** for {period.label} was not posted in "
                f"<#{rhythm.channel_id}>: {failed}.\nFix: {failed.fix}."
            )
            return
        except PostUnrecorded as unrecorded:
            await self._record_later(rhythm, period, claim, draft, unrecorded)
            return
        await self._posted(rhythm, period, claim, draft, message)

    async def _posted(
        self, rhythm: Rhythm, period: Period, claim: Claim, draft: Draft, message: discord.Message
    ) -> None:
        """A recorded post: log it and run what follows it (crosspost, DMs, thread) once."""
        late = " (late: the bot was offline when it was due)" if claim.delayed else ""
        log.info("recognition: posted the %s for %s%s", rhythm.title, period.key, late)
        after = self.after_post.get(rhythm.kind)
        if after is not None:
            await after(period, draft, message)

    async def _record_later(
        self,
        rhythm: Rhythm,
        period: Period,
        claim: Claim,
        draft: Draft,
        unrecorded: PostUnrecorded,
    ) -> None:
        """The post is out but the store refused its record: keep the claim, say so, retry."""
        message = unrecorded.message
        waits = (
            " (and what follows it waits for the record)" if rhythm.kind in self.after_post else ""
        )
        await self.bot.outbox.alert(
            f"**{rhythm.title.capitalize()}** for {period.label} is posted ({message.jump_url}) "
            f"but I couldn't record it: {unrecorded.reason}.\nIt won't be posted again; I'm "
            f"retrying the record in the background{waits}. If the database stays "
            "unavailable, the next start-up records it."
        )
        self.bot.spawn(
            self.poster.record_later(
                claim, message, then=partial(self._posted, rhythm, period, claim, draft)
            ),
            name=f"record-{claim.kind}-{claim.period}",
        )

    async def compose(self, rhythm: Rhythm, period: Period, *, record: bool) -> Draft:
        return await self.composers[rhythm.kind](period, record)

    async def _weekly(self, period: Period, record: bool) -> Draft:
        digest = await self.service.weekly(period, record_spotlight=record)
        spot = digest.spotlight
        content = None if spot is None else f"🌟 This week's spotlight: <@{spot.user_id}>"
        return Draft(WEEKLY, period, render_weekly(digest), digest.named, content)

    async def _awards(self, period: Period, record: bool) -> Draft:
        awards = await self.service.awards(period)
        return Draft(QUARTERLY, period, render_awards(awards), awards.named)

    async def _newsletter(self, period: Period, record: bool) -> Draft:
        letter = await self.service.newsletter(period)
        attachments: tuple[Attachment, ...] = ()
        if self.bot.settings.newsletter.chart:
            png = await asyncio.to_thread(
                daily_activity_png, letter.daily, title=f"Daily activity · {period.label}"
            )
            attachments = (Attachment(CHART_FILENAME, png),)
        chart = CHART_FILENAME if attachments else None
        embeds = render_newsletter(letter, chart_filename=chart)
        return Draft(NEWSLETTER, period, embeds, letter.named, None, attachments)

    async def _ritual(self, ritual: RitualConfig, period: Period, record: bool) -> Draft:
        spec = EmbedSpec(title=ritual.title, description=ritual.text)
        return Draft(RITUAL_PREFIX + ritual.key, period, [spec])

    async def _after_newsletter(
        self, period: Period, draft: Draft, message: discord.Message
    ) -> None:
        """Publish to following servers, post the staff copy, DM subscribers."""
        channel = message.channel
        if isinstance(channel, discord.TextChannel) and channel.is_news():
            try:
                await message.publish()
            except discord.HTTPException as exc:
                await self.bot.outbox.alert(
                    f"The newsletter for {period.label} is posted but couldn't be published "
                    f"to following servers ({exc.status}).\nFix: give me Manage Messages in "
                    f"<#{channel.id}>."
                )
        await post_staff_copy(self.bot, period, message.jump_url)
        if self.bot.settings.newsletter.dm_subscribers:
            self._deliver_in_background(period, draft)

    async def _after_ritual(
        self, ritual: RitualConfig, period: Period, draft: Draft, message: discord.Message
    ) -> None:
        """Open the ritual's thread on its post."""
        if ritual.thread_name and isinstance(message.channel, discord.TextChannel):
            name = ritual.thread_name.replace("{date}", period.label)[:100]
            try:
                await message.create_thread(name=name)
            except discord.HTTPException as exc:
                await self.bot.outbox.alert(
                    f"The ritual '{ritual.key}' is posted but its thread couldn't be opened "
                    f"({exc.status}).\nFix: give me Create Public Threads in "
                    f"<#{message.channel.id}>."
                )

    # ------------------------------------------------------------------ newsletter DMs
    async def deliver_newsletter(self, period: Period, draft: Draft) -> None:
        """DM subscribed tier members, paced; each member is tried once per issue, never more."""
        recipients = await self.service.recipients(period.key)
        if not recipients:
            return
        parts = paginate(list(draft.embeds))
        pace = self.bot.settings.newsletter.dm_pace_seconds
        try:
            async for user_id in paced(recipients, pace):
                await self._deliver_issue(period, draft, parts, user_id)
        except asyncio.CancelledError:
            raise  # shutting down: the next start-up resumes with who is left
        except Exception as exc:
            log.exception("recognition: the newsletter DMs for %s stopped", period.key)
            await self.bot.outbox.alert(
                f"⚠️ The newsletter DMs for {period.label} stopped on an internal error "
                f"({type(exc).__name__}). The next start-up resumes them, and nobody gets the "
                "issue twice."
            )
            return
        sent, failed = await self.service.delivery_counts(period.key)
        note = (
            f"; {failed} couldn't be reached (DMs closed or unknown) and won't be retried"
            if failed
            else ""
        )
        await self.bot.outbox.mod_log(
            f"📬 Newsletter for {period.label}: sent by DM to {sent} subscriber(s){note}."
        )

    async def _deliver_issue(
        self, period: Period, draft: Draft, parts: list[list[EmbedSpec]], user_id: int
    ) -> None:
        """One member's DM: claimed first, so a failure after it never sends it twice."""
        if not await self.service.claim_delivery(period.key, user_id):
            return
        error = None
        for number, specs in enumerate(parts, start=1):
            # Sending consumes a discord.File: each member's first message gets new ones.
            files = [
                discord.File(io.BytesIO(a.data), filename=a.filename)
                for a in (draft.attachments if number == 1 else ())
            ]
            error = await self.bot.outbox.try_dm(user_id, embeds=specs, files=files)
            if error is not None:
                break
        await self.service.record_delivery(period.key, user_id, ok=error is None, error=error)

    async def _resume_newsletter_dms(self) -> None:
        rhythm = self.rhythms[NEWSLETTER]
        period = current_period("monthly", rhythm.cadence, self.bot.clock.now(), self.tz)
        record = await self.service.post_record(NEWSLETTER, period.key)
        if record is None or record.state != "posted":
            return
        if self.bot.settings.newsletter.dm_subscribers and await self.service.recipients(
            period.key
        ):
            draft = await self.compose(rhythm, period, record=False)
            self._deliver_in_background(period, draft)

    def _deliver_in_background(self, period: Period, draft: Draft) -> None:
        """Paced DMs take minutes; shutdown cancels them and the next start resumes the rest."""
        self.bot.spawn(self.deliver_newsletter(period, draft), name=f"newsletter-dms-{period.key}")

    # ------------------------------------------------------------------ commands
    def _rhythm(self, post: PostChoice) -> Rhythm:
        return self.rhythms[WEEKLY if post == "weekly" else QUARTERLY]

    def _current(self, rhythm: Rhythm) -> Period:
        return current_period(rhythm.period_kind, rhythm.cadence, self.bot.clock.now(), self.tz)

    async def _preview(self, interaction: discord.Interaction[Any], rhythm: Rhythm) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        period = self._current(rhythm)
        draft = await self.compose(rhythm, period, record=False)
        pages = paginate(list(draft.embeds))
        files = [discord.File(io.BytesIO(a.data), filename=a.filename) for a in draft.attachments]
        record = await self.service.post_record(rhythm.kind, period.key)
        status = (
            "already posted for this period"
            if record is not None and record.state == "posted"
            else "not posted yet for this period"
        )
        await follow_up(
            interaction,
            f"Preview of the {rhythm.title} for {period.label} ({status}); only you see this.",
            embeds=[to_embed(spec) for spec in pages[0]],
            files=files,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        for page in pages[1:]:
            await follow_up(
                interaction,
                embeds=[to_embed(spec) for spec in page],
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )

    async def _send_now(
        self, interaction: discord.Interaction[Any], rhythm: Rhythm, force: bool
    ) -> None:
        period = self._current(rhythm)
        record = await self.service.post_record(rhythm.kind, period.key)
        if record is not None and record.state == "posted":
            link = _jump(interaction.guild_id, record.channel_id, record.message_id)
            if not force:
                raise UserFacingError(
                    f"The {rhythm.title} for {period.label} is already posted{link}. To post it "
                    "again anyway, use force: True."
                )
            view = ConfirmRepost(interaction.user.id)
            await interaction.response.send_message(
                f"The {rhythm.title} for {period.label} is already posted{link}. Post it again?",
                view=view,
                ephemeral=True,
            )
            await view.done.wait()
            if not view.confirmed:
                return
            result = await self.post(rhythm, period, force=True)
            await self._report_send(interaction, rhythm, period, result, followup=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.post(rhythm, period)
        await self._report_send(interaction, rhythm, period, result, followup=True)

    async def _report_send(
        self,
        interaction: discord.Interaction[Any],
        rhythm: Rhythm,
        period: Period,
        result: ClaimResult,
        *,
        followup: bool,
    ) -> None:
        unrecorded = self.poster.unrecorded.get((rhythm.kind, period.key))
        if unrecorded is not None:
            link = f" ({unrecorded.jump_url})"
            verb = "Posted" if result.claim is not None else "Already posted"
            text = (
                f"{verb} the {rhythm.title} for {period.label}{link}, but recording it failed "
                "for now: I'm retrying in the background, and it won't be posted again."
            )
        elif result.outcome == "in_flight":
            text = f"The {rhythm.title} for {period.label} is being posted right now."
        elif result.outcome == "posted":
            text = f"The {rhythm.title} for {period.label} is already posted."
        else:
            record = await self.service.post_record(rhythm.kind, period.key)
            if record is not None and record.state == "posted":
                link = _jump(interaction.guild_id, record.channel_id, record.message_id)
                text = f"Posted the {rhythm.title} for {period.label}{link}."
            else:
                text = (
                    f"The {rhythm.title} for {period.label} could not be posted; the mod log "
                    "says why and how to fix it."
                )
        await follow_up(interaction, text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @recognition.command(name="preview", description="See this period's post before it goes out")
    @app_commands.describe(post="Which post (default: the weekly recognition)")
    @moderator_only()
    async def recognition_preview(
        self, interaction: discord.Interaction[Any], post: PostChoice = "weekly"
    ) -> None:
        await self._preview(interaction, self._rhythm(post))

    @recognition.command(name="send", description="Post this period's recognition now")
    @app_commands.describe(
        post="Which post (default: the weekly recognition)",
        force="Post again even if this period was already posted (asks to confirm)",
    )
    @moderator_only()
    async def recognition_send(
        self,
        interaction: discord.Interaction[Any],
        post: PostChoice = "weekly",
        force: bool = False,
    ) -> None:
        await self._send_now(interaction, self._rhythm(post), force)

    @newsletter.command(name="preview", description="See last month's newsletter (moderators)")
    @moderator_only()
    async def newsletter_preview(self, interaction: discord.Interaction[Any]) -> None:
        await self._preview(interaction, self.rhythms[NEWSLETTER])

    @newsletter.command(name="send", description="Post last month's newsletter now (moderators)")
    @app_commands.describe(force="Post again even if it was already posted (asks to confirm)")
    @moderator_only()
    async def newsletter_send(
        self, interaction: discord.Interaction[Any], force: bool = False
    ) -> None:
        await self._send_now(interaction, self.rhythms[NEWSLETTER], force)

    @newsletter.command(name="subscribe", description="Get the monthly newsletter by DM")
    async def newsletter_subscribe(self, interaction: discord.Interaction[Any]) -> None:
        added = await self.service.subscribe(interaction.user.id)
        text = (
            "Subscribed: you'll get the monthly newsletter by DM. /newsletter unsubscribe stops it."
            if added
            else "You're already subscribed to the newsletter DM."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @newsletter.command(name="unsubscribe", description="Stop getting the newsletter by DM")
    async def newsletter_unsubscribe(self, interaction: discord.Interaction[Any]) -> None:
        removed = await self.service.unsubscribe(interaction.user.id)
        text = (
            "Unsubscribed: no more newsletter DMs. It's still posted in "
            f"<#{self.bot.settings.channels.newsletter}>."
            if removed
            else "You weren't subscribed to the newsletter DM."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @spotlight.command(name="nominate", description="Suggest a member for the weekly spotlight")
    @app_commands.describe(member="Who to spotlight", reason="Why: shown in the spotlight")
    @moderator_only()
    async def spotlight_nominate(
        self,
        interaction: discord.Interaction[Any],
        member: discord.User,
        reason: app_commands.Range[str, 1, 300],
    ) -> None:
        if member.bot:
            raise UserFacingError("Bots can't be spotlighted.")
        if not isinstance(member, discord.Member):
            raise UserFacingError("That person isn't a member of this server.")
        number = await self.service.nominate_spotlight(
            member.id, by=interaction.user.id, reason=reason
        )
        name = discord.utils.escape_markdown(member.display_name)
        await interaction.response.send_message(
            f"{name} is nominated for the spotlight (#{number}); nominations are used oldest "
            "first, one per weekly recognition post.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await self.bot.outbox.mod_log(
            f"{discord.utils.escape_markdown(interaction.user.display_name)} nominated {name} "
            f"for the spotlight: {discord.utils.escape_markdown(reason)}"
        )


def _jump(guild_id: int | None, channel_id: int | None, message_id: int | None) -> str:
    if guild_id is None or channel_id is None or message_id is None:
        return ""
    return f" (https://discord.com/channels/{guild_id}/{channel_id}/{message_id})"


async def setup(bot: Community) -> None:
    await bot.add_cog(Recognition(bot))
