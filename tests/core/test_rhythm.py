"""The posting rhythm from the config: kinds, cron fields, and keys back to periods."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import MonthlyAt, WeeklyAt, parse_config
from bot.core.periods import occurrences, period_for
from bot.core.rhythm import cron_fields, period_for_key, rhythms
from tests.helpers import minimal_config

BERLIN = ZoneInfo("Europe/Berlin")


def settings(**extra: object):  # type: ignore[no-untyped-def]
    data = {**minimal_config(), **extra}
    return parse_config(data, env={"DISCORD_TOKEN": "x.y.z"}).settings


def test_every_configured_post_is_a_rhythm_with_its_channel_and_grace() -> None:
    s = settings(
        schedule={"catch_up_grace_days": 2},
        rituals=[
            {"key": "qa", "when": "thu 17:00", "title": "Q&A", "text": "Ask.", "channel": 77},
            {"key": "demo-day", "when": "15 18:00", "title": "Demo", "text": "Show."},
        ],
    )
    found = {r.kind: r for r in rhythms(s)}
    assert list(found) == ["weekly", "newsletter", "quarterly", "ritual:qa", "ritual:demo-day"]
    assert found["weekly"].channel_id == s.channels.announcements
    assert found["newsletter"].channel_id == s.channels.newsletter
    assert found["weekly"].grace == timedelta(days=2)
    assert found["ritual:qa"].channel_id == 77 and found["ritual:qa"].grace == timedelta(hours=12)
    assert found["ritual:demo-day"].channel_id == s.channels.announcements
    assert found["quarterly"].quarterly and not found["newsletter"].quarterly
    assert found["ritual:qa"].ritual_key == "qa" and found["weekly"].ritual_key is None


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("weekly", {"day_of_week": "mon", "hour": 10, "minute": 0}),
        ("newsletter", {"day": 1, "hour": 9, "minute": 0}),
        ("quarterly", {"day": 1, "month": "1,4,7,10", "hour": 10, "minute": 0}),
        ("ritual:qa", {"day_of_week": "thu", "hour": 17, "minute": 30}),
    ],
)
def test_cron_fields(kind: str, expected: dict[str, object]) -> None:
    s = settings(rituals=[{"key": "qa", "when": "thu 17:30", "title": "Q", "text": "A"}])
    [rhythm] = [r for r in rhythms(s) if r.kind == kind]
    assert cron_fields(rhythm) == expected


@pytest.mark.parametrize("tz", [ZoneInfo("UTC"), BERLIN])
def test_a_recorded_key_gives_back_its_period(tz: ZoneInfo) -> None:
    """Recovery after a crash rebuilds the period from its key: the same one, every kind."""
    s = settings(
        schedule={"timezone": str(tz), "weekly_recognition": "sun 18:00"},
        rituals=[{"key": "qa", "when": "28 07:30", "title": "Q", "text": "A"}],
    )
    start = datetime(2025, 12, 1, tzinfo=UTC)
    for rhythm in rhythms(s):
        found = occurrences(
            rhythm.cadence,
            after=start,
            until=start + timedelta(days=400),
            tz=tz,
            quarterly=rhythm.quarterly,
        )
        assert found
        for occurrence in found:
            period = period_for(rhythm.period_kind, occurrence, tz)
            assert period_for_key(rhythm, period.key, tz) == period, (rhythm.kind, period.key)


def test_unreadable_keys_are_none() -> None:
    s = settings()
    by_kind = {r.kind: r for r in rhythms(s)}
    assert period_for_key(by_kind["weekly"], "2026-11", UTC_ZONE) is None
    assert period_for_key(by_kind["weekly"], "2026-W54", UTC_ZONE) is None
    assert period_for_key(by_kind["newsletter"], "2026-13", UTC_ZONE) is None
    assert period_for_key(by_kind["quarterly"], "2026-Q5", UTC_ZONE) is None
    assert period_for_key(by_kind["newsletter"], "garbage", UTC_ZONE) is None


UTC_ZONE = ZoneInfo("UTC")


def test_cadence_types_are_the_configs() -> None:
    s = settings(rituals=[{"key": "qa", "when": "3 08:00", "title": "Q", "text": "A"}])
    kinds = {r.kind: r.cadence for r in rhythms(s)}
    assert kinds["weekly"] == WeeklyAt(0, dt.time(10, 0))
    assert kinds["ritual:qa"] == MonthlyAt(3, dt.time(8, 0))
