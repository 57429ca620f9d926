"""/profile's ladder outlook on a real store: it agrees with the ladder about the low-water mark."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings, parse_config
from bot.services.contributions import Contributions
from bot.services.ladder import LadderService
from bot.services.ladder_views import outlook
from db.repositories.members import MemberRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA = 1001

#: 100 points and 2 active weeks in 30 days; the low-water mark of the points is 55 at 0.55.
HELPER: dict[str, Any] = {
    "key": "helper",
    "name": "Helper",
    "role_id": 9001,
    "window_days": 30,
    "min_points": 100,
    "min_active_weeks": 2,
}


@pytest.fixture
def settings() -> Settings:
    config = minimal_config(guild_id=GUILD, tiers=[HELPER], ladder={"low_water_ratio": 0.55})
    return parse_config(config, env={"DISCORD_TOKEN": "x"}).settings


@pytest.fixture
def service(sessions, settings, clock) -> LadderService:
    return LadderService(sessions, settings, clock, Contributions(settings, clock))


async def test_the_outlook_names_only_what_the_ladder_calls_below_at_the_boundary(
    service, sessions, clock
):
    """55/100 points at ratio 0.55 hold the mark (0.55 × 100 is 55.00000000000001 in floating
    point): /profile must not list them as below while the ladder says they are above it."""
    async with sessions() as session, session.begin():
        await MemberRepository(session, GUILD).seen(
            ADA, display_name="ada", is_bot=False, now=clock.now(), joined_at=clock.now()
        )
    await service.set_tier(ADA, "helper", reason="by hand", actor_id=7)
    credits = service.contributions
    async with sessions() as session, session.begin():
        await credits.record(session, credits.credit("content", ADA, "t:1", points=55))

    view = await outlook(service, ADA)

    assert view is not None and view.progress.at_risk, "no active weeks: under their mark"
    assert [c.describe() for c in view.below] == ["0/2 active weeks ✗"]
    [planned] = await service.plan([ADA])
    assert "55/100 points ✗ (above the low-water mark of 55)." in planned.decision.reasons
    assert "0/2 active weeks ✗ (below the low-water mark of 1.1)." in planned.decision.reasons
