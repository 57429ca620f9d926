"""Content shared with /share and evidence sent with /contribution submit: one row per
normalised URL, decided once by a moderator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContentSubmission
from db.upsert import insert_for


class ContentRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def create(
        self,
        *,
        author_id: int,
        url: str,
        title: str,
        kind: str,
        now: datetime,
        credit_kind: str,
    ) -> ContentSubmission | None:
        """A new pending submission, or None when the URL was already shared in this guild.

        ON CONFLICT rather than check-then-insert: two members sharing the same link at the
        same moment must not both get through.
        """
        stmt = (
            insert_for(self.session, ContentSubmission)
            .values(
                guild_id=self.guild_id,
                author_id=author_id,
                url=url,
                title=title,
                kind=kind,
                credit_kind=credit_kind,
                status="pending",
                submitted_at=now,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "url"])
            .returning(ContentSubmission.id)
        )
        new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if new_id is None else await self.get(new_id)

    async def get(self, submission_id: int) -> ContentSubmission | None:
        # populate_existing: decisions are written through Core, so a cached object may be stale.
        row = await self.session.get(ContentSubmission, submission_id, populate_existing=True)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def by_url(self, url: str) -> ContentSubmission | None:
        return await self.session.scalar(
            select(ContentSubmission).where(
                ContentSubmission.guild_id == self.guild_id, ContentSubmission.url == url
            )
        )

    async def set_review_message(
        self, submission_id: int, channel_id: int, message_id: int
    ) -> None:
        await self.session.execute(
            update(ContentSubmission)
            .where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.id == submission_id,
            )
            .values(review_channel_id=channel_id, review_message_id=message_id)
        )

    async def decide(
        self,
        submission_id: int,
        *,
        status: str,
        decided_by: int,
        now: datetime,
        reason: str | None = None,
    ) -> bool:
        """Move a pending submission to ``status``; False if someone decided it first.

        A conditional UPDATE, so two moderators clicking at once cannot both decide.
        """
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(ContentSubmission)
            .where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.id == submission_id,
                ContentSubmission.status == "pending",
            )
            .values(status=status, decided_by=decided_by, decided_at=now, decision_reason=reason)
        )
        return result.rowcount == 1

    async def set_contribution(self, submission_id: int, contribution_id: int) -> None:
        await self.session.execute(
            update(ContentSubmission)
            .where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.id == submission_id,
            )
            .values(contribution_id=contribution_id)
        )

    async def pending(self, *, limit: int) -> list[ContentSubmission]:
        """Submissions waiting for a decision, oldest first (the review queue)."""
        rows = await self.session.scalars(
            select(ContentSubmission)
            .where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.status == "pending",
            )
            .order_by(ContentSubmission.submitted_at, ContentSubmission.id)
            .limit(limit)
        )
        return list(rows)

    async def pending_without_card(self) -> list[ContentSubmission]:
        """Pending submissions whose review card was never posted (e.g. missing permission)."""
        rows = await self.session.scalars(
            select(ContentSubmission)
            .where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.status == "pending",
                ContentSubmission.review_message_id.is_(None),
            )
            .order_by(ContentSubmission.id)
        )
        return list(rows)
