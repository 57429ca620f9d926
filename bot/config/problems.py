"""What a configuration problem is, and how values are quoted back in one.

Every other config module reports through these: validators raise :func:`problem`, the loader
turns each pydantic error into a :class:`ConfigProblem`, and :class:`ConfigError` carries all of
them at once so an operator fixes the whole file in one go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic_core import PydanticCustomError


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


# Our own pydantic error types. Each carries its text in ctx["message"], so an error can be
# rebuilt exactly (see schema._rebuilt) and translated without parsing pydantic's wording.
PROBLEM: Final = "config_problem"
"""A problem whose message is final: the loader shows it as it is."""
SNOWFLAKE: Final = "snowflake"
"""A bad Discord ID; ctx["reason"] tells the loader which hint to give."""


def problem(message: str, *, field: str | None = None) -> PydanticCustomError:
    """A validation error whose text is ``message``; ``field`` extends the key path."""
    context: dict[str, Any] = {"message": message}
    if field is not None:
        context["field"] = field
    return PydanticCustomError(PROBLEM, "{message}", context)


def bad_snowflake(message: str, reason: str) -> PydanticCustomError:
    """A validation error for a Discord ID; ``reason`` is type, zero, negative or range."""
    return PydanticCustomError(SNOWFLAKE, "{message}", {"message": message, "reason": reason})


def show(value: object) -> str:
    """A short TOML-ish rendering of a value for 'got …' remarks."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    return type(value).__name__


def number(value: object) -> str:
    """A number as people write it: ``5`` rather than ``5.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
