"""Imports from other bots: one ``imported`` contribution per member per source, all or nothing.

The rows come checked from :mod:`bot.core.imports`. Each member's points land as one
contribution with the source id ``import:<source>:<user>`` (``mee6``, ``csv``), so importing the
same file again changes nothing. A member already imported from that source with *different*
points is refused, not replaced: the ledger never silently rewrites a credit, and the fix (a
correction with /contribution add, which the mod log shows) stays visible. Any refusal means
nothing is written. Members the bot has not seen yet are credited all the same; the ladder
places them (and their roles follow) at the bot's next start or daily sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from bot.core.imports import ImportRow, Problem
from bot.services.base import Service
from db.models import Contribution, Member

KIND = "imported"
SOURCES = ("mee6", "csv")


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

    @property
    def ok(self) -> bool:
        return not self.problems


def source_id(source: str, user_id: int) -> str:
    return f"import:{source}:{user_id}"


class ImportService(Service):
    async def import_rows(
        self, source: str, rows: Sequence[ImportRow], *, dry_run: bool = False
    ) -> ImportResult:
        """Credit every row in one transaction, or nothing if any member was imported before
        with other points; ``dry_run`` checks and counts but rolls back."""
        if source not in SOURCES:
            raise ValueError(f"unknown import source {source!r}")
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            earlier = dict(
                (
                    await session.execute(
                        select(Contribution.source_id, Contribution.points).where(
                            Contribution.guild_id == self.guild_id,
                            Contribution.kind == KIND,
                            Contribution.source_id.in_(
                                [source_id(source, r.user_id) for r in rows]
                            ),
                        )
                    )
                ).all()
            )
            seen = set(
                await session.scalars(
                    select(Member.user_id).where(
                        Member.guild_id == self.guild_id, Member.left_at.is_(None)
                    )
                )
            )
            problems: list[Problem] = []
            fresh: list[ImportRow] = []
            for row in rows:
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
                unchanged=len(rows) - len(fresh) - len(problems),
                points=sum(row.points for row in fresh),
                problems=tuple(problems),
                dry_run=dry_run,
                unseen=sum(row.user_id not in seen for row in rows),
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
        await self.contributions.changed(row.user_id for row in fresh)
        return result


def _reason(source: str, row: ImportRow) -> str:
    parts = [f"imported from {source}"]
    if row.messages is not None:
        parts.append(f"{row.messages} messages")
    if row.note:
        parts.append(row.note)
    return "; ".join(parts)[:500]
