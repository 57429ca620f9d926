"""Thanks given with /thanks: the per-day limits are counted from these rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Thanks


@dataclass(frozen=True)
class GivenToday:
    by_giver: int
    to_receiver: int


class ThanksRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def given_on(self, day: date, *, giver_id: int, receiver_id: int) -> GivenToday:
        """How many thanks ``giver_id`` gave on ``day``, in total and to ``receiver_id``."""
        to_receiver = func.sum(case((Thanks.receiver_id == receiver_id, 1), else_=0))
        row = (
            await self.session.execute(
                select(func.count(), to_receiver).where(
                    Thanks.guild_id == self.guild_id,
                    Thanks.giver_id == giver_id,
                    Thanks.day == day,
                )
            )
        ).one()
        return GivenToday(by_giver=int(row[0] or 0), to_receiver=int(row[1] or 0))

    async def add(
        self,
        *,
        giver_id: int,
        receiver_id: int,
        channel_id: int,
        reason: str | None,
        day: date,
        created_at: datetime,
    ) -> Thanks:
        row = Thanks(
            guild_id=self.guild_id,
            giver_id=giver_id,
            receiver_id=receiver_id,
            channel_id=channel_id,
            reason=reason,
            day=day,
            created_at=created_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def link_contribution(self, row: Thanks, contribution_id: int) -> None:
        """Point the thanks at the ledger row it credited (for corrections and audits)."""
        row.contribution_id = contribution_id
        await self.session.flush()

    async def received(self, receiver_id: int, *, since: datetime | None = None) -> int:
        """Thanks a member has received (optionally since a time)."""
        stmt = select(func.count()).where(
            Thanks.guild_id == self.guild_id, Thanks.receiver_id == receiver_id
        )
        if since is not None:
            stmt = stmt.where(Thanks.created_at >= since)
        return int(await self.session.scalar(stmt) or 0)
