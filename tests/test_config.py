"""Tests for bot.config: the TOML loader, its validation and its error messages."""

from __future__ import annotations

import copy
import datetime as dt
import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from bot import config as cfg
from bot.config import (
    Config,
    ConfigError,
    ConfigProblem,
    KindConfig,
    MonthlyAt,
    PointsConfig,
    RitualConfig,
    Settings,
    TierConfig,
    WeeklyAt,
    load_config,
    parse_config,
    summarize,
)
from bot.core.kinds import BUILT_IN

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.super-secret-token-value_0123456789"
ENV = {"DISCORD_TOKEN": TOKEN}
GUILD = 111111111111111111


def minimal() -> dict[str, Any]:
    """The smallest valid config (plus the token in ENV)."""
    return {
        "discord": {"guild_id": GUILD},
        "channels": {
            "announcements": 222222222222222222,
            "review": 333333333333333333,
            "mod_log": 444444444444444444,
        },
    }


def with_tiers(*tiers: dict[str, Any]) -> dict[str, Any]:
    data = minimal()
    data["tiers"] = list(tiers)
    return data


def tier(key: str, role_id: int, **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "role_id": role_id, **extra}


def problems_of(data: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    """{key: message} for every problem parse_config reports (fails if it reports none)."""
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env=ENV if env is None else env)
    result = {problem.key: problem.message for problem in caught.value.problems}
    assert len(result) == len(caught.value.problems), "one problem per key expected"
    return result


def only_problem(data: dict[str, Any], env: dict[str, str] | None = None) -> ConfigProblem:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env=ENV if env is None else env)
    assert len(caught.value.problems) == 1, str(caught.value)
    return caught.value.problems[0]


def filled_example() -> dict[str, Any]:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["discord"]["guild_id"] = GUILD
    data["channels"].update(
        announcements=222222222222222222, review=333333333333333333, mod_log=444444444444444444
    )
    for index, entry in enumerate(data["tiers"]):
        entry["role_id"] = 900000000000000000 + index
    return data


# --- the example file ---------------------------------------------------------------------------


def test_example_file_lists_exactly_the_placeholders_to_fill_in() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE, env={})
    keys = [problem.key for problem in caught.value.problems]
    assert sorted(keys) == sorted(
        [
            "discord.guild_id",
            "channels.announcements",
            "channels.review",
            "channels.mod_log",
            "tiers[0].role_id",
            "tiers[1].role_id",
            "tiers[2].role_id",
            "discord.token_env",
        ]
    )
    lines = str(caught.value).splitlines()
    assert len(lines) == len(keys)
    assert (
        "discord.guild_id: must be your server's ID — enable Developer Mode, right-click the "
        "server, Copy Server ID. Example: guild_id = 123456789012345678"
    ) in lines
    assert any(line.startswith("channels.review: must be a channel ID") for line in lines)
    assert any(line.startswith("tiers[2].role_id: must be a role ID") for line in lines)
    assert caught.value.source == EXAMPLE


def test_example_file_with_only_the_token_missing_ids() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE, env=ENV)
    assert "discord.token_env" not in {problem.key for problem in caught.value.problems}
    assert len(caught.value.problems) == 7


def test_example_file_loads_once_filled_in() -> None:
    config = parse_config(filled_example(), env=ENV, source=EXAMPLE)
    settings = config.settings
    assert settings.discord.guild_id == GUILD
    assert [t.key for t in settings.tiers] == ["champion", "ambassador", "advisor"]
    assert settings.tier("advisor").nomination_required is True
    assert settings.tier("advisor").seats == 10
    assert settings.tier("ambassador").min_counts == {"answer": 10, "content": 1}
    assert settings.channels.newsletter == settings.channels.announcements
    assert config.token is not None and config.token.get_secret_value() == TOKEN
    assert config.source == EXAMPLE


def _all_keys() -> list[tuple[str, str]]:
    """(section, key) for every key the models accept."""
    keys: list[tuple[str, str]] = []
    for section in Settings.model_fields:
        arrays: dict[str, type[BaseModel]] = {
            "tiers": TierConfig,
            "rituals": RitualConfig,
            "kinds": KindConfig,
        }
        model = arrays.get(section) or _section_model(section)
        keys.extend((section, name) for name in model.model_fields)
    return keys


def _section_model(section: str) -> type[BaseModel]:
    annotation = Settings.model_fields[section].annotation
    assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return annotation


@pytest.mark.parametrize(("section", "key"), _all_keys())
def test_example_file_documents_every_key_with_a_comment(section: str, key: str) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    header = {"tiers": "[[tiers]]", "rituals": "# [[rituals]]", "kinds": "# [[kinds]]"}.get(
        section, f"[{section}]"
    )
    start = lines.index(header)
    pattern = re.compile(rf"^(# )?{re.escape(key)} = ")
    found = next((i for i in range(start + 1, len(lines)) if pattern.match(lines[i])), None)
    assert found is not None, f"{section}.{key} is not in config.example.toml"
    assert lines[found - 1].startswith("#"), f"{section}.{key} has no comment above it"


@pytest.mark.parametrize(("section", "key"), _all_keys())
def test_every_key_has_an_example_value(section: str, key: str) -> None:
    assert f"{section}.{key}" in cfg._EXAMPLES


# --- defaults -----------------------------------------------------------------------------------


