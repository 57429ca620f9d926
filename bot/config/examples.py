"""The example shown with every config problem, derived from the schema.

A key's example is the first of its ``Field(examples=…)``, else its default; a section's is the
short table in its ``Settings`` field's examples. Nothing here is written by hand, so a default
changed in the schema changes its example with it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.config.schema import Settings, model_in

FALLBACK_EXAMPLE: Final = "see config.example.toml, which documents every key"


def toml_value(value: object) -> str:
    """``value`` written as in a TOML file (times and paths as quoted text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dt.time):
        return json.dumps(f"{value:%H:%M}")  # as the config writes a daily time
    return json.dumps(str(value), ensure_ascii=False)


def _example_value(field: FieldInfo) -> object | None:
    """The field's first example, else its default; None when neither makes an example."""
    value: object = field.examples[0] if field.examples else field.default
    if value is PydanticUndefined or value is None or value in ("", ()):
        return None
    return value


def _section_line(name: str, value: object) -> str | None:
    """``[name] key = value, …`` for a table example, ``[[name]] …`` for an array of tables."""
    header = f"[{name}]"
    if isinstance(value, list | tuple) and value:
        header, value = f"[[{name}]]", value[0]
    if not isinstance(value, Mapping):
        return None
    return f"{header} " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items())


def _collect() -> dict[str, str]:
    examples: dict[str, str] = {}
    for section, section_field in Settings.model_fields.items():
        line = _section_line(section, section_field.examples[0]) if section_field.examples else None
        if line is not None:
            examples[section] = line
        model = model_in(section_field.annotation)
        for name, field in model.model_fields.items() if model is not None else ():
            value = _example_value(field)
            if value is not None:
                examples[f"{section}.{name}"] = f"{name} = {toml_value(value)}"
    return examples


EXAMPLES: Final[Mapping[str, str]] = MappingProxyType(_collect())
"""``section`` or ``section.key`` → an example line, e.g. ``cooldown_seconds = 60``."""


def example_for(parts: Sequence[str | int]) -> str:
    """The example for a key path (list indices ignored), else for its nearest table."""
    names = tuple(part for part in parts if isinstance(part, str))
    for end in range(len(names), 0, -1):
        example = EXAMPLES.get(".".join(names[:end]))
        if example is not None:
            return example
    return FALLBACK_EXAMPLE
