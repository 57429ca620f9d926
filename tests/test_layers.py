"""The layers stay where the README's architecture puts them, checked on the imports themselves.

* ``bot/core`` is pure: no discord, no SQLAlchemy, no services, no store.
* ``db`` imports nothing of the bot.
* ``bot/services`` never imports discord, a cog or the bot.
* ``cogs`` reach the store only through services: no ``db`` import.
* ``bot/web`` is a surface over the services as well: no cog, bot or ``db`` import (what it
  knows of the bot's connection comes through the probes it is given).
* Production code never imports the emulator or the demo.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path, *, module_level: bool = False) -> set[str]:
    """The modules ``path`` imports (only at module level: what importing it loads)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in tree.body if module_level else ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


RULES = [
    ("bot/core", ("discord", "sqlalchemy", "db", "bot.services", "cogs", "emulator")),
    ("db", ("bot", "cogs", "discord", "emulator")),
    ("bot/services", ("discord", "cogs", "bot.client", "bot.outbox", "emulator")),
    ("cogs", ("db", "emulator", "bot.demo")),
    ("bot/web", ("cogs", "bot.client", "bot.app", "db", "emulator", "bot.demo")),
]


@pytest.mark.parametrize(("folder", "forbidden"), RULES, ids=[folder for folder, _ in RULES])
def test_each_layer_imports_only_what_it_may(folder: str, forbidden: tuple[str, ...]) -> None:
    offending = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files(folder)
        for name in sorted(imports_of(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]
    assert offending == []


def test_production_code_never_loads_the_emulator_or_the_demo() -> None:
    """Only ``python -m bot demo`` imports the demo, inside the command (tests/test_app.py)."""
    production = [p for p in files("bot") if "demo" not in p.relative_to(ROOT).parts]
    production += files("cogs") + files("db")
    offending = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in production
        for name in sorted(imports_of(path, module_level=True))
        if name == "emulator" or name.startswith(("emulator.", "bot.demo"))
    ]
    assert offending == []
