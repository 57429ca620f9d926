"""Several servers in one deployment: config.toml plus a folder of server files.

With ``[discord] servers_dir``, every ``*.toml`` in that folder (by file name) is one server: the
very schema of config.toml, laid over it. ``[discord]`` merges key by key (a server file gives
its ``guild_id`` and nothing else of it); any other section in a server file replaces
config.toml's section of that name, so config.toml's sections are every server's defaults. The
deployment-wide settings (:data:`DEPLOYMENT_SECTIONS`, and ``[discord]`` but ``guild_id``) are
refused in a server file: one process has one database, one log and one set of shards.

A file per server rather than ``[[guilds]]`` tables: a community team edits only its own file,
problems come with that file's name and line numbers, and adding a server is adding a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bot.config.examples import example_for
from bot.config.fields import EXAMPLE_ID, lenient_snowflake
from bot.config.problems import ConfigError, ConfigProblem
from bot.config.schema import DiscordConfig, Settings

DEPLOYMENT_SECTIONS: Final = ("database", "logging", "web")
"""Sections that hold for the whole deployment, so only config.toml has them."""
SERVER_DISCORD_KEYS: Final = frozenset({"guild_id"})
"""The ``[discord]`` keys a server file gives; the rest of ``[discord]`` is the deployment's."""
_DEPLOYMENT_DISCORD_KEYS: Final = frozenset(DiscordConfig.model_fields) - SERVER_DISCORD_KEYS
_SERVER_EXAMPLE: Final = f"[discord] guild_id = {EXAMPLE_ID}, then [channels] and the program"


@dataclass(frozen=True)
class ServerFile:
    """One server file as read: how problems name it, where it is, and its parsed TOML."""

    label: str
    path: Path
    data: Mapping[str, Any]


