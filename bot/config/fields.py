"""Field types of the config file: what one value may be, and the plain words when it is not.

Each type is an ``Annotated`` pydantic type, so the schema reads as a list of keys with their
types and defaults while the checks and their wording live here, once.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Final, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    Strict,
)
from pydantic_core import PydanticCustomError

from bot.config.problems import bad_snowflake, problem, show

EXAMPLE_ID: Final = 123456789012345678
"""The Discord ID every example and hint shows."""

DIGITS: Final = re.compile(r"[0-9]+")
_MAX_SNOWFLAKE: Final = 2**64 - 1


def _check_snowflake(value: object) -> int:
    """A Discord ID: a positive int, or a string of digits (some people quote them)."""
    if isinstance(value, bool):
        raise bad_snowflake("must be a Discord ID", "type")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        if len(value.strip()) > len(str(_MAX_SNOWFLAKE)):  # and ``int`` refuses 4,300 digits
            raise bad_snowflake("is too large for a Discord ID", "range")
        number = int(value.strip())
    else:
        raise bad_snowflake("must be a Discord ID", "type")
    if number == 0:
        raise bad_snowflake("must be a Discord ID, not 0", "zero")
    if number < 0:
        raise bad_snowflake("must be a positive Discord ID", "negative")
    if number > _MAX_SNOWFLAKE:
        raise bad_snowflake("is too large for a Discord ID", "range")
    return number


def lenient_snowflake(value: object) -> int | None:
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
PositiveInt = Annotated[int, Strict(), Field(ge=1)]
Percent = Annotated[int, Strict(), Field(ge=0, le=100)]


def non_blank(value: str) -> str:
    """AfterValidator: text that is more than whitespace."""
    if not value.strip():
        raise problem("must not be empty")
    return value


def _url_checker(schemes: tuple[str, ...], *, strip_slash: bool) -> Callable[[str], str]:
    def check(value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme.lower() not in schemes or not parts.netloc:
            wanted = " or ".join(f"{scheme}://" for scheme in schemes)
            raise problem(f"must be a URL starting with {wanted} (got {show(value)})")
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

ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_env_name(value: str) -> str:
    # Never echo the value: people sometimes paste the token itself here.
    if ENV_NAME.fullmatch(value):
        return value
    if len(value) > 40 and "." in value:
        raise problem(
            "must be the NAME of an environment variable, and this looks like a bot token — "
            "put the token in the environment variable instead and keep the name here"
        )
    raise problem("must be the name of an environment variable: letters, digits and _ only")


EnvName = Annotated[str, Strict(), AfterValidator(_check_env_name)]

BIND_EXAMPLE: Final = "127.0.0.1:8080"


def _check_bind(value: str) -> str:
    """``host:port`` to listen on (an IPv6 host in brackets); port 0 lets the system pick."""
    text = value.strip()
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or (":" in host and not text.startswith("[")):
        raise problem(
            f'must be HOST:PORT, such as "{BIND_EXAMPLE}" or "0.0.0.0:8080" '
            f'(an IPv6 host in brackets: "[::1]:8080"); got {show(value)}'
        )
    if not (port.isascii() and port.isdigit()) or len(port) > 5 or int(port) > 65535:
        raise problem(f"the port must be a number from 0 to 65535; got {show(port)}")
    return f"{text.rpartition(':')[0]}:{int(port)}"


BindAddress = Annotated[str, Strict(), AfterValidator(_check_bind)]
"""Where a server listens: ``host:port``."""


def split_bind(value: str) -> tuple[str, int]:
    """``(host, port)`` of a validated :data:`BindAddress` (brackets of an IPv6 host removed)."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


ASYNC_DATABASE_SCHEMES: Final = ("sqlite+aiosqlite", "postgresql+asyncpg")
_URL_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")


def _check_database_url(value: str) -> str:
    # Never echo the whole URL: it may hold a password.
    match = _URL_SCHEME.match(value.strip())
    if match is None:
        raise problem(
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
    raise problem(
        f"must use an async driver, sqlite+aiosqlite or postgresql+asyncpg (got '{scheme}'){hint}"
    )


DatabaseUrl = Annotated[str, Strict(), AfterValidator(_check_database_url)]


def mask_database_url(url: str) -> str:
    """``url`` with the password (user info and ``password=`` parameters) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, tail = rest.rpartition("@")
        user, colon, _password = credentials.partition(":")
        rest = f"{user}:***@{tail}" if colon else f"{user}@{tail}"
    masked = f"{scheme}{sep}{rest}"
    return re.sub(r"(?i)((?:password|passwd|pwd)=)[^&;]*", r"\1***", masked)


def _check_timezone(value: str) -> str:
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise problem(
            f"unknown time zone {show(value)}{hint}; use an IANA name like 'Europe/Berlin'"
        ) from None
    return name


TimezoneName = Annotated[str, Strict(), AfterValidator(_check_timezone)]

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _upper(value: object) -> object:
    if isinstance(value, str) and value.strip().upper() in get_args(LogLevel):
        return value.strip().upper()
    return value


AnyCaseLogLevel = Annotated[LogLevel, BeforeValidator(_upper)]
"""A log level written in any case (``debug`` becomes ``DEBUG``)."""


def _path_checker(what: str, if_left_out: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, Path):
            return value
        if isinstance(value, str):
            if not value.strip():
                raise problem(f"must not be empty; leave the key out {if_left_out}")
            return Path(value.strip())
        raise problem(f"must be a {what} path in quotes (got {show(value)})")

    return check


FilePath = Annotated[Path, BeforeValidator(_path_checker("file", "to log to the console only"))]
FolderPath = Annotated[
    Path, BeforeValidator(_path_checker("folder", "to make this file the one server"))
]


def _check_shard_count(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise problem(
        'must be a number of shards from 1 up, or "auto" for the count Discord recommends '
        f"(got {show(value)})"
    )


ShardCount = Annotated[int | Literal["auto"], BeforeValidator(_check_shard_count)]
"""How many shards the bot's connections split the servers into; "auto": Discord's count."""


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


KIND_KEY_PATTERN: Final = r"^[a-z][a-z_]{0,31}$"
"""A contribution kind's key (:mod:`bot.core.kinds`): a TOML key and a ledger value."""

KindKey = Annotated[str, Strict(), Field(pattern=KIND_KEY_PATTERN)]

MinCounts = Annotated[
    Mapping[KindKey, NonNegInt],
    AfterValidator(CountMap),
    PlainSerializer(dict, return_type=dict[str, int]),
]
