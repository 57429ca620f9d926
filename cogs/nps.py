"""Ambassador NPS on Discord: the quarterly survey DM, its buttons and comment form, `/nps`.

Each quarter (``nps.schedule``, in January, April, July and October) every present tier member
gets a DM: "How likely are you to recommend the program?" with buttons 0-10 and "Add a comment".
The buttons' custom ids carry the survey (``nps:score:2026-Q4:8``), so a DM keeps working after a
restart, and an answer can be changed until the quarter ends. Moderators see results only in
aggregate, only from ``nps.min_responses`` answers (never fewer than 5), comments without names.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from typing import Any, Final

import discord
from apscheduler.triggers.cron import CronTrigger
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import Flywheel, services_of
from bot.core.embeds import paginate
from bot.core.nps import closes_on, is_open, period_from_key, render_report, survey_period
from bot.core.periods import Period, catch_up
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS, paced
from bot.posting import to_embed
from bot.services.recognition import Claim
from bot.tree import handled

log = logging.getLogger(__name__)

JOB_ID: Final = "nps:survey"
MISFIRE_GRACE_SECONDS: Final = 3600
QUESTION: Final = "How likely are you to recommend the ambassador program to a friend or colleague?"
COMMENT_INPUT: Final = "comment"
_PERIOD: Final = r"\d{4}-Q[1-4]"
_COMMENT_FORM: Final = re.compile(rf"nps:comment-form:(?P<period>{_PERIOD})")
#: Discord allows five buttons per row: 0-4, 5-9, then 10 beside "Add a comment".
_ROWS: Final = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9), (10,))


class ScoreButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"nps:score:(?P<period>{_PERIOD}):(?P<score>10|[0-9])",
):
    def __init__(self, period: str, score: int, *, chosen: bool = False, row: int = 0) -> None:
        super().__init__(
            discord.ui.Button(
                label=str(score),
                style=discord.ButtonStyle.success if chosen else discord.ButtonStyle.secondary,
                custom_id=f"nps:score:{period}:{score}",
                row=row,
            )
        )
        self.period, self.score = period, score

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ScoreButton:
        return cls(match["period"], int(match["score"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).nps
        async with handled(interaction, "recording an NPS answer"):
            answered = await service.answer(self.period, interaction.user.id, self.score)
            _, comment = await service.comment_for(self.period, interaction.user.id)
            await interaction.response.edit_message(
                content=survey_text(answered.period, chosen=self.score, commented=bool(comment)),
                view=survey_view(answered.period.key, chosen=self.score),
                allowed_mentions=NO_MENTIONS,
            )


class CommentButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"nps:comment:(?P<period>{_PERIOD})",
):
    def __init__(self, period: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add a comment",
                emoji="💬",
                style=discord.ButtonStyle.primary,
                custom_id=f"nps:comment:{period}",
                row=2,
            )
        )
        self.period = period

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CommentButton:
        return cls(match["period"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).nps
        async with handled(interaction, "opening the NPS comment form"):
            survey, current = await service.comment_for(self.period, interaction.user.id)
            form = comment_form(survey, current)
            await interaction.response.send_modal(form)
            form.stop()  # the submission is handled by custom id in on_interaction


def survey_view(period: str, *, chosen: int | None = None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for row, scores in enumerate(_ROWS):
        for score in scores:
            view.add_item(ScoreButton(period, score, chosen=score == chosen, row=row))
    view.add_item(CommentButton(period))
    return view


def survey_text(period: Period, *, chosen: int | None = None, commented: bool = False) -> str:
    lines = [
        f"**{QUESTION}**",
        "0 = not at all likely, 10 = extremely likely. Moderators only ever see the answers "
        "together, never who said what, and only once at least 5 members have answered.",
        f"You can change your answer (and add a comment) until the survey closes on "
        f"{closes_on(period)}.",
    ]
    if chosen is not None:
        lines.append(f"\n✅ Your answer: **{chosen}**" + (" (with a comment)" if commented else ""))
    return "\n".join(lines)


def comment_form(period: Period, current: str) -> discord.ui.Modal:
    """Routed by its custom id (``on_interaction``), so a form opened before a restart works."""
    modal = discord.ui.Modal(
        title=f"Your comment · survey {period.label}", custom_id=f"nps:comment-form:{period.key}"
    )
    modal.add_item(
        discord.ui.TextInput(
            label="What would make the program better?",
            custom_id=COMMENT_INPUT,
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=1000,
            default=current or None,
            placeholder="Shown to moderators without your name. Leave empty to remove it.",
        )
    )
    return modal


def _submitted(interaction: discord.Interaction[Any]) -> tuple[str, str] | None:
    """``(period, comment)`` if this interaction submits an NPS comment form."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    data: dict[str, Any] = dict(interaction.data or {})
    match = _COMMENT_FORM.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    return match["period"], _value(list(data.get("components") or []))


