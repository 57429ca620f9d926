"""Scheduled events: follow them, record voice time in their channels, settle once at the end.

Only channels of events that are scheduled or active are watched, so the bot keeps no record
of everyday voice chat (less data, nothing to explain) and a member sitting in a channel
before the event starts is still counted from the start. Discord does not timestamp voice
states or status changes, so both are timed by the bot's clock when they arrive.

A voice session is one row per stretch of time with one muted-and-deafened flag: a flip
closes the row and opens another. "Muted and deafened" means muted (self or by the server)
*and* deafened (self or by the server): someone who can neither speak nor hear is parked,
whoever flipped the switch. Stage audiences are "suppressed", not muted, so they count.

Rows survive a restart: at start-up a row whose member is still in the same channel in the
same state stays open (they most likely never left); any other open row is closed at the
start-up time, since the bot cannot know when during its downtime the member left. The
event window clips this, and the downtime is all that can be over-counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.attendance import VoiceSegment, attended_minutes, attendees_of, event_outcome
from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.contributions import Contributions
from db.models import TrackedEvent
from db.repositories.events import EventRepository, VoiceSessionRepository
from db.repositories.members import MemberRepository

log = logging.getLogger(__name__)

EventStatus = Literal["scheduled", "active", "completed", "canceled"]


@dataclass(frozen=True)
class EventInfo:
    """A Discord scheduled event as the gateway describes it."""

    event_id: int
    name: str
    channel_id: int | None
    creator_id: int | None
    status: EventStatus
    scheduled_start: datetime


@dataclass(frozen=True)
class VoicePresence:
    """Where a member is in voice right now (``channel_id`` None: not in voice)."""

    user_id: int
    channel_id: int | None
    muted_and_deafened: bool


VoiceSnapshot = Callable[[], Sequence[VoicePresence]]
"""Everyone in voice now (bots left out); called under the service's lock, so it is fresh."""

EventSnapshot = Callable[[], Sequence[EventInfo]]
"""The guild's events now; called under the lock, so an event created meanwhile is listed."""


@dataclass(frozen=True)
class Settlement:
    """What a completed event credited."""

    event_id: int
    name: str
    host_id: int | None
    host_credited: bool
    attendees: tuple[int, ...]
    rsvps: int
    reason: str


@dataclass(frozen=True)
class EventChoice:
    event_id: int
    name: str
    scheduled_start: datetime


@dataclass(frozen=True)
class EventReport:
    event_id: int
    name: str
    status: str
    rsvps: frozenset[int]
    #: Counted minutes per member who was in the channel during the event.
    minutes: Mapping[int, float]
    attended: frozenset[int]
    min_minutes: int


