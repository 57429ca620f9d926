"""Reading a config: TOML file → validated :class:`Config`, or one :class:`ConfigError`.

Everything wrong is collected first (file, TOML syntax, every key, the token variable) so the
operator sees the whole list at once rather than one problem per attempt.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr, ValidationError

from bot.config.fields import ENV_NAME, lenient_snowflake
from bot.config.problems import ConfigError, ConfigProblem
from bot.config.schema import Config, DiscordConfig, Settings
from bot.config.servers import (
    DEPLOYMENT_SECTIONS,
    ServerFile,
    base_guild_problem,
    duplicate_guilds,
    from_server,
    merged,
    read_servers,
    servers_dir,
    shared_ids,
)
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


def _validated(data: Mapping[str, Any]) -> tuple[Settings | None, list[ConfigProblem]]:
    try:
        return Settings.model_validate(dict(data)), []
    except ValidationError as exc:
        return None, problems_from(exc)


def _read_token(
    data: Mapping[str, Any],
    settings: Settings | None,
    environ: Mapping[str, str],
    require_token: bool,
) -> tuple[SecretStr | None, list[ConfigProblem]]:
    env_name = _token_env_name(data, settings)
    if env_name is None:
        return None, []
    value = environ.get(env_name)
    if value is not None and value.strip():
        return SecretStr(value.strip()), []
    if not require_token:
        return None, []
    state = "it is not set" if value is None else "it is set but blank"
    return None, [
        ConfigProblem(
            "discord.token_env",
            f"set the environment variable {env_name} to your bot token ({state})",
            f"export {env_name}=<your bot token>",
        )
    ]


def parse_config(
    data: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    require_token: bool = True,
    source: Path = Path("<memory>"),
) -> Config:
    """Validate already-parsed TOML ``data`` (one server); raise ConfigError listing every
    problem."""
    environ: Mapping[str, str] = os.environ if env is None else env
    settings, problems = _validated(data)
    token, missing = _read_token(data, settings, environ, require_token)
    problems.extend(missing)
    if problems:
        raise ConfigError(_dedupe(problems), source)
    assert settings is not None
    return Config(settings=settings, token=token, source=source)


def parse_servers(
    base: Mapping[str, Any],
    servers: Sequence[ServerFile],
    *,
    env: Mapping[str, str] | None = None,
    require_token: bool = True,
    source: Path = Path("<memory>"),
    found: Sequence[ConfigProblem] = (),
    shape: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> Config:
    """Validate config.toml's ``base`` with each server file laid over it (see
    :mod:`bot.config.servers`); raise one ConfigError listing every problem of every file,
    ``found`` (reading them) first. ``shape`` narrows each server's data for offline commands.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    problems = [*found, *base_guild_problem(base)]
    built: list[tuple[Settings, ServerFile]] = []
    read: list[tuple[ServerFile, Mapping[str, Any]]] = []
    for server in servers:
        data, refused = merged(base, server)
        read.append((server, data))
        problems.extend(refused)
        settings, wrong = _validated(shape(data) if shape is not None else data)
        problems.extend(
            ConfigProblem(f"{server.label}: {p.key}", p.message, p.example)
            if from_server(p.key, base, server)
            else p
            for p in wrong
        )
        if settings is not None:
            built.append((settings, server))
    twice = duplicate_guilds(read)
    problems.extend(twice)
    if shape is None and not twice:  # offline, the IDs are stand-ins
        problems.extend(shared_ids(built))
    if not servers:  # config.toml's own deployment settings are still checked
        deployment = _offline_data(base, DEPLOYMENT_SECTIONS, with_discord=True, keep_guild=False)
        problems.extend(_validated(deployment)[1])
    first = built[0][0] if built else None
    token, missing = _read_token(base, first, environ, require_token)
    problems.extend(missing)
    if problems:
        raise ConfigError(_dedupe(problems), source)
    assert first is not None
    return Config(
        settings=first,
        token=token,
        source=source,
        servers=tuple(settings for settings, _ in built),
        server_files=tuple(server.path for _, server in built),
    )


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
    """Read, parse and validate the TOML file at ``path`` and, when it names a
    ``servers_dir``, every server file there; raise ConfigError on any problem."""
    source = Path(path)
    data = read_toml(source)
    folder = servers_dir(data, source)
    if folder is None:
        return parse_config(data, env=env, require_token=require_token, source=source)
    servers, found = read_servers(folder, source, read_toml)
    return parse_servers(
        data, servers, env=env, require_token=require_token, source=source, found=found
    )


#: Stands in for the server's IDs in a config read by a command that never talks to Discord.
STAND_IN_ID: Final = 1


def _offline_data(
    data: Mapping[str, Any], sections: Collection[str], *, with_discord: bool, keep_guild: bool
) -> dict[str, Any]:
    kept: dict[str, Any] = {name: data[name] for name in sections if name in data}
    discord = data.get("discord")
    given = dict(discord) if with_discord and isinstance(discord, Mapping) else {}
    if keep_guild:  # a server file: its guild_id names the server, so it must be right
        guild: object = discord.get("guild_id") if isinstance(discord, Mapping) else None
        given["guild_id"] = guild
    else:
        found = lenient_snowflake(discord.get("guild_id")) if isinstance(discord, Mapping) else None
        given["guild_id"] = found or STAND_IN_ID
    if given["guild_id"] is None:
        del given["guild_id"]  # reported as missing
    kept["discord"] = given
    kept["channels"] = dict.fromkeys(("announcements", "review", "mod_log"), STAND_IN_ID)
    if isinstance(kept.get("tiers"), list) and not with_discord:
        kept["tiers"] = [
            {**tier, "role_id": STAND_IN_ID + 1 + n} if isinstance(tier, Mapping) else tier
            for n, tier in enumerate(kept["tiers"])
        ]
    return kept


def load_offline_config(
    path: str | Path,
    sections: Collection[str],
    *,
    with_discord: bool = False,
    servers: bool = True,
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

    With ``servers_dir``, each server file is read the same way into
    :attr:`Config.servers` (its ``guild_id`` is required then: it names the server), unless
    ``servers`` is false, for a command about the deployment alone (``db``).
    """
    source = Path(path)
    data = read_toml(source)
    folder = servers_dir(data, source) if servers else None
    if folder is None:
        kept = _offline_data(data, sections, with_discord=with_discord, keep_guild=False)
        return parse_config(kept, require_token=False, source=source)
    files, found = read_servers(folder, source, read_toml)
    return parse_servers(
        data,
        files,
        require_token=False,
        source=source,
        found=found,
        shape=lambda merged: _offline_data(
            merged, sections, with_discord=with_discord, keep_guild=True
        ),
    )
