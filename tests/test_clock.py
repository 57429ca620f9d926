from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock, SystemClock


def test_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_fake_clock_moves_wall_and_monotonic_together():
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(90)
    clock.advance(timedelta(minutes=1))
    assert clock.now() == datetime(2026, 1, 1, 0, 2, 30, tzinfo=UTC)
    assert clock.monotonic() == 150.0


def test_fake_clock_refuses_naive_and_backwards():
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(datetime(2025, 1, 1, tzinfo=UTC))
