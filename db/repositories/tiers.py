"""Tier state per member and the audit log of every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import TierChange, TierState


class TierRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def state(self, user_id: int) -> TierState | None:
        return await self.session.get(TierState, (self.guild_id, user_id))

    async def state_for_update(self, user_id: int, *, now: datetime) -> TierState:
        """The member's state row, created (without a tier) if it does not exist yet."""
        state = await self.state(user_id)
        if state is None:
            state = TierState(guild_id=self.guild_id, user_id=user_id, pinned=False, updated_at=now)
            self.session.add(state)
            await self.session.flush()
        return state

    async def change(
        self,
        state: TierState,
        *,
        to_tier: str | None,
        reason: str,
        actor_id: int | None,
        now: datetime,
    ) -> TierChange:
        """Move the member to ``to_tier`` and write the audit row in the same transaction."""
        entry = TierChange(
            guild_id=self.guild_id,
            user_id=state.user_id,
            from_tier=state.tier_key,
            to_tier=to_tier,
            reason=reason,
            actor_id=actor_id,
            created_at=now,
        )
        state.tier_key = to_tier
        state.tier_since = now if to_tier is not None else None
        state.below_since = None
        state.at_risk_notified_at = None
        state.updated_at = now
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def note(
        self, state: TierState, *, reason: str, actor_id: int | None, now: datetime
    ) -> TierChange:
        """An audit row that keeps the tier (a pin, an unpin, a leave of absence)."""
        entry = TierChange(
            guild_id=self.guild_id,
            user_id=state.user_id,
            from_tier=state.tier_key,
            to_tier=state.tier_key,
            reason=reason,
            actor_id=actor_id,
            created_at=now,
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def history(self, user_id: int) -> list[TierChange]:
        rows = await self.session.scalars(
            select(TierChange)
            .where(TierChange.guild_id == self.guild_id, TierChange.user_id == user_id)
            .order_by(TierChange.created_at, TierChange.id)
        )
        return list(rows)
