"""Contribution kinds have one home: every surface reads bot/core/kinds.py, nothing lists them.

A new kind is a row in ``KINDS`` plus the code that credits it. These tests hold the rest of the
program to that: each consumer's list of kinds is exactly the table's, a kind added to the table
reaches config, the ladder, recognition, /profile, /leaderboard and /tiers without a KeyError,
and no other module spells a kind's key.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import POINT_KINDS, PointsConfig, TierConfig
from bot.config.schema import points_model
from bot.core import kinds
from bot.core.kinds import KINDS, Kind, keys
from bot.core.ladder import Criterion
from bot.core.periods import quarterly_period, weekly_period
from bot.core.recognition import (
    Award,
    AwardsInputs,
    WeeklyInputs,
    compose_awards,
    compose_weekly,
    render_weekly,
)
from bot.services.stats import LeaderboardPage, Profile, Row
from cogs.contributions import KIND_CHOICES
from cogs.profile import ALL_KINDS, Profiles, leaderboard_embed, profile_embed
from cogs.tiers import requirements
from db.repositories.stats import Totals

ROOT = Path(__file__).resolve().parent.parent

REVIEW = Kind(
    key="code_review",
    default_points=4,
    label="Code reviews",
    one="code review",
    many="code reviews",
    credited="For reviewing a pull request.",
    award="Top reviewer",
    weekly=True,
    rank=8,
)


# --------------------------------------------------------------------------- every consumer


def test_the_points_section_is_the_table() -> None:
    assert keys() == POINT_KINDS
    assert tuple(PointsConfig.model_fields) == keys()
    points = PointsConfig()
    assert {k: points.for_kind(k) for k in keys()} == {k.key: k.default_points for k in KINDS}


def test_command_choices_are_the_table() -> None:
    [kind_param] = [p for p in Profiles.leaderboard.parameters if p.name == "kind"]
    board = [(choice.value, choice.name) for choice in kind_param.choices]
    assert board == [(ALL_KINDS, "All contributions"), *((k.key, k.label) for k in KINDS)]
    assert [(c.value, c.name) for c in KIND_CHOICES] == [(k.key, k.one.capitalize()) for k in KINDS]


def test_config_example_lists_every_kind_with_its_default_and_how_it_is_credited() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert tomllib.loads(text)["points"] == {k.key: k.default_points for k in KINDS}
    section = text.split("\n[points]\n", 1)[1].split("\n[", 1)[0].splitlines()
    for row in KINDS:
        at = section.index(f"{row.key} = {row.default_points}")
        assert section[at - 1] == f"# {row.credited}", f"[points] {row.key}: comment it as credited"


def test_readme_lists_the_points_keys() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [line] = [line for line in readme.splitlines() if line.startswith("| `[points]` |")]
    assert re.findall(r"`([a-z_]+)`", line.split("|")[2]) == list(keys())


# --------------------------------------------------------------------------- a new kind


@pytest.fixture
def with_review(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table with one more kind, as the next issue's server-defined kinds will extend it."""
    monkeypatch.setattr(kinds, "KINDS", (*KINDS, REVIEW))


def test_a_new_kind_is_a_points_key_with_its_default(with_review: None) -> None:
    model = points_model(kinds.KINDS)
    assert tuple(model.model_fields) == (*POINT_KINDS, "code_review")
    assert model().for_kind("code_review") == 4
    assert model.model_validate({"code_review": 7}).for_kind("code_review") == 7
    with pytest.raises(ValidationError, match="code_reviews"):
        model.model_validate({"code_reviews": 7})  # extra keys are still refused
    with pytest.raises(KeyError, match="unknown contribution kind 'nope'"):
        model().for_kind("nope")


def test_a_new_kind_reads_right_in_the_ladder_and_tiers(with_review: None) -> None:
    assert Criterion("code_review", 3, 1, False).describe() == "1/3 code reviews ✗"
    tier = TierConfig.model_construct(min_counts={"code_review": 1, "answer": 2}, window_days=30)
    assert requirements(tier) == "1 code review, 2 accepted answers in the last 30 days"


