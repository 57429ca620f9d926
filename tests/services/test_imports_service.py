"""Imports land once per member and source, never overwrite, and are all or nothing; on SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.config import parse_config
from bot.core.imports import ImportRow
from bot.services.contributions import Contributions
from bot.services.imports import ImportService
from db.models import Contribution
from db.repositories.members import MemberRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, LINUS = 300000000000000001, 300000000000000002, 300000000000000003


def service(sessions: Any, clock: Any) -> ImportService:
    settings = parse_config(minimal_config(guild_id=GUILD), env={"DISCORD_TOKEN": "x"}).settings
    return ImportService(sessions, settings, clock, Contributions(settings, clock))


def row(user_id: int, points: int, where: str = "f:2") -> ImportRow:
    return ImportRow(user_id, points, 40, "MEE6: 100 XP", where)


async def ledger(sessions: Any) -> list[tuple[int, str, int, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(Contribution).order_by(Contribution.user_id))
        return [(r.user_id, r.kind, r.points, r.source_id) for r in rows]


async def test_an_import_credits_each_member_once(sessions, clock) -> None:
    imports = service(sessions, clock)
    async with sessions() as session, session.begin():
        await MemberRepository(session, GUILD).seen(
            ADA, display_name="ada", is_bot=False, now=clock.now()
        )
    first = await imports.import_rows("mee6", [row(ADA, 15), row(GRACE, 4)])
    assert (first.imported, first.unchanged, first.points, first.unseen) == (2, 0, 19, 1)
    again = await imports.import_rows("mee6", [row(ADA, 15), row(GRACE, 4)])
    assert (again.imported, again.unchanged, again.points) == (0, 2, 0)
    assert await ledger(sessions) == [
        (ADA, "imported", 15, f"import:mee6:{ADA}"),
        (GRACE, "imported", 4, f"import:mee6:{GRACE}"),
    ]
    async with sessions() as session:
        [credit] = await session.scalars(select(Contribution).where(Contribution.user_id == ADA))
    assert credit.reason == "imported from mee6; 40 messages; MEE6: 100 XP"
    other = await imports.import_rows("csv", [row(ADA, 3)])
    assert other.imported == 1, "another source is another credit"


async def test_a_changed_value_refuses_the_whole_import(sessions, clock) -> None:
    imports = service(sessions, clock)
    await imports.import_rows("csv", [row(ADA, 15)])
    refused = await imports.import_rows("csv", [row(LINUS, 9), row(ADA, 20, "f:7")])
    assert not refused.ok
    [problem] = refused.problems
    assert problem.where == "f:7" and "before with 15 points, not 20" in problem.message
    assert "/contribution add" in problem.message
    assert await ledger(sessions) == [(ADA, "imported", 15, f"import:csv:{ADA}")]


async def test_a_dry_run_counts_and_writes_nothing(sessions, clock) -> None:
    result = await service(sessions, clock).import_rows(
        "mee6", [row(ADA, 15), row(GRACE, 4)], dry_run=True
    )
    assert (result.imported, result.points, result.dry_run) == (2, 19, True)
    assert await ledger(sessions) == []
