"""Referrals: who invited whom, and whether the inviter was credited for it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Referral
from db.upsert import insert_for


class ReferralRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def add(
        self,
        *,
        invitee_id: int,
        joined_at: datetime,
        attribution: str,
        invite_code: str | None,
        inviter_id: int | None,
        candidates: Sequence[str],
        is_rejoin: bool,
    ) -> Referral | None:
        """Record a join; None if this join (member and time) is already recorded."""
        stmt = (
            insert_for(self.session, Referral)
            .values(
                guild_id=self.guild_id,
                invitee_id=invitee_id,
                joined_at=joined_at,
                attribution=attribution,
                invite_code=invite_code,
                inviter_id=inviter_id,
                candidates=",".join(candidates) or None,
                is_rejoin=is_rejoin,
                status="pending",
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "invitee_id", "joined_at"])
            .returning(Referral.id)
        )
        new_id = (await self.session.execute(stmt)).scalar_one_or_none()
        return None if new_id is None else await self.get(new_id)

    async def get(self, referral_id: int) -> Referral | None:
        row = await self.session.get(Referral, referral_id, populate_existing=True)
        return row if row is not None and row.guild_id == self.guild_id else None

    async def pending(self, invitee_id: int | None = None) -> list[Referral]:
        stmt = select(Referral).where(
            Referral.guild_id == self.guild_id, Referral.status == "pending"
        )
        if invitee_id is not None:
            stmt = stmt.where(Referral.invitee_id == invitee_id)
        return list(await self.session.scalars(stmt.order_by(Referral.id)))

    async def for_invitee(self, invitee_id: int) -> list[Referral]:
        rows = await self.session.scalars(
            select(Referral)
            .where(Referral.guild_id == self.guild_id, Referral.invitee_id == invitee_id)
            .order_by(Referral.id)
        )
        return list(rows)

    async def decide(
        self,
        referral_id: int,
        *,
        status: str,
        reason: str,
        now: datetime,
        contribution_id: int | None = None,
    ) -> bool:
        """Move a pending referral to ``status``; False if it was no longer pending."""
        result = await self.session.execute(
            update(Referral)
            .where(
                Referral.guild_id == self.guild_id,
                Referral.id == referral_id,
                Referral.status == "pending",
            )
            .values(status=status, reason=reason, decided_at=now, contribution_id=contribution_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
