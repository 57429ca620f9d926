"""Contribution kinds have one home: every surface reads the kind table, nothing lists them.

A new built-in kind is a row in ``bot/core/kinds.py`` plus the code that credits it; a server's
own kind is a ``[[kinds]]`` entry and nothing else. These tests hold the rest of the program to
that: each consumer's list of kinds is the table's, a server's kind reaches config, the ladder,
recognition, /profile, /leaderboard and /tiers with its own words, and no other module spells a
kind's key.
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

from bot.config import PointsConfig, Settings, parse_config
from bot.core.kinds import BUILT_IN
from bot.core.ladder import Criterion, TierRule
from bot.core.periods import quarterly_period, weekly_period
from bot.core.recognition import (
    Award,
    AwardsInputs,
    WeeklyInputs,
    compose_awards,
    compose_weekly,
    render_weekly,
)
from bot.errors import UserFacingError
from bot.kind_choices import chosen_kind, key_of, kind_choices
from bot.services.stats import LeaderboardPage, Profile, Row
from cogs.contributions import Contributions
from cogs.profile import ALL_KINDS, EVERY_KIND, Profiles, leaderboard_embed, profile_embed
from cogs.tiers import requirements
from db.repositories.stats import Totals
from tests.helpers import minimal_config

KINDS = BUILT_IN.rows

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- every consumer


def test_the_points_section_is_the_built_in_table() -> None:
    assert tuple(PointsConfig.model_fields) == tuple(k.key for k in KINDS if k.configurable)
    settings = parse_config(minimal_config(), require_token=False).settings
    assert settings.kinds == BUILT_IN
    points = {row.key: settings.points_for(row.key) for row in KINDS}
    assert points == {row.key: row.default_points for row in KINDS}
    with pytest.raises(KeyError, match="unknown contribution kind 'nope'"):
        settings.points_for("nope")


def test_kind_parameters_autocomplete_from_the_table() -> None:
    """Static choices cap at 25 and are fixed at sync: kind parameters autocomplete instead."""
    for command, name in (
        (Profiles.leaderboard, "kind"),
        (Contributions.add, "kind"),
        (Contributions.submit, "kind"),
    ):
        [param] = [p for p in command.parameters if p.name == name]
        assert param.autocomplete and not param.choices, command.qualified_name
    everything = kind_choices(BUILT_IN, "", first=(EVERY_KIND,))
    assert [(c.value, c.name) for c in everything] == [
        (ALL_KINDS, "All contributions"),
        *((k.key, k.label) for k in KINDS),
    ]
    assert [c.value for c in kind_choices(BUILT_IN, "ANSW")] == ["answer"]
    assert [c.value for c in kind_choices(BUILT_IN, "thank")] == ["thanks_received"]


def test_a_kind_is_chosen_by_key_or_label_and_anything_else_is_named() -> None:
    assert chosen_kind(BUILT_IN, "answer").key == "answer"
    assert chosen_kind(BUILT_IN, " content shared ").key == "content"
    with pytest.raises(UserFacingError, match=r"There is no kind 'answerz' here\. Pick one of: "):
        chosen_kind(BUILT_IN, "answerz")
    assert key_of(BUILT_IN, "Answers") == "answer"
    assert key_of(BUILT_IN, "nothing") == "nothing"


def test_config_example_lists_every_kind_with_its_default_and_how_it_is_credited() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    configurable = [k for k in KINDS if k.configurable]
    assert tomllib.loads(text)["points"] == {k.key: k.default_points for k in configurable}
    section = text.split("\n[points]\n", 1)[1].split("\n[", 1)[0].splitlines()
    for row in configurable:
        at = section.index(f"{row.key} = {row.default_points}")
        assert section[at - 1] == f"# {row.credited}", f"[points] {row.key}: comment it as credited"


def test_readme_lists_the_points_keys() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [line] = [line for line in readme.splitlines() if line.startswith("| `[points]` |")]
    assert re.findall(r"`([a-z_]+)`", line.split("|")[2]) == [
        k.key for k in KINDS if k.configurable
    ]


# --------------------------------------------------------------------------- a server's own kind

CODE_REVIEW = {
    "key": "code_review",
    "label": "Code reviews",
    "noun": "code review",
    "plural": "code reviews",
    "points": 4,
    "credited": "moderators",
    "description": "For reviewing a pull request.",
    "award": "Top reviewer",
    "weekly": True,
}
TALK = {
    "key": "talk",
    "label": "Talks given",
    "noun": "talk",
    "plural": "talks",
    "points": 15,
    "credited": "review",
}


@pytest.fixture
def settings() -> Settings:
    """Settings of a server with two kinds of its own, as ``[[kinds]]`` defines them."""
    data = minimal_config(kinds=[CODE_REVIEW, TALK])
    data["tiers"] = [
        {
            "key": "speaker",
            "name": "Speaker",
            "role_id": 900000000000000001,
            "window_days": 30,
            "min_counts": {"code_review": 1, "answer": 2, "talk": 1},
        }
    ]
    return parse_config(data, require_token=False).settings


def test_a_server_kind_has_its_points_its_words_and_its_rank(settings: Settings) -> None:
    table = settings.kinds
    assert table.keys() == (*BUILT_IN.keys(), "code_review", "talk")
    assert settings.points_for("code_review") == 4 and settings.points_for("talk") == 15
    review, talk = table.kind("code_review"), table.kind("talk")
    assert (review.credit, review.rank, review.credited) == (
        "moderators",
        BUILT_IN.next_rank(),
        "For reviewing a pull request.",
    )
    assert talk.rank is None and talk.credit == "review"
    assert talk.credited == "Submitted with /contribution submit and approved by a moderator."
    assert table.credited_by("review") == (talk,)
    assert settings.model_dump()["kinds"][1]["key"] == "talk"


def test_a_server_kind_reads_right_in_the_ladder_and_tiers(settings: Settings) -> None:
    [rule] = [TierRule.of(tier, settings.kinds) for tier in settings.tiers]
    assert rule.nouns == {
        "code_review": "code reviews",
        "answer": "accepted answers",
        "talk": "talks",
    }
    assert Criterion("code_review", 3, 1, False, "code reviews").describe() == "1/3 code reviews ✗"
    assert requirements(settings.tiers[0], settings.kinds) == (
        "1 code review, 2 accepted answers, 1 talk in the last 30 days"
    )


def test_a_server_kind_has_its_weekly_section_and_award(settings: Settings) -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    week = WeeklyInputs(
        period=weekly_period(now, UTC),
        counts={1: {"code_review": 2, "answer": 1, "talk": 1}},
        hidden=frozenset(),
        arrivals=(),
        nominations=(),
        candidates={},
        recently_spotlighted=frozenset(),
        kinds=settings.kinds,
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
            kinds=settings.kinds,
        )
    )
    rank = BUILT_IN.next_rank()
    assert awards.awards == (Award("code_review", "Top reviewer", 1, 2, 8, "2 code reviews"),)
    assert awards.awards[0].title == settings.kinds.awarded()[-1].award
    assert settings.kinds.kind("code_review").rank == rank


def test_a_server_kind_shows_on_profile_and_leaderboard(settings: Settings) -> None:
    totals: dict[Any, dict[str, Totals]] = {
        period: {"talk": Totals(1, 15), "code_review": Totals(2, 8), "gone": Totals(1, 1)}
        for period in ("week", "month", "all")
    }
    profile = Profile(
        5, totals, {"week": 1, "month": 1, "all": 1}, None, None, None, settings.kinds.keys()
    )
    assert profile.kinds == ["code_review", "talk", "gone"]
    member: Any = SimpleNamespace(display_name="Ada", mention="<@5>")
    fields = profile_embed(member, profile, settings.kinds).fields
    assert [field.name for field in fields] == ["Code reviews", "Talks given", "Gone"]
    board = LeaderboardPage("week", "code_review", 0, [Row(1, 5, 8, 2)], False)
    assert (leaderboard_embed(board, settings.kinds).description or "").startswith(
        "*Code reviews*\n"
    )
    empty = replace(board, rows=[])
    assert (leaderboard_embed(empty, settings.kinds).description or "").startswith(
        "No code reviews in"
    )
    assert [c.value for c in kind_choices(settings.kinds, "talk")] == ["talk"]


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
    "bot/services/imports.py": {"imported"},
    # The content feature's review card is named after it (custom ids), not after the kind;
    # so is the /feedback command group.
    "cogs/content.py": {"content"},
    "cogs/feedback.py": {"feedback"},
    # The web's review queue decides the same card, by the same name.
    "bot/web/staff.py": {"content"},
    # The column's default: what a submission made before server-defined kinds credits.
    "db/models.py": {"content"},
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
        and node.value in BUILT_IN
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
