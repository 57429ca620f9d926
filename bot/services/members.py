"""Keeping the members table in step with the guild: who is here, who left, who came back.

Other features read it: referrals tell a rejoin from a first join by it, and settle on whether
the newcomer is still a member. Rows are never deleted, so history survives a leave.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.base import StoreService
from db.repositories.members import MemberRepository, SeenMember

JoinKind = Literal["new", "rejoin", "present"]
"""``present``: the member was already recorded as here (a replayed join event)."""


@dataclass(frozen=True)
class MemberInfo:
    user_id: int
    display_name: str
    is_bot: bool
    joined_at: datetime | None = None


@dataclass(frozen=True)
class Preferences:
    """A member's own switches, as /privacy sets them."""

    recognition_opt_out: bool = False
    feedback_updates_opt_out: bool = False


@dataclass(frozen=True)
class SyncResult:
    present: int
    marked_left: int


class MembersService(StoreService):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
    ) -> None:
        super().__init__(sessions, settings, clock)
        # Gateway events are handled in separate tasks: a quick leave-and-rejoin must be
        # written in the order it happened.
        self._lock = asyncio.Lock()

    async def display_names(self, user_ids: Sequence[int]) -> dict[int, str]:
        """Display names as the bot last saw them, for pages that show members by name (no
        mentions); members it never saw by name are left out."""
        async with self.sessions() as session:
            return await MemberRepository(session, self.guild_id).display_names(user_ids)

    async def preferences(self, user_id: int) -> Preferences:
        """The member's /privacy switches (the defaults for a member the store never saw)."""
        async with self.sessions() as session:
            row = await MemberRepository(session, self.guild_id).get(user_id)
        if row is None:
            return Preferences()
        return Preferences(row.recognition_opt_out, row.feedback_updates_opt_out)

    async def sync(self, present: Sequence[MemberInfo]) -> SyncResult:
        """Record everyone in the guild now; members in the table but not here have left."""
        now = self.clock.now()
        async with self._lock, self.sessions() as session, session.begin():
            repo = MemberRepository(session, self.guild_id)
            # Only rows that change are written: a restart rewrote every member's row before.
            changed, gone = await repo.differing([_seen(m) for m in present])
            await repo.seen_many(changed, now=now)
            await repo.left_many(gone, now=now)
        return SyncResult(present=len({m.user_id for m in present}), marked_left=len(gone))

    async def joined(self, member: MemberInfo) -> JoinKind:
        """Record a join and say whether the member had been here before."""
        now = self.clock.now()
        async with self._lock, self.sessions() as session, session.begin():
            repo = MemberRepository(session, self.guild_id)
            before = await repo.get(member.user_id)
            kind: JoinKind = (
                "new" if before is None else "present" if before.left_at is None else "rejoin"
            )
            await repo.seen(
                member.user_id,
                display_name=member.display_name,
                is_bot=member.is_bot,
                now=now,
                joined_at=member.joined_at,
            )
        return kind

    async def updated(self, member: MemberInfo) -> None:
        """A name change (or anything else) of a member who is here."""
        await self.joined(member)

    async def left(self, user_id: int) -> None:
        now = self.clock.now()
        async with self._lock, self.sessions() as session, session.begin():
            await MemberRepository(session, self.guild_id).left(user_id, now=now)

    async def set_recognition_opt_out(self, user_id: int, opt_out: bool, *, name: str) -> bool:
        """Opt a member out of (or back into) being named in public posts; True if it changed."""
        async with self.sessions.begin() as session:
            return await MemberRepository(session, self.guild_id).set_recognition_opt_out(
                user_id, opt_out, display_name=name, now=self.clock.now()
            )

    async def set_feedback_updates_opt_out(self, user_id: int, opt_out: bool, *, name: str) -> bool:
        """No DMs (or DMs again) when a request the member made or voted on changes status."""
        async with self.sessions.begin() as session:
            return await MemberRepository(session, self.guild_id).set_feedback_updates_opt_out(
                user_id, opt_out, display_name=name, now=self.clock.now()
            )


def _seen(member: MemberInfo) -> SeenMember:
    return SeenMember(member.user_id, member.display_name, member.is_bot, member.joined_at)
