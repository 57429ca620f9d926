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
from functools import partial
from typing import Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.core.embeds import paginate
from bot.core.nps import closes_on, is_open, period_from_key, render_report, survey_period
from bot.core.periods import Period
from bot.errors import UserFacingError
from bot.interaction_gate import if_quick
from bot.outbox import NO_MENTIONS, paced
from bot.posting import to_embed
from bot.routing import services_of
from bot.scheduling import OncePerPeriod
from bot.services.nps import NPS_KIND
from bot.services.recognition import Claim
from bot.tree import follow_up, handled

log = logging.getLogger(__name__)

QUESTION: Final = "How likely are you to recommend the ambassador program to a friend or colleague?"
COMMENT_INPUT: Final = "comment"
_PERIOD: Final = r"\d{4}-Q[1-4]"
#: Surveys go by DM, where Discord names no server: each custom id ends with its server's id
#: (ids sent before a deployment served several servers have none; they belong to the one).
_SERVER: Final = r"(?::(?P<guild>[0-9]{15,20}))?"
_COMMENT_FORM: Final = re.compile(
    rf"nps:comment-form:(?P<period>{_PERIOD})(?P<keep>:keep)?{_SERVER}"
)
KEPT: Final = "Your comment is unchanged."
#: Discord allows five buttons per row: 0-4, 5-9, then 10 beside "Add a comment".
_ROWS: Final = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9), (10,))


class ScoreButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"nps:score:(?P<period>{_PERIOD}):(?P<score>10|[0-9]){_SERVER}",
):
    def __init__(
        self,
        period: str,
        score: int,
        guild_id: int | None,
        *,
        chosen: bool = False,
        row: int = 0,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=str(score),
                style=discord.ButtonStyle.success if chosen else discord.ButtonStyle.secondary,
                custom_id=f"nps:score:{period}:{score}{_server(guild_id)}",
                row=row,
            )
        )
        self.period, self.score, self.guild_id = period, score, guild_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ScoreButton:
        return cls(match["period"], int(match["score"]), _guild(match))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction, self.guild_id).nps
        async with handled(interaction, "recording an NPS answer"):
            answered = await service.answer(self.period, interaction.user.id, self.score)
            _, comment = await service.comment_for(self.period, interaction.user.id)
            await interaction.response.edit_message(
                content=survey_text(answered.period, chosen=self.score, commented=bool(comment)),
                view=survey_view(answered.period.key, service.guild_id, chosen=self.score),
                allowed_mentions=NO_MENTIONS,
            )


class CommentButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"nps:comment:(?P<period>{_PERIOD}){_SERVER}",
):
    def __init__(self, period: str, guild_id: int | None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add a comment",
                emoji="💬",
                style=discord.ButtonStyle.primary,
                custom_id=f"nps:comment:{period}{_server(guild_id)}",
                row=2,
            )
        )
        self.period, self.guild_id = period, guild_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CommentButton:
        return cls(match["period"], _guild(match))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction, self.guild_id).nps
        async with handled(interaction, "opening the NPS comment form"):
            # The form must be the first answer within Discord's 3 seconds: with a slow store
            # it opens without the current comment, and an empty submission then keeps it.
            found = await if_quick(service.comment_for(self.period, interaction.user.id))
            if found is None:
                form = comment_form(service.open_period(self.period), None, service.guild_id)
            else:
                form = comment_form(*found, service.guild_id)
            await interaction.response.send_modal(form)
            form.stop()  # the submission is handled by custom id in on_interaction


def _server(guild_id: int | None) -> str:
    return "" if guild_id is None else f":{guild_id}"


def _guild(match: re.Match[str]) -> int | None:
    return int(match["guild"]) if match["guild"] else None


def survey_view(period: str, guild_id: int, *, chosen: int | None = None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for row, scores in enumerate(_ROWS):
        for score in scores:
            view.add_item(ScoreButton(period, score, guild_id, chosen=score == chosen, row=row))
    view.add_item(CommentButton(period, guild_id))
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


def comment_form(period: Period, current: str | None, guild_id: int) -> discord.ui.Modal:
    """Routed by its custom id (``on_interaction``), so a form opened before a restart works.

    ``current`` None: the current comment is unknown (a slow store), so the form is marked
    ``:keep`` and an empty submission keeps it instead of removing it.
    """
    keep = ":keep" if current is None else ""
    modal = discord.ui.Modal(
        title=f"Your comment · survey {period.label}",
        custom_id=f"nps:comment-form:{period.key}{keep}{_server(guild_id)}",
    )
    modal.add_item(
        discord.ui.TextInput(
            label="What would make the program better?",
            custom_id=COMMENT_INPUT,
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=1000,
            default=current or None,
            placeholder="Shown to moderators without your name. "
            + ("Leave empty to keep your comment." if keep else "Leave empty to remove it."),
        )
    )
    return modal


def _submitted(
    interaction: discord.Interaction[Any],
) -> tuple[str, str | None, int | None] | None:
    """``(period, comment, server)`` if this interaction submits an NPS comment form; the
    comment is None when a ``:keep`` form came back empty."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    data: dict[str, Any] = dict(interaction.data or {})
    match = _COMMENT_FORM.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    text = _value(list(data.get("components") or []))
    return match["period"], None if match["keep"] and not text.strip() else text, _guild(match)


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

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.nps

    @property
    def config(self) -> Any:
        return self.bot.settings.nps

    @property
    def tz(self) -> Any:
        return self.bot.settings.schedule.tz

    def entry(self) -> OncePerPeriod:
        """The schedule's entry: one survey per quarter, DMs paced in the background."""
        schedule = self.config.schedule
        return OncePerPeriod(
            kind=NPS_KIND,
            title="NPS survey",
            period_kind="quarterly",
            cadence=schedule,
            cron={
                "month": "1,4,7,10",
                "day": schedule.day,
                "hour": schedule.time.hour,
                "minute": schedule.time.minute,
            },
            grace=timedelta(days=self.bot.settings.schedule.catch_up_grace_days),
            deliver=self._deliver,
            period_from_key=partial(period_from_key, tz=self.tz),
            period_at=lambda occurrence: survey_period(occurrence.scheduled_at, self.tz),
            is_open=is_open,
            skipped=self._skipped,
            in_background=True,
        )

    async def cog_load(self) -> None:
        if self.config.enabled:
            self.bot.schedule.add(self.entry())

    async def cog_unload(self) -> None:
        self.bot.schedule.remove(NPS_KIND)

    async def _deliver(self, period: Period, claim: Claim, recovering: bool) -> None:
        if recovering:
            log.info("nps: resuming the %s survey DMs after a restart", period.key)
        await self.send_survey(period, claim)

    async def _skipped(self, period: Period, due: Any) -> None:
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
                if not await self.service.claim_invite(period, user_id):
                    continue  # asked already: claimed before the DM, so never twice
                ok = await self.bot.outbox.dm(
                    user_id, survey_text(period), view=survey_view(period.key, self.bot.guild_id)
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
        period, text, guild_id = submitted
        if (guild_id or interaction.guild_id or self.bot.guild_id) != self.bot.guild_id:
            return  # another server's form: its own cog answers it
        async with handled(interaction, "saving an NPS comment"):
            if text is None:
                await interaction.response.send_message(KEPT, ephemeral=True)
                return
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
            await follow_up(
                interaction,
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
        result = await self.bot.schedule.send_now(NPS_KIND, period)
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


async def setup(bot: Community) -> None:
    bot.add_dynamic_items(ScoreButton, CommentButton)
    await bot.add_cog(Nps(bot))