def servers_dir(data: Mapping[str, Any], source: Path) -> Path | None:
    """The folder of server files config ``data`` (read from ``source``) names, resolved
    against ``source``'s folder; None when it names none (or a value reported on its own)."""
    discord = data.get("discord")
    value = discord.get("servers_dir") if isinstance(discord, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        return None
    return source.parent / Path(value.strip()).expanduser()


def _label(path: Path, source: Path) -> str:
    try:
        return str(path.relative_to(source.parent))
    except ValueError:
        return str(path)


def read_servers(
    folder: Path, source: Path, read: Callable[[Path], Mapping[str, Any]]
) -> tuple[list[ServerFile], list[ConfigProblem]]:
    """Every server file in ``folder`` (``read`` parses one TOML file or raises ConfigError),
    and every problem reading them; no file at all is a problem too."""
    shown = _label(folder, source)
    fix = f"add one file per server to {shown}, e.g. {shown}/acme.toml holding {_SERVER_EXAMPLE}"
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        return [], [ConfigProblem("discord.servers_dir", f"the folder {shown} {what}", fix)]
    paths = sorted(
        p for p in folder.glob("*.toml") if not p.name.startswith(".") and not p.is_dir()
    )
    if not paths:
        message = f"the folder {shown} holds no server file (*.toml)"
        return [], [ConfigProblem("discord.servers_dir", message, fix)]
    servers: list[ServerFile] = []
    problems: list[ConfigProblem] = []
    for path in paths:
        label = _label(path, source)
        try:
            servers.append(ServerFile(label, path, read(path)))
        except ConfigError as err:  # the key is the path: the label says it shorter
            problems.extend(
                ConfigProblem(label, p.message, p.example) if p.key == str(path) else p
                for p in err.problems
            )
    return servers, problems


def merged(
    base: Mapping[str, Any], server: ServerFile
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """config.toml's ``base`` with ``server`` laid over it, and the deployment-wide settings
    the server file sets (refused: they hold for every server)."""
    problems: list[ConfigProblem] = []
    data = {name: value for name, value in base.items()}
    base_discord = base.get("discord")
    discord = {
        key: value
        for key, value in (base_discord.items() if isinstance(base_discord, Mapping) else ())
        if key not in SERVER_DISCORD_KEYS
    }
    for name, value in server.data.items():
        if name in DEPLOYMENT_SECTIONS:
            problems.append(_deployment_wide(server.label, (name,), f"[{name}]"))
        elif name == "discord" and isinstance(value, Mapping):
            for key, item in value.items():
                if key in _DEPLOYMENT_DISCORD_KEYS:
                    problems.append(_deployment_wide(server.label, ("discord", key), key))
                else:
                    discord[key] = item  # guild_id; an unknown key is reported as such
        else:
            data[name] = value
    if not isinstance(server.data.get("discord"), Mapping | None):
        data["discord"] = server.data["discord"]  # not a table: reported as such
    else:
        data["discord"] = discord
    return data, problems


def _deployment_wide(label: str, parts: tuple[str, ...], what: str) -> ConfigProblem:
    return ConfigProblem(
        f"{label}: {'.'.join(parts)}",
        f"{what} holds for the whole deployment, not one server: set it in config.toml "
        "(the file naming servers_dir) and remove it here",
        f"in config.toml: {example_for(parts)}",
    )


_SECTION: Final = re.compile(r"([^.\[]+)(?:\.([^.\[]+))?")


def from_server(key: str, base: Mapping[str, Any], server: ServerFile) -> bool:
    """Whether the problem at ``key`` of a merged server is the server file's to fix (else
    config.toml's: a section the server inherits, or a deployment-wide key)."""
    found = _SECTION.match(key)
    if found is None:
        return True
    section, sub = found.groups()
    if section == "discord":
        own = server.data.get("discord")
        return (
            sub is None or sub in SERVER_DISCORD_KEYS or (isinstance(own, Mapping) and sub in own)
        )
    return section in server.data or section not in base


def base_guild_problem(base: Mapping[str, Any]) -> list[ConfigProblem]:
    """config.toml giving a ``guild_id`` beside ``servers_dir``: which server would it be?"""
    discord = base.get("discord")
    if isinstance(discord, Mapping) and "guild_id" in discord:
        return [
            ConfigProblem(
                "discord.guild_id",
                "with servers_dir, each server's guild_id is in its own server file: "
                "remove it here",
                _SERVER_EXAMPLE,
            )
        ]
    return []


def duplicate_guilds(servers: list[tuple[ServerFile, Mapping[str, Any]]]) -> list[ConfigProblem]:
    """Two server files for one server."""
    seen: dict[int, str] = {}
    problems: list[ConfigProblem] = []
    for server, data in servers:
        discord = data.get("discord")
        guild_id = (
            lenient_snowflake(discord.get("guild_id")) if isinstance(discord, Mapping) else None
        )
        if guild_id is None:
            continue
        if guild_id in seen:
            problems.append(
                ConfigProblem(
                    f"{server.label}: discord.guild_id",
                    f"server {guild_id} also has the file {seen[guild_id]}: keep one file per "
                    "server",
                    f"guild_id = {EXAMPLE_ID}",
                )
            )
        else:
            seen[guild_id] = server.label
    return problems


def _owned_ids(settings: Settings) -> dict[int, tuple[str, str]]:
    """The IDs of one server's own roles and channels: id → (key, section it is in)."""
    ids: dict[int, tuple[str, str]] = {}
    for index, tier in enumerate(settings.tiers):
        ids.setdefault(tier.role_id, (f"tiers[{index}].role_id", "tiers"))
    channels = settings.channels
    for name in ("announcements", "review", "mod_log", "newsletter"):
        ids.setdefault(getattr(channels, name), (f"channels.{name}", "channels"))
    return ids


def shared_ids(servers: Sequence[tuple[Settings, ServerFile]]) -> list[ConfigProblem]:
    """A tier role or channel named by two servers: a role or channel is in one server only,
    so one of them has the wrong ID, often because both inherit config.toml's section."""
    seen: dict[int, tuple[str, str]] = {}
    problems: list[ConfigProblem] = []
    for settings, server in servers:
        for value, (key, section) in _owned_ids(settings).items():
            if value not in seen:
                seen[value] = (server.label, key)
                continue
            other, other_key = seen[value]
            inherited = (
                ""
                if section in server.data
                else f" (both use config.toml's [{section}]: give each server its own)"
            )
            problems.append(
                ConfigProblem(
                    f"{server.label}: {key}",
                    f"{value} is also {other_key} of {other}, and a role or channel belongs to "
                    f"one server{inherited}",
                    f"{key.rpartition('.')[2]} = {EXAMPLE_ID}",
                )
            )
    return problems
