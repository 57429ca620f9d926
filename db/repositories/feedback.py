"""Product feedback items, their votes, staff decisions and the DMs about them.

A vote counts while its member is in the server: votes of members who left stop counting (and
count again if they come back); an erasure deletes them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Select, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    FeedbackChange,
    FeedbackItem,
    FeedbackNotice,
    FeedbackVote,
    Member,
    TierState,
)
from db.repositories.leases import check_fence
from db.upsert import insert_for


class FeedbackRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    # ------------------------------------------------------------------ items
    async def create(
        self, *, author_id: int, title: str, problem: str, wanted: str, area: str, now: datetime
    ) -> FeedbackItem:
        item = FeedbackItem(
            guild_id=self.guild_id,
            author_id=author_id,
            title=title,
            problem=problem,
            wanted=wanted,
            area=area,
            status="open",
            created_at=now,
        )
        self.session.add(item)
        await self.session.flush()
        return item

    async def get(self, item_id: int) -> FeedbackItem | None:
        row = await self.session.get(FeedbackItem, item_id, populate_existing=True)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def by_thread(self, thread_id: int) -> FeedbackItem | None:
        return await self.session.scalar(
            select(FeedbackItem).where(
                FeedbackItem.guild_id == self.guild_id, FeedbackItem.thread_id == thread_id
            )
        )

    async def set_thread(self, item_id: int, thread_id: int) -> None:
        await self.session.execute(
            update(FeedbackItem)
            .where(FeedbackItem.guild_id == self.guild_id, FeedbackItem.id == item_id)
            .values(thread_id=thread_id)
        )

    async def unposted(self) -> list[FeedbackItem]:
        """Items whose forum post was never recorded (the bot stopped, or Discord refused)."""
        rows = await self.session.scalars(
            select(FeedbackItem)
            .where(FeedbackItem.guild_id == self.guild_id, FeedbackItem.thread_id.is_(None))
            .order_by(FeedbackItem.id)
        )
        return list(rows)

    async def titles(self, statuses: Collection[str]) -> list[tuple[int, str, int | None]]:
        """``(id, title, thread id)`` of the items in ``statuses``."""
        rows = await self.session.execute(
            select(FeedbackItem.id, FeedbackItem.title, FeedbackItem.thread_id).where(
                FeedbackItem.guild_id == self.guild_id, FeedbackItem.status.in_(statuses)
            )
        )
        return [(int(i), str(t), None if th is None else int(th)) for i, t, th in rows.all()]

    def _counted(self) -> Any:
        """The votes that count: their member has not left (a member never seen still counts)."""
        return and_(
            FeedbackVote.guild_id == self.guild_id,
            ~select(Member.user_id)
            .where(
                Member.guild_id == FeedbackVote.guild_id,
                Member.user_id == FeedbackVote.user_id,
                Member.left_at.is_not(None),
            )
            .exists(),
        )

    async def votes(self, item_id: int) -> int:
        count = await self.session.scalar(
            select(func.count()).where(self._counted(), FeedbackVote.item_id == item_id)
        )
        return int(count or 0)

    async def top(
        self, statuses: Collection[str], *, area: str | None, limit: int
    ) -> list[tuple[FeedbackItem, int]]:
        """Items in ``statuses`` (and ``area``) with their counted votes, most voted first."""
        counted = (
            select(FeedbackVote.item_id, func.count().label("votes"))
            .where(self._counted())
            .group_by(FeedbackVote.item_id)
            .subquery()
        )
        votes = func.coalesce(counted.c.votes, 0)
        query: Select[FeedbackItem, Any] = (
            select(FeedbackItem, votes)
            .outerjoin(counted, counted.c.item_id == FeedbackItem.id)
            .where(
                FeedbackItem.guild_id == self.guild_id,
                FeedbackItem.status.in_(statuses),
                FeedbackItem.thread_id.is_not(None),
            )
            .order_by(votes.desc(), FeedbackItem.created_at, FeedbackItem.id)
            .limit(limit)
        )
        if area is not None:
            query = query.where(FeedbackItem.area == area)
        return [(item, int(count)) for item, count in (await self.session.execute(query)).all()]

    async def all_items(self) -> list[FeedbackItem]:
        rows = await self.session.scalars(
            select(FeedbackItem).where(FeedbackItem.guild_id == self.guild_id)
        )
        return list(rows)

    async def shipped_between(self, start: datetime, end: datetime) -> list[FeedbackItem]:
        rows = await self.session.scalars(
            select(FeedbackItem)
            .where(
                FeedbackItem.guild_id == self.guild_id,
                FeedbackItem.status == "shipped",
                FeedbackItem.shipped_at >= start,
                FeedbackItem.shipped_at < end,
            )
            .order_by(FeedbackItem.shipped_at, FeedbackItem.id)
        )
        return list(rows)

    # ------------------------------------------------------------------ votes
    async def toggle_vote(self, item_id: int, user_id: int, *, now: datetime) -> bool:
        """Vote, or withdraw the vote already there; True when the member now votes."""
        stmt = (
            insert_for(self.session, FeedbackVote)
            .values(guild_id=self.guild_id, item_id=item_id, user_id=user_id, voted_at=now)
            .on_conflict_do_nothing(index_elements=["guild_id", "item_id", "user_id"])
        )
        result: CursorResult[Any] = await self.session.execute(stmt)  # type: ignore[assignment]
        if result.rowcount == 1:
            return True
        await self.session.execute(
            delete(FeedbackVote).where(
                FeedbackVote.guild_id == self.guild_id,
                FeedbackVote.item_id == item_id,
                FeedbackVote.user_id == user_id,
            )
        )
        return False

    async def voter_tiers(self, start: datetime, end: datetime) -> list[str | None]:
        """The current tier of each member who voted in ``[start, end)`` (once per member)."""
        voters = (
            select(FeedbackVote.user_id)
            .where(self._counted(), FeedbackVote.voted_at >= start, FeedbackVote.voted_at < end)
            .distinct()
            .subquery()
        )
        rows = await self.session.execute(
            select(voters.c.user_id, TierState.tier_key).outerjoin(
                TierState,
                and_(TierState.guild_id == self.guild_id, TierState.user_id == voters.c.user_id),
            )
        )
        return [tier for _, tier in rows.all()]

    # ------------------------------------------------------------------ decisions
    async def set_status(
        self, item: FeedbackItem, *, status: str, note: str, actor_id: int, now: datetime
    ) -> FeedbackChange | None:
        """Move ``item`` to ``status`` with a note; None when it is already there.

        A conditional UPDATE: two staff members deciding at once cannot both record a change.
        """
        if status == item.status:
            return None
        values: dict[str, Any] = {"status": status, "status_changed_at": now}
        if item.first_staff_status_at is None:
            values["first_staff_status_at"] = now
        if status == "shipped":
            values["shipped_at"] = now
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(FeedbackItem)
            .where(
                FeedbackItem.guild_id == self.guild_id,
                FeedbackItem.id == item.id,
                FeedbackItem.status == item.status,
            )
            .values(values)
            # ``item`` stays as the caller read it: a second call with it must not match.
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        change = FeedbackChange(
            guild_id=self.guild_id,
            item_id=item.id,
            status=status,
            note=note,
            actor_id=actor_id,
            at=now,
        )
        self.session.add(change)
        await self.session.flush()
        return change

    async def change(self, change_id: int) -> FeedbackChange | None:
        row = await self.session.get(FeedbackChange, change_id)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def changes_since(self, since: datetime) -> list[FeedbackChange]:
        rows = await self.session.scalars(
            select(FeedbackChange)
            .where(FeedbackChange.guild_id == self.guild_id, FeedbackChange.at >= since)
            .order_by(FeedbackChange.id)
        )
        return list(rows)

    # ------------------------------------------------------------------ notices
    async def to_tell(self, item: FeedbackItem, change_id: int) -> list[int]:
        """The author and counted voters not yet told of this change, without those who
        turned these DMs off; in the order they are told (the author first)."""
        voters = await self.session.scalars(
            select(FeedbackVote.user_id)
            .where(self._counted(), FeedbackVote.item_id == item.id)
            .order_by(FeedbackVote.voted_at, FeedbackVote.user_id)
        )
        people = [item.author_id, *(int(v) for v in voters if int(v) != item.author_id)]
        done = set(
            await self.session.scalars(
                select(FeedbackNotice.user_id).where(
                    FeedbackNotice.guild_id == self.guild_id, FeedbackNotice.change_id == change_id
                )
            )
        )
        quiet = set(
            await self.session.scalars(
                select(Member.user_id).where(
                    Member.guild_id == self.guild_id,
                    Member.user_id.in_(people),
                    or_(Member.feedback_updates_opt_out, Member.left_at.is_not(None)),
                )
            )
        )
        return [p for p in people if p > 0 and p not in done and p not in quiet]

    async def claim_notice(self, change_id: int, user_id: int, *, now: datetime) -> bool:
        """Claim one DM before it is sent: False if it was claimed (or sent) before."""
        await check_fence(self.session)
        stmt = (
            insert_for(self.session, FeedbackNotice)
            .values(
                guild_id=self.guild_id,
                change_id=change_id,
                user_id=user_id,
                state="sending",
                at=now,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "change_id", "user_id"])
        )
        result: CursorResult[Any] = await self.session.execute(stmt)  # type: ignore[assignment]
        return result.rowcount == 1

    async def record_notice(self, change_id: int, user_id: int, *, ok: bool, now: datetime) -> None:
        await self.session.execute(
            update(FeedbackNotice)
            .where(
                FeedbackNotice.guild_id == self.guild_id,
                FeedbackNotice.change_id == change_id,
                FeedbackNotice.user_id == user_id,
            )
            .values(state="sent" if ok else "failed", at=now)
        )

    async def notice_counts(self, change_id: int) -> tuple[int, int]:
        """``(sent, failed)`` DMs of one change (one left ``sending`` counts as sent)."""
        rows = await self.session.execute(
            select(FeedbackNotice.state, func.count())
            .where(FeedbackNotice.guild_id == self.guild_id, FeedbackNotice.change_id == change_id)
            .group_by(FeedbackNotice.state)
        )
        counts = {str(state): int(n) for state, n in rows.all()}
        return counts.get("sent", 0) + counts.get("sending", 0), counts.get("failed", 0)
