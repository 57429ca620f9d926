"""Choosing a buddy (load, ties, the limit) and settling a pairing (credit, wait, end)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.buddies import (
    NoteThrottle,
    Pairing,
    Volunteer,
    choose_buddy,
    credit_due_day,
    settle,
)

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
EARLY, LATE = T0 - timedelta(days=9), T0 - timedelta(days=1)


def v(user_id: int, active: int, last: datetime | None = None) -> Volunteer:
    return Volunteer(user_id, active, last)


@pytest.mark.parametrize(
    ("volunteers", "max_active", "exclude", "expected"),
    [
        ([], 3, (), None),
        ([v(1, 0)], 3, (), 1),
        ([v(1, 2), v(2, 1), v(3, 2)], 3, (), 2),  # fewest active pairings
        ([v(1, 3), v(2, 3)], 3, (), None),  # everyone at the limit
        ([v(1, 3), v(2, 5), v(3, 2)], 3, (), 3),  # over the limit (config lowered) is skipped
        ([v(1, 1, LATE), v(2, 1, EARLY)], 3, (), 2),  # tie: longest since last assignment
        ([v(1, 1, EARLY), v(2, 1, None)], 3, (), 2),  # never assigned waited longest
        ([v(5, 0), v(4, 0)], 3, (), 4),  # full tie: lowest id
        ([v(4, 0, EARLY), v(5, 0, EARLY)], 3, (), 4),
        ([v(1, 0), v(2, 0)], 3, (1,), 2),  # excluded (e.g. the newcomer themselves)
        ([v(1, 0), v(2, 1)], 1, (), 1),
    ],
)
def test_choose_buddy(volunteers, max_active, exclude, expected):
    assert choose_buddy(volunteers, max_active=max_active, exclude=exclude) == expected


def test_choose_buddy_is_independent_of_input_order():
    vols = [v(3, 1, LATE), v(1, 1, EARLY), v(2, 1, EARLY), v(9, 2)]
    picks = {
        choose_buddy(order, max_active=3) for order in (vols, vols[::-1], sorted(vols, key=id))
    }
    assert picks == {1}


BERLIN = ZoneInfo("Europe/Berlin")
ASSIGNED = datetime(2026, 10, 1, 21, 30, tzinfo=UTC)  # 23:30 in Berlin
AFTER = timedelta(days=30)
DUE_DAY = date(2026, 10, 31)  # 30 days later, 22:30 local time after the clocks went back


def pairing(*, present: bool = True, last: date | None = None) -> Pairing:
    return Pairing(1, 10, 20, ASSIGNED, present, last)


def test_due_day_is_local():
    assert credit_due_day(ASSIGNED, AFTER, BERLIN) == DUE_DAY
    assert credit_due_day(ASSIGNED, AFTER, UTC) == date(2026, 10, 31)
    assert credit_due_day(ASSIGNED, timedelta(days=1), ZoneInfo("Asia/Tokyo")) == date(2026, 10, 3)


@pytest.mark.parametrize(
    ("present", "last", "now", "expected"),
    [
        (False, None, ASSIGNED + timedelta(days=1), "end_left"),  # left: ends at once
        (False, DUE_DAY, ASSIGNED + AFTER, "end_left"),  # left, even if active before
        (True, None, ASSIGNED + timedelta(days=29), "wait"),
        (True, date(2026, 10, 20), ASSIGNED + AFTER - timedelta(seconds=1), "wait"),  # not due
        (True, DUE_DAY, ASSIGNED + AFTER, "credit"),  # active on the due day
        (True, DUE_DAY + timedelta(days=3), ASSIGNED + AFTER + timedelta(days=5), "credit"),
        (True, DUE_DAY - timedelta(days=1), ASSIGNED + AFTER, "wait"),  # active only before
        (True, None, ASSIGNED + AFTER + timedelta(days=10), "wait"),  # silent: still waiting
        (True, None, ASSIGNED + 2 * AFTER, "end_quiet"),  # silent a second period: quiet
        (True, DUE_DAY - timedelta(days=1), ASSIGNED + 3 * AFTER, "end_quiet"),
        (True, DUE_DAY + timedelta(days=40), ASSIGNED + 3 * AFTER, "credit"),  # credit wins
    ],
)
def test_settle(present, last, now, expected):
    assert settle(pairing(present=present, last=last), now=now, credit_after=AFTER, tz=BERLIN) == (
        expected
    )


class TestNoteThrottle:
    START = datetime(2026, 11, 2, 9, tzinfo=UTC)

    def test_first_case_is_reported_then_held_back_within_the_interval(self):
        throttle = NoteThrottle(timedelta(hours=24))
        assert throttle.note(self.START) == 1
        assert throttle.note(self.START + timedelta(hours=1)) is None
        assert throttle.note(self.START + timedelta(hours=23, minutes=59)) is None

    def test_next_report_counts_the_held_back_cases(self):
        throttle = NoteThrottle(timedelta(hours=24))
        throttle.note(self.START)
        throttle.note(self.START + timedelta(hours=2))
        throttle.note(self.START + timedelta(hours=3))
        assert throttle.note(self.START + timedelta(hours=24)) == 3
        assert throttle.note(self.START + timedelta(hours=25)) is None
        assert throttle.note(self.START + timedelta(hours=48)) == 2

    def test_a_quiet_spell_reports_a_single_case_again(self):
        throttle = NoteThrottle(timedelta(hours=24))
        throttle.note(self.START)
        assert throttle.note(self.START + timedelta(days=5)) == 1
