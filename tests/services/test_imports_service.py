"""Imports land once per member and source, never overwrite, are all or nothing, and place the
members the bot knows on the ladder quietly; a what-if leaves nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import parse_config
from bot.core.imports import ImportRow
from bot.services.container import build_services
from bot.services.effects import Offline
from bot.services.imports import ImportService
from db.engine import create_what_if_engine, what_if
from db.models import Contribution, TierChange, TierState
from db.repositories.members import MemberRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, LINUS = 300000000000000001, 300000000000000002, 300000000000000003
CHAMPION = {"key": "champion", "name": "Champion", "role_id": 900000000000000001}


class Told(Offline):
    """Offline effects that remember what would have been said."""

    def __init__(self) -> None:
        self.said: list[tuple[str, object]] = []

    async def dm(
        self, user_id: int, text: str | None = None, *, embeds: Sequence[Any] = ()
    ) -> bool:
        self.said.append(("dm", user_id))
        return False

    async def post(self, channel_id: int, text: str, *, mention: int | None = None) -> bool:
        self.said.append(("post", text))
        return False


def services(sessions: Any, clock: Any, *, min_points: int | None = None, effects: Any = None):
    tiers = [] if min_points is None else [{**CHAMPION, "min_points": min_points}]
    settings = parse_config(
        minimal_config(guild_id=GUILD, tiers=tiers), env={"DISCORD_TOKEN": "x"}
    ).settings
    return build_services(settings, clock, sessions, effects)


def service(sessions: Any, clock: Any) -> ImportService:
    return services(sessions, clock).imports


def row(user_id: int, points: int, where: str = "f:2") -> ImportRow:
    return ImportRow(user_id, points, 40, "MEE6: 100 XP", where)


async def seen(sessions: Any, clock: Any, *user_ids: int) -> None:
    async with sessions() as session, session.begin():
        for user_id in user_ids:
            await MemberRepository(session, GUILD).seen(
                user_id, display_name=f"m{user_id % 10}", is_bot=False, now=clock.now()
            )


async def ledger(sessions: Any) -> list[tuple[int, str, int, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(Contribution).order_by(Contribution.user_id))
        return [(r.user_id, r.kind, r.points, r.source_id) for r in rows]


async def test_an_import_credits_each_member_once(sessions, clock) -> None:
    imports = service(sessions, clock)
    await seen(sessions, clock, ADA)
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
    assert credit.occurred_at == clock.now(), "dated the day of the import"
    other = await imports.import_rows("tatsu", [row(ADA, 3)])
    assert other.imported == 1, "another source is another credit"
    assert (await ledger(sessions))[1] == (ADA, "imported", 3, f"import:tatsu:{ADA}")


@pytest.mark.parametrize("source", ["", "Tatsu", "a:b", "x" * 33, "-csv"])
async def test_a_source_is_a_short_plain_name(sessions, clock, source) -> None:
    with pytest.raises(ValueError, match="an import source is 1-32 lowercase letters"):
        await service(sessions, clock).import_rows(source, [row(ADA, 1)])


async def test_a_changed_value_refuses_the_whole_import(sessions, clock) -> None:
    imports = service(sessions, clock)
    await imports.import_rows("csv", [row(ADA, 15)])
    refused = await imports.import_rows("csv", [row(LINUS, 9), row(ADA, 20, "f:7")])
    assert not refused.ok
    [problem] = refused.problems
    assert problem.where == "f:7" and "before with 15 points, not 20" in problem.message
    assert "/contribution add" in problem.message
    assert await ledger(sessions) == [(ADA, "imported", 15, f"import:csv:{ADA}")]


async def test_a_reversed_import_stays_reversed_when_the_file_comes_again(sessions, clock) -> None:
    """A moderator's correction stands: the same file again is 'unchanged', not a new credit."""
    imports = service(sessions, clock)
    await imports.import_rows("csv", [row(ADA, 15)])
    async with sessions() as session, session.begin():
        [credit] = await session.scalars(select(Contribution))
        await imports.contributions.reverse(session, credit, actor_id=LINUS, reason="wrong file")
    again = await imports.import_rows("csv", [row(ADA, 15)])
    assert (again.imported, again.unchanged) == (0, 1)
    async with sessions() as session:
        assert await session.scalar(select(func.sum(Contribution.points))) == 0


async def test_a_dry_run_counts_and_writes_nothing(sessions, clock) -> None:
    result = await service(sessions, clock).import_rows(
        "mee6", [row(ADA, 15), row(GRACE, 4)], dry_run=True
    )
    assert (result.imported, result.points, result.dry_run) == (2, 19, True)
    assert await ledger(sessions) == []


async def test_a_leaderboard_of_tens_of_thousands_imports_and_reimports(sessions, clock) -> None:
    """More members than PostgreSQL takes bound parameters in one statement (32,767)."""
    rows = [row(ADA + n, n % 50, f"f:{n + 2}") for n in range(33_000)]
    imports = service(sessions, clock)
    first = await imports.import_rows("mee6", rows)
    assert (first.imported, first.points) == (33_000, sum(n % 50 for n in range(33_000)))
    again = await imports.import_rows("mee6", rows)
    assert (again.imported, again.unchanged) == (0, 33_000)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Contribution)) == 33_000