def test_minimal_config_gets_every_default() -> None:
    config = parse_config(minimal(), env=ENV)
    s = config.settings
    assert s.discord.token_env == "DISCORD_TOKEN"
    assert s.discord.api_base == "https://discord.com/api/v10"
    assert s.discord.gateway_url is None
    assert s.discord.sync_commands is True
    assert s.database.url == "sqlite+aiosqlite:///flywheel.db"
    assert s.database.auto_migrate is True
    assert s.database.echo is False
    assert s.logging.level == "INFO"
    assert s.logging.file is None
    assert s.schedule.timezone == "UTC"
    assert s.schedule.tz == zoneinfo.ZoneInfo("UTC")
    assert s.schedule.catch_up_grace_days == 3
    assert s.schedule.weekly_recognition == WeeklyAt(0, dt.time(10, 0))
    assert s.schedule.newsletter == MonthlyAt(1, dt.time(9, 0))
    assert s.schedule.quarterly_awards == MonthlyAt(1, dt.time(10, 0))
    assert s.channels.newsletter == 222222222222222222
    assert s.channels.help_forums == ()
    assert s.roles.moderators == ()
    assert s.moderator_role_ids == frozenset()
    a = s.activity
    assert (a.cooldown_seconds, a.min_length, a.uncount_deleted_within_seconds) == (60, 10, 300)
    assert (a.ignored_channels, a.ignored_categories, a.flush_interval_seconds) == ((), (), 0.5)
    assert {row.key: s.points_for(row.key) for row in s.kinds} == {
        "message_day": 1,
        "answer": 10,
        "thanks_received": 2,
        "event_hosted": 15,
        "event_attended": 3,
        "content": 10,
        "referral": 5,
        "mentoring": 5,
        "feedback": 10,
        "beta_testing": 8,
        "user_research": 8,
        "imported": 0,
    }
    assert s.tiers == ()
    assert s.managed_role_ids == frozenset()
    lad = s.ladder
    assert (lad.stack_roles, lad.low_water_ratio) == (False, 0.9)
    assert (lad.demotion_grace_days, lad.min_days_after_promotion) == (30, 30)
    assert lad.at_risk_notice_days == 7


def test_tier_defaults() -> None:
    t = parse_config(with_tiers(tier("champion", 5)), env=ENV).settings.tier("champion")
    assert (t.window_days, t.min_points, dict(t.min_counts)) == (90, 0, {})
    assert (t.min_active_weeks, t.min_tenure_days, t.nomination_required) == (0, 0, False)
    assert (t.seats, t.benefits, t.commitment, t.welcome_message) == (None, "", "", "")
    assert t.resources == ()


def test_points_are_read_per_kind_from_points_or_the_kind_s_own_entry() -> None:
    data = {
        **minimal(),
        "points": {"answer": 7},
        "kinds": [
            {
                "key": "talk",
                "label": "Talks",
                "noun": "talk",
                "plural": "talks",
                "points": 12,
                "credited": "review",
            }
        ],
    }
    s = parse_config(data, env=ENV).settings
    assert (s.points_for("answer"), s.points_for("content"), s.points_for("talk")) == (7, 10, 12)
    assert tuple(PointsConfig.model_fields) == tuple(r.key for r in BUILT_IN if r.configurable)
    with pytest.raises(KeyError):
        s.points_for("nope")


@pytest.mark.parametrize("section", ["discord", "channels"])
def test_a_missing_required_section_reports_each_required_key(section: str) -> None:
    data = minimal()
    del data[section]
    found = problems_of(data)
    if section == "discord":
        assert set(found) == {"discord.guild_id"}
        assert found["discord.guild_id"].startswith("is required: your server's ID")
    else:
        assert set(found) == {"channels.announcements", "channels.review", "channels.mod_log"}


# --- channels -----------------------------------------------------------------------------------


def test_newsletter_channel_defaults_to_announcements_but_can_be_set() -> None:
    assert parse_config(minimal(), env=ENV).settings.channels.newsletter == 222222222222222222
    data = minimal()
    data["channels"]["newsletter"] = 555555555555555555
    assert parse_config(data, env=ENV).settings.channels.newsletter == 555555555555555555


def test_missing_announcements_is_reported_once_not_for_newsletter_too() -> None:
    data = minimal()
    del data["channels"]["announcements"]
    assert set(problems_of(data)) == {"channels.announcements"}


def test_snowflakes_accept_quoted_digits() -> None:
    data = minimal()
    data["discord"]["guild_id"] = " 123456789012345678 "
    data["roles"] = {"moderators": ["777777777777777777", 888888888888888888]}
    s = parse_config(data, env=ENV).settings
    assert s.discord.guild_id == 123456789012345678
    assert s.moderator_role_ids == frozenset({777777777777777777, 888888888888888888})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0, "must be your server's ID — enable Developer Mode"),
        (-5, "a positive whole number (got -5)"),
        (True, "a whole number like 123456789012345678 (got true)"),
        ("12a", 'a whole number like 123456789012345678 (got "12a")'),
        (1.5, "(got 1.5)"),
        (2**64, "too large"),
    ],
)
def test_bad_snowflakes(value: object, fragment: str) -> None:
    data = minimal()
    data["discord"]["guild_id"] = value
    problem = only_problem(data)
    assert problem.key == "discord.guild_id"
    assert fragment in problem.message
    assert problem.example == "guild_id = 123456789012345678"


