"""The contribution ledger: credit once per source, correct by reversal, never by deletion."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contribution
from db.upsert import insert_for


@dataclass(frozen=True)
class Credit:
    """What to credit; ``source_id`` names the thing credited (e.g. ``thread:123``)."""

    user_id: int
    kind: str
    points: int
    source_id: str
    occurred_at: datetime
    actor_id: int | None = None
    reason: str | None = None


class LedgerRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def members_recorded_since(self, since: datetime) -> set[int]:
        """Members with ledger rows recorded after ``since`` (by any process or tool)."""
        rows = await self.session.scalars(
            select(Contribution.user_id)
            .where(Contribution.guild_id == self.guild_id, Contribution.recorded_at > since)
            .distinct()
        )
        return set(rows.all())

    async def record(self, credit: Credit, *, now: datetime) -> Contribution | None:
        """Insert the credit, or return None if this (kind, source) was already credited."""
        return await self._insert(credit, now=now, reverses_id=None)

    async def record_many(self, credits: Sequence[Credit], *, now: datetime) -> list[Credit]:
        """Insert many credits in one statement; returns those that were new (not repeats)."""
        if not credits:
            return []
        rows = [
            {
                "guild_id": self.guild_id,
                "user_id": c.user_id,
                "kind": c.kind,
                "points": c.points,
                "source_id": c.source_id,
                "occurred_at": c.occurred_at,
                "recorded_at": now,
                "actor_id": c.actor_id,
                "reason": c.reason,
                "reverses_id": None,
            }
            for c in credits
        ]
        stmt = (
            insert_for(self.session, Contribution)
            .on_conflict_do_nothing(index_elements=["guild_id", "kind", "source_id"])
            .returning(Contribution.kind, Contribution.source_id)
        )
        result = await self.session.execute(stmt, rows)
        new = {(kind, source) for kind, source in result.all()}
        return [c for c in credits if (c.kind, c.source_id) in new]

    async def source_ids(self, kind: str, *, since: datetime) -> set[str]:
        """The sources of ``kind`` credited at or after ``since`` (reversed ones included)."""
        rows = await self.session.scalars(
            select(Contribution.source_id).where(
                Contribution.guild_id == self.guild_id,
                Contribution.occurred_at >= since,
                Contribution.kind == kind,
            )
        )
        return set(rows)

    async def get(self, contribution_id: int) -> Contribution | None:
        row = await self.session.get(Contribution, contribution_id)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def reversal_of(self, contribution_id: int) -> Contribution | None:
        return await self.session.scalar(
            select(Contribution).where(
                Contribution.guild_id == self.guild_id,
                Contribution.reverses_id == contribution_id,
            )
        )

    async def reverse(
        self, original: Contribution, *, now: datetime, actor_id: int | None, reason: str
    ) -> Contribution | None:
        """Cancel ``original`` with a visible negative row; None if it was already reversed."""
        credit = Credit(
            user_id=original.user_id,
            kind=original.kind,
            points=-original.points,
            source_id=f"reversal:{original.id}",
            occurred_at=now,
            actor_id=actor_id,
            reason=reason,
        )
        return await self._insert(credit, now=now, reverses_id=original.id)

    async def _insert(
        self, credit: Credit, *, now: datetime, reverses_id: int | None
    ) -> Contribution | None:
        stmt = (
            insert_for(self.session, Contribution)
            .values(
                guild_id=self.guild_id,
                user_id=credit.user_id,
                kind=credit.kind,
                points=credit.points,
                source_id=credit.source_id,
                occurred_at=credit.occurred_at,
                recorded_at=now,
                actor_id=credit.actor_id,
                reason=credit.reason,
                reverses_id=reverses_id,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "kind", "source_id"])
            .returning(Contribution.id)
        )
        new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        if new_id is None:
            return None
        return await self.session.get(Contribution, new_id)

    async def points_by_kind(
        self, user_id: int, *, since: datetime | None = None
    ) -> Mapping[str, int]:
        """Net points per kind for a member (reversals included), optionally since a time."""
        stmt = (
            select(Contribution.kind, func.sum(Contribution.points))
            .where(Contribution.guild_id == self.guild_id, Contribution.user_id == user_id)
            .group_by(Contribution.kind)
        )
        if since is not None:
            stmt = stmt.where(Contribution.occurred_at >= since)
        return {kind: int(total) for kind, total in (await self.session.execute(stmt)).all()}

    async def peer_credits_between(
        self, *, giver_id: int, receiver_id: int, kinds: Collection[str], since: datetime
    ) -> int:
        """Peer credits that counted (positive points) from one member to another since then."""
        c = Contribution
        found = await self.session.scalar(
            select(func.count()).where(
                c.guild_id == self.guild_id,
                c.user_id == receiver_id,
                c.actor_id == giver_id,
                c.kind.in_(sorted(kinds)),
                c.points > 0,
                c.reverses_id.is_(None),
                c.occurred_at >= since,
            )
        )
        return int(found or 0)

    async def peer_edges(
        self, *, kinds: Collection[str], since: datetime
    ) -> list[tuple[int, int, int]]:
        """``(giver, receiver, credits)`` of peer credits since then, capped ones included."""
        c = Contribution
        rows = await self.session.execute(
            select(c.actor_id, c.user_id, func.count())
            .where(
                c.guild_id == self.guild_id,
                c.kind.in_(sorted(kinds)),
                c.occurred_at >= since,
                c.reverses_id.is_(None),
                c.actor_id > 0,
                c.actor_id != c.user_id,
            )
            .group_by(c.actor_id, c.user_id)
        )
        return [
            (int(giver), int(receiver), int(n))
            for giver, receiver, n in rows.all()
            if giver is not None
        ]
