"""Why the bot could not start, as one line that names the fix.

An operator meets these on the first ``run`` (a token pasted wrong, an intent left off, a
database path the service user cannot write, no network); a traceback would bury the one thing
they need to change. Each function turns one failure into that line for a :class:`StartupError`.
"""

from __future__ import annotations

import os
from pathlib import Path

import discord
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.config import mask_database_url

PORTAL = "https://discord.com/developers/applications"

#: Privileged intents as the Developer Portal's toggles name them (in its order), with the
#: application flags that say the toggle is on (``_limited``: on, for a bot in < 100 servers).
PRIVILEGED_TOGGLES = (
    ("presences", "Presence Intent", ("gateway_presence", "gateway_presence_limited")),
    (
        "members",
        "Server Members Intent",
        ("gateway_guild_members", "gateway_guild_members_limited"),
    ),
    (
        "message_content",
        "Message Content Intent",
        ("gateway_message_content", "gateway_message_content_limited"),
    ),
)


def token_refused(token_env: str) -> str:
    return (
        f"Discord refused the bot token in {token_env} (401 Unauthorized): in the Developer "
        f"Portal ({PORTAL}) open your application → Bot → Reset Token, and set {token_env} "
        "to the new token"
    )


def missing_toggles(intents: discord.Intents, flags: discord.ApplicationFlags | None) -> list[str]:
    """The portal toggles the bot needs and the application lacks (all it needs if unknown)."""
    needed = [(name, on) for attr, name, on in PRIVILEGED_TOGGLES if getattr(intents, attr)]
    everything = [name for name, _ in needed]
    if flags is None:
        return everything
    missing = [name for name, on in needed if not any(getattr(flags, f) for f in on)]
    return missing or everything  # the flags say all is on, yet Discord refused: name all


def intents_refused(toggles: list[str]) -> str:
    listed = " and ".join([", ".join(toggles[:-1]), toggles[-1]] if len(toggles) > 1 else toggles)
    return (
        f"Discord refused the gateway connection (4014): the bot needs privileged intents this "
        f"application has not enabled: in the Developer Portal ({PORTAL}) open your "
        f"application → Bot → Privileged Gateway Intents, switch on {listed}, save, and start "
        "again"
    )


def unreachable(api_base: str, error: OSError) -> str:
    reason = getattr(error, "os_error", None) or error
    return (
        f"cannot reach Discord at {api_base} ({reason}): check this machine's network "
        "connection, DNS, firewall or proxy, and discord.api_base / discord.gateway_url in "
        "the config"
    )


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite ``database.url`` names (None for another database or in-memory)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return Path(name.removeprefix("file:")).absolute()


def sqlite_unwritable(url: str) -> str | None:
    """Why the bot could not write the SQLite file at ``url``, found before opening it.

    Checked first because a SQLite connection that fails to open leaves aiosqlite's worker
    thread answering a closed event loop (a traceback at exit).
    """
    path = sqlite_file(url)
    if path is None:
        return None
    if path.is_dir():
        return _sqlite_line(path, "it is a directory")
    if not path.parent.is_dir():
        return _sqlite_line(path, f"no directory {path.parent}")
    if not os.access(path.parent, os.W_OK):
        return _sqlite_line(path, f"the directory {path.parent} is read-only")
    if path.exists() and not os.access(path, os.W_OK):
        return _sqlite_line(path, "the file is read-only")
    return None


def store_unusable(url: str, error: BaseException) -> str:
    """What is wrong with the database at ``url`` and how to fix it (the password masked)."""
    reason = str(error.orig if isinstance(error, DBAPIError) else error).strip()
    path = sqlite_file(url)
    if path is None:
        return (
            f"cannot use the database {mask_database_url(url)} ({reason or type(error).__name__})"
            ": check that it is running and reachable, and the user, password and database "
            "name in database.url"
        )
    return _sqlite_line(path, reason or type(error).__name__)


def _sqlite_line(path: Path, reason: str) -> str:
    if path.is_dir():
        fix = "set database.url to a file, e.g. sqlite+aiosqlite:///flywheel.db"
    elif not path.parent.is_dir():
        fix = f"create the directory {path.parent}, or set database.url to a file in another"
    else:
        fix = (
            f"make {path.name} and its directory writable by the user the bot runs as (SQLite "
            "writes -wal and -shm files beside it), or set database.url to a writable path"
        )
    return f"cannot use the SQLite database {path} ({reason}): {fix}"
