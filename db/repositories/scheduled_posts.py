"""Claims on scheduled posts: a period's post is claimed in the database before it is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ScheduledPost
from db.repositories.leases import check_fence
from db.upsert import insert_for


class ScheduledPostRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def claim(
        self, *, kind: str, period: str, nonce: str, now: datetime, delayed: bool = False
    ) -> ScheduledPost | None:
        """Claim ``(kind, period)``; None if it was already claimed (posted or not)."""
        await check_fence(self.session)
        stmt = (
            insert_for(self.session, ScheduledPost)
            .values(
                guild_id=self.guild_id,
                kind=kind,
                period=period,
                state="claimed",
                nonce=nonce,
                delayed=delayed,
                claimed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "kind", "period"])
            .returning(ScheduledPost.id)
        )
        new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if new_id is None else await self.session.get(ScheduledPost, new_id)

    async def get(self, kind: str, period: str) -> ScheduledPost | None:
        return await self.session.scalar(
            select(ScheduledPost).where(
                ScheduledPost.guild_id == self.guild_id,
                ScheduledPost.kind == kind,
                ScheduledPost.period == period,
            )
        )

    async def mark_posted(
        self, post: ScheduledPost, *, channel_id: int, message_id: int, now: datetime
    ) -> None:
        post.state = "posted"
        post.channel_id = channel_id
        post.message_id = message_id
        post.posted_at = now
        await self.session.flush()

    async def mark_skipped(self, post: ScheduledPost, *, note: str) -> None:
        post.state = "skipped"
        post.note = note
        await self.session.flush()

    async def unfinished(self) -> list[ScheduledPost]:
        """Claims that never reached "posted": a crash came between claim and record."""
        rows = await self.session.scalars(
            select(ScheduledPost)
            .where(ScheduledPost.guild_id == self.guild_id, ScheduledPost.state == "claimed")
            .order_by(ScheduledPost.claimed_at, ScheduledPost.id)
        )
        return list(rows)

    async def reclaim(
        self, kind: str, period: str, *, nonce: str, now: datetime
    ) -> ScheduledPost | None:
        """Claim a finished period again, for a forced re-post; None if it is not finished.

        Only a ``posted`` or ``skipped`` row is taken (a conditional UPDATE): a claim still in
        flight, or a missing row, is left alone so two senders never hold one period. The
        previous post's channel and message ids stay until ``mark_posted`` replaces them.
        """
        await check_fence(self.session)
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(ScheduledPost)
            .where(
                ScheduledPost.guild_id == self.guild_id,
                ScheduledPost.kind == kind,
                ScheduledPost.period == period,
                ScheduledPost.state.in_(("posted", "skipped")),
            )
            .values(state="claimed", nonce=nonce, claimed_at=now, delayed=False)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        return await self.session.scalar(
            select(ScheduledPost)
            .where(
                ScheduledPost.guild_id == self.guild_id,
                ScheduledPost.kind == kind,
                ScheduledPost.period == period,
            )
            .execution_options(populate_existing=True)
        )

    async def latest(self, kind: str) -> ScheduledPost | None:
        """The most recently claimed post of ``kind`` (where catch-up starts looking from)."""
        return await self.session.scalar(
            select(ScheduledPost)
            .where(ScheduledPost.guild_id == self.guild_id, ScheduledPost.kind == kind)
            .order_by(ScheduledPost.claimed_at.desc(), ScheduledPost.id.desc())
            .limit(1)
        )

    async def record_skipped(self, kind: str, period: str, *, note: str, now: datetime) -> bool:
        """Record a period as skipped (too old to post); False if it already had a row."""
        stmt = (
            insert_for(self.session, ScheduledPost)
            .values(
                guild_id=self.guild_id,
                kind=kind,
                period=period,
                state="skipped",
                nonce="",
                claimed_at=now,
                note=note,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "kind", "period"])
            .returning(ScheduledPost.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None
