"""The README's configuration reference names exactly the schema's keys, section by section."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from bot.config import KindConfig, RitualConfig, Settings, TierConfig

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| `\[{1,2}(?P<section>[a-z_]+)\]{1,2}` \| (?P<keys>[^|]+) \|", re.M)


def documented() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    reference = text[text.index("## Configuration reference") :]
    reference = reference[: reference.index("\n## ", 1)]
    return {
        m["section"]: set(re.findall(r"`([a-z_]+)`", m["keys"])) for m in ROW.finditer(reference)
    }


def schema() -> dict[str, set[str]]:
    sections: dict[str, set[str]] = {}
    for name, field in Settings.model_fields.items():
        model = {"tiers": TierConfig, "rituals": RitualConfig, "kinds": KindConfig}.get(
            name, field.annotation
        )
        assert isinstance(model, type) and issubclass(model, BaseModel), name
        sections[name] = set(model.model_fields)
    return sections


def test_the_configuration_reference_lists_every_section_and_key():
    assert documented() == schema()
