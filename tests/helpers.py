"""Test helpers shared by the CLI, harness and end-to-end tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w


def to_toml(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data)


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