def test_a_new_kind_has_its_weekly_section_and_award(with_review: None) -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    week = WeeklyInputs(
        period=weekly_period(now, UTC),
        counts={1: {"code_review": 2, "answer": 1}},
        hidden=frozenset(),
        arrivals=(),
        nominations=(),
        candidates={},
        recently_spotlighted=frozenset(),
    )
    (embed,) = render_weekly(compose_weekly(week))
    assert [(f.name, f.value) for f in embed.fields] == [
        ("Answers", "1. <@1> — 1 accepted answer"),
        ("Code reviews", "1. <@1> — 2 code reviews"),
    ]
    awards = compose_awards(
        AwardsInputs(
            period=quarterly_period(now, UTC),
            counts={1: {"code_review": 2}},
            points={1: {"code_review": 8}},
            hidden=frozenset(),
            active_days={},
        )
    )
    assert awards.awards == (Award("code_review", "Top reviewer", 1, 2, 8, "2 code reviews"),)


def test_a_new_kind_shows_on_profile_and_leaderboard(with_review: None) -> None:
    totals: dict[Any, dict[str, Totals]] = {
        period: {"code_review": Totals(2, 8)} for period in ("week", "month", "all")
    }
    profile = Profile(5, totals, {"week": 1, "month": 1, "all": 1}, None, None, None)
    assert profile.kinds == ["code_review"]
    member: Any = SimpleNamespace(display_name="Ada", mention="<@5>")
    assert [field.name for field in profile_embed(member, profile).fields] == ["Code reviews"]
    board = LeaderboardPage("week", "code_review", 0, [Row(1, 5, 8, 2)], False)
    assert (leaderboard_embed(board).description or "").startswith("*Code reviews*\n")
    empty = replace(board, rows=[])
    assert (leaderboard_embed(empty).description or "").startswith("No code reviews in")


# --------------------------------------------------------------------------- nobody else lists them

#: Modules that credit a kind (or, for answers, read back its own credits): the only places
#: besides bot/core/kinds.py where a kind's key may be written.
CREDITED_IN: dict[str, set[str]] = {
    "bot/services/activity.py": {"message_day"},
    "bot/services/answers.py": {"answer"},
    "db/repositories/questions.py": {"answer"},
    "bot/services/thanks.py": {"thanks_received"},
    "bot/services/events.py": {"event_hosted", "event_attended"},
    "bot/services/content.py": {"content"},
    "bot/services/referrals.py": {"referral"},
    "bot/services/buddies.py": {"mentoring"},
    "bot/services/feedback.py": {"feedback"},
    "bot/services/programs.py": {"beta_testing", "user_research"},
    # The content feature's review card is named after it (custom ids), not after the kind;
    # so is the /feedback command group.
    "cogs/content.py": {"content"},
    "cogs/feedback.py": {"feedback"},
}
#: The table itself, and the demo's sample community and scenes (data, like the example file).
NOT_CHECKED = ("bot/core/kinds.py", "bot/demo/")


def _key_literals(path: Path) -> set[str]:
    """Kind keys written as string literals, leaving out dict keys and subscripts: a Discord
    payload's ``"content"`` field is not the contribution kind."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    payload: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            payload.update(id(key) for key in node.keys if key is not None)
        elif isinstance(node, ast.Subscript):
            payload.add(id(node.slice))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in keys()
        and id(node) not in payload
    }


def test_no_module_but_the_table_and_the_crediting_code_spells_a_kind_key() -> None:
    found = {}
    for package in ("bot", "cogs", "db"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name.startswith(NOT_CHECKED):
                continue
            extra = _key_literals(path) - CREDITED_IN.get(name, set())
            if extra:
                found[name] = sorted(extra)
    assert found == {}, "read these kinds from bot.core.kinds instead"


def test_the_check_sees_a_key_in_code_but_not_a_payload_field(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        'credit("answer", 1)\nbody = {"content": "hi"}\ntext = body["content"]\n'
        'label = "content shared"\n',
        encoding="utf-8",
    )
    assert _key_literals(module) == {"answer"}
