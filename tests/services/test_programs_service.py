"""ProgramsService on a real store (SQLite and PostgreSQL): who may join or volunteer, and the
credits a close and a research session give, once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.errors import UserFacingError
from bot.services.container import build_services
from db.models import Contribution, TierState
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, BEA, CY, STAFF = 1001, 1002, 1003, 2001
TIERS = [
    {"key": "champion", "name": "Champion", "role_id": 601},
    {"key": "advisor", "name": "Advisor", "role_id": 602},
]


@pytest.fixture
def service(sessions, clock):
    data = minimal_config(guild_id=GUILD, tiers=TIERS, feedback={"programs_channel": 9})
    settings = parse_config(data, require_token=False).settings
    return build_services(settings, clock, sessions).programs


async def tier(sessions, clock, user_id: int, key: str) -> None:
    async with sessions() as session, session.begin():
        session.add(
            TierState(guild_id=GUILD, user_id=user_id, tier_key=key, updated_at=clock.now())
        )


async def credits(sessions, kind: str) -> list[tuple[int, int]]:
    async with sessions() as session:
        rows = await session.scalars(select(Contribution).where(Contribution.kind == kind))
        return sorted((row.user_id, row.points) for row in rows)


async def test_joining_checks_tier_seats_and_the_closing_date(service, sessions, clock):
    await tier(sessions, clock, ADA, "advisor")
    await tier(sessions, clock, BEA, "champion")
    today = clock.now().astimezone(service.settings.schedule.tz).date()
    program = await service.create_program(
        name="Offline mode", min_tier="Advisor", seats=1, until=today, created_by=STAFF
    )
    assert program.min_tier == "advisor"
    with pytest.raises(UserFacingError, match="for Advisor members and above; you are Champion"):
        await service.join(program.id, BEA)
    with pytest.raises(UserFacingError, match="not on the ladder yet"):
        await service.join(program.id, CY)
    assert (await service.join(program.id, ADA)).taken == 1
    open_one = await service.create_program(
        name="Widgets", min_tier=None, seats=1, until=None, created_by=STAFF
    )
    await service.join(open_one.id, BEA)
    with pytest.raises(UserFacingError, match="every seat"):
        await service.join(open_one.id, CY)
    clock.advance(timedelta(days=1))
    late = await service.create_program(
        name="Later", min_tier=None, seats=None, until=today + timedelta(days=1), created_by=STAFF
    )
    clock.advance(timedelta(days=2))
    with pytest.raises(UserFacingError, match="Joining \\*\\*Later\\*\\* closed on"):
        await service.join(late.id, CY)
    with pytest.raises(UserFacingError, match="in the past"):
        await service.create_program(
            name="Past", min_tier=None, seats=None, until=date(2000, 1, 1), created_by=STAFF
        )
    with pytest.raises(UserFacingError, match="no tier called 'legend'"):
        await service.create_program(
            name="Legends", min_tier="legend", seats=None, until=None, created_by=STAFF
        )


async def test_closing_credits_accepted_reports_once(service, sessions):
    program = await service.create_program(
        name="Offline mode", min_tier=None, seats=None, until=None, created_by=STAFF
    )
    with pytest.raises(UserFacingError, match="Join \\*\\*Offline mode\\*\\* first"):
        await service.submit_report(program.id, ADA, "Sync loses edits made offline")
    for user_id in (ADA, BEA):
        await service.join(program.id, user_id)
    good = await service.submit_report(program.id, ADA, "Sync loses edits made offline")
    meh = await service.submit_report(program.id, BEA, "It works fine for me")
    with pytest.raises(UserFacingError, match="your own report"):
        await service.decide_report(good.id, ADA, approve=True)
    assert (await service.decide_report(good.id, STAFF, approve=True)).decided_now
    assert not (
        await service.decide_report(good.id, STAFF, approve=False, reason="Nope")
    ).decided_now
    rejected = await service.decide_report(meh.id, STAFF, approve=False, reason="Too vague")
    assert rejected.report.status == "rejected" and rejected.report.reason == "Too vague"

    closed = await service.close(program.id, actor_id=STAFF)
    assert (closed.credited, closed.points) == ((ADA,), 8)
    assert await credits(sessions, "beta_testing") == [(ADA, 8)]
    with pytest.raises(UserFacingError, match="already closed"):
        await service.close(program.id, actor_id=STAFF)
    _, people, accepted = await service.to_thank(program.id)
    assert (people, accepted) == ([ADA, BEA], {ADA})
    assert await service.closed_unthanked() == [program.id]


async def test_research_volunteers_meet_the_criteria_and_are_credited_once(
    service, sessions, clock
):
    await tier(sessions, clock, ADA, "champion")
    call = await service.recruit(
        title="Onboarding interviews", details="Thirty minutes on video", min_tier="champion",
        region=None, group=None, seats=1, created_by=STAFF,
    )  # fmt: skip
    with pytest.raises(UserFacingError, match="Champion members and above"):
        await service.volunteer(call.id, BEA)
    await service.volunteer(call.id, ADA)
    with pytest.raises(UserFacingError, match="already volunteered"):
        await service.volunteer(call.id, ADA)
    with pytest.raises(UserFacingError, match="Pick that member first"):
        await service.took_part(call.id, ADA, actor_id=STAFF)
    await service.pick(call.id, ADA, by=STAFF)
    assert await service.took_part(call.id, ADA, actor_id=STAFF) == 8
    with pytest.raises(UserFacingError, match="already credited"):
        await service.took_part(call.id, ADA, actor_id=STAFF)
    assert await credits(sessions, "user_research") == [(ADA, 8)]
    with pytest.raises(UserFacingError, match="no user group called"):
        await service.recruit(
            title="Berlin visits", details="Come to the office", min_tier=None, region=None,
            group="Nowhere", seats=None, created_by=STAFF,
        )  # fmt: skip
