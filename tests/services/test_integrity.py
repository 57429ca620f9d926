"""Two colluding members can't carry each other up the ladder (on SQLite and PostgreSQL).

The issue's scenario: two members post a line a day, thank each other daily and each marks
three throwaway "answers" from the other; without limits both reach the first tier in ten days.
With the pair cap and a tier asking for credit from several members, neither does; the
weekly note names them.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from bot.config import Settings, parse_config
from bot.services.contributions import PAIR_CAPPED, Contributions
from bot.services.integrity import IntegrityService
from bot.services.ladder import LadderService
from db.repositories.activity import ActivityRepository
from db.repositories.members import MemberRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, LINUS, HEDY, KEN = 1001, 1002, 1003, 1004, 1005
#: Champion of the sample program: 50 points and 3 accepted answers in 90 days, 2 active weeks.
CHAMPION = {
    "key": "champion",
    "name": "Champion",
    "role_id": 9001,
    "window_days": 90,
    "min_points": 50,
    "min_counts": {"answer": 3},
    "min_active_weeks": 2,
}
_sources = itertools.count(1)


def settings_for(*, cap: int = 2, distinct: int = 0) -> Settings:
    config = minimal_config(
        guild_id=GUILD,
        tiers=[{**CHAMPION, "min_distinct_members": distinct}],
        integrity={"pair_credits_per_week": cap, "reciprocal_threshold": 3},
    )
    return parse_config(config, env={"DISCORD_TOKEN": "x"}).settings


def ladder_for(sessions: Any, clock: Any, settings: Settings) -> LadderService:
    return LadderService(sessions, settings, clock, Contributions(settings, clock))


async def collude(ladder: LadderService, sessions: Any, clock: Any, days: int = 10) -> None:
    """ada and grace: a line a day, a thanks each way a day, three answers each way."""
    start = clock.now() - timedelta(days=days)
    async with sessions() as session, session.begin():
        members = MemberRepository(session, GUILD)
        for user in (ADA, GRACE, LINUS, HEDY, KEN):
            await members.seen(
                user, display_name=str(user), is_bot=False, now=start, joined_at=start
            )
        await ActivityRepository(session, GUILD).add_messages(
            {
                (user, (start + timedelta(days=d)).date()): 1
                for user in (ADA, GRACE)
                for d in range(days)
            }
        )
    ledger = ladder.contributions
    async with sessions() as session, session.begin():
        for day in range(days):
            at = start + timedelta(days=day, hours=12)
            for giver, receiver in ((ADA, GRACE), (GRACE, ADA)):
                credits = [("thanks_received", at)]
                if day < 3:
                    credits.append(("answer", at + timedelta(minutes=1)))
                for kind, when in credits:
                    credit = ledger.credit(
                        kind, receiver, f"t:{next(_sources)}", occurred_at=when, actor_id=giver
                    )
                    await ledger.record(session, credit)


@pytest.mark.parametrize("cap", [0])
async def test_without_limits_the_pair_reaches_champion_in_ten_days(sessions, clock, cap):
    ladder = ladder_for(sessions, clock, settings_for(cap=cap))
    await collude(ladder, sessions, clock)
    changes = await ladder.evaluate({ADA, GRACE})
    assert sorted((c.user_id, c.to_tier) for c in changes) == [
        (ADA, "champion"),
        (GRACE, "champion"),
    ]


async def test_the_pair_cap_keeps_both_below_champion(sessions, clock):
    ladder = ladder_for(sessions, clock, settings_for(cap=2))
    await collude(ladder, sessions, clock)
    assert await ladder.evaluate({ADA, GRACE}) == []
    missing = await ladder.missing(ADA, "champion")
    assert any(line.endswith("points ✗") for line in missing), missing


async def test_a_tier_can_require_credit_from_distinct_members(sessions, clock):
    # No cap at all: the distinct-givers rule alone stops the pair.
    ladder = ladder_for(sessions, clock, settings_for(cap=0, distinct=3))
    await collude(ladder, sessions, clock)
    assert await ladder.evaluate({ADA, GRACE}) == []
    assert await ladder.missing(ADA, "champion") == ("1/3 different members crediting them ✗",)
    # Real help from two more members gets ada there.
    ledger = ladder.contributions
    async with sessions() as session, session.begin():
        for giver in (LINUS, HEDY):
            credit = ledger.credit("thanks_received", ADA, f"t:{next(_sources)}", actor_id=giver)
            await ledger.record(session, credit)
    [change] = await ladder.evaluate({ADA})
    assert change.to_tier == "champion"


async def test_credit_past_the_cap_is_recorded_with_no_points_and_says_why(sessions, clock):
    settings = settings_for(cap=2)
    ledger = Contributions(settings, clock)
    rows = []
    async with sessions() as session, session.begin():
        for n in range(3):
            credit = ledger.credit(
                "thanks_received", ADA, f"t:{next(_sources)}", actor_id=GRACE, reason=f"help {n}"
            )
            rows.append(await ledger.record(session, credit))
        # Another giver, and a moderator's kind, are not capped by grace's credits.
        other = ledger.credit("thanks_received", ADA, f"t:{next(_sources)}", actor_id=LINUS)
        rows.append(await ledger.record(session, other))
    assert [r.points for r in rows] == [2, 2, 0, 2]
    assert rows[2].reason == PAIR_CAPPED.format(cap=2) + ": help 2"
    # A week later the pair's credit counts again.
    clock.advance(timedelta(days=7, seconds=1))
    async with sessions() as session, session.begin():
        again = ledger.credit("thanks_received", ADA, f"t:{next(_sources)}", actor_id=GRACE)
        assert (await ledger.record(session, again)).points == 2


async def test_the_weekly_note_names_reciprocal_pairs_and_rings(sessions, clock):
    settings = settings_for(cap=2)
    ladder = ladder_for(sessions, clock, settings)
    await collude(ladder, sessions, clock, days=7)
    ledger = ladder.contributions
    async with sessions() as session, session.begin():
        for giver, receiver in ((LINUS, HEDY), (HEDY, KEN), (KEN, LINUS)):
            for _ in range(3):
                credit = ledger.credit(
                    "thanks_received", receiver, f"t:{next(_sources)}", actor_id=giver
                )
                await ledger.record(session, credit)
    text = await IntegrityService(sessions, settings, clock, ledger).weekly_note()
    assert text is not None and text.startswith("🔎 **Integrity note**")
    assert f"<@{ADA}> ⇄ <@{GRACE}>: 10 and 10" in text  # capped credits count here too
    assert f"ring <@{LINUS}> → <@{HEDY}> → <@{KEN}> → <@{LINUS}>: 3, 3, 3" in text


async def test_no_note_in_a_quiet_week(sessions, clock):
    settings = settings_for()
    ledger = Contributions(settings, clock)
    assert await IntegrityService(sessions, settings, clock, ledger).weekly_note() is None
