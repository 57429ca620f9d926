"""Imports from other bots: one ``imported`` contribution per member per source, all or nothing.

The rows come checked from :mod:`bot.core.imports`. Each member's points land as one
contribution with the source id ``import:<source>:<user>`` (``mee6``, ``csv`` or the name given
with ``--source``), so importing the same file again changes nothing. A member already imported
from that source with *different* points is refused, not replaced: the ledger never silently
rewrites a credit, and the fix (a correction with /contribution add, which the mod log shows)
stays visible. Any refusal means nothing is written.

The ladder then evaluates the imported members it knows, quietly, as a backfill does: a
promotion is stored and its role queued, with no announcement or DM each (an import can promote
dozens at once; the command's summary stands for them). Members the bot has not seen yet are
credited all the same; the ladder places them at the bot's next start (its catch-up sweep runs
once the member list is synced) or daily sweep, which also gives every stored tier its role.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.imports import ImportRow, Problem
from bot.services.base import Service
from bot.services.contributions import Contributions
from bot.services.ladder_automation import LadderAutomation
from db.models import Contribution, Member
from db.repositories.privacy import Erasures

KIND = "imported"
#: A source names where the points came from (``mee6``, ``csv``, ``tatsu``…): it is part of
#: every source id (128 characters at most, with ``import:`` and a 20-digit id).
SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class ImportResult:
    imported: int
    #: Already imported from this source with the same points: nothing to do.
    unchanged: int
    points: int
    problems: tuple[Problem, ...]
    dry_run: bool
    #: Imported members the bot has not seen in the server yet: the ladder places them once it
    #: does (at its next start), so a preview leaves them out until then.
    unseen: int = 0
    #: Tier key -> members the import promoted to it (quietly: no announcement or DM each).
    promoted: dict[str, int] = field(default_factory=dict)
    #: Members left out because they had their data erased: a file holds their past.
    erased: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def source_id(source: str, user_id: int) -> str:
    return f"import:{source}:{user_id}"


class ImportService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
        tiers: LadderAutomation,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        self.tiers = tiers

    async def import_rows(
        self, source: str, rows: Sequence[ImportRow], *, dry_run: bool = False, place: bool = True
    ) -> ImportResult:
        """Credit every row in one transaction, or nothing if any member was imported before
        with other points; ``dry_run`` checks and counts but rolls back. ``place``: evaluate
        the imported members' tiers afterwards (a what-if leaves it off to preview them)."""
        if not SOURCE.fullmatch(source):
            raise ValueError(
                f"an import source is 1-32 lowercase letters, digits, - or _ (got {source!r})"
            )
        now = self.clock.now()
        prefix = source_id(source, 0)[:-1]
        async with self.sessions() as session, session.begin():
            # Every earlier import from this source, not an IN list of the rows: a leaderboard
            # of 50,000 members would pass PostgreSQL's 32,767 bound parameters.
            earlier = {
                key: points
                for key, points in (
                    await session.execute(
                        select(Contribution.source_id, Contribution.points).where(
                            Contribution.guild_id == self.guild_id,
                            Contribution.kind == KIND,
                            Contribution.source_id.startswith(prefix, autoescape=True),
                        )
                    )
                ).all()
            }
            seen = set(
                await session.scalars(
                    select(Member.user_id).where(
                        Member.guild_id == self.guild_id, Member.left_at.is_(None)
                    )
                )
            )
            erasures = await Erasures.load(session, self.guild_id)
            kept = [row for row in rows if erasures.erased_at(row.user_id) is None]
            problems: list[Problem] = []
            fresh: list[ImportRow] = []
            for row in kept:
                before = earlier.get(source_id(source, row.user_id))
                if before is None:
                    fresh.append(row)
                elif before != row.points:
                    problems.append(
                        Problem(
                            row.where,
                            f"user {row.user_id} was imported from {source} before with "
                            f"{before} points, not {row.points}; imports never overwrite a "
                            "credit: correct it with /contribution add (it shows in the mod log)",
                        )
                    )
            result = ImportResult(
                imported=len(fresh),
                unchanged=len(kept) - len(fresh) - len(problems),
                points=sum(row.points for row in fresh),
                problems=tuple(problems),
                dry_run=dry_run,
                unseen=sum(row.user_id not in seen for row in kept),
                erased=len(rows) - len(kept),
            )
            if problems or dry_run:
                await session.rollback()
                return result
            credits = [
                self.contributions.credit(
                    KIND,
                    row.user_id,
                    source_id(source, row.user_id),
                    occurred_at=now,
                    points=row.points,
                    reason=_reason(source, row),
                )
                for row in fresh
            ]
            await self.contributions.record_many(session, credits)
        if not place:
            return result
        placed = {row.user_id for row in fresh if row.user_id in seen}
        return replace(result, promoted=await self._place(placed))

    async def _place(self, user_ids: set[int]) -> dict[str, int]:
        """The quiet ladder of a backfill, for the imported members the import promotes.

        Only promotions: points added never warn or demote anyone, and a member who stands
        to be warned or demoted anyway is left to the daily sweep, which tells them. An import
        may run offline (the CLI), where such a notice would be recorded but never sent.
        """
        if not user_ids or not self.settings.tiers:
            return {}
        planned = await self.tiers.ladder.plan(user_ids)
        rising = {p.user_id for p in planned if p.decision.action == "promote"}
        return await self.tiers.place_quietly(rising) if rising else {}


def _reason(source: str, row: ImportRow) -> str:
    parts = [f"imported from {source}"]
    if row.messages is not None:
        parts.append(f"{row.messages} messages")
    if row.note:
        parts.append(row.note)
    return "; ".join(parts)[:500]