def test_bad_snowflake_in_a_list_names_its_index() -> None:
    data = minimal()
    data["channels"]["help_forums"] = [123456789012345678, 0]
    problem = only_problem(data)
    assert problem.key == "channels.help_forums[1]"
    assert "forum channel ID" in problem.message


# --- unknown keys and wrong types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key", "message"),
    [
        ((), "discrod", "unknown section (did you mean 'discord'?)"),
        ((), "ladders", "unknown section (did you mean 'ladder'?)"),
        (("activity",), "cooldown_secs", "unknown key (did you mean 'cooldown_seconds'?)"),
        (("discord",), "guild", "unknown key (did you mean 'guild_id'?)"),
        (("points",), "min_length", "unknown key: 'min_length' belongs in [activity]"),
    ],
)
def test_unknown_keys_are_errors_with_a_suggestion(
    path: tuple[str, ...], key: str, message: str
) -> None:
    data = minimal()
    table = data
    for part in path:
        table = table.setdefault(part, {})
    table[key] = {} if not path else 5
    problem = only_problem(data)
    assert problem.key == ".".join((*path, key))
    assert problem.message == message


def test_unknown_key_inside_a_tier() -> None:
    problem = only_problem(with_tiers(tier("champion", 5), tier("ambassador", 6, min_pts=3)))
    assert problem.key == "tiers[1].min_pts"
    assert problem.message == "unknown key (did you mean 'min_points'?)"
    assert problem.example == "min_points = 100"


def test_token_in_the_file_is_refused_without_echoing_it() -> None:
    data = minimal()
    data["discord"]["token"] = TOKEN
    problem = only_problem(data)
    assert problem.key == "discord.token"
    assert "environment variable" in problem.message
    assert TOKEN not in str(problem)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("activity", "cooldown_seconds", "abc", 'must be a whole number (got "abc")'),
        ("activity", "cooldown_seconds", True, "must be a whole number, not true"),
        ("activity", "min_length", 2.5, "must be a whole number (got 2.5)"),
        ("points", "answer", "10", 'must be a whole number (got "10")'),
        ("schedule", "catch_up_grace_days", False, "must be a whole number, not false"),
        ("activity", "flush_interval_seconds", True, "must be a number, not true"),
        ("activity", "flush_interval_seconds", "0.5", 'must be a number (got "0.5")'),
        ("discord", "sync_commands", "yes", 'must be true or false (without quotes) (got "yes")'),
        ("database", "echo", 1, "must be true or false (without quotes) (got 1)"),
        ("discord", "api_base", 5, "must be text in quotes (got 5)"),
        ("channels", "help_forums", 5, "must be a list in square brackets (got 5)"),
        ("logging", "level", "verbose", "must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    ],
)
def test_wrong_types_are_errors(section: str, key: str, value: object, message: str) -> None:
    data = minimal()
    data.setdefault(section, {})[key] = value
    problem = only_problem(data)
    assert problem.key == f"{section}.{key}"
    assert problem.message.startswith(message)
    assert problem.example == cfg._EXAMPLES[f"{section}.{key}"]


def test_a_section_that_is_not_a_table() -> None:
    data = minimal()
    data["ladder"] = 5
    problem = only_problem(data)
    assert problem.key == "ladder"
    assert "[ladder]" in problem.message


def test_float_fields_accept_whole_numbers() -> None:
    data = minimal()
    data["ladder"] = {"low_water_ratio": 1}
    data["activity"] = {"flush_interval_seconds": 2}
    s = parse_config(data, env=ENV).settings
    assert s.ladder.low_water_ratio == 1.0
    assert s.activity.flush_interval_seconds == 2.0


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("activity", "cooldown_seconds", -5, "must be 0 or more (got -5)"),
        ("activity", "min_length", -1, "must be 0 or more (got -1)"),
        ("activity", "uncount_deleted_within_seconds", -1, "must be 0 or more (got -1)"),
        ("activity", "flush_interval_seconds", 0, "must be more than 0 (got 0)"),
        ("schedule", "catch_up_grace_days", -1, "must be 0 or more (got -1)"),
        ("points", "referral", -2, "must be 0 or more (got -2)"),
        ("ladder", "low_water_ratio", 0, "must be more than 0 (got 0)"),
        ("ladder", "low_water_ratio", 1.5, "must be 1 or less (got 1.5)"),
        ("ladder", "demotion_grace_days", -1, "must be 0 or more (got -1)"),
    ],
)
def test_out_of_range_numbers(section: str, key: str, value: object, message: str) -> None:
    data = minimal()
    data[section] = {key: value}
    problem = only_problem(data)
    assert (problem.key, problem.message) == (f"{section}.{key}", message)


def test_negative_cooldown_full_text() -> None:
    data = minimal()
    data["activity"] = {"cooldown_seconds": -5}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env=ENV)
    assert str(caught.value) == (
        "activity.cooldown_seconds: must be 0 or more (got -5). Example: cooldown_seconds = 60"
    )


# --- discord / database / logging ---------------------------------------------------------------


