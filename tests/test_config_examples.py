"""config.example.toml and the schema's defaults and examples agree.

The schema (bot/config/schema.py) is the one place that states defaults and examples; the
example file is what operators copy. These tests fail as soon as the two drift apart.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.config import ConfigError, KindConfig, RitualConfig, Settings, TierConfig, parse_config
from bot.config.examples import EXAMPLES
from bot.config.schema import model_in

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
ENV = {"DISCORD_TOKEN": "token"}
ARRAYS = {"tiers": TierConfig, "rituals": RitualConfig, "kinds": KindConfig}
"""Sections written as arrays of tables ([[tiers]]): their entries are samples, not defaults."""
TABLES = [name for name in Settings.model_fields if name not in ARRAYS]

_HEADER = re.compile(r"^(?:# )?\[\[?([a-z_]+)\]\]?$")
_COMMENTED_KEY = re.compile(r"^# ([a-z_]+) = (.+)$")


def _section_model(section: str) -> type[BaseModel]:
    model = model_in(Settings.model_fields[section].annotation)
    assert model is not None
    return model


def _commented_out() -> dict[str, dict[str, list[Any]]]:
    """{section: {key: [values]}} for every ``# key = value`` line, by the header above it."""
    found: dict[str, dict[str, list[Any]]] = {}
    section = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = _HEADER.match(line)
        if header is not None:
            section = header.group(1)
            continue
        key = _COMMENTED_KEY.match(line)
        if key is not None and section:
            value = tomllib.loads(f"value = {key.group(2)}")["value"]
            found.setdefault(section, {}).setdefault(key.group(1), []).append(value)
    return found


def _defaults() -> dict[str, Any]:
    """Every default as the file would write it (``model_dump(mode="json")``)."""
    ids = {"announcements": 2, "review": 3, "mod_log": 4}
    data = {"discord": {"guild_id": 1}, "channels": ids}
    return parse_config(data, env=ENV).settings.model_dump(mode="json")


def _toml(value: object) -> str:
    # json.dumps tells 1 from 1.0 and 1 from true, which == does not.
    return json.dumps(value)


FILE = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
COMMENTED = _commented_out()
DEFAULTS = _defaults()


@pytest.mark.parametrize("section", TABLES)
def test_each_table_key_shows_its_default_or_is_an_optional_example(section: str) -> None:
    """The rule the file states in its header, for every [table] section of the schema.

    - The section has a header, and each of its keys appears exactly once, set or commented out.
    - A key that is set shows exactly the schema default, in the form the schema writes it
      ("mon 10:00", 1.0 for a float, a list for a tuple); a required key without a default is a
      Discord ID to fill in and shows the placeholder 0.
    - A key that is commented out has no default value of its own (None, or taken from another
      key as channels.newsletter is) and shows the schema's first example.
    So every key whose default is a value is in the file, set to that value.
    """
    model = _section_model(section)
    assert section in FILE, f"[{section}] is not in config.example.toml"
    table: dict[str, Any] = FILE[section]
    commented = COMMENTED.get(section, {})
    assert set(table) | set(commented) == set(model.model_fields)
    for key, field in model.model_fields.items():
        where = f"{section}.{key}"
        shown = [*([table[key]] if key in table else []), *commented.get(key, [])]
        assert len(shown) == 1, f"{where} appears {len(shown)} times"
        default = DEFAULTS[section][key]
        if key in table and not field.is_required():
            assert default is not None, f"{where} has no default: comment it out"
            assert _toml(table[key]) == _toml(default), f"{where} is not the default {default!r}"
        elif key in table:
            assert table[key] == 0, f"{where} is required: show the placeholder 0"
        else:
            assert field.is_required() or default is None, f"{where}: show its default"
            assert field.examples, f"{where} is commented out but the schema has no example"
            assert _toml(commented[key][0]) == _toml(field.examples[0]), (
                f"{where} shows {commented[key][0]!r}, the schema's example is "
                f"{field.examples[0]!r}"
            )


def test_the_commented_out_ritual_is_valid_and_shows_the_defaults() -> None:
    """The [[rituals]] block is commented out (no rituals by default) but must work once
    uncommented, with every key present and each key with a default set to it."""
    block = {key: values[0] for key, values in COMMENTED["rituals"].items()}
    assert set(block) == set(RitualConfig.model_fields)
    ritual = RitualConfig.model_validate(block)
    for key, field in RitualConfig.model_fields.items():
        if not field.is_required() and field.default not in (None, ""):
            assert getattr(ritual, key) == field.default, f"rituals.{key}: show the default"
    assert "rituals" not in FILE


def test_tiers_sample_a_ladder_with_every_key_in_the_first() -> None:
    """[[tiers]] entries are a sample ladder (their values are not defaults) and the first one
    lists every key, set or commented out."""
    first = {**FILE["tiers"][0], **COMMENTED["tiers"]}
    assert set(first) == set(TierConfig.model_fields)


# --- the schema's examples ----------------------------------------------------------------------


def _valid_base() -> dict[str, Any]:
    return {
        # shard_ids' example picks shards out of a number of them
        "discord": {"guild_id": 1, "shard_count": 4},
        "channels": {"announcements": 2, "review": 3, "mod_log": 4},
        "tiers": [{"key": "base", "name": "Base", "role_id": 5}],
        "rituals": [{"key": "base", "when": "mon 10:00", "title": "Base", "text": "Base"}],
        "kinds": [
            {
                "key": "base",
                "label": "Base",
                "noun": "base",
                "plural": "bases",
                "points": 1,
                "credited": "review",
            }
        ],
    }


def _key_examples() -> list[tuple[str, str, Any]]:
    """(section, key, value) for every example the schema gives, key or section."""
    found: list[tuple[str, str, Any]] = []
    for section, section_field in Settings.model_fields.items():
        for table in section_field.examples or []:
            entries = table if isinstance(table, list) else [table]
            found.extend((section, key, value) for entry in entries for key, value in entry.items())
        for key, field in _section_model(section).model_fields.items():
            found.extend((section, key, value) for value in field.examples or [])
    return found


@pytest.mark.parametrize(("section", "key", "value"), _key_examples())
def test_every_schema_example_is_a_valid_value(section: str, key: str, value: Any) -> None:
    data = _valid_base()
    table = data[section][0] if section in ARRAYS else data.setdefault(section, {})
    table[key] = value
    try:
        parse_config(data, env=ENV)
    except ConfigError as error:
        pytest.fail(f"the example for {section}.{key} is not valid: {error}")


@pytest.mark.parametrize("section", list(Settings.model_fields))
def test_every_section_has_an_example_table(section: str) -> None:
    assert EXAMPLES[section].startswith(f"[[{section}]] " if section in ARRAYS else f"[{section}] ")
