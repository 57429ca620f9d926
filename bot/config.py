"""Flywheel configuration: a TOML file, validated into frozen pydantic models.

``load_config(path)`` reads the file, validates every section, reads the bot token from the
environment and either returns a :class:`Config` or raises one :class:`ConfigError` that lists
*every* problem it found, each with a dotted key path (``tiers[1].min_counts.foo``), a plain
description and an example of a valid value.

This module is pure: it imports nothing from discord and touches no network or database.
The bot token never appears in any ``repr``/``str`` here, in error text, or in :func:`summarize`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    Strict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "POINT_KINDS",
    "ActivityConfig",
    "BuddiesConfig",
    "ChannelsConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "CountMap",
    "DatabaseConfig",
    "DiscordConfig",
    "GroupsConfig",
    "LadderConfig",
    "LogLevel",
    "LoggingConfig",
    "MonthlyAt",
    "NewsletterConfig",
    "NpsConfig",
    "PointKind",
    "PointsConfig",
    "PrivacyConfig",
    "ProgramConfig",
    "RecognitionConfig",
    "RitualConfig",
    "RolesConfig",
    "ScheduleConfig",
    "Settings",
    "TierConfig",
    "WeeklyAt",
    "load_config",
    "mask_database_url",
    "parse_config",
    "summarize",
]

# --------------------------------------------------------------------------------------------
# Problems and the error that carries them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the configuration."""

    key: str
    """Dotted key path, e.g. ``activity.cooldown_seconds`` or ``tiers[1].key``."""
    message: str
    """What is wrong, in plain words."""
    example: str
    """An example of a valid value, e.g. ``cooldown_seconds = 60``."""

    def __str__(self) -> str:
        return f"{self.key}: {self.message}. Example: {self.example}"


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` lists everything that is wrong."""

    problems: tuple[ConfigProblem, ...]
    source: Path | None

    def __init__(self, problems: Sequence[ConfigProblem], source: Path | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)

    def __str__(self) -> str:
        return self._text()


# Custom pydantic error types, turned into ConfigProblems by the loader.
_PROBLEM: Final = "config_problem"
_SNOWFLAKE: Final = "snowflake"


def _problem(message: str, *, field: str | None = None, cross: bool = False) -> PydanticCustomError:
    """A validation error whose text is ``message``; ``field`` extends the key path."""
    context: dict[str, Any] = {"message": message}
    if field is not None:
        context["field"] = field
    if cross:
        context["cross"] = True
    return PydanticCustomError(_PROBLEM, "{message}", context)


# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------

_DIGITS: Final = re.compile(r"[0-9]+")
_MAX_SNOWFLAKE: Final = 2**64 - 1


def _check_snowflake(value: object) -> int:
    """A Discord ID: a positive int, or a string of digits (some people quote them)."""
    if isinstance(value, bool):
        raise PydanticCustomError(_SNOWFLAKE, "must be a Discord ID", {"reason": "type"})
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise PydanticCustomError(_SNOWFLAKE, "must be a Discord ID", {"reason": "type"})
    if number == 0:
        raise PydanticCustomError(_SNOWFLAKE, "must be a Discord ID, not 0", {"reason": "zero"})
    if number < 0:
        raise PydanticCustomError(
            _SNOWFLAKE, "must be a positive Discord ID", {"reason": "negative"}
        )
    if number > _MAX_SNOWFLAKE:
        raise PydanticCustomError(_SNOWFLAKE, "is too large for a Discord ID", {"reason": "range"})
    return number


def _lenient_snowflake(value: object) -> int | None:
    """The snowflake ``value`` stands for, or None when it is not a valid one."""
    try:
        return _check_snowflake(value)
    except PydanticCustomError:
        return None


Snowflake = Annotated[int, BeforeValidator(_check_snowflake)]
"""A Discord ID (positive int; a quoted string of digits is accepted too)."""

StrictText = Annotated[str, Strict()]
StrictFlag = Annotated[bool, Strict()]
NonNegInt = Annotated[int, Strict(), Field(ge=0)]


def _non_blank(value: str) -> str:
    if not value.strip():
        raise _problem("must not be empty")
    return value


def _url_checker(schemes: tuple[str, ...], *, strip_slash: bool) -> Callable[[str], str]:
    def check(value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme.lower() not in schemes or not parts.netloc:
            wanted = " or ".join(f"{scheme}://" for scheme in schemes)
            raise _problem(f"must be a URL starting with {wanted} (got {_show(value)})")
        cleaned = value.strip()
        return cleaned.rstrip("/") if strip_slash else cleaned

    return check


HttpBase = Annotated[
    str, Strict(), AfterValidator(_url_checker(("http", "https"), strip_slash=True))
]
HttpLink = Annotated[
    str, Strict(), AfterValidator(_url_checker(("http", "https"), strip_slash=False))
]
WsUrl = Annotated[str, Strict(), AfterValidator(_url_checker(("ws", "wss"), strip_slash=False))]

_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_env_name(value: str) -> str:
    # Never echo the value: people sometimes paste the token itself here.
    if _ENV_NAME.fullmatch(value):
        return value
    if len(value) > 40 and "." in value:
        raise _problem(
            "must be the NAME of an environment variable, and this looks like a bot token — "
            "put the token in the environment variable instead and keep the name here"
        )
    raise _problem("must be the name of an environment variable: letters, digits and _ only")


EnvName = Annotated[str, Strict(), AfterValidator(_check_env_name)]

ASYNC_DATABASE_SCHEMES: Final = ("sqlite+aiosqlite", "postgresql+asyncpg")
_URL_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")


def _check_database_url(value: str) -> str:
    # Never echo the whole URL: it may hold a password.
    match = _URL_SCHEME.match(value.strip())
    if match is None:
        raise _problem(
            "must be a database URL such as sqlite+aiosqlite:///flywheel.db or "
            "postgresql+asyncpg://user:password@host/flywheel"
        )
    scheme = match.group(1).lower()
    if scheme in ASYNC_DATABASE_SCHEMES:
        return value.strip()
    if scheme.startswith("sqlite"):
        hint = f" — write 'sqlite+aiosqlite://' instead of '{scheme}://'"
    elif scheme.startswith("postgres"):
        hint = f" — write 'postgresql+asyncpg://' instead of '{scheme}://'"
    else:
        hint = ""
    raise _problem(
        f"must use an async driver, sqlite+aiosqlite or postgresql+asyncpg (got '{scheme}'){hint}"
    )


DatabaseUrl = Annotated[str, Strict(), AfterValidator(_check_database_url)]


def _check_timezone(value: str) -> str:
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise _problem(
            f"unknown time zone {_show(value)}{hint}; use an IANA name like 'Europe/Berlin'"
        ) from None
    return name


TimezoneName = Annotated[str, Strict(), AfterValidator(_check_timezone)]

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _upper(value: object) -> object:
    if isinstance(value, str) and value.strip().upper() in get_args(LogLevel):
        return value.strip().upper()
    return value


def _check_path(value: object) -> object:
    if isinstance(value, Path):
        return value
    if isinstance(value, str):
        if not value.strip():
            raise _problem("must not be empty; leave the key out to log to the console only")
        return Path(value.strip())
    raise _problem(f"must be a file path in quotes (got {_show(value)})")


FilePath = Annotated[Path, BeforeValidator(_check_path)]

# Contribution kinds. Keep PointKind, POINT_KINDS and PointsConfig's fields in step.
PointKind = Literal[
    "message_day",
    "answer",
    "thanks_received",
    "event_hosted",
    "event_attended",
    "content",
    "referral",
    "mentoring",
]
POINT_KINDS: Final[tuple[PointKind, ...]] = get_args(PointKind)


class CountMap(Mapping[str, int]):
    """An immutable, hashable ``kind -> count`` mapping (``TierConfig.min_counts``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, int] | None = None) -> None:
        self._data: dict[str, int] = dict(data or {})

    def __getitem__(self, key: str) -> int:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


def _counts_schema(_source: Any, handler: Any) -> Any:
    # Validate as {PointKind: int >= 0} so an unknown kind is reported at its own key.
    return handler(Mapping[PointKind, NonNegInt])


MinCounts = Annotated[
    Mapping[str, int],
    GetPydanticSchema(_counts_schema),
    AfterValidator(CountMap),
    PlainSerializer(dict, return_type=dict[str, int]),
]

# --------------------------------------------------------------------------------------------
# Schedule times
# --------------------------------------------------------------------------------------------

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
        raise _problem(f'must look like "{shape}" (got {_show(got)})')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise _problem(f"the time must be between 00:00 and 23:59 (got {_show(got)})")
    return dt.time(hour, minute)


_WEEKLY_SHAPE: Final = "<mon|tue|wed|thu|fri|sat|sun> HH:MM"
_MONTHLY_SHAPE: Final = "<1-28> HH:MM"


def _parse_weekly(value: object) -> WeeklyAt:
    if isinstance(value, WeeklyAt):
        return value
    if not isinstance(value, str):
        raise _problem(f'must be text like "mon 10:00" (got {_show(value)})')
    parts = value.strip().lower().split()
    if len(parts) != 2:
        raise _problem(f'must look like "{_WEEKLY_SHAPE}" (got {_show(value)})')
    day, at = parts
    if day in WEEKDAYS:
        weekday = WEEKDAYS.index(day)
    elif day in _FULL_WEEKDAYS:
        weekday = _FULL_WEEKDAYS.index(day)
    else:
        raise _problem(
            f"the day must be one of mon, tue, wed, thu, fri, sat, sun (got {_show(value)})"
        )
    return WeeklyAt(weekday, _parse_time(at, shape=_WEEKLY_SHAPE, got=value))


def _parse_monthly(value: object) -> MonthlyAt:
    if isinstance(value, MonthlyAt):
        return value
    if not isinstance(value, str):
        raise _problem(f'must be text like "1 09:00" (got {_show(value)})')
    parts = value.strip().split()
    if len(parts) != 2 or not _DIGITS.fullmatch(parts[0]):
        raise _problem(f'must look like "{_MONTHLY_SHAPE}" (got {_show(value)})')
    day = int(parts[0])
    if not 1 <= day <= 28:
        raise _problem(
            f"the day of the month must be between 1 and 28, so it exists in every month "
            f"(got {_show(value)})"
        )
    return MonthlyAt(day, _parse_time(parts[1], shape=_MONTHLY_SHAPE, got=value))


def _parse_cadence(value: object) -> WeeklyAt | MonthlyAt:
    """A ritual's "when": weekly ("thu 17:00") or monthly ("15 18:00")."""
    if isinstance(value, WeeklyAt | MonthlyAt):
        return value
    if not isinstance(value, str):
        raise _problem(f'must be text like "thu 17:00" or "15 18:00" (got {_show(value)})')
    first = value.strip().split()[:1]
    if first and _DIGITS.fullmatch(first[0]):
        return _parse_monthly(value)
    return _parse_weekly(value)


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

# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class DiscordConfig(_Section):
    guild_id: Snowflake
    token_env: EnvName = "DISCORD_TOKEN"
    api_base: HttpBase = "https://discord.com/api/v10"
    gateway_url: WsUrl | None = None
    sync_commands: StrictFlag = True


class DatabaseConfig(_Section):
    url: DatabaseUrl = "sqlite+aiosqlite:///flywheel.db"
    auto_migrate: StrictFlag = True
    echo: StrictFlag = False

    @property
    def url_masked(self) -> str:
        """``url`` with any password replaced by ``***``."""
        return mask_database_url(self.url)


class LoggingConfig(_Section):
    level: Annotated[LogLevel, BeforeValidator(_upper)] = "INFO"
    file: FilePath | None = None


class ScheduleConfig(_Section):
    timezone: TimezoneName = "UTC"
    catch_up_grace_days: NonNegInt = 3
    weekly_recognition: Weekly = WeeklyAt(0, dt.time(10, 0))
    newsletter: Monthly = MonthlyAt(1, dt.time(9, 0))
    quarterly_awards: Monthly = MonthlyAt(1, dt.time(10, 0))
    """Day of the first month of each quarter (January, April, July, October)."""

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class ChannelsConfig(_Section):
    announcements: Snowflake
    newsletter: Snowflake
    """Defaults to ``announcements`` when left out."""
    review: Snowflake
    mod_log: Snowflake
    help_forums: tuple[Snowflake, ...] = ()
    help_channels: tuple[Snowflake, ...] = ()
    """Text channels whose threads are help questions (forums are configured above)."""

    @model_validator(mode="before")
    @classmethod
    def _newsletter_defaults_to_announcements(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "newsletter" not in data:
            announcements = _lenient_snowflake(data.get("announcements"))
            # When announcements is missing or invalid it is reported on its own and the model
            # is never built; 1 is only a stand-in so newsletter is not reported as well.
            return {**data, "newsletter": announcements if announcements is not None else 1}
        return data


class RolesConfig(_Section):
    moderators: tuple[Snowflake, ...] = ()
    """Moderator roles; members with Manage Server always count as moderators too."""


class ActivityConfig(_Section):
    cooldown_seconds: NonNegInt = 60
    min_length: NonNegInt = 10
    ignored_channels: tuple[Snowflake, ...] = ()
    ignored_categories: tuple[Snowflake, ...] = ()
    uncount_deleted_within_seconds: NonNegInt = 300
    flush_interval_seconds: Annotated[float, Strict(), Field(gt=0)] = 0.5


class PointsConfig(_Section):
    message_day: NonNegInt = 1
    answer: NonNegInt = 10
    thanks_received: NonNegInt = 2
    event_hosted: NonNegInt = 15
    event_attended: NonNegInt = 3
    content: NonNegInt = 10
    referral: NonNegInt = 5
    mentoring: NonNegInt = 5

    def for_kind(self, kind: str) -> int:
        """Points for one contribution of ``kind``; KeyError for an unknown kind."""
        if kind not in POINT_KINDS:
            raise KeyError(f"unknown contribution kind {kind!r}; kinds: {', '.join(POINT_KINDS)}")
        value: int = getattr(self, kind)
        return value


PositiveInt = Annotated[int, Strict(), Field(ge=1)]


class ThanksConfig(_Section):
    per_pair_per_day: PositiveInt = 1
    daily_cap: PositiveInt = 5
    recent_post_hours: PositiveInt = 72
    reason_max_length: Annotated[int, Strict(), Field(ge=1, le=1000)] = 200


class AnswersConfig(_Section):
    solved_tags: tuple[Annotated[str, Strict(), AfterValidator(_non_blank)], ...] = (
        "Solved",
        "Answered",
        "Resolved",
    )
    """Forum tag names (any case) applied when an answer is accepted; the first one found wins."""


class EventsConfig(_Section):
    min_attendees: NonNegInt = 3
    min_minutes: Annotated[int, Strict(), Field(ge=1, le=1440)] = 10


class ReferralsConfig(_Section):
    min_days: NonNegInt = 7
    min_active_days: NonNegInt = 1
    grace_days: PositiveInt = 30

    @model_validator(mode="after")
    def _grace_covers_min_days(self) -> Self:
        if self.grace_days < self.min_days:
            raise _problem(
                f"must be at least min_days ({self.min_days}); got {self.grace_days}",
                field="grace_days",
            )
        return self


TIER_KEY_PATTERN: Final = r"^[a-z][a-z0-9_]{0,31}$"


class TierConfig(_Section):
    key: Annotated[str, Strict(), Field(pattern=TIER_KEY_PATTERN)]
    name: Annotated[str, Strict(), AfterValidator(_non_blank)]
    role_id: Snowflake
    window_days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 90
    min_points: NonNegInt = 0
    min_counts: MinCounts = Field(default_factory=CountMap)
    min_active_weeks: NonNegInt = 0
    min_tenure_days: NonNegInt = 0
    nomination_required: StrictFlag = False
    seats: Annotated[int, Strict(), Field(ge=1)] | None = None
    benefits: StrictText = ""
    commitment: StrictText = ""
    welcome_message: StrictText = ""
    resources: tuple[HttpLink, ...] = ()

    @property
    def window_weeks(self) -> int:
        """How many (possibly partial) weeks the window spans."""
        return math.ceil(self.window_days / 7)

    @model_validator(mode="after")
    def _active_weeks_fit_window(self) -> Self:
        if self.min_active_weeks > self.window_weeks:
            raise _problem(
                f"must be at most {self.window_weeks}, the number of weeks in the "
                f"{self.window_days}-day window (got {self.min_active_weeks})",
                field="min_active_weeks",
            )
        return self


class RecognitionConfig(_Section):
    top_per_category: Annotated[int, Strict(), Field(ge=1, le=10)] = 3
    spotlight_lookback_weeks: PositiveInt = 4
    """Strong contributors for an automatic spotlight are judged over this many weeks."""
    spotlight_cooldown_weeks: NonNegInt = 8
    """Nobody is spotlighted twice within this many weeks."""
    spotlight_min_points: NonNegInt = 10


class NewsletterConfig(_Section):
    top_contributors: Annotated[int, Strict(), Field(ge=1, le=25)] = 5
    upcoming_days: PositiveInt = 30
    chart: StrictFlag = True
    dm_subscribers: StrictFlag = True
    dm_pace_seconds: Annotated[float, Strict(), Field(ge=0, le=60)] = 1.0


Percent = Annotated[int, Strict(), Field(ge=0, le=100)]


class ProgramConfig(_Section):
    """Targets the program health report measures against (from the ambassador playbook)."""

    content_per_member_min: Annotated[float, Strict(), Field(ge=0)] = 2.0
    content_per_member_max: Annotated[float, Strict(), Field(ge=0)] = 4.0
    """Content pieces per tier member per month: the target range."""
    nps_target: Annotated[int, Strict(), Field(ge=-100, le=100)] = 70
    retention_target_percent: Percent = 60
    """Share of tier members still active six months after their promotion."""
    slipping_days: PositiveInt = 14
    """A previously active contributor silent this many days is listed as slipping away."""

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Self:
        if self.content_per_member_max < self.content_per_member_min:
            raise _problem(
                f"must be at least content_per_member_min ({self.content_per_member_min}); "
                f"got {self.content_per_member_max}",
                field="content_per_member_max",
            )
        return self


class NpsConfig(_Section):
    enabled: StrictFlag = True
    schedule: Monthly = MonthlyAt(15, dt.time(16, 0))
    """Day of the first month of each quarter on which tier members get the survey by DM."""
    min_responses: Annotated[int, Strict(), Field(ge=5)] = 5
    """Results are shown only with at least this many answers (never fewer than 5)."""
    dm_pace_seconds: Annotated[float, Strict(), Field(ge=0, le=60)] = 1.0


class BuddiesConfig(_Section):
    enabled: StrictFlag = False
    max_active: PositiveInt = 3
    """No volunteer gets more than this many newcomers at once."""
    credit_after_days: PositiveInt = 30
    """The buddy earns `mentoring` when the newcomer is still here and active after this."""
    intro_channel: Snowflake | None = None
    """Text channel for private introduction threads; leave it out to introduce by DM."""


class GroupsConfig(_Section):
    create_channels: StrictFlag = False
    category: Snowflake | None = None
    """Category for new group channels (when create_channels is true)."""
    inactive_days: PositiveInt = 60
    """Leaders of a group with no credited event for this long get a nudge."""


class PrivacyConfig(_Section):
    retention_days: NonNegInt = 0
    """Purge the data of members who left more than this many days ago (0 keeps it)."""


RITUAL_KEY_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,23}$"


class RitualConfig(_Section):
    key: Annotated[str, Strict(), Field(pattern=RITUAL_KEY_PATTERN)]
    when: Cadence
    title: Annotated[str, Strict(), AfterValidator(_non_blank), Field(max_length=256)]
    text: Annotated[str, Strict(), AfterValidator(_non_blank), Field(max_length=4000)]
    channel: Snowflake | None = None
    """Defaults to the announcements channel."""
    thread_name: Annotated[str, Strict(), Field(max_length=100)] = ""
    """Open a thread on the post with this name ("{date}" is replaced); empty: no thread."""
    grace_hours: Annotated[int, Strict(), Field(ge=0, le=24 * 28)] = 12
    """A ritual missed while the bot was down is still posted within this many hours."""


class LadderConfig(_Section):
    stack_roles: StrictFlag = False
    low_water_ratio: Annotated[float, Strict(), Field(gt=0, le=1)] = 0.9
    demotion_grace_days: NonNegInt = 30
    min_days_after_promotion: NonNegInt = 30
    at_risk_notice_days: NonNegInt = 7


def _ritual_conflicts(keys: Sequence[str | None]) -> list[ConfigProblem]:
    """Duplicate ritual keys: each ritual's posts are recorded under its key."""
    seen: dict[str, int] = {}
    problems: list[ConfigProblem] = []
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in seen:
            problems.append(
                ConfigProblem(
                    f"rituals[{index}].key",
                    f"duplicate ritual key '{key}' (also rituals[{seen[key]}])",
                    _EXAMPLES["rituals.key"],
                )
            )
        else:
            seen[key] = index
    return problems


def _tier_conflicts(
    tiers: Sequence[tuple[str | None, int | None]], guild_id: int | None
) -> list[ConfigProblem]:
    """Duplicate tier keys / role ids (``None`` entries are invalid and skipped)."""
    problems: list[ConfigProblem] = []
    keys: dict[str, int] = {}
    roles: dict[int, int] = {}
    for index, (key, role_id) in enumerate(tiers):
        if key is not None:
            if key in keys:
                problems.append(
                    ConfigProblem(
                        f"tiers[{index}].key",
                        f"duplicate tier key '{key}' (also tiers[{keys[key]}])",
                        _EXAMPLES["tiers.key"],
                    )
                )
            else:
                keys[key] = index
        if role_id is not None:
            if guild_id is not None and role_id == guild_id:
                problems.append(
                    ConfigProblem(
                        f"tiers[{index}].role_id",
                        "is the @everyone role (it equals discord.guild_id); "
                        "create a separate role for each tier",
                        _EXAMPLES["tiers.role_id"],
                    )
                )
            elif role_id in roles:
                problems.append(
                    ConfigProblem(
                        f"tiers[{index}].role_id",
                        f"duplicate tier role {role_id} (also tiers[{roles[role_id]}]); "
                        "each tier needs its own role",
                        _EXAMPLES["tiers.role_id"],
                    )
                )
            else:
                roles[role_id] = index
    return problems


class Settings(_Section):
    """Everything in the config file (the token is not here; see :class:`Config`)."""

    discord: DiscordConfig
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    channels: ChannelsConfig
    roles: RolesConfig = Field(default_factory=RolesConfig)
    activity: ActivityConfig = Field(default_factory=ActivityConfig)
    points: PointsConfig = Field(default_factory=PointsConfig)
    thanks: ThanksConfig = Field(default_factory=ThanksConfig)
    answers: AnswersConfig = Field(default_factory=AnswersConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    referrals: ReferralsConfig = Field(default_factory=ReferralsConfig)
    tiers: tuple[TierConfig, ...] = ()
    """Lowest tier first; the order is the ladder."""
    ladder: LadderConfig = Field(default_factory=LadderConfig)
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    newsletter: NewsletterConfig = Field(default_factory=NewsletterConfig)
    rituals: tuple[RitualConfig, ...] = ()
    program: ProgramConfig = Field(default_factory=ProgramConfig)
    nps: NpsConfig = Field(default_factory=NpsConfig)
    buddies: BuddiesConfig = Field(default_factory=BuddiesConfig)
    groups: GroupsConfig = Field(default_factory=GroupsConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)

    @model_validator(mode="before")
    @classmethod
    def _required_sections_report_their_keys(cls, data: Any) -> Any:
        # A missing [discord] or [channels] reports each required key, not just the section.
        if isinstance(data, Mapping):
            return {"discord": {}, "channels": {}, **data}
        return data

    @model_validator(mode="after")
    def _tiers_are_distinct(self) -> Self:
        pairs = [(tier.key, tier.role_id) for tier in self.tiers]
        conflicts = _tier_conflicts(pairs, self.discord.guild_id)
        if conflicts:
            raise _problem("; ".join(str(problem) for problem in conflicts), cross=True)
        return self

    @model_validator(mode="after")
    def _ritual_keys_are_distinct(self) -> Self:
        conflicts = _ritual_conflicts([ritual.key for ritual in self.rituals])
        if conflicts:
            raise _problem("; ".join(str(problem) for problem in conflicts), cross=True)
        return self

    @property
    def moderator_role_ids(self) -> frozenset[int]:
        """Roles whose members are moderators (Manage Server also counts, checked elsewhere)."""
        return frozenset(self.roles.moderators)

    @property
    def managed_role_ids(self) -> frozenset[int]:
        """The tier roles, which the bot adds and removes."""
        return frozenset(tier.role_id for tier in self.tiers)

    @property
    def tier_keys(self) -> tuple[str, ...]:
        """Tier keys, lowest first."""
        return tuple(tier.key for tier in self.tiers)

    def tier(self, key: str) -> TierConfig:
        """The tier with ``key``; KeyError if there is none."""
        for tier in self.tiers:
            if tier.key == key:
                return tier
        raise KeyError(f"no tier {key!r}; tiers: {', '.join(self.tier_keys) or '(none)'}")

    def tier_index(self, key: str) -> int:
        """Position of tier ``key`` on the ladder (0 = lowest); KeyError if there is none."""
        return self.tier_keys.index(self.tier(key).key)


@dataclass(frozen=True)
class Config:
    """Validated settings plus the bot token (held as a SecretStr, never shown)."""

    settings: Settings
    token: SecretStr | None
    source: Path


# --------------------------------------------------------------------------------------------
# Examples and wording for problems
# --------------------------------------------------------------------------------------------

_ID: Final = "123456789012345678"

_EXAMPLES: Final[dict[str, str]] = {
    "discord": f"[discord] guild_id = {_ID}",
    "discord.guild_id": f"guild_id = {_ID}",
    "discord.token_env": 'token_env = "DISCORD_TOKEN"',
    "discord.api_base": 'api_base = "https://discord.com/api/v10"',
    "discord.gateway_url": 'gateway_url = "wss://gateway.discord.gg"',
    "discord.sync_commands": "sync_commands = true",
    "database": '[database] url = "sqlite+aiosqlite:///flywheel.db"',
    "database.url": 'url = "sqlite+aiosqlite:///flywheel.db"',
    "database.auto_migrate": "auto_migrate = true",
    "database.echo": "echo = false",
    "logging": '[logging] level = "INFO"',
    "logging.level": 'level = "INFO"',
    "logging.file": 'file = "flywheel.log"',
    "schedule": '[schedule] timezone = "UTC"',
    "schedule.timezone": 'timezone = "Europe/Berlin"',
    "schedule.catch_up_grace_days": "catch_up_grace_days = 3",
    "schedule.weekly_recognition": 'weekly_recognition = "mon 10:00"',
    "schedule.newsletter": 'newsletter = "1 09:00"',
    "schedule.quarterly_awards": 'quarterly_awards = "1 10:00"',
    "channels": f"[channels] announcements = {_ID}",
    "channels.announcements": f"announcements = {_ID}",
    "channels.newsletter": f"newsletter = {_ID}",
    "channels.review": f"review = {_ID}",
    "channels.mod_log": f"mod_log = {_ID}",
    "channels.help_forums": f"help_forums = [{_ID}]",
    "channels.help_channels": f"help_channels = [{_ID}]",
    "roles": f"[roles] moderators = [{_ID}]",
    "roles.moderators": f"moderators = [{_ID}]",
    "activity": "[activity] cooldown_seconds = 60",
    "activity.cooldown_seconds": "cooldown_seconds = 60",
    "activity.min_length": "min_length = 10",
    "activity.ignored_channels": f"ignored_channels = [{_ID}]",
    "activity.ignored_categories": f"ignored_categories = [{_ID}]",
    "activity.uncount_deleted_within_seconds": "uncount_deleted_within_seconds = 300",
    "activity.flush_interval_seconds": "flush_interval_seconds = 0.5",
    "points": "[points] answer = 10",
    "points.message_day": "message_day = 1",
    "points.answer": "answer = 10",
    "points.thanks_received": "thanks_received = 2",
    "points.event_hosted": "event_hosted = 15",
    "points.event_attended": "event_attended = 3",
    "points.content": "content = 10",
    "points.referral": "referral = 5",
    "points.mentoring": "mentoring = 5",
    "thanks": "[thanks] daily_cap = 5",
    "thanks.per_pair_per_day": "per_pair_per_day = 1",
    "thanks.daily_cap": "daily_cap = 5",
    "thanks.recent_post_hours": "recent_post_hours = 72",
    "thanks.reason_max_length": "reason_max_length = 200",
    "answers": '[answers] solved_tags = ["Solved"]',
    "answers.solved_tags": 'solved_tags = ["Solved", "Answered"]',
    "events": "[events] min_attendees = 3",
    "events.min_attendees": "min_attendees = 3",
    "events.min_minutes": "min_minutes = 10",
    "referrals": "[referrals] min_days = 7",
    "referrals.min_days": "min_days = 7",
    "referrals.min_active_days": "min_active_days = 1",
    "referrals.grace_days": "grace_days = 30",
    "tiers": f'[[tiers]] key = "champion", name = "Champion", role_id = {_ID}',
    "tiers.key": 'key = "champion"',
    "tiers.name": 'name = "Champion"',
    "tiers.role_id": f"role_id = {_ID}",
    "tiers.window_days": "window_days = 90",
    "tiers.min_points": "min_points = 100",
    "tiers.min_counts": "min_counts = { answer = 5, event_hosted = 1 }",
    "tiers.min_active_weeks": "min_active_weeks = 6",
    "tiers.min_tenure_days": "min_tenure_days = 30",
    "tiers.nomination_required": "nomination_required = false",
    "tiers.seats": "seats = 10",
    "tiers.benefits": 'benefits = "Early access to releases"',
    "tiers.commitment": 'commitment = "Help in the forums a few times a month"',
    "tiers.welcome_message": 'welcome_message = "Welcome to the Champions!"',
    "tiers.resources": 'resources = ["https://example.org/champions"]',
    "ladder": "[ladder] stack_roles = false",
    "ladder.stack_roles": "stack_roles = false",
    "ladder.low_water_ratio": "low_water_ratio = 0.9",
    "ladder.demotion_grace_days": "demotion_grace_days = 30",
    "ladder.min_days_after_promotion": "min_days_after_promotion = 30",
    "ladder.at_risk_notice_days": "at_risk_notice_days = 7",
    "recognition": "[recognition] top_per_category = 3",
    "recognition.top_per_category": "top_per_category = 3",
    "recognition.spotlight_lookback_weeks": "spotlight_lookback_weeks = 4",
    "recognition.spotlight_cooldown_weeks": "spotlight_cooldown_weeks = 8",
    "recognition.spotlight_min_points": "spotlight_min_points = 10",
    "newsletter": "[newsletter] top_contributors = 5",
    "newsletter.top_contributors": "top_contributors = 5",
    "newsletter.upcoming_days": "upcoming_days = 30",
    "newsletter.chart": "chart = true",
    "newsletter.dm_subscribers": "dm_subscribers = true",
    "newsletter.dm_pace_seconds": "dm_pace_seconds = 1.0",
    "rituals": '[[rituals]] key = "weekly-qa", when = "thu 17:00", title = "Weekly Q&A"',
    "rituals.key": 'key = "weekly-qa"',
    "rituals.when": 'when = "thu 17:00"',
    "rituals.title": 'title = "Weekly Q&A"',
    "rituals.text": 'text = "Ask anything about the product in the thread below."',
    "rituals.channel": f"channel = {_ID}",
    "rituals.thread_name": 'thread_name = "Q&A {date}"',
    "rituals.grace_hours": "grace_hours = 12",
    "program": "[program] nps_target = 70",
    "program.content_per_member_min": "content_per_member_min = 2.0",
    "program.content_per_member_max": "content_per_member_max = 4.0",
    "program.nps_target": "nps_target = 70",
    "program.retention_target_percent": "retention_target_percent = 60",
    "program.slipping_days": "slipping_days = 14",
    "nps": "[nps] enabled = true",
    "nps.enabled": "enabled = true",
    "nps.schedule": 'schedule = "15 16:00"',
    "nps.min_responses": "min_responses = 5",
    "nps.dm_pace_seconds": "dm_pace_seconds = 1.0",
    "buddies": "[buddies] enabled = false",
    "buddies.enabled": "enabled = true",
    "buddies.max_active": "max_active = 3",
    "buddies.credit_after_days": "credit_after_days = 30",
    "buddies.intro_channel": f"intro_channel = {_ID}",
    "groups": "[groups] inactive_days = 60",
    "groups.create_channels": "create_channels = false",
    "groups.category": f"category = {_ID}",
    "groups.inactive_days": "inactive_days = 60",
    "privacy": "[privacy] retention_days = 0",
    "privacy.retention_days": "retention_days = 365",
}
_FALLBACK_EXAMPLE: Final = "see config.example.toml, which documents every key"

# Keys whose values are never repeated back in messages.
_NO_ECHO: Final = frozenset({"discord.token_env", "database.url"})


def _show(value: object) -> str:
    """A short TOML-ish rendering of a value for 'got …' remarks."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    return type(value).__name__


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _format_key(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "config"


def _plain(parts: Sequence[str | int]) -> tuple[str, ...]:
    return tuple(part for part in parts if isinstance(part, str))


def _example_for(parts: Sequence[str | int]) -> str:
    names = _plain(parts)
    for end in range(len(names), 0, -1):
        example = _EXAMPLES.get(".".join(names[:end]))
        if example is not None:
            return example
    return _FALLBACK_EXAMPLE


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is None:
        return None
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(parts: Sequence[str | int]) -> type[BaseModel] | None:
    """The model that validates the table at ``parts`` (None if it is not a model)."""
    model: type[BaseModel] = Settings
    for part in parts:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        found = _model_in(field.annotation) if field is not None else None
        if found is None:
            return None
        model = found
    return model


def _where_key_lives() -> dict[str, list[str]]:
    homes: dict[str, list[str]] = {}
    for section, field in Settings.model_fields.items():
        model = _model_in(field.annotation)
        if model is None:
            continue
        label = "[[tiers]]" if section == "tiers" else f"[{section}]"
        for name in model.model_fields:
            homes.setdefault(name, []).append(label)
    return homes


_KEY_HOMES: Final = _where_key_lives()


def _id_hint(names: tuple[str, ...]) -> tuple[str, str] | None:
    """(what the ID is, how to copy it) for a snowflake key; None for other keys."""
    dev = "enable Developer Mode"
    path = ".".join(names)
    if path == "discord.guild_id":
        return "your server's ID", f"{dev}, right-click the server, Copy Server ID"
    if path in ("roles.moderators", "tiers.role_id"):
        return (
            "a role ID",
            f"{dev}, open Server Settings → Roles, right-click the role, Copy Role ID",
        )
    if path == "activity.ignored_categories":
        return "a category ID", f"{dev}, right-click the category, Copy Category ID"
    if path == "channels.help_forums":
        return "a forum channel ID", f"{dev}, right-click the forum channel, Copy Channel ID"
    if path.startswith("channels.") or path == "activity.ignored_channels":
        return "a channel ID", f"{dev}, right-click the channel, Copy Channel ID"
    return None


def _unknown_key(parts: Sequence[str | int], value: object) -> tuple[str, str]:
    """Message and example for a key no model accepts."""
    *parent, name = parts
    names = _plain(parent)
    top = not names
    word = "unknown section" if top and isinstance(value, Mapping) else "unknown key"
    if names == ("discord",) and str(name).lower() == "token":
        return (
            "unknown key: keep the bot token out of this file — put it in the environment "
            "variable named by token_env (DISCORD_TOKEN unless you changed it)",
            _EXAMPLES["discord.token_env"],
        )
    model = _model_at(parent)
    allowed = list(model.model_fields) if model is not None else []
    close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
    if close:
        return f"{word} (did you mean '{close[0]}'?)", _example_for([*parent, close[0]])
    homes = _KEY_HOMES.get(str(name), [])
    if homes and not top:
        return f"{word}: '{name}' belongs in {' or '.join(homes)}", _example_for(parent)
    if top and homes:
        return (
            f"{word}: '{name}' belongs in {' or '.join(homes)} — put it below that header",
            _FALLBACK_EXAMPLE,
        )
    return f"{word}; allowed here: {', '.join(allowed)}", _example_for(parent)


_TYPE_WORDS: Final[dict[str, str]] = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be text in quotes",
    "bool_type": "must be true or false (without quotes)",
    "bool_parsing": "must be true or false (without quotes)",
    "list_type": "must be a list in square brackets",
    "tuple_type": "must be a list in square brackets",
    "set_type": "must be a list in square brackets",
    "dict_type": "must be a table",
    "mapping_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dataclass_type": "must be a table",
    "path_type": "must be a file path in quotes",
}


def _message(error: Mapping[str, Any], parts: list[str | int], is_mapping_key: bool) -> str:
    kind: str = error["type"]
    context: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    names = _plain(parts)
    echo = ".".join(names) not in _NO_ECHO
    got = f" (got {_show(value)})" if echo else ""

    if kind == _PROBLEM:
        return str(context["message"])
    if kind == _SNOWFLAKE:
        what, how = _id_hint(names) or (
            "a Discord ID",
            "enable Developer Mode, right-click it, Copy ID",
        )
        reason = context.get("reason")
        if reason == "zero":
            return f"must be {what} — {how}"
        if reason == "negative":
            return f"must be {what}, a positive whole number{got} — {how}"
        if reason == "range":
            return f"is too large to be a Discord ID{got}"
        return f"must be {what}, a whole number like {_ID}{got} — {how}"
    if kind == "missing":
        id_hint = _id_hint(names)
        if id_hint is not None:
            return f"is required: {id_hint[0]} — {id_hint[1]}"
        return "is required"
    if kind == "literal_error" and is_mapping_key:
        close = difflib.get_close_matches(str(value), POINT_KINDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown contribution kind {_show(value)}{hint}; kinds: {', '.join(POINT_KINDS)}"
    if kind == "literal_error":
        expected = str(context.get("expected", "?")).replace("'", "")
        return f"must be one of {expected}{got}"
    if kind == "value_error":
        return str(context.get("error", error.get("msg", "is not valid")))
    if kind in _TYPE_WORDS:
        words = _TYPE_WORDS[kind]
        if kind in ("model_type", "dict_type", "model_attributes_type") and len(parts) == 1:
            words = f"must be a section: write [{parts[0]}] on a line of its own"
        elif kind == "model_type" and names == ("tiers",):
            words = "must be a table: write each tier under its own [[tiers]] header"
        elif kind == "tuple_type" and names == ("tiers",):
            words = "must be an array of tables: write each tier under its own [[tiers]] header"
        if isinstance(value, bool) and kind.startswith(("int", "float")):
            return f"{words}, not {_show(value)}"
        return f"{words}{got}"
    if kind == "greater_than_equal":
        return f"must be {_number(context['ge'])} or more{got}"
    if kind == "greater_than":
        return f"must be more than {_number(context['gt'])}{got}"
    if kind == "less_than_equal":
        return f"must be {_number(context['le'])} or less{got}"
    if kind == "less_than":
        return f"must be less than {_number(context['lt'])}{got}"
    if kind == "string_pattern_mismatch":
        if names[-1:] == ("key",):
            return (
                "must be a short lowercase name: a letter, then letters, digits or _ "
                f"(at most 32 characters){got}"
            )
        return f"must match the pattern {context.get('pattern')}{got}"
    if kind == "string_too_short":
        return "must not be empty"
    msg = str(error.get("msg", "is not valid"))
    return (msg[:1].lower() + msg[1:]) + got


def _problems_from(exc: ValidationError) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for error in exc.errors(include_url=False):
        context = error.get("ctx") or {}
        if error["type"] == _PROBLEM and context.get("cross"):
            continue  # reported by the _raw_*_conflicts checks, one problem per entry
        parts: list[str | int] = list(error["loc"])
        if error["type"] == _PROBLEM and context.get("field"):
            parts.append(str(context["field"]))
        is_mapping_key = bool(parts) and parts[-1] == "[key]"
        if is_mapping_key:
            parts.pop()
        if error["type"] == "extra_forbidden":
            message, example = _unknown_key(parts, error.get("input"))
        else:
            message, example = _message(error, parts, is_mapping_key), _example_for(parts)
        problems.append(ConfigProblem(_format_key(parts), message, example))
    return problems


def _raw_tier_conflicts(data: Mapping[str, Any]) -> list[ConfigProblem]:
    """Tier cross-checks on the raw data, so they are reported alongside every other problem."""
    tiers = data.get("tiers")
    if not isinstance(tiers, list | tuple):
        return []
    pairs: list[tuple[str | None, int | None]] = []
    for tier in tiers:
        if not isinstance(tier, Mapping):
            pairs.append((None, None))
            continue
        key = tier.get("key")
        valid_key = key if isinstance(key, str) and re.match(TIER_KEY_PATTERN, key) else None
        pairs.append((valid_key, _lenient_snowflake(tier.get("role_id"))))
    discord = data.get("discord")
    guild_id = _lenient_snowflake(discord.get("guild_id")) if isinstance(discord, Mapping) else None
    return _tier_conflicts(pairs, guild_id)


def _raw_ritual_conflicts(data: Mapping[str, Any]) -> list[ConfigProblem]:
    rituals = data.get("rituals")
    if not isinstance(rituals, list | tuple):
        return []
    keys = [
        ritual.get("key")
        if isinstance(ritual, Mapping)
        and isinstance(ritual.get("key"), str)
        and re.match(RITUAL_KEY_PATTERN, ritual["key"])
        else None
        for ritual in rituals
    ]
    return _ritual_conflicts(keys)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _token_env_name(data: Mapping[str, Any], settings: Settings | None) -> str | None:
    """The env var holding the token, or None when token_env itself is invalid (reported)."""
    if settings is not None:
        return settings.discord.token_env
    default: str = DiscordConfig.model_fields["token_env"].default
    discord = data.get("discord")
    if not isinstance(discord, Mapping) or "token_env" not in discord:
        return default
    name = discord["token_env"]
    return name if isinstance(name, str) and _ENV_NAME.fullmatch(name) else None


def _dedupe(problems: Sequence[ConfigProblem]) -> list[ConfigProblem]:
    seen: set[tuple[str, str]] = set()
    unique: list[ConfigProblem] = []
    for problem in problems:
        marker = (problem.key, problem.message)
        if marker not in seen:
            seen.add(marker)
            unique.append(problem)
    return unique


def parse_config(
    data: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    require_token: bool = True,
    source: Path = Path("<memory>"),
) -> Config:
    """Validate already-parsed TOML ``data``; raise ConfigError listing every problem."""
    environ: Mapping[str, str] = os.environ if env is None else env
    problems: list[ConfigProblem] = []
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(dict(data))
    except ValidationError as exc:
        problems.extend(_problems_from(exc))
    problems.extend(_raw_tier_conflicts(data))
    problems.extend(_raw_ritual_conflicts(data))

    token: SecretStr | None = None
    env_name = _token_env_name(data, settings)
    if env_name is not None:
        value = environ.get(env_name)
        if value is not None and value.strip():
            token = SecretStr(value.strip())
        elif require_token:
            state = "it is not set" if value is None else "it is set but blank"
            problems.append(
                ConfigProblem(
                    "discord.token_env",
                    f"set the environment variable {env_name} to your bot token ({state})",
                    f"export {env_name}=<your bot token>",
                )
            )

    if problems:
        raise ConfigError(_dedupe(problems), source)
    assert settings is not None
    return Config(settings=settings, token=token, source=source)


_TOML_POSITION: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END: Final = re.compile(r"\s*\(at end of document\)\s*$")


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> ConfigProblem:
    text = str(exc)
    position = _TOML_POSITION.search(text)
    if position is not None:
        what = text[: position.start()]
        where = f"on line {position.group(1)}, column {position.group(2)}"
    elif _TOML_END.search(text):
        what = _TOML_END.sub("", text)
        where = "at the end of the file"
    else:
        what, where = text, "somewhere in the file"
    what = what[:1].lower() + what[1:]
    return ConfigProblem(
        str(path),
        f"TOML syntax error {where}: {what}",
        'key = "text in double quotes", number = 60, flag = true, ids = [123456789012345678]',
    )


def load_config(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    require_token: bool = True,
) -> Config:
    """Read, parse and validate the TOML file at ``path``; raise ConfigError on any problem."""
    source = Path(path)
    copy_example = "copy config.example.toml to config.toml and fill in your IDs"
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(str(source), "config file not found", copy_example)], source
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            [ConfigProblem(str(source), "is a directory, not a config file", copy_example)],
            source,
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            [ConfigProblem(str(source), f"cannot read the config file ({reason})", copy_example)],
            source,
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    str(source),
                    f"is not UTF-8 text (bad byte at offset {exc.start})",
                    "save the file as UTF-8",
                )
            ],
            source,
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_toml_problem(source, exc)], source) from None
    return parse_config(data, env=env, require_token=require_token, source=source)


# --------------------------------------------------------------------------------------------
# Summary for `check-config`
# --------------------------------------------------------------------------------------------


def mask_database_url(url: str) -> str:
    """``url`` with the password (user info and ``password=`` parameters) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, tail = rest.rpartition("@")
        user, colon, _password = credentials.partition(":")
        rest = f"{user}:***@{tail}" if colon else f"{user}@{tail}"
    masked = f"{scheme}{sep}{rest}"
    return re.sub(r"(?i)((?:password|passwd|pwd)=)[^&;]*", r"\1***", masked)


def _ids(values: Sequence[int]) -> str:
    return ", ".join(str(value) for value in values) if values else "none"


def _tier_requirements(tier: TierConfig) -> str:
    needs: list[str] = []
    if tier.min_points:
        needs.append(f"{tier.min_points} points")
    needs.extend(f"{count} × {kind}" for kind, count in tier.min_counts.items() if count)
    if tier.min_active_weeks:
        needs.append(f"active in {tier.min_active_weeks} weeks")
    text = f"in the last {tier.window_days} days: " + (", ".join(needs) or "nothing")
    extras: list[str] = []
    if tier.min_tenure_days:
        extras.append(f"member for {tier.min_tenure_days}+ days")
    if tier.nomination_required:
        extras.append("nomination required")
    extras.append(f"seats: {tier.seats if tier.seats is not None else 'unlimited'}")
    return f"{text}; " + "; ".join(extras)


def summarize(config: Config) -> str:
    """A human summary of ``config`` for ``check-config``. Never includes the token."""
    s = config.settings
    d, ch, sch, act, lad = s.discord, s.channels, s.schedule, s.activity, s.ladder
    token_state = "set (hidden)" if config.token is not None else "NOT SET"
    newsletter = f"{ch.newsletter}" + (
        " (same as announcements)" if ch.newsletter == ch.announcements else ""
    )
    quarter = sch.quarterly_awards
    lines = [
        f"Config file:   {config.source}",
        f"Guild:         {d.guild_id}",
        f"Token:         {token_state} (environment variable {d.token_env})",
        f"Discord API:   {d.api_base}; gateway {d.gateway_url or 'Discord default'}; "
        f"sync commands {'on' if d.sync_commands else 'off'}",
        f"Database:      {s.database.url_masked} "
        f"(auto-migrate {'on' if s.database.auto_migrate else 'off'}"
        f"{', echo SQL' if s.database.echo else ''})",
        f"Logging:       {s.logging.level}" + (f" to {s.logging.file}" if s.logging.file else ""),
        f"Timezone:      {sch.timezone}",
        f"Schedule:      weekly recognition {sch.weekly_recognition}; newsletter on day "
        f"{sch.newsletter.day} at {sch.newsletter.time:%H:%M}; quarterly awards on day "
        f"{quarter.day} of Jan/Apr/Jul/Oct at {quarter.time:%H:%M}; "
        f"catch up missed posts within {sch.catch_up_grace_days} days",
        "Channels:",
        f"  announcements  {ch.announcements}",
        f"  newsletter     {newsletter}",
        f"  review         {ch.review}",
        f"  mod_log        {ch.mod_log}",
        f"  help_forums    {_ids(ch.help_forums)}",
        f"  help_channels  {_ids(ch.help_channels)}",
        f"Moderators:    members with Manage Server; roles {_ids(s.roles.moderators)}",
        f"Activity:      cooldown {act.cooldown_seconds}s, min length {act.min_length}, "
        f"uncount deletions within {act.uncount_deleted_within_seconds}s, flush every "
        f"{act.flush_interval_seconds}s; ignored channels {_ids(act.ignored_channels)}; "
        f"ignored categories {_ids(act.ignored_categories)}",
        "Points:        " + ", ".join(f"{kind} {s.points.for_kind(kind)}" for kind in POINT_KINDS),
        f"Thanks:        {s.thanks.per_pair_per_day} per member pair and {s.thanks.daily_cap} "
        f"per giver a day; receiver must have posted there within {s.thanks.recent_post_hours}h",
        f"Answers:       solved tags {', '.join(s.answers.solved_tags) or 'none'}",
        f"Events:        attendance after {s.events.min_minutes} min; hosts credited with at "
        f"least {s.events.min_attendees} attendees",
        f"Referrals:     credited after {s.referrals.min_days} days with "
        f"{s.referrals.min_active_days} active day(s), within {s.referrals.grace_days} days",
    ]
    if s.tiers:
        lines.append("Tiers (lowest first):")
        for number, tier in enumerate(s.tiers, start=1):
            lines.append(f"  {number}. {tier.name} [{tier.key}] role {tier.role_id}")
            lines.append(f"     {_tier_requirements(tier)}")
    else:
        lines.append("Tiers:         none configured")
    rec, news = s.recognition, s.newsletter
    lines.append(
        f"Recognition:   top {rec.top_per_category} per category; spotlight from nominations, "
        f"else {rec.spotlight_min_points}+ points over {rec.spotlight_lookback_weeks} weeks, "
        f"nobody twice within {rec.spotlight_cooldown_weeks} weeks"
    )
    lines.append(
        f"Newsletter:    top {news.top_contributors} contributors; events in the next "
        f"{news.upcoming_days} days; chart {'on' if news.chart else 'off'}; DMs to subscribed "
        + (f"tier members every {news.dm_pace_seconds}s" if news.dm_subscribers else "off")
    )
    if s.rituals:
        lines.append("Rituals:")
        for ritual in s.rituals:
            where = ritual.channel if ritual.channel is not None else "announcements"
            thread = f", thread '{ritual.thread_name}'" if ritual.thread_name else ""
            lines.append(f"  {ritual.key}: {ritual.when} in {where}{thread}: {ritual.title}")
    else:
        lines.append("Rituals:       none configured")
    lines.append(
        f"Ladder:        {'stack tier roles' if lad.stack_roles else 'current tier role only'}; "
        f"low-water {lad.low_water_ratio:.0%}; demotion grace {lad.demotion_grace_days} days; "
        f"{lad.min_days_after_promotion} days after promotion before demotion; "
        f"at-risk notice {lad.at_risk_notice_days} days"
    )
    return "\n".join(lines)
