"""The community's posting rhythm from the config: which posts exist, when, and where.

A :class:`Rhythm` names one recurring post. ``kind`` is what ``scheduled_posts`` records (one
row per ``(kind, period)``); ``period_kind`` says which stretch of time the post covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS, MonthlyAt, Settings, WeeklyAt
from bot.core.periods import Cadence, Period, period_for

WEEKLY: Final = "weekly"
QUARTERLY: Final = "quarterly"
NEWSLETTER: Final = "newsletter"
RITUAL_PREFIX: Final = "ritual:"

_WEEK_KEY: Final = re.compile(r"(\d{4})-W(\d{2})")
_MONTH_KEY: Final = re.compile(r"(\d{4})-(\d{2})")
_QUARTER_KEY: Final = re.compile(r"(\d{4})-Q([1-4])")
_DAY_KEY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Rhythm:
    kind: str
    period_kind: str
    cadence: Cadence
    grace: timedelta
    channel_id: int
    title: str

    @property
    def quarterly(self) -> bool:
        return self.period_kind == "quarterly"

    @property
    def ritual_key(self) -> str | None:
        return (
            self.kind.removeprefix(RITUAL_PREFIX) if self.kind.startswith(RITUAL_PREFIX) else None
        )


def rhythms(settings: Settings) -> list[Rhythm]:
    """Every scheduled post this config asks for."""
    schedule, channels = settings.schedule, settings.channels
    grace = timedelta(days=schedule.catch_up_grace_days)
    found = [
        Rhythm(
            WEEKLY,
            "weekly",
            schedule.weekly_recognition,
            grace,
            channels.announcements,
            "weekly recognition",
        ),
        Rhythm(
            NEWSLETTER,
            "monthly",
            schedule.newsletter,
            grace,
            channels.newsletter,
            "monthly newsletter",
        ),
        Rhythm(
            QUARTERLY,
            "quarterly",
            schedule.quarterly_awards,
            grace,
            channels.announcements,
            "quarterly awards",
        ),
    ]
    for ritual in settings.rituals:
        found.append(
            Rhythm(
                RITUAL_PREFIX + ritual.key,
                "ritual",
                ritual.when,
                timedelta(hours=ritual.grace_hours),
                ritual.channel if ritual.channel is not None else channels.announcements,
                f"ritual '{ritual.key}'",
            )
        )
    return found


def cron_fields(rhythm: Rhythm) -> dict[str, str | int]:
    """APScheduler ``cron`` trigger fields for the rhythm's occurrences."""
    cadence = rhythm.cadence
    fields: dict[str, str | int] = {"hour": cadence.time.hour, "minute": cadence.time.minute}
    if isinstance(cadence, WeeklyAt):
        fields["day_of_week"] = WEEKDAYS[cadence.weekday]
    else:
        fields["day"] = cadence.day
        if rhythm.quarterly:
            fields["month"] = "1,4,7,10"
    return fields


def _local(day: date, cadence: Cadence, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, cadence.time, tzinfo=tz)


def period_for_key(rhythm: Rhythm, key: str, tz: ZoneInfo) -> Period | None:
    """The period a recorded key stands for (to finish a post a crash interrupted)."""
    cadence = rhythm.cadence
    try:
        if rhythm.period_kind == "weekly" and isinstance(cadence, WeeklyAt):
            match = _WEEK_KEY.fullmatch(key)
            if match is None:
                return None
            day = date.fromisocalendar(int(match[1]), int(match[2]), cadence.weekday + 1)
            return period_for("weekly", _local(day, cadence, tz), tz)
        if rhythm.period_kind == "monthly" and isinstance(cadence, MonthlyAt):
            match = _MONTH_KEY.fullmatch(key)
            if match is None:
                return None
            year, month = int(match[1]), int(match[2]) + 1
            year, month = (year + 1, 1) if month == 13 else (year, month)
            return period_for("monthly", _local(date(year, month, cadence.day), cadence, tz), tz)
        if rhythm.period_kind == "quarterly" and isinstance(cadence, MonthlyAt):
            match = _QUARTER_KEY.fullmatch(key)
            if match is None:
                return None
            year, quarter = int(match[1]), int(match[2]) + 1
            year, quarter = (year + 1, 1) if quarter == 5 else (year, quarter)
            day = date(year, 3 * quarter - 2, cadence.day)
            return period_for("quarterly", _local(day, cadence, tz), tz)
        if rhythm.period_kind == "ritual" and _DAY_KEY.fullmatch(key):
            return period_for("ritual", _local(date.fromisoformat(key), cadence, tz), tz)
    except ValueError:
        return None
    return None
