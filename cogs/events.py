"""Scheduled events glue: gateway events and voice states in, settlements and reports out."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.community import Community
from bot.errors import UserFacingError
from bot.services.events import (
    EventInfo,
    EventReport,
    EventStatus,
    Settlement,
    VoicePresence,
)

log = logging.getLogger(__name__)

STATUSES: dict[discord.EventStatus, EventStatus] = {
    discord.EventStatus.scheduled: "scheduled",
    discord.EventStatus.active: "active",
    discord.EventStatus.completed: "completed",
    discord.EventStatus.cancelled: "canceled",
}
UNKNOWN_EVENT = "I don't know that event. Pick one from the list."


def event_info(event: discord.ScheduledEvent) -> EventInfo:
    return EventInfo(
        event_id=event.id,
        name=event.name,
        channel_id=event.channel_id,
        creator_id=event.creator_id,
        status=STATUSES.get(event.status, "scheduled"),
        scheduled_start=event.start_time,
    )


def presence(user_id: int, state: discord.VoiceState) -> VoicePresence:
    """Muted (self or server) and deafened (self or server): see bot.services.events."""
    channel_id = state.channel.id if state.channel is not None else None
    parked = (state.self_mute or state.mute) and (state.self_deaf or state.deaf)
    return VoicePresence(user_id, channel_id, parked)


def summary(settlement: Settlement) -> str:
    """One line for the mod log; names render as mentions but the message pings nobody."""
    name = discord.utils.escape_mentions(discord.utils.escape_markdown(settlement.name))
    count = len(settlement.attendees)
    rsvps = f"{settlement.rsvps} RSVP{'' if settlement.rsvps == 1 else 's'}"
    line = f"**{name}** ended: {count} attended ({rsvps})"
    if settlement.host_credited:
        return f"{line}; host <@{settlement.host_id}> credited."
    return f"{line}; no host credit: {settlement.reason}."


def _people(user_ids: frozenset[int] | set[int]) -> str:
    """Mentions for an embed field (embeds never ping), cut to fit Discord's 1024 limit."""
    if not user_ids:
        return "nobody"
    text, shown = "", 0
    for user_id in sorted(user_ids):
        piece = f"<@{user_id}> "
        if len(text) + len(piece) > 990:
            return f"{text}and {len(user_ids) - shown} more"
        text, shown = text + piece, shown + 1
    return text.strip()


def report_embed(report: EventReport) -> discord.Embed:
    embed = discord.Embed(
        title=f"{report.name}: RSVPs vs attendance"[:256],
        description=(
            f"Status: {report.status}. Attended means at least {report.min_minutes} minutes "
            "in the event's channel, not muted and deafened."
        ),
    )
    rsvps, came = report.rsvps, report.attended
    embed.add_field(name=f"Interested ({len(rsvps)})", value=_people(rsvps), inline=False)
    embed.add_field(name=f"Attended ({len(came)})", value=_people(came), inline=False)
    embed.add_field(
        name=f"Interested, did not attend ({len(rsvps - came)})",
        value=_people(rsvps - came),
        inline=False,
    )
    embed.add_field(
        name=f"Attended without RSVP ({len(came - rsvps)})",
        value=_people(came - rsvps),
        inline=False,
    )
    return embed


def _event_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UserFacingError(UNKNOWN_EVENT) from None


class Events(commands.Cog):
    event = app_commands.Group(
        name="event", description="Scheduled events and their credits", guild_only=True
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.events

    def _voice(self) -> list[VoicePresence]:
        """Everyone in voice now, bots left out."""
        guild = self.bot.get_guild(self.bot.guild_id)
        if guild is None:
            return []
        found = []
        for channel in [*guild.voice_channels, *guild.stage_channels]:
            for user_id, state in channel.voice_states.items():
                member = guild.get_member(user_id)
                if member is not None and not member.bot:
                    found.append(presence(user_id, state))
        return found

    async def _announce(self, settlement: Settlement | None) -> None:
        if settlement is not None:
            await self.bot.outbox.mod_log(summary(settlement))

    # ------------------------------------------------------------- gateway
    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        rsvps: dict[int, list[int]] = {}
        for event in guild.scheduled_events:
            if event.status in (discord.EventStatus.scheduled, discord.EventStatus.active):
                try:
                    rsvps[event.id] = [user.id async for user in event.users()]
                except discord.HTTPException as exc:
                    log.warning("events: could not read RSVPs of %s (%s)", event.id, exc)
        settlements = await self.service.sync(
            lambda: [event_info(e) for e in guild.scheduled_events], rsvps, self._voice
        )
        for settlement in settlements:
            await self._announce(settlement)

    @commands.Cog.listener()
    async def on_scheduled_event_create(self, event: discord.ScheduledEvent) -> None:
        if event.guild_id == self.bot.guild_id:
            await self._announce(await self.service.event_changed(event_info(event), self._voice))

    @commands.Cog.listener()
    async def on_scheduled_event_update(
        self, before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        if after.guild_id == self.bot.guild_id:
            await self._announce(await self.service.event_changed(event_info(after), self._voice))

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        if event.guild_id == self.bot.guild_id:
            await self.service.event_deleted(event.id, self._voice)

    @commands.Cog.listener()
    async def on_scheduled_event_user_add(
        self, event: discord.ScheduledEvent, user: discord.User
    ) -> None:
        if event.guild_id == self.bot.guild_id:
            await self.service.rsvp(event.id, user.id, interested=True)

    @commands.Cog.listener()
    async def on_scheduled_event_user_remove(
        self, event: discord.ScheduledEvent, user: discord.User
    ) -> None:
        if event.guild_id == self.bot.guild_id:
            await self.service.rsvp(event.id, user.id, interested=False)

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        if member.guild.id != self.bot.guild_id or member.bot:
            return
        # Discord does not timestamp voice states: the time is when the update arrives.
        at = self.bot.clock.now()
        await self.service.voice_changed(presence(member.id, after), at=at)

    # ------------------------------------------------------------ commands
    @event.command(name="host", description="Set who is credited for hosting an event")
    @app_commands.describe(event="The event (scheduled or running)", member="Who hosts it")
    @moderator_only()
    async def host(
        self, interaction: discord.Interaction, event: str, member: discord.Member
    ) -> None:
        if member.bot:
            raise UserFacingError("Bots can't host events; pick a member.")
        name = await self.service.set_host(_event_id(event), member.id)
        await interaction.response.send_message(
            f"{member.mention} will be credited as the host of **{name}** when it ends.",
            ephemeral=True,
        )

    @host.autocomplete("event")
    async def _host_events(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(current, open_only=True)

    @event.command(name="report", description="RSVPs against attendance for an event")
    @app_commands.describe(event="The event")
    @moderator_only()
    async def report(self, interaction: discord.Interaction, event: str) -> None:
        report = await self.service.report(_event_id(event))
        await interaction.response.send_message(embed=report_embed(report), ephemeral=True)

    @report.autocomplete("event")
    async def _report_events(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(current, open_only=False)

    async def _choices(self, current: str, *, open_only: bool) -> list[app_commands.Choice[str]]:
        found = await self.service.find(current, open_only=open_only)
        return [
            app_commands.Choice(
                name=f"{e.name[:80]} — {e.scheduled_start:%Y-%m-%d}", value=str(e.event_id)
            )
            for e in found
        ]


async def setup(bot: Community) -> None:
    await bot.add_cog(Events(bot))
