"""Nominations for tiers, decided by moderators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Nomination


class DuplicateNominationError(Exception):
    """The member already has a pending nomination for that tier."""


class NominationRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def create(
        self, *, nominee_id: int, tier_key: str, nominated_by: int, reason: str, now: datetime
    ) -> Nomination:
        nomination = Nomination(
            guild_id=self.guild_id,
            nominee_id=nominee_id,
            tier_key=tier_key,
            nominated_by=nominated_by,
            reason=reason,
            status="pending",
            created_at=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(nomination)
        except IntegrityError as exc:
            raise DuplicateNominationError(
                f"member {nominee_id} already has a pending nomination for {tier_key!r}"
            ) from exc
        return nomination

    async def get(self, nomination_id: int) -> Nomination | None:
        row = await self.session.get(Nomination, nomination_id)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def decide(
        self,
        nomination: Nomination,
        *,
        approve: bool,
        decided_by: int,
        note: str | None,
        now: datetime,
    ) -> bool:
        """Decide a pending nomination; False if it was already decided (by anyone).

        A conditional UPDATE, so two moderators clicking at once (even in two processes) cannot
        both decide. ``nomination`` is refreshed either way, so it shows the decision that
        stands.
        """
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(Nomination)
            .where(
                Nomination.guild_id == self.guild_id,
                Nomination.id == nomination.id,
                Nomination.status == "pending",
            )
            .values(
                status="approved" if approve else "rejected",
                decided_by=decided_by,
                decided_at=now,
                decision_note=note,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(nomination)
        return result.rowcount == 1

    async def with_status(self, status: str | None = None) -> list[Nomination]:
        stmt = select(Nomination).where(Nomination.guild_id == self.guild_id)
        if status is not None:
            stmt = stmt.where(Nomination.status == status)
        return list(await self.session.scalars(stmt.order_by(Nomination.created_at, Nomination.id)))