def test_urls_are_checked_and_api_base_loses_its_trailing_slash() -> None:
    data = minimal()
    data["discord"].update(api_base="http://127.0.0.1:8080/api/v10/", gateway_url="ws://x:1/gw")
    d = parse_config(data, env=ENV).settings.discord
    assert d.api_base == "http://127.0.0.1:8080/api/v10"
    assert d.gateway_url == "ws://x:1/gw"

    data["discord"].update(api_base="discord.com/api", gateway_url="https://gateway.discord.gg")
    found = problems_of(data)
    assert found["discord.api_base"].startswith("must be a URL starting with http:// or https://")
    assert found["discord.gateway_url"].startswith("must be a URL starting with ws:// or wss://")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("sqlite:///flywheel.db", "write 'sqlite+aiosqlite://' instead of 'sqlite://'"),
        ("postgresql://u:hunter2@db/flywheel", "write 'postgresql+asyncpg://'"),
        ("postgresql+psycopg2://u:hunter2@db/x", "write 'postgresql+asyncpg://'"),
        ("mysql+aiomysql://u:hunter2@db/x", "sqlite+aiosqlite or postgresql+asyncpg"),
        ("flywheel.db", "must be a database URL such as sqlite+aiosqlite:///flywheel.db"),
    ],
)
def test_database_url_must_use_an_async_driver(url: str, fragment: str) -> None:
    data = minimal()
    data["database"] = {"url": url}
    problem = only_problem(data)
    assert problem.key == "database.url"
    assert fragment in problem.message
    assert "hunter2" not in str(problem)
    assert problem.example == 'url = "sqlite+aiosqlite:///flywheel.db"'


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///flywheel.db", "sqlite+aiosqlite://", "postgresql+asyncpg://h/db"]
)
def test_async_database_urls_are_accepted(url: str) -> None:
    data = minimal()
    data["database"] = {"url": url, "auto_migrate": False, "echo": True}
    db = parse_config(data, env=ENV).settings.database
    assert (db.url, db.auto_migrate, db.echo) == (url, False, True)


def test_log_level_is_case_insensitive_and_file_is_a_path() -> None:
    data = minimal()
    data["logging"] = {"level": "debug", "file": "logs/flywheel.log"}
    logging = parse_config(data, env=ENV).settings.logging
    assert logging.level == "DEBUG"
    assert logging.file == Path("logs/flywheel.log")


def test_token_env_must_be_a_variable_name() -> None:
    data = minimal()
    data["discord"]["token_env"] = TOKEN
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env=ENV)
    assert [p.key for p in caught.value.problems] == ["discord.token_env"]
    assert "looks like a bot token" in str(caught.value)
    assert TOKEN[:16] not in str(caught.value)


# --- schedule -----------------------------------------------------------------------------------


def test_timezone_must_exist_and_has_a_tz() -> None:
    data = minimal()
    data["schedule"] = {"timezone": "Europe/Berlin"}
    schedule = parse_config(data, env=ENV).settings.schedule
    assert schedule.tz == zoneinfo.ZoneInfo("Europe/Berlin")

    data["schedule"] = {"timezone": "Europe/Londn"}
    problem = only_problem(data)
    assert problem.key == "schedule.timezone"
    assert "unknown time zone" in problem.message
    assert "did you mean 'Europe/London'?" in problem.message


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd", "UTC+2"])
def test_nonexistent_timezones(name: str) -> None:
    data = minimal()
    data["schedule"] = {"timezone": name}
    assert only_problem(data).key == "schedule.timezone"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mon 10:00", WeeklyAt(0, dt.time(10, 0))),
        ("Fri 17:30", WeeklyAt(4, dt.time(17, 30))),
        ("sunday 7:05", WeeklyAt(6, dt.time(7, 5))),
    ],
)
def test_weekly_formats(value: str, expected: WeeklyAt) -> None:
    data = minimal()
    data["schedule"] = {"weekly_recognition": value}
    parsed = parse_config(data, env=ENV).settings.schedule.weekly_recognition
    assert parsed == expected
    assert str(parsed) == str(expected)


def test_monthly_formats() -> None:
    data = minimal()
    data["schedule"] = {"newsletter": "28 23:59", "quarterly_awards": " 3 08:15 "}
    schedule = parse_config(data, env=ENV).settings.schedule
    assert schedule.newsletter == MonthlyAt(28, dt.time(23, 59))
    assert schedule.quarterly_awards == MonthlyAt(3, dt.time(8, 15))
    assert str(schedule.quarterly_awards) == "3 08:15"


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("weekly_recognition", "10:00", 'must look like "<mon|tue|wed|thu|fri|sat|sun> HH:MM"'),
        ("weekly_recognition", "funday 10:00", "the day must be one of mon, tue"),
        ("weekly_recognition", "mon 25:00", "between 00:00 and 23:59"),
        ("weekly_recognition", "mon 10:60", "between 00:00 and 23:59"),
        ("weekly_recognition", "mon 10am", 'must look like "<mon|tue|wed|thu|fri|sat|sun> HH:MM"'),
        ("weekly_recognition", 5, 'must be text like "mon 10:00"'),
        ("newsletter", "31 09:00", "between 1 and 28"),
        ("newsletter", "0 09:00", "between 1 and 28"),
        ("newsletter", "mon 09:00", 'must look like "<1-28> HH:MM"'),
        ("newsletter", "1st 09:00", 'must look like "<1-28> HH:MM"'),
        ("quarterly_awards", "1 9", 'must look like "<1-28> HH:MM"'),
        ("quarterly_awards", dt.time(10, 0), 'must be text like "1 09:00" (got 10:00:00)'),
    ],
)
def test_bad_schedule_formats(key: str, value: object, fragment: str) -> None:
    data = minimal()
    data["schedule"] = {key: value}
    problem = only_problem(data)
    assert problem.key == f"schedule.{key}"
    assert fragment in problem.message
    assert problem.example == cfg._EXAMPLES[f"schedule.{key}"]