class EventsService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        # Gateway events run as concurrent tasks; one lock keeps voice rows and status
        # changes in arrival order (a join, then a mute, must not be written the other way).
        self._lock = asyncio.Lock()
        self._watched: frozenset[int] = frozenset()

    @property
    def watched_channels(self) -> frozenset[int]:
        """Channels of scheduled or active events: the only ones whose voice time is kept."""
        return self._watched

    # ------------------------------------------------------------------ events
    async def sync(
        self,
        events: EventSnapshot,
        rsvps: Mapping[int, Collection[int]],
        voice: VoiceSnapshot,
    ) -> list[Settlement]:
        """Catch up at start-up with the guild's current events, RSVPs and voice.

        An open event Discord no longer lists ended while the bot was away: an active one
        completed (it is settled now), a scheduled one was canceled. ``rsvps`` may miss
        events created since it was fetched; theirs arrive as gateway events.
        """
        now = self.clock.now()
        settlements: list[Settlement] = []
        async with self._lock:
            async with self.sessions() as session, session.begin():
                repo = EventRepository(session, self.guild_id)
                listed = set()
                for info in events():
                    listed.add(info.event_id)
                    row = await self._track(repo, info)
                    settlements += await self._apply(session, row, info.status, now)
                    if info.event_id in rsvps:
                        await repo.replace_rsvps(info.event_id, rsvps[info.event_id], now=now)
                for row in await repo.open_events():
                    if row.event_id not in listed:
                        gone: EventStatus = "completed" if row.status == "active" else "canceled"
                        settlements += await self._apply(session, row, gone, now)
                watched = await self._watched_channels(repo)
                await self._reconcile_voice(session, watched, voice(), now)
            self._watched = watched
        await self._changed(settlements)
        return settlements

    async def event_changed(self, info: EventInfo, voice: VoiceSnapshot) -> Settlement | None:
        """A scheduled event was created or updated (status, channel, name...)."""
        now = self.clock.now()
        async with self._lock:
            async with self.sessions() as session, session.begin():
                repo = EventRepository(session, self.guild_id)
                row = await self._track(repo, info)
                settlements = await self._apply(session, row, info.status, now)
                watched = await self._watched_channels(repo)
                await self._reconcile_voice(session, watched, voice(), now)
            self._watched = watched
        await self._changed(settlements)
        return settlements[0] if settlements else None

    async def event_deleted(self, event_id: int, voice: VoiceSnapshot) -> None:
        """Deleting an event that has not completed cancels it: nobody is credited."""
        now = self.clock.now()
        async with self._lock:
            async with self.sessions() as session, session.begin():
                repo = EventRepository(session, self.guild_id)
                row = await repo.get(event_id)
                if row is not None:
                    await self._apply(session, row, "canceled", now)
                watched = await self._watched_channels(repo)
                await self._reconcile_voice(session, watched, voice(), now)
            self._watched = watched

    async def settle(self, event_id: int) -> Settlement | None:
        """Settle a completed event; None if it is not completed or was already settled."""
        now = self.clock.now()
        async with self._lock, self.sessions() as session, session.begin():
            row = await EventRepository(session, self.guild_id).get(event_id)
            if row is None or row.status != "completed":
                return None
            settlement = await self._settle(session, row, now)
        await self._changed([settlement] if settlement else [])
        return settlement

    async def rsvp(self, event_id: int, user_id: int, *, interested: bool) -> None:
        now = self.clock.now()
        # Under the lock: an RSVP right after creation must wait for the event to be recorded.
        async with self._lock, self.sessions() as session, session.begin():
            repo = EventRepository(session, self.guild_id)
            if await repo.get(event_id) is None:
                return
            if interested:
                await repo.rsvp(event_id, user_id, now=now)
            else:
                await repo.withdraw_rsvp(event_id, user_id, now=now)

    # ------------------------------------------------------------------- voice
    async def voice_changed(self, presence: VoicePresence, *, at: datetime) -> None:
        """A member joined, left, moved, or flipped mute/deafen; ``at`` is when it arrived."""
        async with self._lock, self.sessions() as session, session.begin():
            voice = VoiceSessionRepository(session, self.guild_id)
            keep = False
            for row in await voice.open_sessions(presence.user_id):
                same = (
                    row.channel_id == presence.channel_id
                    and row.muted_and_deafened == presence.muted_and_deafened
                )
                if same and not keep and row.channel_id in self._watched:
                    keep = True  # a replayed or irrelevant update (e.g. video on)
                    continue
                await voice.close(row, ended_at=at)
            if not keep and presence.channel_id in self._watched:
                await voice.open(
                    channel_id=presence.channel_id,
                    user_id=presence.user_id,
                    started_at=at,
                    muted_and_deafened=presence.muted_and_deafened,
                )

    # -------------------------------------------------------------- moderators
    async def find(self, query: str = "", *, open_only: bool, limit: int = 25) -> list[EventChoice]:
        """Events for autocomplete: open ones (host can be set) or all, newest first."""
        async with self.sessions() as session:
            rows = await EventRepository(session, self.guild_id).search(
                query.strip(), open_only=open_only, limit=limit
            )
        return [EventChoice(row.event_id, row.name, row.scheduled_start) for row in rows]

    async def set_host(self, event_id: int, host_id: int) -> str:
        """Make ``host_id`` the member credited for hosting; returns the event's name."""
        async with self._lock, self.sessions() as session, session.begin():
            row = await EventRepository(session, self.guild_id).get(event_id)
            if row is None:
                raise UserFacingError("I don't know that event. Pick one from the list.")
            if row.settled_at is not None:
                raise UserFacingError(
                    f"**{row.name}** has already been settled, so its host can't change."
                )
            if row.status == "canceled":
                raise UserFacingError(f"**{row.name}** was canceled; nobody will be credited.")
            row.host_id = host_id
            return row.name

    async def report(self, event_id: int) -> EventReport:
        """RSVPs against attendance; for a running event, attendance so far."""
        now = self.clock.now()
        async with self.sessions() as session:
            repo = EventRepository(session, self.guild_id)
            row = await repo.get(event_id)
            if row is None:
                raise UserFacingError("I don't know that event. Pick one from the list.")
            rsvps = frozenset(await repo.rsvp_ids(event_id))
            minutes = await self._attendance(session, row, end=row.ended_at or now)
        min_minutes = self.settings.events.min_minutes
        return EventReport(
            event_id=row.event_id,
            name=row.name,
            status=row.status,
            rsvps=rsvps,
            minutes=minutes,
            attended=attendees_of(minutes, min_minutes=min_minutes),
            min_minutes=min_minutes,
        )

    # ---------------------------------------------------------------- internals
    async def _track(self, repo: EventRepository, info: EventInfo) -> TrackedEvent:
        return await repo.track(
            info.event_id,
            name=info.name,
            channel_id=info.channel_id,
            creator_id=info.creator_id,
            scheduled_start=info.scheduled_start,
        )

    async def _apply(
        self, session: AsyncSession, row: TrackedEvent, status: EventStatus, now: datetime
    ) -> list[Settlement]:
        """Move the event to ``status``; completed and canceled are final (replays no-op)."""
        if row.status in ("completed", "canceled") or status == row.status:
            return []
        if status == "active":
            row.status, row.started_at = "active", now
        elif status == "canceled":
            row.status, row.ended_at = "canceled", now
        elif status == "completed":
            row.status, row.ended_at = "completed", now
            if row.started_at is None:  # the start was missed: count from the planned start
                row.started_at = min(row.scheduled_start, now)
            await session.flush()
            settlement = await self._settle(session, row, now)
            return [settlement] if settlement else []
        await session.flush()
        return []

    async def _settle(
        self, session: AsyncSession, row: TrackedEvent, now: datetime
    ) -> Settlement | None:
        """Credit attendees and the host, in the caller's transaction, exactly once."""
        repo = EventRepository(session, self.guild_id)
        assert row.ended_at is not None
        attendance = await self._attendance(session, row, end=row.ended_at)
        host_id = row.host_id or row.creator_id
        if host_id is not None:
            host = await MemberRepository(session, self.guild_id).get(host_id)
            if host is not None and host.is_bot:
                host_id = None  # an event a bot created has no human host until one is set
        outcome = event_outcome(
            status="completed",
            host_id=host_id,
            attendance=attendance,
            min_minutes=self.settings.events.min_minutes,
            min_attendees=self.settings.events.min_attendees,
        )
        claimed = await repo.claim_settlement(
            row.event_id, now=now, attendee_count=len(outcome.attendees)
        )
        if not claimed:
            return None
        credit = self.contributions.credit
        for user_id in sorted(outcome.attendees):
            await self.contributions.record(
                session,
                credit(
                    "event_attended",
                    user_id,
                    f"event:{row.event_id}:attended:{user_id}",
                    occurred_at=row.ended_at,
                    reason=f"attended {row.name}",
                ),
            )
        if outcome.hosted_credit and host_id is not None:
            await self.contributions.record(
                session,
                credit(
                    "event_hosted",
                    host_id,
                    f"event:{row.event_id}:host",
                    occurred_at=row.ended_at,
                    reason=f"hosted {row.name}",
                ),
            )
        return Settlement(
            event_id=row.event_id,
            name=row.name,
            host_id=host_id,
            host_credited=outcome.hosted_credit,
            attendees=tuple(sorted(outcome.attendees)),
            rsvps=len(await repo.rsvp_ids(row.event_id)),
            reason=outcome.reason,
        )

    async def _attendance(
        self, session: AsyncSession, row: TrackedEvent, *, end: datetime
    ) -> dict[int, float]:
        """Counted minutes per member in the event's channel between its start and ``end``."""
        if row.channel_id is None or row.started_at is None:
            return {}
        start = row.started_at
        segments: dict[int, list[VoiceSegment]] = defaultdict(list)
        voice = VoiceSessionRepository(session, self.guild_id)
        for vs in await voice.overlapping(row.channel_id, start=start, end=end):
            segments[vs.user_id].append(
                VoiceSegment(vs.started_at, vs.ended_at, vs.muted_and_deafened)
            )
        minutes = {
            user_id: attended_minutes(segs, window_start=start, window_end=end)
            for user_id, segs in segments.items()
        }
        return {user_id: m for user_id, m in minutes.items() if m > 0}

    async def _watched_channels(self, repo: EventRepository) -> frozenset[int]:
        return frozenset(
            row.channel_id for row in await repo.open_events() if row.channel_id is not None
        )

    async def _reconcile_voice(
        self,
        session: AsyncSession,
        watched: frozenset[int],
        presences: Sequence[VoicePresence],
        now: datetime,
    ) -> None:
        """Make open rows match who is in watched channels now (start-up, channel changes)."""
        voice = VoiceSessionRepository(session, self.guild_id)
        here = {p.user_id: p for p in presences if p.channel_id is not None}
        kept: set[int] = set()
        for row in await voice.open_sessions():
            presence = here.get(row.user_id)
            if (
                presence is not None
                and row.user_id not in kept
                and row.channel_id in watched
                and presence.channel_id == row.channel_id
                and presence.muted_and_deafened == row.muted_and_deafened
            ):
                kept.add(row.user_id)
                continue
            await voice.close(row, ended_at=now)
        for presence in here.values():
            if presence.channel_id in watched and presence.user_id not in kept:
                await voice.open(
                    channel_id=presence.channel_id,
                    user_id=presence.user_id,
                    started_at=now,
                    muted_and_deafened=presence.muted_and_deafened,
                )

    async def _changed(self, settlements: Sequence[Settlement]) -> None:
        users: set[int] = set()
        for settlement in settlements:
            users.update(settlement.attendees)
            if settlement.host_credited and settlement.host_id is not None:
                users.add(settlement.host_id)
        await self.contributions.changed(users)
