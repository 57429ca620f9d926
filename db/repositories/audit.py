"""Pages of the record, newest first: a member's ledger, tier changes, moderators' credits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contribution, Member, TierChange


class AuditRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def ledger_of(self, user_id: int, *, limit: int, offset: int) -> list[Contribution]:
        rows = await self.session.scalars(
            select(Contribution)
            .where(Contribution.guild_id == self.guild_id, Contribution.user_id == user_id)
            .order_by(Contribution.occurred_at.desc(), Contribution.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows)

    async def tier_changes(self, *, limit: int, offset: int) -> list[TierChange]:
        rows = await self.session.scalars(
            select(TierChange)
            .where(TierChange.guild_id == self.guild_id)
            .order_by(TierChange.created_at.desc(), TierChange.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows)

    async def manual_credits(self, *, limit: int, offset: int) -> list[Contribution]:
        """Ledger rows a moderator made: credits by hand and removals (reversals)."""
        rows = await self.session.scalars(
            select(Contribution)
            .where(Contribution.guild_id == self.guild_id, Contribution.actor_id.is_not(None))
            .order_by(Contribution.recorded_at.desc(), Contribution.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows)

    async def names(self, user_ids: set[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(Member.user_id, Member.display_name).where(
                Member.guild_id == self.guild_id, Member.user_id.in_(user_ids)
            )
        )
        return {user_id: name for user_id, name in rows if name}