# --- tiers --------------------------------------------------------------------------------------


def test_tiers_keep_their_order() -> None:
    keys = ["zeta", "alpha", "mid", "beta"]
    data = with_tiers(*(tier(key, 100 + i) for i, key in enumerate(keys)))
    s = parse_config(data, env=ENV).settings
    assert [t.key for t in s.tiers] == keys
    assert s.tier_keys == tuple(keys)
    assert [s.tier_index(key) for key in keys] == [0, 1, 2, 3]
    assert s.tier("mid").role_id == 102
    assert s.managed_role_ids == frozenset({100, 101, 102, 103})
    with pytest.raises(KeyError):
        s.tier("nope")


def ritual(key: str, when: object = "thu 17:00", **extra: object) -> dict[str, object]:
    return {"key": key, "when": when, "title": "Weekly Q&A", "text": "Ask anything.", **extra}


def test_rituals_take_weekly_or_monthly_times_and_default_to_announcements() -> None:
    data = {**minimal(), "rituals": [ritual("qa"), ritual("demo-day", "15 18:30", channel=42)]}
    rituals = parse_config(data, env=ENV).settings.rituals
    assert rituals[0].when == WeeklyAt(3, dt.time(17, 0))
    assert rituals[0].channel is None
    assert rituals[1].when == MonthlyAt(15, dt.time(18, 30))
    assert rituals[1].channel == 42
    assert rituals[0].grace_hours == 12 and rituals[0].thread_name == ""


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        ("thursday at five", 'must look like "<mon|tue|wed|thu|fri|sat|sun> HH:MM"'),
        ("31 10:00", "between 1 and 28"),
        ("fri 25:00", "between 00:00 and 23:59"),
        (5, 'must be text like "thu 17:00" or "15 18:00"'),
    ],
)
def test_bad_ritual_times_name_the_key(when: object, fragment: str) -> None:
    problem = only_problem({**minimal(), "rituals": [ritual("qa", when)]})
    assert problem.key == "rituals[0].when"
    assert fragment in problem.message


def test_duplicate_and_malformed_ritual_keys() -> None:
    problem = only_problem({**minimal(), "rituals": [ritual("qa"), ritual("qa")]})
    assert problem.key == "rituals[1].key"
    assert problem.message == "duplicate ritual key 'qa' (also rituals[0])"
    assert only_problem({**minimal(), "rituals": [ritual("Q A")]}).key == "rituals[0].key"


def test_duplicate_tier_key() -> None:
    data = with_tiers(tier("champion", 5), tier("ambassador", 6), tier("champion", 7))
    problem = only_problem(data)
    assert problem.key == "tiers[2].key"
    assert problem.message == "duplicate tier key 'champion' (also tiers[0])"


def test_duplicate_tier_role() -> None:
    data = with_tiers(tier("champion", 5), tier("ambassador", 5))
    problem = only_problem(data)
    assert problem.key == "tiers[1].role_id"
    assert problem.message.startswith("duplicate tier role 5 (also tiers[0])")


def test_tier_role_cannot_be_everyone() -> None:
    problem = only_problem(with_tiers(tier("champion", GUILD)))
    assert problem.key == "tiers[0].role_id"
    assert "@everyone" in problem.message


def test_duplicates_are_reported_with_other_problems() -> None:
    data = with_tiers(tier("champion", 5), tier("champion", 5, window_days=0))
    found = problems_of(data)
    assert set(found) == {"tiers[1].key", "tiers[1].role_id", "tiers[1].window_days"}


def test_summarize_lists_the_server_s_own_kinds_and_words_tier_rules_with_them() -> None:
    data = filled_example()
    data["kinds"] = [
        {
            "key": "talk",
            "label": "Talks given",
            "noun": "talk",
            "plural": "talks",
            "points": 15,
            "credited": "review",
            "award": "Top speaker",
        },
        {
            "key": "case_study",
            "label": "Case studies",
            "noun": "case study",
            "plural": "case studies",
            "points": 30,
            "credited": "moderators",
            "weekly": True,
        },
    ]
    data["tiers"][0]["min_counts"] = {"talk": 2}
    text = summarize(parse_config(data, env=ENV))
    assert (
        "  talk (Talks given) 15 points, by /contribution submit, approved on review; "
        "award 'Top speaker'" in text
    )
    assert (
        "  case_study (Case studies) 30 points, by moderators with /contribution add; weekly post"
        in text
    )
    assert "50 points, 2 talks, active in" in text


