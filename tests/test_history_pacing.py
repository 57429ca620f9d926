"""The backfill's share of Discord's global limit: every request of the process counts."""

from __future__ import annotations

import pytest

from bot.history import GLOBAL_SHARE, RequestWindow


def test_a_request_goes_while_the_last_second_has_room() -> None:
    window = RequestWindow()
    for n in range(GLOBAL_SHARE - 1):
        window.record(10.0 + n / 100)
    assert window.wait(10.5, GLOBAL_SHARE) == 0.0


def test_requests_woken_together_go_half_a_slot_apart() -> None:
    """After a busy stretch of the event loop, readers whose slots passed are spread out."""
    window = RequestWindow()
    window.record(10.0)
    half_slot = 0.5 / GLOBAL_SHARE
    assert window.wait(10.0, GLOBAL_SHARE) == pytest.approx(half_slot)
    assert window.wait(10.0 + half_slot, GLOBAL_SHARE) == 0.0


def test_a_busy_second_is_waited_out_until_its_oldest_request_leaves() -> None:
    window = RequestWindow()
    for n in range(GLOBAL_SHARE):
        window.record(10.0 + n / 100)  # the live bot and the backfill alike
    assert window.wait(10.5, GLOBAL_SHARE) == pytest.approx(0.5)
    assert window.wait(11.0, GLOBAL_SHARE) == 0.0, "the first one left the window"
    assert window.in_last_second(11.0) == GLOBAL_SHARE - 1


def test_more_than_the_share_in_flight_waits_for_enough_to_leave() -> None:
    window = RequestWindow()
    for n in range(GLOBAL_SHARE + 5):
        window.record(10.0 + n / 100)
    # 50 in the window: six must leave before 44 remain, the sixth at 10.05 + 1.
    assert window.wait(10.6, GLOBAL_SHARE) == pytest.approx(0.45)
