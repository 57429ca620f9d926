"""The weekly spotlight: moderators' nominations and who was featured for which period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Spotlight, SpotlightNomination
from db.upsert import insert_for


@dataclass(frozen=True)
class SpotlightNominationRow:
    id: int
    user_id: int
    nominated_by: int
    reason: str
    created_at: datetime
    used_period: str | None

    @classmethod
    def of(cls, row: SpotlightNomination) -> SpotlightNominationRow:
        return cls(
            row.id, row.user_id, row.nominated_by, row.reason, row.created_at, row.used_period
        )


@dataclass(frozen=True)
class SpotlightRow:
    period: str
    user_id: int
    source: str
    nomination_id: int | None
    created_at: datetime
    reason: str = ""

    @classmethod
    def of(cls, row: Spotlight) -> SpotlightRow:
        return cls(
            row.period, row.user_id, row.source, row.nomination_id, row.created_at, row.reason
        )


class SpotlightRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def nominate(self, user_id: int, nominated_by: int, reason: str, now: datetime) -> int:
        """A new pending nomination; returns its id."""
        nomination = SpotlightNomination(
            guild_id=self.guild_id,
            user_id=user_id,
            nominated_by=nominated_by,
            reason=reason,
            created_at=now,
        )
        self.session.add(nomination)
        await self.session.flush()
        return nomination.id

    async def pending(self) -> list[SpotlightNominationRow]:
        """Nominations not featured yet, oldest first (the order they are used in)."""
        rows = await self.session.scalars(
            select(SpotlightNomination)
            .where(
                SpotlightNomination.guild_id == self.guild_id,
                SpotlightNomination.used_period.is_(None),
            )
            .order_by(SpotlightNomination.created_at, SpotlightNomination.id)
        )
        return [SpotlightNominationRow.of(row) for row in rows]

    async def for_period(self, period: str) -> SpotlightRow | None:
        row = await self.session.scalar(
            select(Spotlight).where(Spotlight.guild_id == self.guild_id, Spotlight.period == period)
        )
        return None if row is None else SpotlightRow.of(row)

    async def record(
        self,
        period: str,
        user_id: int,
        source: str,
        nomination_id: int | None,
        now: datetime,
        *,
        reason: str = "",
    ) -> SpotlightRow:
        """Record the period's spotlight once; a second call returns the first choice.

        ``reason`` is the text the post gives, kept so a re-render says the same thing.

        ON CONFLICT rather than check-then-insert, so a recovery racing the scheduled run
        cannot feature two members for one week. The nomination is marked used in the same
        transaction, so it is never featured again.
        """
        stmt = (
            insert_for(self.session, Spotlight)
            .values(
                guild_id=self.guild_id,
                period=period,
                user_id=user_id,
                source=source,
                nomination_id=nomination_id,
                reason=reason,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "period"])
            .returning(Spotlight.period)
        )
        inserted = (await self.session.execute(stmt)).scalar_one_or_none() is not None
        if inserted and nomination_id is not None:
            await self.session.execute(
                update(SpotlightNomination)
                .where(
                    SpotlightNomination.guild_id == self.guild_id,
                    SpotlightNomination.id == nomination_id,
                    SpotlightNomination.used_period.is_(None),
                )
                .values(used_period=period)
                .execution_options(synchronize_session=False)
            )
        recorded = await self.for_period(period)
        assert recorded is not None
        return recorded

    async def spotlighted_since(self, since: datetime) -> set[int]:
        """Members featured at or after ``since`` (the cooldown before featuring them again)."""
        rows = await self.session.scalars(
            select(Spotlight.user_id).where(
                Spotlight.guild_id == self.guild_id, Spotlight.created_at >= since
            )
        )
        return {int(user) for user in rows}