def test_a_kind_of_the_server_s_own_must_not_reuse_a_key_or_be_credited_by_a_feature() -> None:
    entry = {"label": "X", "noun": "x", "plural": "xs", "points": 1, "credited": "review"}
    data = {
        **minimal(),
        "kinds": [
            {**entry, "key": "content"},
            {**entry, "key": "talk"},
            {**entry, "key": "talk"},
            {**entry, "key": "demo", "credited": "feature"},
        ],
        "points": {"talk": 3},
    }
    found = problems_of(data)
    assert found["kinds[0].key"].startswith("'content' is a built-in kind; give yours another key")
    assert found["kinds[2].key"] == "duplicate kind key 'talk' (also kinds[1])"
    assert found["kinds[3].credited"].startswith("'feature' is for the kinds Flywheel's own")
    assert "its [[kinds]] entry" in found["points.talk"]
    assert set(found) == {"kinds[0].key", "kinds[2].key", "kinds[3].credited", "points.talk"}


def test_tier_rules_may_count_the_server_s_own_kinds() -> None:
    data = with_tiers(tier("champion", 5, min_counts={"talk": 1, "tallk": 1}))
    data["kinds"] = [
        {
            "key": "talk",
            "label": "Talks",
            "noun": "talk",
            "plural": "talks",
            "points": 1,
            "credited": "review",
        }
    ]
    found = problems_of(data)
    assert set(found) == {"tiers[0].min_counts.tallk"}
    assert "did you mean 'talk'?" in found["tiers[0].min_counts.tallk"]
    del data["tiers"][0]["min_counts"]["tallk"]
    settings = parse_config(data, env=ENV).settings
    assert dict(settings.tiers[0].min_counts) == {"talk": 1}


def test_unknown_kind_in_min_counts() -> None:
    data = with_tiers(
        tier("champion", 5, min_counts={"answer": 2}),
        tier("ambassador", 6, min_counts={"answer": 3, "foo": 1, "answers": 2}),
    )
    found = problems_of(data)
    assert set(found) == {"tiers[1].min_counts.foo", "tiers[1].min_counts.answers"}
    assert found["tiers[1].min_counts.foo"].startswith("unknown contribution kind 'foo'; kinds:")
    assert found["tiers[1].min_counts.foo"].endswith("(define your own in [[kinds]])")
    assert "did you mean 'answer'?" in found["tiers[1].min_counts.answers"]


def test_min_counts_values_are_checked() -> None:
    data = with_tiers(tier("champion", 5, min_counts={"answer": -1, "content": True}))
    found = problems_of(data)
    assert found == {
        "tiers[0].min_counts.answer": "must be 0 or more (got -1)",
        "tiers[0].min_counts.content": "must be a whole number, not true",
    }


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("key", "Champion", "must be a short lowercase name"),
        ("key", "1st", "must be a short lowercase name"),
        ("key", "a" * 33, "must be a short lowercase name"),
        ("name", "  ", "must not be empty"),
        ("window_days", 0, "must be 1 or more (got 0)"),
        ("window_days", 3651, "must be 3650 or less (got 3651)"),
        ("min_points", -1, "must be 0 or more"),
        ("min_tenure_days", -1, "must be 0 or more"),
        ("seats", 0, "must be 1 or more (got 0)"),
        ("nomination_required", "no", "must be true or false"),
        ("resources", ["ftp://example.org"], "must be a URL starting with http:// or https://"),
        ("min_active_weeks", 14, "must be at most 13, the number of weeks in the 90-day window"),
    ],
)
def test_bad_tier_fields(field: str, value: object, fragment: str) -> None:
    problem = only_problem(with_tiers({**tier("champion", 5), field: value}))
    assert problem.key.startswith(f"tiers[0].{field}")
    assert fragment in problem.message


def test_min_active_weeks_may_fill_the_window() -> None:
    data = with_tiers(tier("champion", 5, window_days=90, min_active_weeks=13))
    assert parse_config(data, env=ENV).settings.tiers[0].min_active_weeks == 13


def test_missing_tier_fields() -> None:
    found = problems_of(with_tiers({"name": "Champion"}))
    assert found["tiers[0].key"] == "is required"
    assert found["tiers[0].role_id"].startswith("is required: a role ID")


def test_tiers_must_be_an_array_of_tables() -> None:
    data = minimal()
    data["tiers"] = {"key": "champion"}
    problem = only_problem(data)
    assert problem.key == "tiers"
    assert "[[tiers]]" in problem.message


# --- token --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "state"), [({}, "it is not set"), ({"DISCORD_TOKEN": "  \n"}, "it is set but blank")]
)
def test_missing_or_blank_token(env: dict[str, str], state: str) -> None:
    problem = only_problem(minimal(), env=env)
    assert problem.key == "discord.token_env"
    assert problem.message == (
        f"set the environment variable DISCORD_TOKEN to your bot token ({state})"
    )


def test_token_comes_from_the_configured_variable() -> None:
    data = minimal()
    data["discord"]["token_env"] = "FLYWHEEL_TOKEN"
    config = parse_config(data, env={"FLYWHEEL_TOKEN": f"  {TOKEN}\n"})
    assert isinstance(config.token, SecretStr)
    assert config.token.get_secret_value() == TOKEN
    problem = only_problem(data, env=ENV)
    assert "FLYWHEEL_TOKEN" in problem.message


def test_token_is_optional_when_not_required() -> None:
    config = parse_config(minimal(), env={}, require_token=False)
    assert config.token is None
    assert "NOT SET" in summarize(config)


def test_token_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    config = parse_config(minimal())
    assert config.token is not None and config.token.get_secret_value() == TOKEN