async def test_known_members_are_promoted_quietly_and_unseen_ones_wait(sessions, clock) -> None:
    told = Told()
    container = services(sessions, clock, min_points=100, effects=told)
    await seen(sessions, clock, ADA, LINUS)
    result = await container.imports.import_rows(
        "mee6", [row(ADA, 150), row(GRACE, 400), row(LINUS, 20)]
    )
    await container.background.finish(1)
    assert result.promoted == {"champion": 1} and result.unseen == 1
    async with sessions() as session:
        states = dict((await session.execute(select(TierState.user_id, TierState.tier_key))).all())
        [change] = await session.scalars(select(TierChange))
    assert states == {ADA: "champion"}, "grace is unknown until the bot sees her; linus is short"
    assert (change.user_id, change.to_tier, change.actor_id) == (ADA, "champion", None)
    assert told.said == [], "no announcement and no DM for an imported promotion"


async def test_an_import_decides_no_warning_it_could_not_send(sessions, clock) -> None:
    """A Champion long below the rule is the daily sweep's to warn: the import (which may run
    offline, where the DM is never sent) promotes only, so no notice is recorded unsent."""
    told = Told()
    container = services(sessions, clock, min_points=100, effects=told)
    await seen(sessions, clock, LINUS)
    long_ago = clock.now() - timedelta(days=120)
    async with sessions() as session, session.begin():
        session.add(
            TierState(
                guild_id=GUILD, user_id=LINUS, tier_key="champion", tier_since=long_ago,
                below_since=long_ago, updated_at=long_ago,
            )
        )  # fmt: skip
    result = await container.imports.import_rows("mee6", [row(LINUS, 20)])
    await container.background.finish(1)
    assert result.promoted == {}
    async with sessions() as session:
        [state] = await session.scalars(select(TierState))
        changes = list(await session.scalars(select(TierChange)))
    assert (state.tier_key, state.at_risk_notified_at) == ("champion", None)
    assert changes == [] and told.said == []
    report = await container.tiers.run_sweep()  # the bot's own pass decides, and tells
    assert report is not None and [c.user_id for c in report.changes] == [LINUS]


async def test_the_sweep_places_an_imported_member_once_the_bot_sees_them(sessions, clock) -> None:
    container = services(sessions, clock, min_points=100)
    await container.imports.import_rows("mee6", [row(GRACE, 400)])
    assert await container.ladder.desired_tiers() == {}
    await seen(sessions, clock, GRACE)  # the start-up member sync
    report = await container.tiers.run_sweep()
    assert report is not None and [(c.user_id, c.to_tier) for c in report.changes] == [
        (GRACE, "champion")
    ]


# --------------------------------------------------------------------------- what if


def what_if_engine(db_url: str) -> AsyncEngine:
    """As tests/conftest.py's ``engine_for``, for a what-if engine."""
    parsed = make_url(db_url)
    options = parsed.query.get("options")
    if parsed.get_backend_name() == "postgresql" and options:
        return create_what_if_engine(
            parsed.difference_update_query(["options"]),
            connect_args={
                "server_settings": {"search_path": str(options).removeprefix("-csearch_path=")}
            },
        )
    return create_what_if_engine(db_url)


async def test_a_what_if_sees_its_own_import_and_leaves_nothing(
    engine, db_url, sessions, clock
) -> None:
    from bot.cli import _preview_lines

    await seen(sessions, clock, ADA, LINUS)
    scratch = what_if_engine(db_url)
    try:
        async with what_if(scratch) as inside:
            container = services(inside, clock, min_points=100)
            result = await container.imports.import_rows(
                "mee6", [row(ADA, 150), row(LINUS, 20)], place=False
            )
            assert result.imported == 2 and len(await ledger(inside)) == 2
            refused = await container.imports.import_rows("mee6", [row(ADA, 9)], place=False)
            assert not refused.ok and len(await ledger(inside)) == 2, "a refusal inside is fine"
            lines = await _preview_lines(container)
    finally:
        await scratch.dispose()
    text = "\n".join(lines)
    assert "2 member(s) evaluated; 1 promoted" in text
    assert "m1 (300000000000000001): no tier → Champion" in text
    assert await ledger(sessions) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TierState)) == 0


async def test_a_member_who_erased_their_data_is_not_imported_again(sessions, clock) -> None:
    """Erasure deletes the imported credit; the same file again must not bring it back."""
    both = services(sessions, clock)
    await seen(sessions, clock, ADA, GRACE)
    await both.imports.import_rows("mee6", [row(ADA, 15), row(GRACE, 4)])
    await both.privacy.erase(ADA)
    again = await both.imports.import_rows("mee6", [row(ADA, 15), row(GRACE, 4)])
    assert (again.imported, again.unchanged, again.erased) == (0, 1, 1)
    assert [(uid, points) for uid, _, points, _ in await ledger(sessions)] == [(GRACE, 4)]
    other = await both.imports.import_rows("csv", [row(ADA, 3)], dry_run=True)
    assert (other.imported, other.erased) == (0, 1), "every source, dry run or not"