def _value(components: list[dict[str, Any]]) -> str:
    for component in components:
        if component.get("custom_id") == COMMENT_INPUT:
            return str(component.get("value") or "")
        children = list(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            children.append(component["component"])
        found = _value(children)
        if found:
            return found
    return ""


class Nps(commands.Cog):
    nps = app_commands.Group(
        name="nps", description="Ambassador NPS surveys (moderators)", guild_only=True
    )

    def __init__(self, bot: Flywheel) -> None:
        self.bot = bot
        self.service = bot.services.nps
        self._lock = asyncio.Lock()
        #: Set once start-up recovery and catch-up are done (tests and the demo wait for it).
        self.caught_up = asyncio.Event()

    @property
    def config(self) -> Any:
        return self.bot.settings.nps

    @property
    def tz(self) -> Any:
        return self.bot.settings.schedule.tz

    async def cog_load(self) -> None:
        if self.config.enabled:
            schedule = self.config.schedule
            self.bot.scheduler.add_job(
                self.run_due,
                CronTrigger(
                    month="1,4,7,10",
                    day=schedule.day,
                    hour=schedule.time.hour,
                    minute=schedule.time.minute,
                    timezone=self.tz,
                ),
                id=JOB_ID,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=MISFIRE_GRACE_SECONDS,
            )

    async def cog_unload(self) -> None:
        if self.bot.scheduler.get_job(JOB_ID) is not None:
            self.bot.scheduler.remove_job(JOB_ID)

    def _spawn(self, period: Period, claim: Claim) -> None:
        """Send in the background; if shutdown cancels it, the next start resumes from the claim."""
        self.bot.spawn(self.send_survey(period, claim), name=f"nps-{period.key}")

    # ------------------------------------------------------------------ start-up
    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        """Finish a survey a restart interrupted, then send one missed while the bot was down."""
        try:
            for claim in await self.service.unfinished():
                period = period_from_key(claim.period, self.tz)
                if period is None or not is_open(period, self.bot.clock.now()):
                    await self.service.release(claim, note="closed before every DM went out")
                    continue
                log.info("nps: resuming the %s survey DMs after a restart", period.key)
                self._spawn(period, claim)
            await self.run_due()
        except Exception:
            log.exception("nps: start-up catch-up failed")
        finally:
            self.caught_up.set()

    async def run_due(self) -> None:
        """Start this quarter's survey if it is due; missed ones beyond the grace are skipped."""
        if not self.config.enabled:
            return
        async with self._lock:
            now = self.bot.clock.now()
            plan = catch_up(
                "quarterly",
                self.config.schedule,
                now=now,
                tz=self.tz,
                grace=timedelta(days=self.bot.settings.schedule.catch_up_grace_days),
                since=await self.service.due_since(),
            )
            for missed in plan.skip:
                await self._skip(survey_period(missed.scheduled_at, self.tz), missed.scheduled_at)
            if plan.post is None:
                return
            period = survey_period(plan.post.scheduled_at, self.tz)
            if not is_open(period, now):
                await self._skip(period, plan.post.scheduled_at)
                return
            result = await self.service.claim(period, delayed=plan.delayed)
            if result.claim is not None:
                self._spawn(period, result.claim)

    async def _skip(self, period: Period, due: Any) -> None:
        note = f"missed: due {due:%Y-%m-%d %H:%M %Z} while the bot was offline"
        if not await self.service.record_skipped(period, note=note):
            return
        fix = (
            f" `/nps send` starts it now (it stays open until {closes_on(period)})."
            if is_open(period, self.bot.clock.now())
            else ""
        )
        await self.bot.outbox.alert(
            f"The NPS survey for {period.label} was due {due:%Y-%m-%d %H:%M %Z} while I was "
            f"offline, longer ago than the catch-up window (schedule.catch_up_grace_days), so it "
            f"was not sent.{fix}"
        )

    # ------------------------------------------------------------------ sending
    async def send_survey(self, period: Period, claim: Claim) -> None:
        """DM every present tier member not yet invited, paced; record each outcome once."""
        try:
            recipients = await self.service.recipients(period)
            async for user_id in paced(recipients, self.config.dm_pace_seconds):
                ok = await self.bot.outbox.dm(
                    user_id, survey_text(period), view=survey_view(period.key)
                )
                await self.service.record_invite(period, user_id, ok=ok)
        except asyncio.CancelledError:
            raise  # shutting down: the claim stays, the next start resumes the rest
        except Exception:
            log.exception("nps: sending the %s survey failed", period.key)
            await self.service.release(claim, note="failed: internal error")
            sent, failed = await self.service.invite_counts(period)
            await self.bot.outbox.alert(
                f"⚠️ Sending the NPS survey for {period.label} stopped on an internal error after "
                f"{sent + failed} DM(s). `/nps send` resumes it (nobody is asked twice)."
            )
            return
        sent, failed = await self.service.invite_counts(period)
        unreachable = (
            f"; {failed} couldn't be reached (DMs closed) and won't be asked again"
            if failed
            else ""
        )
        late = " (late: I was offline when it was due)" if claim.delayed else ""
        summary = await self.bot.outbox.mod_log_message(
            f"📋 NPS survey for {period.label}{late}: sent by DM to {sent} tier member(s)"
            f"{unreachable}. It is open until {closes_on(period)}; `/nps results {period.key}` "
            f"shows the answers once at least {max(5, self.config.min_responses)} are in."
        )
        await self.service.finish(
            claim,
            channel_id=self.bot.settings.channels.mod_log,
            message_id=0 if summary is None else summary.id,
        )

    # ------------------------------------------------------------------ the comment form
    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        submitted = _submitted(interaction)
        if submitted is None:
            return
        period, text = submitted
        async with handled(interaction, "saving an NPS comment"):
            survey, kept = await self.service.comment(period, interaction.user.id, text)
            reply = (
                "Thanks, your comment is saved. Moderators see it without your name."
                if kept
                else "Your comment is removed."
            )
            await interaction.response.send_message(
                f"{reply} You can change it until {closes_on(survey)}.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )

    # ------------------------------------------------------------------ commands
    @nps.command(name="results", description="The ambassador NPS, in aggregate (moderators)")
    @app_commands.describe(period="The survey's quarter, e.g. 2026-Q4 (default: the latest)")
    @moderator_only()
    async def nps_results(
        self, interaction: discord.Interaction[Any], period: str | None = None
    ) -> None:
        if period is not None:
            survey = self.service.named(period)
        else:
            survey = await self.service.latest() or self.service.current()
        report = await self.service.report(survey)
        pages = paginate(render_report(report))
        await interaction.response.send_message(
            embeds=[to_embed(spec) for spec in pages[0]],
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        for page in pages[1:]:
            await interaction.followup.send(
                embeds=[to_embed(spec) for spec in page],
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )

    @nps.command(name="send", description="Send this quarter's NPS survey now (moderators)")
    @moderator_only()
    async def nps_send(self, interaction: discord.Interaction[Any]) -> None:
        if not self.config.enabled:
            raise UserFacingError("NPS surveys are turned off here (nps.enabled in the config).")
        period = self.service.current()
        async with self._lock:
            result = await self.service.claim(period)
        if result.outcome == "in_flight":
            raise UserFacingError(f"The {period.label} survey is being sent right now.")
        if result.claim is None:
            sent = await self.service.sent_at(period)
            when = "" if sent is None else f" on {sent.astimezone(self.tz):%d %B %Y}"
            raise UserFacingError(
                f"The {period.label} survey was already sent{when}: one survey per quarter. "
                f"`/nps results {period.key}` shows the answers."
            )
        recipients = len(await self.service.recipients(period))
        self._spawn(period, result.claim)
        await interaction.response.send_message(
            f"Sending the {period.label} survey by DM to {recipients} tier member(s), one every "
            f"{self.config.dm_pace_seconds:g} s; it stays open until {closes_on(period)}. The mod "
            "log gets a summary when every DM is out.",
            ephemeral=True,
        )
        await self.bot.outbox.mod_log(
            f"{discord.utils.escape_markdown(interaction.user.display_name)} started the NPS "
            f"survey for {period.label} (`/nps send`)."
        )


async def setup(bot: Flywheel) -> None:
    bot.add_dynamic_items(ScoreButton, CommentButton)
    await bot.add_cog(Nps(bot))
