"""When scheduled posts happen: "mon 10:00" once a week, "1 09:00" once a month.

The config file writes times as short text; these types parse them into small frozen values
the scheduler computes with, and print back the same text (``str``) for summaries and dumps.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Final

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from bot.config.fields import DIGITS
from bot.config.problems import problem, show

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS: Final = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_TIME: Final = re.compile(r"([0-9]{1,2}):([0-9]{2})")


@dataclass(frozen=True)
class WeeklyAt:
    """Once a week: ``weekday`` 0 = Monday … 6 = Sunday (like ``date.weekday()``), at ``time``."""

    weekday: int
    time: dt.time

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.time:%H:%M}"


@dataclass(frozen=True)
class MonthlyAt:
    """Once a month: on day ``day`` (1-28, so it exists in every month) at ``time``."""

    day: int
    time: dt.time

    def __str__(self) -> str:
        return f"{self.day} {self.time:%H:%M}"


def _parse_time(text: str, *, shape: str, got: object) -> dt.time:
    match = _TIME.fullmatch(text)
    if match is None:
        raise problem(f'must look like "{shape}" (got {show(got)})')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise problem(f"the time must be between 00:00 and 23:59 (got {show(got)})")
    return dt.time(hour, minute)


_DAILY_SHAPE: Final = "HH:MM"
_WEEKLY_SHAPE: Final = "<mon|tue|wed|thu|fri|sat|sun> HH:MM"
_MONTHLY_SHAPE: Final = "<1-28> HH:MM"


def _parse_weekly(value: object) -> WeeklyAt:
    if isinstance(value, WeeklyAt):
        return value
    if not isinstance(value, str):
        raise problem(f'must be text like "mon 10:00" (got {show(value)})')
    parts = value.strip().lower().split()
    if len(parts) != 2:
        raise problem(f'must look like "{_WEEKLY_SHAPE}" (got {show(value)})')
    day, at = parts
    if day in WEEKDAYS:
        weekday = WEEKDAYS.index(day)
    elif day in _FULL_WEEKDAYS:
        weekday = _FULL_WEEKDAYS.index(day)
    else:
        raise problem(
            f"the day must be one of mon, tue, wed, thu, fri, sat, sun (got {show(value)})"
        )
    return WeeklyAt(weekday, _parse_time(at, shape=_WEEKLY_SHAPE, got=value))


def _parse_monthly(value: object) -> MonthlyAt:
    if isinstance(value, MonthlyAt):
        return value
    if not isinstance(value, str):
        raise problem(f'must be text like "1 09:00" (got {show(value)})')
    parts = value.strip().split()
    if len(parts) != 2 or not DIGITS.fullmatch(parts[0]):
        raise problem(f'must look like "{_MONTHLY_SHAPE}" (got {show(value)})')
    day = int(parts[0][-3:]) if len(parts[0].lstrip("0")) <= 3 else 0  # ``int`` stops at 4,300
    if not 1 <= day <= 28:
        raise problem(
            f"the day of the month must be between 1 and 28, so it exists in every month "
            f"(got {show(value)})"
        )
    return MonthlyAt(day, _parse_time(parts[1], shape=_MONTHLY_SHAPE, got=value))


def _parse_daily(value: object) -> dt.time:
    """A daily job's local time: "03:00"."""
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str):
        raise problem(f'must be text like "03:00" (got {show(value)})')
    return _parse_time(value.strip(), shape=_DAILY_SHAPE, got=value)


def _parse_cadence(value: object) -> WeeklyAt | MonthlyAt:
    """A ritual's "when": weekly ("thu 17:00") or monthly ("15 18:00")."""
    if isinstance(value, WeeklyAt | MonthlyAt):
        return value
    if not isinstance(value, str):
        raise problem(f'must be text like "thu 17:00" or "15 18:00" (got {show(value)})')
    first = value.strip().split()[:1]
    if first and DIGITS.fullmatch(first[0]):
        return _parse_monthly(value)
    return _parse_weekly(value)


Daily = Annotated[
    dt.time,
    PlainValidator(_parse_daily),
    PlainSerializer(lambda at: f"{at:%H:%M}", return_type=str),
    WithJsonSchema({"type": "string", "examples": ["03:00"]}),
]
Weekly = Annotated[
    WeeklyAt,
    PlainValidator(_parse_weekly),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["mon 10:00"]}),
]
Monthly = Annotated[
    MonthlyAt,
    PlainValidator(_parse_monthly),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["1 09:00"]}),
]
Cadence = Annotated[
    WeeklyAt | MonthlyAt,
    PlainValidator(_parse_cadence),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["thu 17:00", "15 18:00"]}),
]
