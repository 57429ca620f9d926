"""The record as pages for people: a member's own ledger, and the staff's audit log.

The audit log is what moderators did or the ladder did on its own: every tier change (with its
reason and who made it) and every ledger row a moderator made (manual credits and removals).
Each page carries the display names the store knows, so the web shows people, not ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from bot.services.base import Service
from db.models import Contribution
from db.repositories.audit import AuditRepository

T = TypeVar("T")

PAGE_SIZE = 50


@dataclass(frozen=True)
class LedgerLine:
    id: int
    user_id: int
    kind: str
    points: int
    occurred_at: datetime
    actor_id: int | None
    reason: str | None
    reverses_id: int | None


@dataclass(frozen=True)
class TierLine:
    id: int
    user_id: int
    from_tier: str | None
    to_tier: str | None
    reason: str
    actor_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    lines: tuple[T, ...]
    page: int
    has_next: bool
    names: dict[int, str]

    def name(self, user_id: int | None) -> str:
        if user_id is None:
            return "automatic"
        if user_id <= 0:
            return "a former member"
        return self.names.get(user_id, str(user_id))


def _page_args(page: int) -> tuple[int, int]:
    page = max(page, 0)
    return PAGE_SIZE + 1, page * PAGE_SIZE


class AuditService(Service):
    async def member_history(self, user_id: int, page: int = 0) -> Page[LedgerLine]:
        """The member's ledger rows, newest first (corrections show as their own rows)."""
        limit, offset = _page_args(page)
        async with self.sessions() as session:
            repo = AuditRepository(session, self.guild_id)
            rows = await repo.ledger_of(user_id, limit=limit, offset=offset)
            lines = [_ledger_line(row) for row in rows]
            names = await repo.names({line.actor_id for line in lines if line.actor_id})
        return Page(tuple(lines[:PAGE_SIZE]), max(page, 0), len(lines) > PAGE_SIZE, names)

    async def tier_changes(self, page: int = 0) -> Page[TierLine]:
        limit, offset = _page_args(page)
        async with self.sessions() as session:
            repo = AuditRepository(session, self.guild_id)
            rows = await repo.tier_changes(limit=limit, offset=offset)
            lines = [
                TierLine(
                    r.id, r.user_id, r.from_tier, r.to_tier, r.reason, r.actor_id, r.created_at
                )
                for r in rows
            ]
            names = await repo.names(_people(lines))
        return Page(tuple(lines[:PAGE_SIZE]), max(page, 0), len(lines) > PAGE_SIZE, names)

    async def manual_credits(self, page: int = 0) -> Page[LedgerLine]:
        limit, offset = _page_args(page)
        async with self.sessions() as session:
            repo = AuditRepository(session, self.guild_id)
            rows = await repo.manual_credits(limit=limit, offset=offset)
            lines = [_ledger_line(row) for row in rows]
            names = await repo.names(_people(lines))
        return Page(tuple(lines[:PAGE_SIZE]), max(page, 0), len(lines) > PAGE_SIZE, names)


def _people(lines: list[LedgerLine] | list[TierLine]) -> set[int]:
    people = {line.user_id for line in lines}
    people |= {line.actor_id for line in lines if line.actor_id is not None}
    return people


def _ledger_line(row: Contribution) -> LedgerLine:
    return LedgerLine(
        row.id,
        row.user_id,
        row.kind,
        row.points,
        row.occurred_at,
        row.actor_id,
        row.reason,
        row.reverses_id,
    )
