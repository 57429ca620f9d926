"""When scheduled posts are due, and which stretch of time each one covers.

Every scheduled post (weekly recognition, monthly newsletter, quarterly awards, rituals) is keyed
by a :class:`Period`; the key is what ``scheduled_posts`` claims, so one period is posted once no
matter how often the bot restarts. Times are local wall-clock times in the community's time zone:
"Monday 10:00" stays 10:00 across daylight-saving changes. A local time that does not exist (the
hour skipped in spring) resolves to the same instant shifted forward; an ambiguous one (the hour
repeated in autumn) to its first occurrence.

Pure: ``now`` is always passed in. All comparisons are made in UTC, because Python compares two
datetimes that share a tzinfo by wall-clock time, which is wrong around the autumn change.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.config import MonthlyAt, WeeklyAt

__all__ = [
    "KINDS",
    "Cadence",
    "CatchUp",
    "Period",
    "catch_up",
    "current_period",
    "last_occurrence",
    "monthly_period",
    "next_occurrence",
    "occurrences",
    "period_for",
    "quarterly_period",
    "ritual_period",
    "weekly_period",
]

Cadence = WeeklyAt | MonthlyAt

KINDS: Final = ("weekly", "monthly", "quarterly", "ritual")

#: At most this many occurrences are looked at when catching up after a long downtime.
CATCH_UP_LOOKBACK: Final = 60

_QUARTER_MONTHS: Final = (1, 4, 7, 10)
_WEEKDAYS: Final = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_MONTH_NAMES: Final = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Period:
    """One post's slot: ``key`` is unique per ``kind``; the window covered is ``[start, end)``."""

    kind: str
    key: str
    label: str
    start: datetime
    end: datetime
    #: The occurrence at which the post is due (in the community's time zone).
    scheduled_at: datetime


# --------------------------------------------------------------------------------------------
# Occurrences
# --------------------------------------------------------------------------------------------


def occurrences(
    cadence: Cadence,
    *,
    after: datetime,
    until: datetime,
    tz: ZoneInfo,
    quarterly: bool = False,
    limit: int = 1000,
) -> list[datetime]:
    """Every occurrence ``t`` with ``after < t <= until``, oldest first, at most ``limit``.

    ``quarterly=True`` keeps a monthly cadence to January, April, July and October.
    """
    _require_aware(after, until)
    lower, upper = after.astimezone(UTC), until.astimezone(UTC)
    found: list[datetime] = []
    if upper <= lower or limit <= 0:
        return found
    # From the local date of `after`: that day may still hold an occurrence after it.
    for occurrence in _walk(cadence, tz, quarterly, _local_date(after, tz), forward=True):
        instant = occurrence.astimezone(UTC)
        if instant <= lower:
            continue
        if instant > upper or len(found) >= limit:
            break
        found.append(occurrence)
    return found


def last_occurrence(
    cadence: Cadence, now: datetime, tz: ZoneInfo, *, quarterly: bool = False
) -> datetime:
    """The latest occurrence at or before ``now``."""
    _require_aware(now)
    instant = now.astimezone(UTC)
    start = _local_date(now, tz) + timedelta(days=1)
    for occurrence in _walk(cadence, tz, quarterly, start, forward=False):
        if occurrence.astimezone(UTC) <= instant:
            return occurrence
    raise AssertionError("unreachable: a cadence always has an earlier occurrence")


def next_occurrence(
    cadence: Cadence, now: datetime, tz: ZoneInfo, *, quarterly: bool = False
) -> datetime:
    """The earliest occurrence strictly after ``now``."""
    _require_aware(now)
    instant = now.astimezone(UTC)
    for occurrence in _walk(cadence, tz, quarterly, _local_date(now, tz), forward=True):
        if occurrence.astimezone(UTC) > instant:
            return occurrence
    raise AssertionError("unreachable: a cadence always has a later occurrence")