def test_token_never_leaks(tmp_path: Path) -> None:
    config = parse_config(filled_example(), env=ENV)
    for text in (repr(config), str(config), repr(config.settings), str(config.settings)):
        assert TOKEN not in text
    text = summarize(config)
    assert TOKEN not in text
    assert "set (hidden)" in text
    assert TOKEN not in config.settings.model_dump_json()

    broken = filled_example()
    broken["activity"] = {"cooldown_seconds": -1}
    with pytest.raises(ConfigError) as caught:
        parse_config(broken, env=ENV)
    error = caught.value
    for text in (str(error), repr(error), *(repr(p) for p in error.problems)):
        assert TOKEN not in text

    path = tmp_path / "config.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    assert TOKEN[:16] not in str(caught.value)


# --- files --------------------------------------------------------------------------------------


def test_load_config_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[discord]\nguild_id = 1\n[channels]\nannouncements = 2\nreview = 3\nmod_log = 4\n",
        encoding="utf-8",
    )
    config = load_config(str(path), env=ENV)
    assert config.source == path
    assert config.settings.channels.mod_log == 4


def test_toml_syntax_error_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[discord]\nguild_id = 1\ntoken_env = = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    [problem] = caught.value.problems
    assert problem.key == str(path)
    assert problem.message.startswith("TOML syntax error on line 3, column 13:")


def test_toml_error_at_end_of_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[discord]\ntoken_env = "DISCORD', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    assert "at the end of the file" in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    [problem] = caught.value.problems
    assert problem.key == str(path)
    assert problem.message == "config file not found"
    assert "config.example.toml" in problem.example


def test_directory_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, env=ENV)
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[discord]\ntoken_env = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(path, env=ENV)


# --- everything at once -------------------------------------------------------------------------


