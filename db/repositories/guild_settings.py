"""Small per-guild facts kept between runs, such as the hash of the last command sync."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GuildSetting
from db.upsert import insert_for


class GuildSettingsRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def get(self, key: str) -> str | None:
        return await self.session.scalar(
            select(GuildSetting.value).where(
                GuildSetting.guild_id == self.guild_id, GuildSetting.key == key
            )
        )

    async def set(self, key: str, value: str, *, now: datetime) -> None:
        stmt = insert_for(self.session, GuildSetting).values(
            guild_id=self.guild_id, key=key, value=value, updated_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "key"],
                set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
            )
        )
