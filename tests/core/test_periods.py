"""Periods: occurrences across DST, keys and labels, windows, "send now" and catching up."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import MonthlyAt, WeeklyAt
from bot.core.periods import (
    CATCH_UP_LOOKBACK,
    CatchUp,
    Period,
    catch_up,
    current_period,
    day_label,
    days_label,
    iso_week_key,
    last_occurrence,
    monthly_period,
    next_occurrence,
    occurrences,
    period_for,
    quarterly_period,
    ritual_period,
    weekly_period,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
MONDAY_10 = WeeklyAt(0, time(10, 0))
FIRST_9 = MonthlyAt(1, time(9, 0))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Occurrences
# --------------------------------------------------------------------------------------------


def test_weekly_occurrences_in_utc() -> None:
    found = occurrences(MONDAY_10, after=utc(2026, 11, 1), until=utc(2026, 11, 30, 10), tz=UTC_ZONE)
    assert found == [utc(2026, 11, d, 10) for d in (2, 9, 16, 23, 30)]


def test_weekly_occurrences_keep_local_time_across_dst_changes() -> None:
    spring = occurrences(MONDAY_10, after=utc(2026, 3, 20), until=utc(2026, 4, 1), tz=BERLIN)
    assert [t.astimezone(UTC) for t in spring] == [utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)]
    autumn = occurrences(MONDAY_10, after=utc(2026, 10, 20), until=utc(2026, 11, 3), tz=BERLIN)
    assert [t.astimezone(UTC) for t in autumn] == [utc(2026, 10, 26, 9), utc(2026, 11, 2, 9)]
    assert all(t.astimezone(BERLIN).time() == time(10) for t in spring + autumn)


def test_occurrence_in_the_skipped_hour_moves_forward() -> None:
    sunday_0230 = WeeklyAt(6, time(2, 30))
    found = occurrences(sunday_0230, after=utc(2026, 3, 28), until=utc(2026, 3, 30), tz=BERLIN)
    assert found == [utc(2026, 3, 29, 1, 30)]
    assert found[0].astimezone(BERLIN).time() == time(3, 30)


def test_occurrence_in_the_repeated_hour_is_the_first_one() -> None:
    sunday_0230 = WeeklyAt(6, time(2, 30))
    found = occurrences(sunday_0230, after=utc(2026, 10, 24), until=utc(2026, 10, 26), tz=BERLIN)
    assert [t.astimezone(UTC) for t in found] == [utc(2026, 10, 25, 0, 30)]


def test_after_is_exclusive_and_until_inclusive() -> None:
    at = utc(2026, 11, 9, 10)
    assert occurrences(MONDAY_10, after=at, until=at + timedelta(days=6), tz=UTC_ZONE) == []
    assert occurrences(MONDAY_10, after=at - timedelta(seconds=1), until=at, tz=UTC_ZONE) == [at]
    assert occurrences(MONDAY_10, after=at, until=at - timedelta(days=30), tz=UTC_ZONE) == []


def test_occurrences_respect_the_limit() -> None:
    found = occurrences(MONDAY_10, after=utc(2020, 1, 1), until=utc(2030, 1, 1), tz=BERLIN, limit=3)
    assert [t.date() for t in found] == [date(2020, 1, 6), date(2020, 1, 13), date(2020, 1, 20)]


def test_monthly_and_quarterly_occurrences() -> None:
    monthly = occurrences(FIRST_9, after=utc(2025, 11, 15), until=utc(2026, 3, 1), tz=BERLIN)
    assert [t.date() for t in monthly] == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    quarterly = occurrences(
        FIRST_9, after=utc(2025, 11, 15), until=utc(2027, 1, 1, 12), tz=BERLIN, quarterly=True
    )
    assert [t.date() for t in quarterly] == [
        date(2026, 1, 1),
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),
    ]
    assert all(t.astimezone(BERLIN).time() == time(9) for t in quarterly)


@pytest.mark.parametrize(
    ("now", "quarterly", "last", "following"),
    [
        (berlin(2026, 11, 1, 9), False, berlin(2026, 11, 1, 9), berlin(2026, 12, 1, 9)),
        (berlin(2026, 11, 1, 8, 59), False, berlin(2026, 10, 1, 9), berlin(2026, 11, 1, 9)),
        (berlin(2026, 11, 15), True, berlin(2026, 10, 1, 9), berlin(2027, 1, 1, 9)),
        (berlin(2026, 1, 1, 9), True, berlin(2026, 1, 1, 9), berlin(2026, 4, 1, 9)),
    ],
)
def test_last_and_next_occurrence(
    now: datetime, quarterly: bool, last: datetime, following: datetime
) -> None:
    assert last_occurrence(FIRST_9, now, BERLIN, quarterly=quarterly) == last
    assert next_occurrence(FIRST_9, now, BERLIN, quarterly=quarterly) == following


def test_last_and_next_weekly_occurrence_from_a_utc_now() -> None:
    # 09:30 UTC on Monday 30 March 2026 is 11:30 in Berlin (summer time): past 10:00 already.
    now = utc(2026, 3, 30, 9, 30)
    assert last_occurrence(MONDAY_10, now, BERLIN) == berlin(2026, 3, 30, 10)
    assert next_occurrence(MONDAY_10, now, BERLIN) == berlin(2026, 4, 6, 10)


def test_a_day_past_28_is_clamped_to_the_month() -> None:
    found = occurrences(
        MonthlyAt(31, time(9)), after=utc(2026, 1, 15), until=utc(2026, 5, 1), tz=BERLIN
    )
    assert [t.date() for t in found] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(MONDAY_10, after=datetime(2026, 1, 1), until=utc(2026, 2, 1), tz=BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        weekly_period(datetime(2026, 1, 5, 10), BERLIN)


@settings(max_examples=200)
@given(
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1)),
    weekday=st.integers(0, 6),
    # Not 01:00-03:59: a weekly time inside a skipped DST hour gives that one week a window an
    # hour short (documented in weekly_period).
    hour=st.sampled_from([0, *range(4, 24)]),
    minute=st.sampled_from([0, 15, 30, 59]),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe"]),
)
def test_weekly_windows_tile_without_gaps(
    start: datetime, weekday: int, hour: int, minute: int, zone: str
) -> None:
    tz = ZoneInfo(zone)
    cadence = WeeklyAt(weekday, time(hour, minute))
    after = start.replace(tzinfo=UTC)
    found = occurrences(cadence, after=after, until=after + timedelta(days=29), tz=tz)
    assert len(found) in (4, 5)
    periods = [weekly_period(t, tz) for t in found]
    for earlier, later in itertools.pairwise(periods):
        assert earlier.end == later.start
        assert earlier.key != later.key
    for t in found:
        assert t.astimezone(tz).weekday() == weekday
        assert t == last_occurrence(cadence, t, tz)
        assert next_occurrence(cadence, t.astimezone(UTC) - timedelta(microseconds=1), tz) == t


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occurrence", "key", "label"),
    [
        (berlin(2026, 11, 23, 10), "2026-W48", "16–22 November 2026"),
        (berlin(2026, 12, 7, 10), "2026-W50", "30 November – 6 December 2026"),
        (berlin(2027, 1, 4, 10), "2027-W01", "28 December 2026 – 3 January 2027"),
        (berlin(2027, 1, 1, 10), "2026-W53", "25–31 December 2026"),
        (berlin(2025, 12, 29, 10), "2026-W01", "22–28 December 2025"),
    ],
)
def test_weekly_period_key_and_label(occurrence: datetime, key: str, label: str) -> None:
    period = weekly_period(occurrence, BERLIN)
    assert (period.kind, period.key, period.label) == ("weekly", key, label)
    assert period.end == period.scheduled_at == occurrence


def test_weekly_window_is_seven_local_days_across_dst() -> None:
    spring = weekly_period(berlin(2026, 3, 30, 10), BERLIN)
    assert spring.start == berlin(2026, 3, 23, 10)
    assert spring.end.astimezone(UTC) - spring.start.astimezone(UTC) == timedelta(hours=167)
    autumn = weekly_period(berlin(2026, 10, 26, 10), BERLIN)
    assert autumn.end.astimezone(UTC) - autumn.start.astimezone(UTC) == timedelta(hours=169)


def test_weekly_period_from_a_utc_occurrence_uses_the_local_date() -> None:
    # Sunday 23:30 UTC is already Monday in Berlin: the Berlin ISO week counts.
    period = weekly_period(utc(2026, 11, 22, 23, 30), BERLIN)
    assert period.key == "2026-W48"
    assert period.scheduled_at.tzinfo == BERLIN


@pytest.mark.parametrize(
    ("occurrence", "key", "label", "start", "end"),
    [
        (
            berlin(2026, 11, 1, 9),
            "2026-10",
            "October 2026",
            utc(2026, 9, 30, 22),
            utc(2026, 10, 31, 23),
        ),
        (
            berlin(2026, 4, 1, 9),
            "2026-03",
            "March 2026",
            utc(2026, 2, 28, 23),
            utc(2026, 3, 31, 22),
        ),
        (
            berlin(2026, 1, 1, 9),
            "2025-12",
            "December 2025",
            utc(2025, 11, 30, 23),
            utc(2025, 12, 31, 23),
        ),
    ],
)
def test_monthly_period_is_the_month_before_midnight_to_midnight(
    occurrence: datetime, key: str, label: str, start: datetime, end: datetime
) -> None:
    period = monthly_period(occurrence, BERLIN)
    assert (period.kind, period.key, period.label) == ("monthly", key, label)
    assert (period.start, period.end) == (start, end)
    assert period.start.astimezone(BERLIN).time() == time(0)
    assert period.scheduled_at == occurrence


def test_monthly_period_in_utc() -> None:
    period = monthly_period(utc(2026, 3, 1, 9), UTC_ZONE)
    assert (period.key, period.start, period.end) == ("2026-02", utc(2026, 2, 1), utc(2026, 3, 1))


@pytest.mark.parametrize(
    ("occurrence", "key", "label", "start", "end"),
    [
        (berlin(2026, 1, 1, 10), "2025-Q4", "Q4 2025", date(2025, 10, 1), date(2026, 1, 1)),
        (berlin(2026, 4, 1, 10), "2026-Q1", "Q1 2026", date(2026, 1, 1), date(2026, 4, 1)),
        (berlin(2026, 7, 1, 10), "2026-Q2", "Q2 2026", date(2026, 4, 1), date(2026, 7, 1)),
        (berlin(2026, 10, 1, 10), "2026-Q3", "Q3 2026", date(2026, 7, 1), date(2026, 10, 1)),
        (berlin(2026, 5, 20, 10), "2026-Q1", "Q1 2026", date(2026, 1, 1), date(2026, 4, 1)),
    ],
)
def test_quarterly_period_is_the_quarter_before(
    occurrence: datetime, key: str, label: str, start: date, end: date
) -> None:
    period = quarterly_period(occurrence, BERLIN)
    assert (period.kind, period.key, period.label) == ("quarterly", key, label)
    assert period.start == datetime.combine(start, time(0), tzinfo=BERLIN)
    assert period.end == datetime.combine(end, time(0), tzinfo=BERLIN)


def test_ritual_period_is_keyed_by_local_date() -> None:
    at = utc(2026, 11, 25, 23, 30)  # already Thursday in Berlin
    period = ritual_period(at, BERLIN)
    assert (period.kind, period.key, period.label) == (
        "ritual",
        "2026-11-26",
        "Thursday 26 November 2026",
    )
    assert period.start == period.end == period.scheduled_at == at


@pytest.mark.parametrize("kind", ["weekly", "monthly", "quarterly", "ritual"])
def test_period_for_dispatches_on_kind(kind: str) -> None:
    period = period_for(kind, berlin(2026, 10, 1, 10), BERLIN)
    assert period.kind == kind


def test_period_for_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown period kind"):
        period_for("daily", berlin(2026, 10, 1, 10), BERLIN)


@pytest.mark.parametrize(
    ("first", "last", "label"),
    [
        (date(2026, 11, 16), date(2026, 11, 22), "16–22 November 2026"),
        (date(2026, 11, 30), date(2026, 12, 6), "30 November – 6 December 2026"),
        (date(2026, 12, 28), date(2027, 1, 3), "28 December 2026 – 3 January 2027"),
        (date(2026, 5, 4), date(2026, 5, 4), "4 May 2026"),
    ],
)
def test_days_label(first: date, last: date, label: str) -> None:
    assert days_label(first, last) == label


@pytest.mark.parametrize(
    ("day", "key", "label"),
    [
        (date(2026, 11, 26), "2026-W48", "Thursday 26 November 2026"),
        (date(2027, 1, 1), "2026-W53", "Friday 1 January 2027"),
        (date(2024, 12, 30), "2025-W01", "Monday 30 December 2024"),
    ],
)
def test_iso_week_key_and_day_label(day: date, key: str, label: str) -> None:
    assert iso_week_key(day) == key
    assert day_label(day) == label


# --------------------------------------------------------------------------------------------
# "Send now"
# --------------------------------------------------------------------------------------------


def test_current_weekly_period_shares_the_key_of_this_weeks_run() -> None:
    now = utc(2026, 11, 25, 12)  # Wednesday
    period = current_period("weekly", MONDAY_10, now, BERLIN)
    assert period.key == "2026-W48" == weekly_period(berlin(2026, 11, 23, 10), BERLIN).key
    assert period.scheduled_at == berlin(2026, 11, 23, 10)
    assert (period.start, period.end) == (now - timedelta(days=7), now)
    assert period.label == "18–24 November 2026"


def test_current_weekly_period_before_this_weeks_run() -> None:
    cadence = WeeklyAt(4, time(17, 0))  # Friday
    period = current_period("weekly", cadence, berlin(2026, 11, 24, 9), BERLIN)
    assert (period.key, period.scheduled_at) == ("2026-W48", berlin(2026, 11, 27, 17))


def test_current_monthly_period_is_the_last_completed_month() -> None:
    now = berlin(2026, 11, 18, 15)
    period = current_period("monthly", FIRST_9, now, BERLIN)
    scheduled = monthly_period(berlin(2026, 11, 1, 9), BERLIN)
    assert period == scheduled
    assert period.key == "2026-10"


def test_current_quarterly_period_is_the_last_completed_quarter() -> None:
    period = current_period("quarterly", FIRST_9, berlin(2026, 2, 10), BERLIN)
    assert (period.key, period.label) == ("2025-Q4", "Q4 2025")
    assert period.scheduled_at == berlin(2026, 1, 1, 9)


def test_current_ritual_period_is_today() -> None:
    thursday_18 = WeeklyAt(3, time(18))
    on_the_day = current_period("ritual", thursday_18, berlin(2026, 11, 26, 9), BERLIN)
    assert (on_the_day.key, on_the_day.scheduled_at) == ("2026-11-26", berlin(2026, 11, 26, 18))
    other_day = current_period("ritual", thursday_18, berlin(2026, 11, 27, 9), BERLIN)
    assert (other_day.key, other_day.scheduled_at) == ("2026-11-27", berlin(2026, 11, 27, 9))


def test_current_period_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown period kind"):
        current_period("yearly", FIRST_9, berlin(2026, 2, 10), BERLIN)


# --------------------------------------------------------------------------------------------
# Catching up
# --------------------------------------------------------------------------------------------

GRACE = timedelta(days=3)


def keys(result: CatchUp) -> tuple[str | None, bool, tuple[str, ...]]:
    post = None if result.post is None else result.post.key
    return post, result.delayed, tuple(period.key for period in result.skip)


@pytest.mark.parametrize(
    ("now", "since", "expected"),
    [
        # Right on time, and within the on-time tolerance.
        (berlin(2026, 11, 23, 10), berlin(2026, 11, 16, 10), ("2026-W48", False, ())),
        (berlin(2026, 11, 23, 10, 5), berlin(2026, 11, 16, 10), ("2026-W48", False, ())),
        # Late but within the grace window: posted, flagged delayed.
        (berlin(2026, 11, 23, 10, 6), berlin(2026, 11, 16, 10), ("2026-W48", True, ())),
        (berlin(2026, 11, 26, 10), berlin(2026, 11, 16, 10), ("2026-W48", True, ())),
        # Past the grace window: skipped, nothing posted.
        (berlin(2026, 11, 26, 10, 1), berlin(2026, 11, 16, 10), (None, False, ("2026-W48",))),
        # Nothing new since the last run.
        (berlin(2026, 11, 22, 10), berlin(2026, 11, 16, 10), (None, False, ())),
        (berlin(2026, 11, 23, 10), berlin(2026, 11, 23, 10), (None, False, ())),
        # Three missed: only the latest is posted, the older ones are skipped.
        (
            berlin(2026, 11, 24, 8),
            berlin(2026, 11, 2, 10),
            ("2026-W48", True, ("2026-W46", "2026-W47")),
        ),
        # Three missed and the latest too old: all skipped.
        (
            berlin(2026, 11, 29, 8),
            berlin(2026, 11, 2, 10),
            (None, False, ("2026-W46", "2026-W47", "2026-W48")),
        ),
        # Never run: only the latest occurrence is considered.
        (berlin(2026, 11, 24, 8), None, ("2026-W48", True, ())),
        (berlin(2026, 11, 29, 8), None, (None, False, ("2026-W48",))),
    ],
)
def test_catch_up_weekly(
    now: datetime, since: datetime | None, expected: tuple[str | None, bool, tuple[str, ...]]
) -> None:
    result = catch_up("weekly", MONDAY_10, now=now, tz=BERLIN, grace=GRACE, since=since)
    assert keys(result) == expected


def test_catch_up_quarterly_after_new_year() -> None:
    result = catch_up(
        "quarterly",
        MonthlyAt(1, time(10)),
        now=berlin(2026, 1, 2, 8),
        tz=BERLIN,
        grace=GRACE,
        since=berlin(2025, 6, 1),
    )
    assert keys(result) == ("2025-Q4", True, ("2025-Q2", "2025-Q3"))


def test_catch_up_monthly_posts_the_latest_month() -> None:
    result = catch_up(
        "monthly", FIRST_9, now=berlin(2026, 11, 1, 9, 1), tz=BERLIN, grace=GRACE, since=None
    )
    assert isinstance(result.post, Period)
    assert (result.post.key, result.post.label, result.delayed) == (
        "2026-10",
        "October 2026",
        False,
    )


def test_catch_up_with_zero_grace_posts_only_on_time_runs() -> None:
    on_time = catch_up(
        "ritual",
        WeeklyAt(3, time(18)),
        now=berlin(2026, 11, 26, 18),
        tz=BERLIN,
        grace=timedelta(0),
        since=None,
    )
    assert keys(on_time) == ("2026-11-26", False, ())
    late = catch_up(
        "ritual",
        WeeklyAt(3, time(18)),
        now=berlin(2026, 11, 26, 18, 0, 1),
        tz=BERLIN,
        grace=timedelta(0),
        since=None,
    )
    assert keys(late) == (None, False, ("2026-11-26",))


def test_catch_up_looks_back_a_bounded_number_of_periods() -> None:
    result = catch_up(
        "weekly",
        MONDAY_10,
        now=berlin(2026, 11, 23, 10),
        tz=BERLIN,
        grace=GRACE,
        since=berlin(2000, 1, 1),
    )
    assert result.post is not None
    assert len(result.skip) == CATCH_UP_LOOKBACK - 1
    assert result.skip[-1].key == "2026-W47"
    assert [p.scheduled_at for p in result.skip] == sorted(p.scheduled_at for p in result.skip)


def test_catch_up_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown period kind"):
        catch_up("daily", MONDAY_10, now=berlin(2026, 1, 1), tz=BERLIN, grace=GRACE, since=None)
