"""Scheduled events, their RSVPs, and the voice sessions attendance is computed from."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import EventRsvp, TrackedEvent, VoiceSession
from db.repositories.leases import check_fence
from db.upsert import insert_for

#: Events that can still change: their channel is watched and their host can be set.
OPEN_STATUSES = ("scheduled", "active")


class EventRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def get(self, event_id: int) -> TrackedEvent | None:
        return await self.session.get(
            TrackedEvent, (self.guild_id, event_id), populate_existing=True
        )

    async def track(
        self,
        event_id: int,
        *,
        name: str,
        channel_id: int | None,
        creator_id: int | None,
        scheduled_start: datetime,
    ) -> TrackedEvent:
        """Insert the event, or refresh its details (never its status: see the service)."""
        stmt = insert_for(self.session, TrackedEvent).values(
            guild_id=self.guild_id,
            event_id=event_id,
            name=name[:100],
            channel_id=channel_id,
            creator_id=creator_id,
            status="scheduled",
            scheduled_start=scheduled_start,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "event_id"],
                set_={
                    "name": stmt.excluded.name,
                    "channel_id": stmt.excluded.channel_id,
                    "creator_id": stmt.excluded.creator_id,
                    "scheduled_start": stmt.excluded.scheduled_start,
                },
            )
        )
        event = await self.get(event_id)
        assert event is not None
        return event

    async def open_events(self) -> list[TrackedEvent]:
        """Scheduled or active events, oldest start first."""
        rows = await self.session.scalars(
            select(TrackedEvent)
            .where(TrackedEvent.guild_id == self.guild_id, TrackedEvent.status.in_(OPEN_STATUSES))
            .order_by(TrackedEvent.scheduled_start)
        )
        return list(rows)

    async def search(self, text: str, *, open_only: bool, limit: int) -> list[TrackedEvent]:
        """Events whose name contains ``text``: open ones soonest first, else newest first."""
        stmt = select(TrackedEvent).where(TrackedEvent.guild_id == self.guild_id)
        if text:
            stmt = stmt.where(func.lower(TrackedEvent.name).contains(text.lower(), autoescape=True))
        if open_only:
            stmt = stmt.where(TrackedEvent.status.in_(OPEN_STATUSES)).order_by(
                TrackedEvent.scheduled_start
            )
        else:
            stmt = stmt.order_by(TrackedEvent.scheduled_start.desc())
        return list(await self.session.scalars(stmt.limit(limit)))

    async def claim_settlement(self, event_id: int, *, now: datetime, attendee_count: int) -> bool:
        """Mark the event settled; False if it already was (so credits are written once)."""
        await check_fence(self.session)
        result = await self.session.execute(
            update(TrackedEvent)
            .where(
                TrackedEvent.guild_id == self.guild_id,
                TrackedEvent.event_id == event_id,
                TrackedEvent.settled_at.is_(None),
            )
            .values(settled_at=now, attendee_count=attendee_count)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------- RSVPs
    async def rsvp(self, event_id: int, user_id: int, *, now: datetime) -> None:
        """Record "interested"; marking it again after withdrawing revives the RSVP."""
        stmt = insert_for(self.session, EventRsvp).values(
            guild_id=self.guild_id, event_id=event_id, user_id=user_id, created_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "event_id", "user_id"], set_={"withdrawn_at": None}
            )
        )

    async def withdraw_rsvp(self, event_id: int, user_id: int, *, now: datetime) -> None:
        await self.session.execute(
            update(EventRsvp)
            .where(
                EventRsvp.guild_id == self.guild_id,
                EventRsvp.event_id == event_id,
                EventRsvp.user_id == user_id,
                EventRsvp.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=now)
        )

    async def replace_rsvps(
        self, event_id: int, user_ids: Collection[int], *, now: datetime
    ) -> None:
        """Make the stored RSVPs match Discord's list (after downtime)."""
        current = await self.rsvp_ids(event_id)
        for user_id in set(user_ids) - current:
            await self.rsvp(event_id, user_id, now=now)
        for user_id in current - set(user_ids):
            await self.withdraw_rsvp(event_id, user_id, now=now)

    async def rsvp_ids(self, event_id: int) -> set[int]:
        rows = await self.session.scalars(
            select(EventRsvp.user_id).where(
                EventRsvp.guild_id == self.guild_id,
                EventRsvp.event_id == event_id,
                EventRsvp.withdrawn_at.is_(None),
            )
        )
        return set(rows)


class VoiceSessionRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def open_sessions(self, user_id: int | None = None) -> list[VoiceSession]:
        """Sessions without an end, for one member or everyone."""
        stmt = select(VoiceSession).where(
            VoiceSession.guild_id == self.guild_id, VoiceSession.ended_at.is_(None)
        )
        if user_id is not None:
            stmt = stmt.where(VoiceSession.user_id == user_id)
        return list(await self.session.scalars(stmt.order_by(VoiceSession.id)))

    async def open(
        self, *, channel_id: int, user_id: int, started_at: datetime, muted_and_deafened: bool
    ) -> VoiceSession:
        row = VoiceSession(
            guild_id=self.guild_id,
            channel_id=channel_id,
            user_id=user_id,
            started_at=started_at,
            muted_and_deafened=muted_and_deafened,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def close(self, row: VoiceSession, *, ended_at: datetime) -> None:
        row.ended_at = max(ended_at, row.started_at)
        await self.session.flush()

    async def overlapping(
        self, channel_id: int, *, start: datetime, end: datetime
    ) -> Sequence[VoiceSession]:
        """Sessions in the channel that overlap ``[start, end]``, open ones included."""
        rows = await self.session.scalars(
            select(VoiceSession)
            .where(
                VoiceSession.guild_id == self.guild_id,
                VoiceSession.channel_id == channel_id,
                VoiceSession.started_at < end,
                or_(VoiceSession.ended_at.is_(None), VoiceSession.ended_at > start),
            )
            .order_by(VoiceSession.user_id, VoiceSession.started_at)
        )
        return list(rows)