def test_multiple_problems_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        """
[discord]
guild_id = 0
[database]
url = "sqlite:///x.db"
[schedule]
timezone = "Nowhere/City"
weekly_recognition = "someday 10:00"
[channels]
announcements = 1
review = 2
mod_log = 3
[activity]
cooldown_seconds = -5
cooldown = 3
[[tiers]]
key = "champion"
name = "Champion"
role_id = 10
[[tiers]]
key = "champion"
name = "Champion again"
role_id = 11
min_counts = { foo = 1 }
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    keys = [problem.key for problem in caught.value.problems]
    assert sorted(keys) == sorted(
        [
            "discord.guild_id",
            "database.url",
            "schedule.timezone",
            "schedule.weekly_recognition",
            "activity.cooldown_seconds",
            "activity.cooldown",
            "tiers[1].min_counts.foo",
            "tiers[1].key",
            "discord.token_env",
        ]
    )
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]
    assert all(problem.example for problem in caught.value.problems)


def test_config_problem_text() -> None:
    problem = ConfigProblem("activity.cooldown_seconds", "must be 0 or more (got -5)", "x = 1")
    assert str(problem) == "activity.cooldown_seconds: must be 0 or more (got -5). Example: x = 1"
    error = ConfigError([problem, problem])
    assert str(error) == f"{problem}\n{problem}"
    assert error.problems == (problem, problem)


# --- immutability and round trips ---------------------------------------------------------------


def test_everything_is_frozen() -> None:
    config = parse_config(filled_example(), env=ENV)
    s = config.settings
    with pytest.raises(ValidationError):
        s.activity.cooldown_seconds = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.tiers[0].key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.tiers[0].min_counts["answer"] = 99  # type: ignore[index]
    with pytest.raises(AttributeError):
        config.token = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        s.schedule.weekly_recognition.weekday = 3  # type: ignore[misc]
    assert isinstance(s.tiers, tuple)
    assert isinstance(s.channels.help_forums, tuple)
    assert hash(s) == hash(parse_config(filled_example(), env=ENV).settings)


def test_settings_round_trip_through_model_dump() -> None:
    s = parse_config(filled_example(), env=ENV).settings
    dumped = s.model_dump(mode="json")
    assert dumped["schedule"]["weekly_recognition"] == "mon 10:00"
    assert dumped["tiers"][1]["min_counts"] == {"answer": 10, "content": 1}
    assert Settings.model_validate(dumped) == s
    assert Settings.model_validate(s.model_dump()) == s


def test_parse_config_does_not_modify_its_input() -> None:
    data = filled_example()
    data["channels"].pop("newsletter", None)
    before = copy.deepcopy(data)
    parse_config(data, env=ENV)
    assert data == before


# --- summary ------------------------------------------------------------------------------------


def test_summarize_shows_the_essentials_and_masks_the_database_password() -> None:
    data = filled_example()
    data["database"]["url"] = "postgresql+asyncpg://flywheel:hunter2@db.internal:5432/flywheel"
    data["roles"] = {"moderators": [555555555555555555]}
    data["schedule"]["timezone"] = "America/New_York"
    data["schedule"]["ladder_sweep"] = "02:45"
    text = summarize(parse_config(data, env=ENV))
    assert "Daily jobs:    ladder sweep 02:45, buddy settlement 03:30" in text
    assert str(GUILD) in text
    assert "hunter2" not in text
    assert "postgresql+asyncpg://flywheel:***@db.internal:5432/flywheel" in text
    assert "America/New_York" in text
    assert "555555555555555555" in text and "Manage Server" in text
    assert "222222222222222222 (same as announcements)" in text
    assert text.index("Champion [champion]") < text.index("Advisor [advisor]")
    assert "200 points" in text and "10 accepted answers" in text
    assert "nomination required" in text
    assert "Own kinds:     none ([[kinds]] adds them)" in text
    assert "set (hidden)" in text


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("sqlite+aiosqlite:///flywheel.db", "sqlite+aiosqlite:///flywheel.db"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg://u:***@h/db"),
        ("postgresql+asyncpg://u:p@ss@h/db", "postgresql+asyncpg://u:***@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        (
            "postgresql+asyncpg://h/db?user=u&password=p",
            "postgresql+asyncpg://h/db?user=u&password=***",
        ),
    ],
)
def test_mask_database_url(url: str, masked: str) -> None:
    assert cfg.mask_database_url(url) == masked


def test_config_is_a_plain_frozen_dataclass() -> None:
    config = parse_config(minimal(), env=ENV)
    assert isinstance(config, Config)
    assert config.source == Path("<memory>")


def test_settings_validated_directly_still_rejects_duplicate_tiers() -> None:
    data = with_tiers(tier("champion", 5), tier("champion", 6))
    with pytest.raises(ValidationError, match="duplicate tier key 'champion'"):
        Settings.model_validate(data)


def test_settings_validated_directly_reports_conflicts_at_their_keys_with_the_rest() -> None:
    data = with_tiers(tier("champion", 5), tier("champion", 5, window_days=0))
    data["discord"]["token"] = TOKEN
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate(data)
    assert {error["loc"] for error in caught.value.errors()} == {
        ("discord", "token"),
        ("tiers", 1, "window_days"),
        ("tiers", 1, "key"),
        ("tiers", 1, "role_id"),
    }
    assert TOKEN[:16] not in str(caught.value)


@pytest.mark.parametrize("value", ["24:00", "03:60", "daily", 300, "mon 03:00"])
def test_a_daily_job_time_must_be_hh_mm(value: object) -> None:
    data = filled_example()
    data["schedule"]["ladder_sweep"] = value
    with pytest.raises(ConfigError) as info:
        parse_config(data, env=ENV)
    [problem] = info.value.problems
    assert problem.key == "schedule.ladder_sweep"
    assert str(problem).endswith('Example: ladder_sweep = "03:00"')


def test_a_number_too_long_for_toml_names_its_line(tmp_path: Path) -> None:
    """tomllib raises a bare ValueError for an integer past 4,300 digits."""
    path = tmp_path / "config.toml"
    path.write_text("[discord]\n\nguild_id = " + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    [problem] = caught.value.problems
    assert problem.key == str(path)
    assert problem.message == "line 3 has a number of 5,000 digits, longer than TOML can read"


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("discord", "guild_id", "9" * 5000, "is too large to be a Discord ID"),
        ("schedule", "newsletter", "9" * 5000 + " 09:00", "the day of the month must be between"),
    ],
)
def test_a_quoted_number_thousands_of_digits_long_is_named_by_key(
    section: str, key: str, value: str, message: str
) -> None:
    data = {"discord": {"guild_id": 1}}
    data.setdefault(section, {})[key] = value
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env=ENV)
    [problem] = [p for p in caught.value.problems if p.key == f"{section}.{key}"]
    assert message in problem.message and len(problem.message) < 300


@pytest.mark.parametrize(
    ("bind", "said"),
    [
        ("8080", "must be HOST:PORT"),
        ("localhost", "must be HOST:PORT"),
        (":8080", "must be HOST:PORT"),
        ("::1:8080", "an IPv6 host in brackets"),
        ("127.0.0.1:http", 'the port must be a number from 0 to 65535; got "http"'),
        ("127.0.0.1:70000", 'the port must be a number from 0 to 65535; got "70000"'),
        ("127.0.0.1:-1", "the port must be a number from 0 to 65535"),
    ],
)
def test_web_bind_must_be_host_and_port(bind: str, said: str) -> None:
    problem = only_problem({**minimal(), "web": {"bind": bind}})
    assert problem.key == "web.bind"
    assert said in problem.message
    assert 'bind = "127.0.0.1:8080"' in problem.example


@pytest.mark.parametrize(
    ("bind", "host", "port"),
    [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("0.0.0.0:80", "0.0.0.0", 80),
        ("localhost:0", "localhost", 0),
        ("[::1]:8443", "::1", 8443),
        (" 127.0.0.1:08080 ", "127.0.0.1", 8080),
    ],
)
def test_web_bind_accepts_hosts_and_ipv6_in_brackets(bind: str, host: str, port: int) -> None:
    web = parse_config({**minimal(), "web": {"bind": bind}}, env=ENV).settings.web
    assert cfg.split_bind(web.bind) == (host, port)


def test_web_is_off_by_default_and_public_url_is_checked() -> None:
    web = parse_config(minimal(), env=ENV).settings.web
    assert (web.enabled, web.bind, web.public_url) == (False, "127.0.0.1:8080", None)
    assert web.secret_env == "FLYWHEEL_WEB_SECRET"
    problem = only_problem({**minimal(), "web": {"public_url": "flywheel.example.org"}})
    assert problem.key == "web.public_url" and "http://" in problem.message
