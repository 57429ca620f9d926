"""Flywheel configuration: a TOML file, validated into frozen pydantic models.

``load_config(path)`` reads the file, validates every section, reads the bot token from the
environment and either returns a :class:`Config` or raises one :class:`ConfigError` that lists
*every* problem it found, each with a dotted key path (``tiers[1].min_counts.foo``), a plain
description and an example of a valid value.

The package is pure: it imports nothing from discord and touches no network or database.
The bot token never appears in any ``repr``/``str`` here, in error text, or in :func:`summarize`.

Modules, one concept each: :mod:`~bot.config.problems` (what a problem is),
:mod:`~bot.config.fields` and :mod:`~bot.config.cadence` (value types),
:mod:`~bot.config.schema` (sections, defaults, examples, cross-checks),
:mod:`~bot.config.examples` (example lines derived from the schema),
:mod:`~bot.config.translate` (pydantic errors → problems), :mod:`~bot.config.loading`
(file → Config), :mod:`~bot.config.servers` (several servers: a folder of server files laid
over config.toml) and :mod:`~bot.config.summary` (``check-config`` output).
"""

from bot.config.cadence import WEEKDAYS, MonthlyAt, WeeklyAt
from bot.config.examples import EXAMPLES as _EXAMPLES  # noqa: F401 (tests read examples by key)
from bot.config.fields import CountMap, LogLevel, mask_database_url, split_bind
from bot.config.loading import (
    STAND_IN_ID,
    load_config,
    load_offline_config,
    parse_config,
    read_toml,
)
from bot.config.problems import ConfigError, ConfigProblem
from bot.config.schema import (
    ActivityConfig,
    AnswersConfig,
    BuddiesConfig,
    ChannelsConfig,
    Config,
    DatabaseConfig,
    DiscordConfig,
    EventsConfig,
    GroupsConfig,
    IntegrityConfig,
    KindConfig,
    LadderConfig,
    LoggingConfig,
    NewsletterConfig,
    NpsConfig,
    PointsConfig,
    PrivacyConfig,
    ProgramConfig,
    RecognitionConfig,
    ReferralsConfig,
    RitualConfig,
    RolesConfig,
    ScheduleConfig,
    Settings,
    ThanksConfig,
    TierConfig,
    WebConfig,
    shard_of,
)
from bot.config.summary import summarize

__all__ = [
    "STAND_IN_ID",
    "WEEKDAYS",
    "ActivityConfig",
    "AnswersConfig",
    "BuddiesConfig",
    "ChannelsConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "CountMap",
    "DatabaseConfig",
    "DiscordConfig",
    "EventsConfig",
    "GroupsConfig",
    "IntegrityConfig",
    "KindConfig",
    "LadderConfig",
    "LogLevel",
    "LoggingConfig",
    "MonthlyAt",
    "NewsletterConfig",
    "NpsConfig",
    "PointsConfig",
    "PrivacyConfig",
    "ProgramConfig",
    "RecognitionConfig",
    "ReferralsConfig",
    "RitualConfig",
    "RolesConfig",
    "ScheduleConfig",
    "Settings",
    "ThanksConfig",
    "TierConfig",
    "WebConfig",
    "WeeklyAt",
    "load_config",
    "load_offline_config",
    "mask_database_url",
    "parse_config",
    "read_toml",
    "shard_of",
    "split_bind",
    "summarize",
]
