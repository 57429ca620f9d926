"""Members the bot has seen, kept after they leave so a rejoin finds its history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member
from db.upsert import insert_for

#: Rows per statement in batch writes: big guilds sync 100k members at start-up, and SQLite
#: caps the number of bound parameters per statement.
BATCH_SIZE = 500


@dataclass(frozen=True)
class SeenMember:
    user_id: int
    display_name: str
    is_bot: bool
    joined_at: datetime | None = None


class MemberRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def get(self, user_id: int) -> Member | None:
        # populate_existing: ``seen`` writes through Core, so a cached object may be stale.
        return await self.session.get(Member, (self.guild_id, user_id), populate_existing=True)

    async def display_names(self, user_ids: Iterable[int]) -> dict[int, str]:
        """The stored display names of ``user_ids`` (members never seen, or nameless, left out)."""
        wanted = sorted(set(user_ids))
        names: dict[int, str] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            rows = await self.session.execute(
                select(Member.user_id, Member.display_name).where(
                    Member.guild_id == self.guild_id,
                    Member.user_id.in_(wanted[start : start + BATCH_SIZE]),
                )
            )
            names.update({int(user): name for user, name in rows.all() if name.strip()})
        return names

    async def seen(
        self,
        user_id: int,
        *,
        display_name: str,
        is_bot: bool,
        now: datetime,
        joined_at: datetime | None = None,
    ) -> None:
        """Record that a member is present; a returning member's ``left_at`` is cleared."""
        values = {
            "guild_id": self.guild_id,
            "user_id": user_id,
            "display_name": display_name[:100],
            "is_bot": is_bot,
            "first_seen_at": now,
            "joined_at": joined_at,
            "left_at": None,
        }
        stmt = insert_for(self.session, Member).values(**values)
        changes = {"display_name": stmt.excluded.display_name, "left_at": None}
        if joined_at is not None:
            changes["joined_at"] = stmt.excluded.joined_at
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["guild_id", "user_id"], set_=changes)
        )

    async def set_recognition_opt_out(
        self, user_id: int, opt_out: bool, *, display_name: str, now: datetime
    ) -> bool:
        """Record the member's choice; True if it changed. Works before the member is seen."""
        return await self._set_choice(
            user_id, "recognition_opt_out", opt_out, display_name=display_name, now=now
        )

    async def set_feedback_updates_opt_out(
        self, user_id: int, opt_out: bool, *, display_name: str, now: datetime
    ) -> bool:
        """No more DMs about feedback items (or again); True if it changed."""
        return await self._set_choice(
            user_id, "feedback_updates_opt_out", opt_out, display_name=display_name, now=now
        )

    async def _set_choice(
        self, user_id: int, column: str, value: bool, *, display_name: str, now: datetime
    ) -> bool:
        stmt = insert_for(self.session, Member).values(
            guild_id=self.guild_id,
            user_id=user_id,
            display_name=display_name[:100],
            is_bot=False,
            first_seen_at=now,
            **{column: value},
        )
        before = await self.session.scalar(
            select(getattr(Member, column)).where(
                Member.guild_id == self.guild_id, Member.user_id == user_id
            )
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "user_id"],
                set_={column: stmt.excluded[column]},
            )
        )
        return bool(before) != value

    async def left(self, user_id: int, *, now: datetime) -> None:
        await self.session.execute(
            update(Member)
            .where(Member.guild_id == self.guild_id, Member.user_id == user_id)
            .values(left_at=now)
        )

    async def differing(self, members: Sequence[SeenMember]) -> tuple[list[SeenMember], set[int]]:
        """What a sync must write: the ``members`` whose row ``seen_many`` would change (absent,
        renamed, returned, a new ``joined_at``), and the ids stored as present that are not
        among ``members`` (they left).

        One pass over the guild's rows, so a restart of a 100,000-member guild where little
        changed writes a few hundred rows instead of every one (bench/startup.py).
        """
        here = {m.user_id: m for m in members}
        unchanged: set[int] = set()
        gone: set[int] = set()
        rows = await self.session.stream(
            select(
                Member.user_id, Member.display_name, Member.is_bot, Member.joined_at,
                Member.left_at,
            ).where(Member.guild_id == self.guild_id)
        )  # fmt: skip
        async for partition in rows.partitions(5_000):
            for user_id, name, is_bot, joined_at, left_at in partition:
                member = here.get(user_id)
                if member is None:
                    if left_at is None:
                        gone.add(user_id)
                elif (
                    left_at is None
                    and name == member.display_name[:100]
                    and is_bot == member.is_bot
                    and member.joined_at in (None, joined_at)
                ):
                    unchanged.add(user_id)
        return [m for m in members if m.user_id not in unchanged], gone

    async def present_ids(self) -> list[int]:
        rows = await self.session.scalars(
            select(Member.user_id).where(Member.guild_id == self.guild_id, Member.left_at.is_(None))
        )
        return list(rows)

    async def seen_many(self, members: Sequence[SeenMember], *, now: datetime) -> None:
        """``seen`` for many members, in batched upserts (a known ``joined_at`` is kept)."""
        stmt = insert_for(self.session, Member)
        stmt = stmt.on_conflict_do_update(
            index_elements=["guild_id", "user_id"],
            set_={
                "display_name": stmt.excluded.display_name,
                "is_bot": stmt.excluded.is_bot,
                "left_at": None,
                "joined_at": func.coalesce(stmt.excluded.joined_at, Member.joined_at),
            },
        )
        for start in range(0, len(members), BATCH_SIZE):
            rows = [
                {
                    "guild_id": self.guild_id,
                    "user_id": m.user_id,
                    "display_name": m.display_name[:100],
                    "is_bot": m.is_bot,
                    "first_seen_at": now,
                    "joined_at": m.joined_at,
                    "left_at": None,
                }
                for m in members[start : start + BATCH_SIZE]
            ]
            await self.session.execute(stmt, rows)

    async def left_many(self, user_ids: Iterable[int], *, now: datetime) -> None:
        """Mark members as gone, in batches; members already gone keep their ``left_at``."""
        ids = sorted(set(user_ids))
        for start in range(0, len(ids), BATCH_SIZE):
            await self.session.execute(
                update(Member)
                .where(
                    Member.guild_id == self.guild_id,
                    Member.user_id.in_(ids[start : start + BATCH_SIZE]),
                    Member.left_at.is_(None),
                )
                .values(left_at=now)
            )
