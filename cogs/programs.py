"""/beta and /research: beta programs and user-research calls, Discord glue around
ProgramsService.

A program is announced in ``[feedback] programs_channel`` with a Join button (custom id
``beta:join:12``, persistent) and gets a private thread there; testers are added to it when
they join. Reports go on the moderators' review card (kind ``beta``): approved reports earn
their tester the ``beta_testing`` credit when staff close the program; closing thanks every
tester by DM (paced, each DM claimed before it is sent) and archives the thread. A research call
is posted there with a Volunteer button (``research:volunteer:12``). Nothing the bot posts pings
anyone.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator
from bot.community import Community
from bot.core.text import EMBED_DESCRIPTION_LIMIT, EMBED_FIELD_LIMIT, EMBED_TITLE_LIMIT, clip
from bot.errors import UserFacingError
from bot.outbox import NO_MENTIONS, member_name, paced
from bot.review_card import CardState, Notice, review_buttons
from bot.services.programs import (
    REASON_MAX,
    REASON_MIN,
    Call,
    Program,
    ProgramsService,
    ReportDecision,
)
from bot.tree import follow_up, handled, loaded_cog

log = logging.getLogger(__name__)

STAFF_ONLY = "Only the product team and moderators can do that."
OFF = "Beta programs and user research aren't set up here ([feedback] programs_channel)."
DM_FAILED = "Couldn't DM the tester (they don't accept DMs from the bot)."
STATUS_COLOURS = {
    "pending": discord.Colour.gold(),
    "approved": discord.Colour.green(),
    "rejected": discord.Colour.red(),
}


def is_staff(user: discord.abc.User, bot: Community) -> bool:
    if is_moderator(user, bot.settings):
        return True
    return bot.services.programs.is_product_staff([r.id for r in getattr(user, "roles", [])])


def parse_day(raw: str | None) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise UserFacingError(f"{raw!r} is not a date: write it as 2026-12-31.") from None


# ---------------------------------------------------------------------- rendering
def program_embed(service: ProgramsService, program: Program) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"Beta: {program.name}", EMBED_TITLE_LIMIT),
        description="Press **Join** to test it; testers get a private thread with the team.",
        colour=discord.Colour.blurple() if program.status == "open" else discord.Colour.dark_grey(),
    )
    embed.add_field(
        name="Who",
        value=f"{service.tier_name(program.min_tier)} and above" if program.min_tier else "anyone",
    )
    seats = "no limit" if program.seats is None else f"{program.taken}/{program.seats} taken"
    embed.add_field(name="Seats", value=seats)
    if program.until is not None:
        embed.add_field(name="Join until", value=program.until.isoformat())
    embed.set_footer(text=f"Beta #{program.id}")
    return embed


def join_view(program: Program) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(JoinButton(program.id, closed=program.status != "open"))
    return view


def call_embed(service: ProgramsService, call: Call, group: str | None) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"User research: {call.title}", EMBED_TITLE_LIMIT),
        description=clip(call.details, EMBED_DESCRIPTION_LIMIT),
        colour=discord.Colour.teal(),
    )
    who = []
    if call.min_tier:
        who.append(f"{service.tier_name(call.min_tier)} and above")
    if call.region:
        who.append(f"a user group in {call.region}")
    if group:
        who.append(f"members of {group}")
    embed.add_field(name="Who", value=clip(", ".join(who) or "anyone", EMBED_FIELD_LIMIT))
    if call.seats is not None:
        embed.add_field(name="Sessions", value=str(call.seats))
    embed.set_footer(text=f"Research #{call.id}")
    return embed


def volunteer_view(call_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VolunteerButton(call_id))
    return view


# ---------------------------------------------------------------------- buttons


class JoinButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"beta:join:(?P<id>[0-9]+)"
):
    def __init__(self, program_id: int, *, closed: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Closed" if closed else "Join",
                style=discord.ButtonStyle.primary,
                custom_id=f"beta:join:{program_id}",
                disabled=closed,
            )
        )
        self.program_id = program_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> JoinButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async with handled(interaction, f"joining beta #{self.program_id}"):
            await loaded_cog(interaction, ProgramsCog).join(interaction, self.program_id)


class VolunteerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"research:volunteer:(?P<id>[0-9]+)",
):
    def __init__(self, call_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Volunteer",
                style=discord.ButtonStyle.primary,
                custom_id=f"research:volunteer:{call_id}",
            )
        )
        self.call_id = call_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VolunteerButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async with handled(interaction, f"volunteering for research #{self.call_id}"):
            call = await loaded_cog(interaction, ProgramsCog).service.volunteer(
                self.call_id, interaction.user.id
            )
            await interaction.response.send_message(
                f"Thanks for volunteering for **{discord.utils.escape_markdown(call.title)}**! "
                "The team picks participants and tells you by DM.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )


# ---------------------------------------------------------------------- the review card
class BetaReview:
    """Tester reports on the shared review card: the tester is told either way."""

    key = "beta"
    noun = "beta report"
    reason_label = "Reason (sent to the tester)"
    reason_min, reason_max = REASON_MIN, REASON_MAX
    approval_is_slow = False

    def __init__(self, service: ProgramsService) -> None:
        self.service = service

    async def check(self, record_id: int, moderator_id: int) -> ReportDecision:
        return await self.service.check_report(record_id, moderator_id)

    async def approve(self, record_id: int, moderator_id: int) -> ReportDecision:
        return await self.service.decide_report(record_id, moderator_id, approve=True)

    async def reject(self, record_id: int, moderator_id: int, reason: str) -> ReportDecision:
        return await self.service.decide_report(
            record_id, moderator_id, approve=False, reason=reason
        )

    async def waiting(self) -> list[ReportDecision]:
        return [
            ReportDecision(r, decided_now=False) for r in await self.service.reports_without_card()
        ]

    async def current(self, record_id: int) -> ReportDecision | None:
        return None  # beta reports are decided in Discord only, never on the web

    async def card_posted(self, record_id: int, channel_id: int, message_id: int) -> None:
        await self.service.report_card_posted(record_id, channel_id, message_id)

    def state(self, decision: ReportDecision) -> CardState:
        r = decision.report
        return CardState(
            record_id=r.id,
            status=r.status,
            decided_now=decision.decided_now,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            channel_id=r.channel_id,
            message_id=r.message_id,
        )

    def card(
        self, guild: discord.Guild | None, decision: ReportDecision, *, note: str = ""
    ) -> dict[str, Any]:
        r = decision.report
        embed = discord.Embed(
            title=clip(f"Beta report: {r.program_name}", EMBED_TITLE_LIMIT),
            colour=STATUS_COLOURS.get(r.status),
        )
        embed.add_field(
            name="Report", value=clip(discord.utils.escape_mentions(r.text), EMBED_FIELD_LIMIT)
        )
        embed.add_field(name="Tester", value=member_name(guild, r.user_id))
        if r.status == "approved":
            status = (
                f"Accepted by {member_name(guild, r.decided_by)}: the tester is credited when "
                "the program closes"
            )
        elif r.status == "rejected":
            status = f"Rejected by {member_name(guild, r.decided_by)}: {r.reason or ''}"
        else:
            status = "Waiting for a moderator"
        if note:
            status += f"\n{note}"
        embed.description = clip(status, EMBED_DESCRIPTION_LIMIT)
        embed.set_footer(text=f"Beta report #{r.id}")
        return {
            "content": f"New beta report from {member_name(guild, r.user_id)} to review",
            "embed": embed,
            "view": review_buttons(self.key, r.id) if r.status == "pending" else None,
            "allowed_mentions": NO_MENTIONS,
        }

    def notice(
        self, guild: discord.Guild | None, decision: ReportDecision, moderator_id: int
    ) -> Notice:
        r = decision.report
        name = discord.utils.escape_markdown(r.program_name)
        if r.status == "approved":
            text = (
                f"Your report on the beta **{name}** was accepted. Thank you! You are credited "
                "when the program closes."
            )
        else:
            reason = discord.utils.escape_mentions(r.reason or "no reason given")
            text = f"Your report on the beta **{name}** was not accepted. The team said: {reason}"
        return Notice(r.user_id, text, unreachable=DM_FAILED)


# ---------------------------------------------------------------------- the cog
class ProgramsCog(commands.Cog, name="Programs"):
    beta = app_commands.Group(
        name="beta", description="Beta programs: join, report, close", guild_only=True
    )
    research = app_commands.Group(
        name="research", description="User research: calls for volunteers", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service: ProgramsService = bot.services.programs
        self.review = BetaReview(self.service)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(JoinButton, VolunteerButton)
        self.bot.reviews.register(self.review)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(JoinButton, VolunteerButton)
        self.bot.reviews.unregister(self.review.key)

    def channel(self) -> discord.TextChannel:
        channel_id = self.bot.settings.feedback.programs_channel
        channel = self.bot.get_channel(channel_id) if channel_id else None
        if not isinstance(channel, discord.TextChannel):
            raise UserFacingError(
                OFF if channel_id is None else "The programs channel is not a text channel I see."
            )
        return channel

    def staff_only(self, interaction: discord.Interaction[Any]) -> None:
        if not is_staff(interaction.user, self.bot):
            raise UserFacingError(STAFF_ONLY)

    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        """Post what Discord refused before (programs, calls), and finish the thank-you DMs of
        programs closed before a restart."""
        if not self.service.enabled:
            return
        await self.post_unposted()
        for program_id in await self.service.closed_unthanked():
            self.bot.services.background.spawn(
                self.thank(program_id), name=f"beta {program_id} thanks"
            )

    async def post_unposted(self) -> None:
        """Set up each open program and call saved without its post, once: a post made before
        a crash (its record lost) is found by its button and recorded instead of made again."""
        programs, calls = await self.service.unposted()
        if not programs and not calls:
            return
        try:
            channel = self.channel()
        except UserFacingError as exc:
            log.error("programs: %s; %s program(s)/call(s) wait", exc, len(programs) + len(calls))
            return
        made = await self._posted_buttons(channel)
        try:
            for program in programs:
                await self.set_up(channel, program, made.get(f"beta:join:{program.id}"))
            for call in calls:
                posted = made.get(f"research:volunteer:{call.id}")
                await self.post_call(channel, call, await self.service.group_name(call.group_id),
                                     posted)  # fmt: skip
        except discord.HTTPException as exc:
            await self.alert_setup(channel, exc)

    async def _posted_buttons(self, channel: discord.TextChannel) -> dict[str, int]:
        """custom id → message id of the bot's recent posts with a Join or Volunteer button."""
        found: dict[str, int] = {}
        me = self.bot.user
        try:
            async for message in channel.history(limit=100):
                if me is None or message.author.id != me.id:
                    continue
                for row in message.components:
                    for item in getattr(row, "children", ()):
                        custom_id = getattr(item, "custom_id", None)
                        if custom_id:
                            found.setdefault(custom_id, message.id)
        except discord.HTTPException as exc:
            log.warning("programs: could not read #%s to find earlier posts: %s", channel, exc)
        return found

    async def set_up(
        self,
        channel: discord.TextChannel,
        program: Program,
        posted: int | None = None,
        staff: discord.abc.Snowflake | None = None,
    ) -> discord.Thread | None:
        """The program's private thread and its post, each made (and recorded) once."""
        thread = self.bot.get_channel(program.thread_id or 0)
        if program.thread_id is None:
            thread = await channel.create_thread(
                name=clip(f"Beta: {program.name}", 100),
                type=discord.ChannelType.private_thread,
                invitable=False,
                reason="Flywheel: beta program",
            )
            await self.service.program_thread(program.id, thread.id)
            if staff is not None:
                await thread.add_user(staff)
            await thread.send(
                f"The testers' thread of the beta **{discord.utils.escape_markdown(program.name)}**"
                ". Testers are added here when they join; send reports with /beta report.",
                allowed_mentions=NO_MENTIONS,
            )
        if program.message_id is None:
            if posted is None:
                message = await channel.send(
                    embed=program_embed(self.service, program),
                    view=join_view(program),
                    allowed_mentions=NO_MENTIONS,
                )
                posted = message.id
            await self.service.program_posted(program.id, posted)
        return thread if isinstance(thread, discord.Thread) else None

    async def post_call(
        self, channel: discord.TextChannel, call: Call, group: str | None, posted: int | None
    ) -> None:
        if posted is None:
            message = await channel.send(
                embed=call_embed(self.service, call, group),
                view=volunteer_view(call.id),
                allowed_mentions=NO_MENTIONS,
            )
            posted = message.id
        await self.service.call_posted(call.id, channel.id, posted)

    async def alert_setup(self, channel: discord.TextChannel, exc: discord.HTTPException) -> None:
        await self.bot.outbox.alert(
            f"**Beta and research:** a post could not be made in #{channel.name} "
            f"({exc.text or exc.status}); it is made at the next start.\nFix: give the bot Send "
            f"Messages, Embed Links, Create Private Threads and Manage Threads in #{channel.name}."
        )

    # ------------------------------------------------------------------ /beta create
    @beta.command(name="create", description="Staff: open a beta program members can join")
    @app_commands.describe(
        name="The program's name",
        min_tier="Lowest tier that may join (default: anyone)",
        seats="How many testers at most (default: no limit)",
        until="Last day to join, like 2026-12-31",
    )
    async def create(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        min_tier: str | None = None,
        seats: app_commands.Range[int, 1, 10000] | None = None,
        until: str | None = None,
    ) -> None:
        self.staff_only(interaction)
        channel = self.channel()
        program = await self.service.create_program(
            name=name,
            min_tier=min_tier,
            seats=seats,
            until=parse_day(until),
            created_by=interaction.user.id,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            thread = await self.set_up(channel, program, staff=interaction.user)
        except discord.HTTPException as exc:
            await self.alert_setup(channel, exc)
            raise UserFacingError(
                "The program is saved, but I couldn't post it; the moderators were told and it "
                "is posted at the next start."
            ) from None
        where = f"; its testers' thread is {thread.mention}" if thread is not None else ""
        await follow_up(
            interaction,
            f"Beta #{program.id} **{discord.utils.escape_markdown(program.name)}** is open in "
            f"{channel.mention}{where}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @create.autocomplete("min_tier")
    async def _tiers(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=t.name, value=t.key)
            for t in self.bot.settings.tiers
            if current.casefold() in t.name.casefold()
        ][:25]

    async def join(self, interaction: discord.Interaction[Any], program_id: int) -> None:
        program = await self.service.join(program_id, interaction.user.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        thread = self.bot.get_channel(program.thread_id or 0)
        where = ""
        if isinstance(thread, discord.Thread):
            try:
                await thread.add_user(interaction.user)
                where = f" You are in the testers' thread: {thread.mention}."
            except discord.HTTPException as exc:
                log.warning(
                    "could not add %s to beta thread %s: %s", interaction.user.id, thread.id, exc
                )
        if interaction.message is not None:
            try:
                await interaction.message.edit(embed=program_embed(self.service, program))
            except discord.HTTPException as exc:
                log.warning("could not update the beta #%s post: %s", program_id, exc)
        await follow_up(
            interaction,
            f"Welcome to the beta **{discord.utils.escape_markdown(program.name)}**!{where} "
            "Send what you find with /beta report.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ /beta report
    @beta.command(name="report", description="Testers: send a report on a beta program")
    @app_commands.describe(program="The program", text="What you found")
    async def report(self, interaction: discord.Interaction[Any], program: int, text: str) -> None:
        report = await self.service.submit_report(program, interaction.user.id, text)
        await interaction.response.defer(ephemeral=True, thinking=True)
        decision = ReportDecision(report, decided_now=False)
        if await self.bot.reviews.post_card(interaction.guild, self.review, decision):
            answer = "Thanks! Your report is with the team; I'll DM you when it's decided."
        else:
            answer = "Your report is saved; it reaches the team's review at the next start."
        await follow_up(interaction, answer, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ------------------------------------------------------------------ /beta close
    @beta.command(name="close", description="Staff: close a program, thank and credit testers")
    @app_commands.describe(program="The program")
    async def close(self, interaction: discord.Interaction[Any], program: int) -> None:
        self.staff_only(interaction)
        closed = await self.service.close(program, actor_id=interaction.user.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        thread = self.bot.get_channel(closed.program.thread_id or 0)
        if isinstance(thread, discord.Thread):
            try:
                await thread.send(
                    "This beta is closed. Thank you all for testing!",
                    allowed_mentions=NO_MENTIONS,
                )
                await thread.edit(archived=True, locked=True, reason="Flywheel: beta closed")
            except discord.HTTPException as exc:
                log.warning("could not archive beta thread %s: %s", thread.id, exc)
        self.bot.services.background.spawn(
            self.thank(closed.program.id), name=f"beta {closed.program.id} thanks"
        )
        name = discord.utils.escape_markdown(closed.program.name)
        await follow_up(
            interaction,
            f"Beta **{name}** is closed: {len(closed.credited)} tester(s) with an accepted report "
            f"credited ({closed.points} points in all); every tester is being thanked by DM.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def thank(self, program_id: int) -> None:
        """Thank every tester by DM: paced, each DM claimed before it is sent."""
        program, people, credited = await self.service.to_thank(program_id)
        name = discord.utils.escape_markdown(program.name)
        pace = self.bot.settings.feedback.dm_pace_seconds
        async for user_id in paced(people, pace):
            if user_id <= 0 or not await self.service.claim_thanks(program_id, user_id):
                continue
            extra = (
                " Your accepted report earned you the beta testing credit."
                if user_id in credited
                else ""
            )
            text = (
                f"The beta **{name}** in {self.bot.outbox.guild_name()} is closed. "
                f"Thank you for testing it!{extra}"
            )
            failed = await self.bot.outbox.try_dm(user_id, text)
            await self.service.record_thanks(program_id, user_id, ok=failed is None)

    @report.autocomplete("program")
    @close.autocomplete("program")
    async def _programs(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        return [
            app_commands.Choice(name=clip(p.name, 100), value=p.id)
            for p in await self.service.programs()
            if current.casefold() in p.name.casefold()
        ][:25]

    # ------------------------------------------------------------------ /research
    @research.command(name="recruit", description="Staff: call for user-research volunteers")
    @app_commands.describe(
        title="What the sessions are about",
        details="Length, format, what you'll ask",
        min_tier="Lowest tier that may volunteer",
        region="Only members of a user group in this region",
        group="Only members of this user group",
        seats="How many participants you will pick",
    )
    async def recruit(
        self,
        interaction: discord.Interaction[Any],
        title: str,
        details: str,
        min_tier: str | None = None,
        region: str | None = None,
        group: str | None = None,
        seats: app_commands.Range[int, 1, 1000] | None = None,
    ) -> None:
        self.staff_only(interaction)
        channel = self.channel()
        call = await self.service.recruit(
            title=title,
            details=details,
            min_tier=min_tier,
            region=region,
            group=group,
            seats=seats,
            created_by=interaction.user.id,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await self.post_call(channel, call, group, None)
        except discord.HTTPException as exc:
            await self.alert_setup(channel, exc)
            raise UserFacingError(
                "The call is saved, but I couldn't post it; the moderators were told and it is "
                "posted at the next start."
            ) from None
        await follow_up(
            interaction,
            f"Research call #{call.id} is posted in {channel.mention}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @recruit.autocomplete("min_tier")
    async def _call_tiers(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._tiers(interaction, current)

    @research.command(name="volunteers", description="Staff: who volunteered for a call")
    @app_commands.describe(call="The call's number")
    async def volunteers(self, interaction: discord.Interaction[Any], call: int) -> None:
        self.staff_only(interaction)
        found = await self.service.call(call)
        people = await self.service.volunteers(call)
        if not people:
            await interaction.response.send_message(
                f"Nobody volunteered for #{call} yet.", ephemeral=True
            )
            return
        lines = [
            f"- {member_name(interaction.guild, v.user_id)}"
            + (" · picked" if v.picked else "")
            + (" · took part" if v.took_part else "")
            for v in people
        ]
        embed = discord.Embed(
            title=clip(f"Volunteers: {found.title}", EMBED_TITLE_LIMIT),
            description=clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @research.command(name="pick", description="Staff: pick a volunteer (told by DM)")
    @app_commands.describe(call="The call's number", member="The volunteer")
    async def pick(
        self, interaction: discord.Interaction[Any], call: int, member: discord.Member
    ) -> None:
        self.staff_only(interaction)
        found = await self.service.pick(call, member.id, by=interaction.user.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        told = "already told"
        if await self.service.claim_pick_notice(call, member.id):
            failed = await self.bot.outbox.try_dm(
                member.id,
                f"You were picked for the user-research sessions "
                f"**{discord.utils.escape_markdown(found.title)}** in "
                f"{self.bot.outbox.guild_name()}! The team will contact you to set a time.",
            )
            await self.service.record_pick_notice(call, member.id, ok=failed is None)
            told = "told by DM" if failed is None else "couldn't be DMed"
        await follow_up(
            interaction,
            f"{member_name(interaction.guild, member.id)} is picked ({told}).",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @research.command(name="took-part", description="Staff: credit a picked member who took part")
    @app_commands.describe(call="The call's number", member="The participant")
    async def took_part(
        self, interaction: discord.Interaction[Any], call: int, member: discord.Member
    ) -> None:
        self.staff_only(interaction)
        points = await self.service.took_part(call, member.id, actor_id=interaction.user.id)
        await interaction.response.send_message(
            f"{member_name(interaction.guild, member.id)} is credited for taking part "
            f"(+{points} points).",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: Community) -> None:
    await bot.add_cog(ProgramsCog(bot))
