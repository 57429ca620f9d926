"""Who posted where, and when last: thanks go to members who just helped in that channel."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import Dialect, Insert, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver_statement import per_dialect
from db.models import ChannelPresence
from db.upsert import insert_on

#: (channel id, user id)
PresenceKey = tuple[int, int]


class PresenceRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def record(self, latest: Mapping[PresenceKey, datetime]) -> None:
        """Upsert each (channel, user)'s last post in one batch; an older time never wins.

        Batches can arrive out of order (a failed flush is retried after a newer one), so the
        stored time is the later of the two rather than the last written. A busy server
        writes tens of thousands of rows at a time: they go as plain tuples, 512 rows a
        statement (:class:`~db.driver_statement.DriverBatch`), not through SQLAlchemy's
        per-row parameters nor one statement a row.
        """
        if not latest:
            return
        connection = await self.session.connection()
        guild_id = self.guild_id
        await _upsert(connection.dialect).execute(
            connection,
            ((guild_id, channel, user, at) for (channel, user), at in latest.items()),
        )

    @staticmethod
    def prepare(dialect: Dialect) -> None:
        """Compile the presence upsert for ``dialect`` now, at start-up, not in the first flush."""
        _upsert(dialect).prepare()

    async def last_post(self, channel_ids: Collection[int], user_id: int) -> datetime | None:
        """The member's latest post in any of ``channel_ids``; None if never seen there."""
        if not channel_ids:
            return None
        result: datetime | None = await self.session.scalar(
            select(func.max(ChannelPresence.last_message_at)).where(
                ChannelPresence.guild_id == self.guild_id,
                ChannelPresence.user_id == user_id,
                ChannelPresence.channel_id.in_(list(channel_ids)),
            )
        )
        return result


def _presence_upsert(dialect: str) -> Insert:
    """Each (channel, member)'s last post; an older time never wins."""
    stmt = insert_on(dialect, ChannelPresence)
    newer = stmt.excluded.last_message_at > ChannelPresence.last_message_at
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=["guild_id", "channel_id", "user_id"],
        set_={
            "last_message_at": case(
                (newer, stmt.excluded.last_message_at),
                else_=ChannelPresence.last_message_at,
            )
        },
    )
    return upsert


_upsert = per_dialect(_presence_upsert, ("guild_id", "channel_id", "user_id", "last_message_at"))