def _walk(
    cadence: Cadence, tz: ZoneInfo, quarterly: bool, start: date, *, forward: bool
) -> Iterator[datetime]:
    """Occurrences on local dates from ``start`` on (or back), in order; endless."""
    if isinstance(cadence, WeeklyAt):
        if forward:
            day = start + timedelta(days=(cadence.weekday - start.weekday()) % 7)
        else:
            day = start - timedelta(days=(start.weekday() - cadence.weekday) % 7)
        step = timedelta(days=7 if forward else -7)
        while True:
            yield _at(day, cadence.time, tz)
            day += step
    else:
        year, month = start.year, start.month
        while True:
            if not quarterly or month in _QUARTER_MONTHS:
                day = date(year, month, _clamp_day(year, month, cadence.day))
                if (day >= start) if forward else (day <= start):
                    yield _at(day, cadence.time, tz)
            year, month = _add_months(year, month, 1 if forward else -1)


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Local ``day`` at wall-clock ``at`` as a real instant (gap -> forward, overlap -> first)."""
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def _clamp_day(year: int, month: int, day: int) -> int:
    return max(1, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


def weekly_period(occurrence: datetime, tz: ZoneInfo) -> Period:
    """The week before ``occurrence``; keyed by the ISO week of the occurrence's local date.

    The window is seven local days back (same wall-clock time), so consecutive weekly windows
    meet exactly even across a DST change. (Only a weekly time inside the hour skipped in spring
    gives that one week a window an hour short: the occurrence moved, its predecessor did not.)
    """
    _require_aware(occurrence)
    local = occurrence.astimezone(tz)
    start = _shift_local(local, days=-7, tz=tz)
    return Period(
        kind="weekly",
        key=iso_week_key(local.date()),
        label=days_label(start.date(), local.date() - timedelta(days=1)),
        start=start,
        end=local,
        scheduled_at=local,
    )


def monthly_period(occurrence: datetime, tz: ZoneInfo) -> Period:
    """The calendar month before the occurrence's local month, midnight to midnight locally."""
    _require_aware(occurrence)
    local = occurrence.astimezone(tz)
    year, month = _add_months(local.year, local.month, -1)
    return Period(
        kind="monthly",
        key=f"{year:04d}-{month:02d}",
        label=f"{_MONTH_NAMES[month]} {year}",
        start=_midnight(date(year, month, 1), tz),
        end=_midnight(date(local.year, local.month, 1), tz),
        scheduled_at=local,
    )


def quarterly_period(occurrence: datetime, tz: ZoneInfo) -> Period:
    """The calendar quarter before the occurrence's quarter (a January run covers Q4 before)."""
    _require_aware(occurrence)
    local = occurrence.astimezone(tz)
    this_start = ((local.month - 1) // 3) * 3 + 1
    year, month = _add_months(local.year, this_start, -3)
    quarter = (month - 1) // 3 + 1
    return Period(
        kind="quarterly",
        key=f"{year:04d}-Q{quarter}",
        label=f"Q{quarter} {year}",
        start=_midnight(date(year, month, 1), tz),
        end=_midnight(date(local.year, this_start, 1), tz),
        scheduled_at=local,
    )


def ritual_period(occurrence: datetime, tz: ZoneInfo) -> Period:
    """A ritual prompt covers no window: it is keyed by the local date it is posted on."""
    _require_aware(occurrence)
    local = occurrence.astimezone(tz)
    return Period(
        kind="ritual",
        key=local.date().isoformat(),
        label=day_label(local.date()),
        start=local,
        end=local,
        scheduled_at=local,
    )


def period_for(kind: str, occurrence: datetime, tz: ZoneInfo) -> Period:
    """The period of ``kind`` that the scheduled run at ``occurrence`` posts."""
    if kind == "weekly":
        return weekly_period(occurrence, tz)
    if kind == "monthly":
        return monthly_period(occurrence, tz)
    if kind == "quarterly":
        return quarterly_period(occurrence, tz)
    if kind == "ritual":
        return ritual_period(occurrence, tz)
    raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(KINDS)}")


