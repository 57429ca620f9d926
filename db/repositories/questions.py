"""Help threads: when they opened, the first reply by someone else, the accepted answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contribution, QuestionThread
from db.upsert import insert_for


class QuestionRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def open(
        self, thread_id: int, *, parent_id: int, asker_id: int, title: str, opened_at: datetime
    ) -> None:
        """Record a new question; a replayed thread event leaves the first record as it is."""
        stmt = (
            insert_for(self.session, QuestionThread)
            .values(
                guild_id=self.guild_id,
                thread_id=thread_id,
                parent_id=parent_id,
                asker_id=asker_id,
                title=title[:100],
                opened_at=opened_at,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "thread_id"])
        )
        await self.session.execute(stmt)

    async def get(self, thread_id: int) -> QuestionThread | None:
        # populate_existing: the conditional updates below go through Core.
        return await self.session.get(
            QuestionThread, (self.guild_id, thread_id), populate_existing=True
        )

    async def record_first_response(
        self, thread_id: int, *, responder_id: int, at: datetime
    ) -> bool:
        """Keep the earliest reply as the first response; True if this one is it (so far).

        Earliest, not first processed: messages are handled concurrently and may be replayed.
        """
        result = await self.session.execute(
            update(QuestionThread)
            .where(
                QuestionThread.guild_id == self.guild_id,
                QuestionThread.thread_id == thread_id,
                or_(
                    QuestionThread.first_response_at.is_(None),
                    QuestionThread.first_response_at > at,
                ),
            )
            .values(first_response_at=at, first_responder_id=responder_id)
        )
        return _changed(result)

    async def accept(
        self,
        thread_id: int,
        *,
        replacing: int | None,
        message_id: int,
        author_id: int,
        contribution_id: int,
        marker_id: int,
        at: datetime,
    ) -> bool:
        """Make ``message_id`` the answer if the answer is still ``replacing`` (compare-and-set).

        False means someone else changed the answer since it was read: the caller rolls back.
        """
        current = (
            QuestionThread.answer_message_id.is_(None)
            if replacing is None
            else QuestionThread.answer_message_id == replacing
        )
        result = await self.session.execute(
            update(QuestionThread)
            .where(
                QuestionThread.guild_id == self.guild_id,
                QuestionThread.thread_id == thread_id,
                current,
            )
            .values(
                answer_message_id=message_id,
                answer_author_id=author_id,
                answer_contribution_id=contribution_id,
                answered_at=at,
                answered_by=marker_id,
            )
        )
        return _changed(result)

    async def answer_credits(self, thread_id: int, message_id: int) -> int:
        """How often this message was credited as the answer before (moved away and back)."""
        base = answer_source(thread_id, message_id)
        count = await self.session.scalar(
            select(func.count())
            .select_from(Contribution)
            .where(
                Contribution.guild_id == self.guild_id,
                Contribution.kind == "answer",
                or_(Contribution.source_id == base, Contribution.source_id.like(f"{base}:%")),
            )
        )
        return int(count or 0)

    async def opened_since(self, since: datetime) -> list[QuestionThread]:
        """Questions opened at or after ``since``, oldest first (for response-time metrics)."""
        rows = await self.session.scalars(
            select(QuestionThread)
            .where(QuestionThread.guild_id == self.guild_id, QuestionThread.opened_at >= since)
            .order_by(QuestionThread.opened_at)
        )
        return list(rows)


def answer_source(thread_id: int, message_id: int) -> str:
    """The ledger source of an accepted answer (the brief's ``answer:{thread}:{message}``)."""
    return f"answer:{thread_id}:{message_id}"


def _changed(result: object) -> bool:
    return isinstance(result, CursorResult) and result.rowcount == 1
