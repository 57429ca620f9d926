"""Reading a config: TOML file → validated :class:`Config`, or one :class:`ConfigError`.

Everything wrong is collected first (file, TOML syntax, every key, the token variable) so the
operator sees the whole list at once rather than one problem per attempt.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr, ValidationError

from bot.config.fields import ENV_NAME, lenient_snowflake
from bot.config.problems import ConfigError, ConfigProblem
from bot.config.schema import Config, DiscordConfig, Settings
from bot.config.translate import problems_from


def _token_env_name(data: Mapping[str, Any], settings: Settings | None) -> str | None:
    """The env var holding the token, or None when token_env itself is invalid (reported)."""
    if settings is not None:
        return settings.discord.token_env
    default: str = DiscordConfig.model_fields["token_env"].default
    discord = data.get("discord")
    if not isinstance(discord, Mapping) or "token_env" not in discord:
        return default
    name = discord["token_env"]
    return name if isinstance(name, str) and ENV_NAME.fullmatch(name) else None


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
        problems.extend(problems_from(exc))

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


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML file at ``path``, parsed; ConfigError when it cannot be read or parsed."""
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
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_toml_problem(source, exc)], source) from None
    except ValueError:  # an integer past what ``int`` reads from text (4,300 digits)
        raise ConfigError([_number_too_long(source, text)], source) from None


_LONG_NUMBER: Final = re.compile(r"[0-9_]{4000,}")


def _number_too_long(path: Path, text: str) -> ConfigProblem:
    found = _LONG_NUMBER.search(text)
    if found is None:  # not what tomllib refuses today; still named rather than raised
        what = "a number is longer than TOML can read"
    else:
        line = text.count("\n", 0, found.start()) + 1
        digits = len(found.group().replace("_", ""))
        what = f"line {line} has a number of {digits:,} digits, longer than TOML can read"
    return ConfigProblem(
        str(path), what, "ids have at most 20 digits: guild_id = 123456789012345678"
    )


def load_config(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    require_token: bool = True,
) -> Config:
    """Read, parse and validate the TOML file at ``path``; raise ConfigError on any problem."""
    data = read_toml(path)
    return parse_config(data, env=env, require_token=require_token, source=Path(path))


#: Stands in for the server's IDs in a config read by a command that never talks to Discord.
STAND_IN_ID: Final = 1


def load_offline_config(
    path: str | Path, sections: Collection[str], *, with_discord: bool = False
) -> Config:
    """The config for a command that never connects to the gateway (no token needed, no
    channel IDs).

    Only ``sections`` are read (every other takes its defaults) and the server's IDs (guild,
    channels, tier roles) are :data:`STAND_IN_ID` unless given, so ``db upgrade`` on a copy of
    ``config.example.toml`` needs its ``[database]`` filled in and nothing else. A valid
    ``discord.guild_id`` is kept: the store keeps each server's data apart. ``with_discord``
    keeps the rest of ``[discord]`` too (``api_base``, ``token_env``…) and the tiers' own role
    ids, for a command that asks Discord's REST API and shows the ladder as configured
    (``python -m bot web``).
    """
    data = read_toml(path)
    kept: dict[str, Any] = {name: data[name] for name in sections if name in data}
    discord = data.get("discord")
    guild_id = lenient_snowflake(discord.get("guild_id")) if isinstance(discord, Mapping) else None
    given = dict(discord) if with_discord and isinstance(discord, Mapping) else {}
    kept["discord"] = {**given, "guild_id": guild_id or STAND_IN_ID}
    kept["channels"] = dict.fromkeys(("announcements", "review", "mod_log"), STAND_IN_ID)
    if isinstance(kept.get("tiers"), list) and not with_discord:
        kept["tiers"] = [
            {**tier, "role_id": STAND_IN_ID + 1 + n} if isinstance(tier, Mapping) else tier
            for n, tier in enumerate(kept["tiers"])
        ]
    return parse_config(kept, require_token=False, source=Path(path))
