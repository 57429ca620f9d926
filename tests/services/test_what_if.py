"""The ladder what-if editor: tiers as TOML, checked by the config's own rules, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.config import ConfigError
from bot.services.contributions import Contributions
from bot.services.ladder import LadderService
from bot.services.ladder_views import tiers_as_toml, what_if, with_tiers_from_toml
from db.models import TierChange, TierState
from tests.services.test_ladder_service import (
    ADA,
    GRACE,
    give,
    make_settings,
    seed_members,
)


@pytest.fixture
def service(sessions, clock) -> LadderService:
    settings = make_settings()
    return LadderService(sessions, settings, clock, Contributions(settings, clock))


def test_the_tiers_round_trip_through_their_toml():
    settings = make_settings()
    text = tiers_as_toml(settings)

    assert text.startswith('[[tiers]]\nkey = "helper"')
    assert with_tiers_from_toml(settings, text).tiers == settings.tiers


def test_bad_tiers_get_the_configs_own_problems():
    settings = make_settings()
    with pytest.raises(ConfigError) as bad_toml:
        with_tiers_from_toml(settings, "[[tiers]\nkey=")
    assert "not valid TOML" in str(bad_toml.value)

    text = tiers_as_toml(settings).replace("window_days = 30", "window_days = 0", 1)
    with pytest.raises(ConfigError) as bad_value:
        with_tiers_from_toml(settings, text)
    assert bad_value.value.problems[0].key == "tiers[0].window_days"

    with pytest.raises(ConfigError) as other_section:
        with_tiers_from_toml(settings, "[activity]\ncooldown_seconds = 1\n")
    assert other_section.value.problems[0].key == "activity"


async def test_a_lower_threshold_shows_who_would_move_and_changes_nothing(service, sessions, clock):
    await seed_members(sessions, clock)
    await give(service, ADA, "answer", 2)  # 20 points, but no active weeks yet
    settings = make_settings()
    assert (await what_if(service, settings)).counts["promoted"] == 0

    easier = tiers_as_toml(settings).replace("min_active_weeks = 2", "min_active_weeks = 0", 1)
    report = await what_if(service, with_tiers_from_toml(settings, easier))

    assert [entry.user_id for entry in report.section("promoted")] == [ADA]
    assert GRACE not in {entry.user_id for entry in report.entries}
    async with sessions() as session:
        written = await session.scalar(select(func.count()).select_from(TierChange))
        states = await session.scalar(select(func.count()).select_from(TierState))
    assert (written, states) == (0, 0)
