"""Community leases on PostgreSQL: take, renew, give back, and check one inside a claim.

Every time here is the database server's (``clock_timestamp()``): the processes that share a
lease may run on different hosts, and the database is the one clock they all see. SQLite
serves one process (a file lock guards it, see ``bot.leases``), so it has no leases.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Interval, func, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CommunityLease


class LeaseLost(Exception):
    """This process no longer holds the server's lease: it must not do once-per-server work."""


@dataclass(frozen=True)
class Holding:
    """Who holds a lease, as the one refused sees it."""

    guild_id: int
    holder: str
    expires_in: timedelta


def _now() -> Any:
    return func.clock_timestamp()


#: The key of ``Session.info`` that carries a community's :class:`Fence`.
FENCE = "flywheel_fence"


@dataclass(frozen=True)
class Fence:
    """A process's claim to one server's lease, carried by that server's sessions."""

    guild_id: int
    holder: str

    async def hold(self, session: AsyncSession) -> None:
        await LeaseRepository(session).hold(self.guild_id, self.holder)


async def check_fence(session: AsyncSession) -> None:
    """In a claim's transaction: raise :class:`LeaseLost` if the session's process has lost
    the server's lease. Sessions without a fence (SQLite, one process; tools) pass."""
    fence = session.info.get(FENCE)
    if fence is not None:
        await fence.hold(session)


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def holders(self, guild_ids: Collection[int], holder: str) -> list[Holding]:
        """Live leases on ``guild_ids`` held by someone else (locked until the transaction
        ends, so a take in the same transaction can't race another)."""
        rows = await self.session.execute(
            select(
                CommunityLease.guild_id,
                CommunityLease.holder,
                type_coerce(CommunityLease.expires_at - _now(), Interval()),
            )
            .where(
                CommunityLease.guild_id.in_(guild_ids),
                CommunityLease.holder != holder,
                CommunityLease.expires_at > _now(),
            )
            .order_by(CommunityLease.guild_id)
            .with_for_update()
        )
        return [Holding(g, h, left) for g, h, left in rows.all()]

    async def take(
        self, guild_ids: Sequence[int], holder: str, ttl: timedelta
    ) -> dict[int, int] | None:
        """Take every lease of ``guild_ids`` (free, expired or already ours), or none.

        Returns each guild's epoch, raised at each take so a claim made under an older one is
        told apart; None when any is held by someone else (the caller rolls back).
        """
        taken: dict[int, int] = {}
        for guild_id in guild_ids:
            values = insert(CommunityLease).values(
                guild_id=guild_id,
                holder=holder,
                epoch=1,
                acquired_at=_now(),
                expires_at=_now() + ttl,
            )
            statement = values.on_conflict_do_update(
                index_elements=[CommunityLease.guild_id],
                set_={
                    "holder": holder,
                    "epoch": CommunityLease.epoch + 1,
                    "acquired_at": _now(),
                    "expires_at": _now() + ttl,
                },
                where=(CommunityLease.expires_at <= _now()) | (CommunityLease.holder == holder),
            ).returning(CommunityLease.epoch)
            epoch = (await self.session.execute(statement)).scalar_one_or_none()
            if epoch is None:
                return None
            taken[guild_id] = epoch
        return taken

    async def renew(self, guild_ids: Collection[int], holder: str, ttl: timedelta) -> set[int]:
        """Extend our leases; returns the guilds whose lease we still hold."""
        rows = await self.session.execute(
            update(CommunityLease)
            .where(CommunityLease.guild_id.in_(guild_ids), CommunityLease.holder == holder)
            .values(expires_at=_now() + ttl)
            .returning(CommunityLease.guild_id)
        )
        return set(rows.scalars().all())

    async def release(self, guild_ids: Collection[int], holder: str) -> None:
        """Give our leases back at once, so a standby need not wait for them to expire."""
        await self.session.execute(
            update(CommunityLease)
            .where(CommunityLease.guild_id.in_(guild_ids), CommunityLease.holder == holder)
            .values(expires_at=_now())
        )

    async def hold(self, guild_id: int, holder: str) -> None:
        """Inside a claim's transaction: raise :class:`LeaseLost` unless we hold the lease.

        The row is share-locked until the claim commits, so a take (an UPDATE) waits for the
        claim, and a claim after a take sees the new holder: a stale process never claims.
        """
        held = await self.session.scalar(
            select(CommunityLease.expires_at)
            .where(
                CommunityLease.guild_id == guild_id,
                CommunityLease.holder == holder,
                CommunityLease.expires_at > _now(),
            )
            .with_for_update(read=True)
        )
        if held is None:
            raise LeaseLost(f"this process no longer holds the lease of server {guild_id}")

    async def expires_at(self, guild_id: int) -> datetime | None:
        return await self.session.scalar(
            select(CommunityLease.expires_at).where(CommunityLease.guild_id == guild_id)
        )