def current_period(kind: str, cadence: Cadence, now: datetime, tz: ZoneInfo) -> Period:
    """The period a moderator's "send now" targets.

    It carries the same key as the scheduled run that covers the same stretch, so a manual send
    and a scheduled run can never both post one period.
    """
    _require_aware(now)
    local = now.astimezone(tz)
    today = local.date()
    if kind == "weekly":
        monday = today - timedelta(days=today.weekday())
        scheduled = _first_between(cadence, tz, monday, monday + timedelta(days=7)) or local
        start = _shift_local(local, days=-7, tz=tz)
        return Period(
            kind="weekly",
            key=iso_week_key(today),
            label=days_label(start.date(), today - timedelta(days=1)),
            start=start,
            end=local,
            scheduled_at=scheduled,
        )
    if kind == "monthly":
        first = date(today.year, today.month, 1)
        next_first = date(*_add_months(today.year, today.month, 1), 1)
        scheduled = _first_between(cadence, tz, first, next_first) or local
        return replace_scheduled(monthly_period(local, tz), scheduled)
    if kind == "quarterly":
        first = date(today.year, ((today.month - 1) // 3) * 3 + 1, 1)
        next_first = date(*_add_months(first.year, first.month, 3), 1)
        scheduled = _first_between(cadence, tz, first, next_first, quarterly=True) or local
        return replace_scheduled(quarterly_period(local, tz), scheduled)
    if kind == "ritual":
        scheduled = _first_between(cadence, tz, today, today + timedelta(days=1)) or local
        return replace_scheduled(ritual_period(local, tz), scheduled)
    raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(KINDS)}")


def replace_scheduled(period: Period, scheduled_at: datetime) -> Period:
    """``period`` due at ``scheduled_at`` instead (same key and window)."""
    return Period(
        kind=period.kind,
        key=period.key,
        label=period.label,
        start=period.start,
        end=period.end,
        scheduled_at=scheduled_at,
    )


def _first_between(
    cadence: Cadence, tz: ZoneInfo, first: date, stop: date, *, quarterly: bool = False
) -> datetime | None:
    """The first occurrence whose local date is in ``[first, stop)``, if any."""
    for occurrence in _walk(cadence, tz, quarterly, first, forward=True):
        return occurrence if occurrence.date() < stop else None
    return None  # pragma: no cover - _walk never ends


# --------------------------------------------------------------------------------------------
# Catching up after downtime
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatchUp:
    """What to do about the periods that fell due while the bot was not looking."""

    #: The latest due period, to post now; None when nothing is due or it is past the grace.
    post: Period | None
    #: Posting later than the on-time tolerance after ``post.scheduled_at``.
    delayed: bool
    #: Due periods not to post (too old, or superseded by a later one), oldest first.
    skip: tuple[Period, ...]


def catch_up(
    kind: str,
    cadence: Cadence,
    *,
    now: datetime,
    tz: ZoneInfo,
    grace: timedelta,
    since: datetime | None,
    on_time_tolerance: timedelta = timedelta(minutes=5),
) -> CatchUp:
    """Which of the occurrences in ``(since, now]`` to post, and which to skip.

    Only the latest due period can be posted, and only within ``grace`` of its scheduled time:
    after a long outage the community gets one current post, never a burst of stale ones. With
    ``since=None`` (never run before) only the latest occurrence is considered. At most
    :data:`CATCH_UP_LOOKBACK` occurrences are looked at; older ones are ignored.
    """
    _require_aware(now)
    quarterly = kind == "quarterly"
    if kind not in KINDS:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(KINDS)}")
    instant = now.astimezone(UTC)
    floor = since.astimezone(UTC) if since is not None else None
    due: list[datetime] = []
    start = _local_date(now, tz) + timedelta(days=1)
    for occurrence in _walk(cadence, tz, quarterly, start, forward=False):
        at = occurrence.astimezone(UTC)
        if at > instant:
            continue
        if floor is not None and at <= floor:
            break
        due.append(occurrence)
        if floor is None or len(due) >= CATCH_UP_LOOKBACK:
            break
    if not due:
        return CatchUp(post=None, delayed=False, skip=())
    due.reverse()
    periods = [period_for(kind, occurrence, tz) for occurrence in due]
    latest = periods[-1]
    late_by = instant - latest.scheduled_at.astimezone(UTC)
    if late_by > grace:
        return CatchUp(post=None, delayed=False, skip=tuple(periods))
    return CatchUp(post=latest, delayed=late_by > on_time_tolerance, skip=tuple(periods[:-1]))


# --------------------------------------------------------------------------------------------
# Keys and labels
# --------------------------------------------------------------------------------------------


def iso_week_key(day: date) -> str:
    """``2026-W48``: the ISO year and week (the ISO year differs from the calendar one at edges)."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def days_label(first: date, last: date) -> str:
    """``16–22 November 2026``, ``30 November – 6 December 2026``, or across a new year."""
    if last < first:
        last = first
    if first == last:
        return f"{first.day} {_MONTH_NAMES[first.month]} {first.year}"
    if first.year != last.year:
        return (
            f"{first.day} {_MONTH_NAMES[first.month]} {first.year} – "
            f"{last.day} {_MONTH_NAMES[last.month]} {last.year}"
        )
    if first.month != last.month:
        return (
            f"{first.day} {_MONTH_NAMES[first.month]} – "
            f"{last.day} {_MONTH_NAMES[last.month]} {last.year}"
        )
    return f"{first.day}–{last.day} {_MONTH_NAMES[last.month]} {last.year}"


def day_label(day: date) -> str:
    """``Thursday 26 November 2026``."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTH_NAMES[day.month]} {day.year}"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return _at(day, time(0, 0), tz)


def _shift_local(local: datetime, *, days: int, tz: ZoneInfo) -> datetime:
    """The same wall-clock time ``days`` local days away (not ``days * 24`` hours)."""
    return _at(local.date() + timedelta(days=days), local.timetz().replace(tzinfo=None), tz)


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("periods need timezone-aware datetimes")
