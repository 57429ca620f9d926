"""Newsletter subscriptions and who was sent (or failed to be sent) which month's issue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import NewsletterDelivery, NewsletterSubscription
from db.repositories.leases import check_fence
from db.upsert import insert_for


class NewsletterRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def subscribe(self, user_id: int, now: datetime) -> bool:
        """Subscribe the member; False if they already were (the first date is kept)."""
        stmt = (
            insert_for(self.session, NewsletterSubscription)
            .values(guild_id=self.guild_id, user_id=user_id, subscribed_at=now)
            .on_conflict_do_nothing(index_elements=["guild_id", "user_id"])
            .returning(NewsletterSubscription.user_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def unsubscribe(self, user_id: int) -> bool:
        """False if the member was not subscribed."""
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            delete(NewsletterSubscription).where(
                NewsletterSubscription.guild_id == self.guild_id,
                NewsletterSubscription.user_id == user_id,
            )
        )
        return result.rowcount == 1

    async def is_subscribed(self, user_id: int) -> bool:
        found = await self.session.scalar(
            select(NewsletterSubscription.user_id).where(
                NewsletterSubscription.guild_id == self.guild_id,
                NewsletterSubscription.user_id == user_id,
            )
        )
        return found is not None

    async def subscribers(self) -> list[int]:
        """Subscribed members, in a stable order (by id)."""
        rows = await self.session.scalars(
            select(NewsletterSubscription.user_id)
            .where(NewsletterSubscription.guild_id == self.guild_id)
            .order_by(NewsletterSubscription.user_id)
        )
        return [int(user) for user in rows]

    async def delivered(self, period: str) -> set[int]:
        """Members already handled for ``period``, sent or failed: neither is tried again."""
        rows = await self.session.scalars(
            select(NewsletterDelivery.user_id).where(
                NewsletterDelivery.guild_id == self.guild_id, NewsletterDelivery.period == period
            )
        )
        return {int(user) for user in rows}

    async def claim_delivery(self, period: str, user_id: int, *, now: datetime) -> bool:
        """Claim the member's DM before it is sent; False if anyone claimed it before."""
        await check_fence(self.session)
        stmt = (
            insert_for(self.session, NewsletterDelivery)
            .values(guild_id=self.guild_id, period=period, user_id=user_id, state="sending", at=now)
            .on_conflict_do_nothing(index_elements=["guild_id", "period", "user_id"])
            .returning(NewsletterDelivery.user_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def record_delivery(
        self, period: str, user_id: int, *, ok: bool, error: str | None, now: datetime
    ) -> None:
        """Record the attempt; recording it again overwrites the outcome (one row per member)."""
        stmt = insert_for(self.session, NewsletterDelivery).values(
            guild_id=self.guild_id,
            period=period,
            user_id=user_id,
            state="sent" if ok else "failed",
            error=None if ok else error,
            at=now,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "period", "user_id"],
                set_={
                    "state": stmt.excluded.state,
                    "error": stmt.excluded.error,
                    "at": stmt.excluded.at,
                },
            )
        )

    async def delivery_counts(self, period: str) -> tuple[int, int]:
        """(sent, failed) for ``period``; a DM claimed but never confirmed counts as sent."""
        rows = await self.session.execute(
            select(NewsletterDelivery.state, func.count())
            .where(
                NewsletterDelivery.guild_id == self.guild_id, NewsletterDelivery.period == period
            )
            .group_by(NewsletterDelivery.state)
        )
        counts = {state: int(count) for state, count in rows.all()}
        return counts.get("sent", 0) + counts.get("sending", 0), counts.get("failed", 0)
