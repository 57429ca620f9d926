"""Ambassador NPS: who is surveyed, who was invited each period, and their (changeable) answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, NpsResponse, SurveyInvite, TierState
from db.repositories.leases import check_fence
from db.upsert import insert_for


class NpsRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    # ------------------------------------------------------------------ who is asked
    async def tier_members(self) -> list[int]:
        """Members on a tier who are still in the server (bots never), by id."""
        rows = await self.session.scalars(
            select(TierState.user_id)
            .join(
                Member,
                (Member.guild_id == TierState.guild_id) & (Member.user_id == TierState.user_id),
            )
            .where(
                TierState.guild_id == self.guild_id,
                TierState.tier_key.is_not(None),
                Member.left_at.is_(None),
                Member.is_bot.is_(False),
            )
            .order_by(TierState.user_id)
        )
        return [int(user) for user in rows]

    async def invited(self, period: str) -> set[int]:
        """Members already handled for ``period``, reached or not: neither is tried again."""
        rows = await self.session.scalars(
            select(SurveyInvite.user_id).where(
                SurveyInvite.guild_id == self.guild_id, SurveyInvite.period == period
            )
        )
        return {int(user) for user in rows}

    async def claim_invite(self, period: str, user_id: int, *, now: datetime) -> bool:
        """Claim the member's invite before it is sent; False if anyone claimed it before."""
        await check_fence(self.session)
        stmt = (
            insert_for(self.session, SurveyInvite)
            .values(guild_id=self.guild_id, period=period, user_id=user_id, state="sending", at=now)
            .on_conflict_do_nothing(index_elements=["guild_id", "period", "user_id"])
            .returning(SurveyInvite.user_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def record_invite(self, period: str, user_id: int, *, ok: bool, now: datetime) -> bool:
        """Record a claimed invite's outcome; False if it was not claimed or already recorded."""
        invite = await self.session.get(SurveyInvite, (self.guild_id, period, user_id))
        if invite is None or invite.state != "sending":
            return False
        invite.state = "sent" if ok else "failed"
        invite.at = now
        await self.session.flush()
        return True

    async def invite_counts(self, period: str) -> tuple[int, int]:
        """``(sent, failed)`` for ``period``."""
        rows = await self.session.execute(
            select(SurveyInvite.state, func.count())
            .where(SurveyInvite.guild_id == self.guild_id, SurveyInvite.period == period)
            .group_by(SurveyInvite.state)
        )
        counts = {str(state): int(count) for state, count in rows}
        # Claimed but never confirmed (the store failed right after the DM): counted as sent.
        return counts.get("sent", 0) + counts.get("sending", 0), counts.get("failed", 0)

    # ------------------------------------------------------------------ answers
    async def response(self, period: str, user_id: int) -> NpsResponse | None:
        return await self.session.get(NpsResponse, (self.guild_id, period, user_id))

    async def answer(self, period: str, user_id: int, score: int, *, now: datetime) -> None:
        """Set the member's score for ``period``; a second answer replaces the first.

        One upsert, so two quick clicks can't race into a duplicate key; the comment and the
        first answer's time are kept.
        """
        stmt = insert_for(self.session, NpsResponse).values(
            guild_id=self.guild_id,
            period=period,
            user_id=user_id,
            score=score,
            answered_at=now,
            updated_at=now,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "period", "user_id"],
                set_={"score": stmt.excluded.score, "updated_at": stmt.excluded.updated_at},
            )
        )

    async def set_comment(
        self, period: str, user_id: int, comment: str | None, *, now: datetime
    ) -> bool:
        """Set (or clear, with None) the comment; False when the member has no answer yet."""
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(NpsResponse)
            .where(
                NpsResponse.guild_id == self.guild_id,
                NpsResponse.period == period,
                NpsResponse.user_id == user_id,
            )
            .values(comment=comment, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def scores(self, period: str) -> list[int]:
        """Every score for ``period``, lowest first (never in answer order)."""
        rows = await self.session.scalars(
            select(NpsResponse.score)
            .where(NpsResponse.guild_id == self.guild_id, NpsResponse.period == period)
            .order_by(NpsResponse.score)
        )
        return [int(score) for score in rows]

    async def comments(self, period: str) -> list[str]:
        """Non-empty comments for ``period``, sorted by text: nothing ties them to a member."""
        rows = await self.session.scalars(
            select(NpsResponse.comment)
            .where(
                NpsResponse.guild_id == self.guild_id,
                NpsResponse.period == period,
                NpsResponse.comment.is_not(None),
                NpsResponse.comment != "",
            )
            .order_by(NpsResponse.comment)
        )
        return [str(comment) for comment in rows]
