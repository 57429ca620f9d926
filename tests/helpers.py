"""Test helpers shared by the CLI, harness and end-to-end tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for config dicts: tables of scalars and arrays of tables."""
    lines: list[str] = []
    for section, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{section}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
                lines.append("")
        else:
            lines.append(f"[{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in body.items()]
            lines.append("")
    return "\n".join(lines)


def minimal_config(
    *,
    guild_id: int = 111111111111111111,
    database_url: str = "sqlite+aiosqlite:///flywheel.db",
    **sections: dict[str, Any] | list[dict[str, Any]],
) -> dict[str, Any]:
    """The smallest valid configuration, with ``sections`` merged over it."""
    data: dict[str, Any] = {
        "discord": {"guild_id": guild_id},
        "database": {"url": database_url},
        "channels": {
            "announcements": 222222222222222222,
            "review": 333333333333333333,
            "mod_log": 444444444444444444,
        },
    }
    for name, body in sections.items():
        if isinstance(body, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **body}
        else:
            data[name] = body
    return data


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(to_toml(data), encoding="utf-8")
    return path


EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def copied_example(path: Path, *, database_url: str) -> Path:
    """``config.example.toml`` copied as a newcomer does, only the database URL changed."""
    text = EXAMPLE.read_text(encoding="utf-8")
    default = 'url = "sqlite+aiosqlite:///flywheel.db"'
    assert default in text
    path.write_text(text.replace(default, f'url = "{database_url}"'), encoding="utf-8")
    return path
