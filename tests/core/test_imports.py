"""Reading other bots' exports: MEE6 pages and CSV files, every problem named by file and line."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.imports import ImportRow, merge, parse_csv, parse_mee6, points_per_xp

ADA, GRACE = 300000000000000001, 300000000000000002


def page(*players: dict[str, object]) -> str:
    return json.dumps({"page": 0, "players": list(players)})


def test_a_mee6_page_converts_xp_to_points_rounding_half_up() -> None:
    text = page(
        {"id": str(ADA), "xp": 150, "level": 3, "message_count": 40},
        {"id": str(GRACE), "xp": 149, "message_count": 12},
    )
    rows, problems = parse_mee6("p.json", text, Decimal("0.01"))
    assert problems == []
    assert [(r.user_id, r.points, r.messages) for r in rows] == [(ADA, 2, 40), (GRACE, 1, 12)]
    assert rows[0].note == "MEE6: 150 XP, level 3" and rows[1].where == "p.json:players[1]"


def test_bad_players_are_named_by_their_place_and_none_is_kept() -> None:
    text = page(
        {"id": "not-an-id", "xp": 10},
        {"id": str(ADA), "xp": -5},
        {"id": str(GRACE), "xp": 5, "message_count": "many"},
        "nobody",
    )
    rows, problems = parse_mee6("p.json", text, Decimal(1))
    assert rows == []
    assert [str(p) for p in problems] == [
        "p.json:players[0]: id must be a Discord user id (got 'not-an-id')",
        "p.json:players[1]: xp must be a whole number of 0 or more (got -5)",
        "p.json:players[2]: message_count must be a whole number (got 'many')",
        "p.json:players[3]: a player must be an object",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "p.json:1: not valid JSON"),
        ('{"users": []}', 'p.json: not a MEE6 leaderboard page: no "players" list'),
    ],
)
def test_a_file_that_is_not_a_page_is_refused(text: str, problem: str) -> None:
    rows, problems = parse_mee6("p.json", text, Decimal(1))
    assert rows == [] and str(problems[0]).startswith(problem)


def test_a_csv_with_bom_blank_lines_and_optional_columns() -> None:
    text = f"\ufeffuser_id, points ,messages,note\n{ADA},120,33, from Arcane \n\n{GRACE},7,,\n"
    rows, problems = parse_csv("p.csv", text)
    assert problems == []
    assert rows == [
        ImportRow(ADA, 120, 33, "from Arcane", "p.csv:2"),
        ImportRow(GRACE, 7, None, "", "p.csv:4"),
    ]


def test_csv_problems_are_named_by_line() -> None:
    text = f"user_id,points\n{ADA},-1\nabc,5\n{GRACE},1.5\n{GRACE},3,extra\n"
    rows, problems = parse_csv("p.csv", text)
    assert rows == []
    assert [str(p) for p in problems] == [
        "p.csv:2: points must be a whole number of 0 or more (got '-1')",
        "p.csv:3: user_id must be a Discord user id (got 'abc')",
        "p.csv:4: points must be a whole number of 0 or more (got '1.5')",
        "p.csv:5: more fields than the header has",
    ]


def test_a_csv_header_must_name_its_columns() -> None:
    _, problems = parse_csv("p.csv", "id,score\n1,2\n")
    assert str(problems[0]) == (
        "p.csv:1: missing column(s) user_id, points; unknown column(s) id, score; the header "
        "is user_id,points,messages,note"
    )


def test_the_same_member_twice_is_one_row_unless_the_points_disagree() -> None:
    rows = [
        ImportRow(ADA, 10, None, "", "a:2"),
        ImportRow(ADA, 10, None, "", "b:2"),
        ImportRow(GRACE, 5, None, "", "a:3"),
        ImportRow(GRACE, 6, None, "", "b:3"),
    ]
    merged, problems = merge(rows)
    assert [r.where for r in merged] == ["a:2", "a:3"]
    assert [str(p) for p in problems] == [f"b:3: user {GRACE} has 6 points here but 5 at a:3"]


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "nan", "inf"])
def test_the_factor_must_be_a_positive_number(raw: str) -> None:
    with pytest.raises(ValueError, match="--points-per-xp must be"):
        points_per_xp(raw)


@given(
    st.lists(
        st.tuples(st.integers(1, 2**63), st.integers(0, 10**9), st.integers(0, 10**6)),
        unique_by=lambda player: player[0],
        max_size=30,
    ),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10), places=4),
)
def test_every_valid_player_is_read_with_its_points(players, factor) -> None:
    text = page(*({"id": str(i), "xp": xp, "message_count": m} for i, xp, m in players))
    rows, problems = parse_mee6("p.json", text, factor)
    assert problems == []
    assert [(r.user_id, r.messages) for r in rows] == [(i, m) for i, _, m in players]
    for row, (_, xp, _) in zip(rows, players, strict=True):
        assert abs(row.points - xp * factor) <= Decimal("0.5")


@given(st.lists(st.tuples(st.integers(1, 2**63), st.integers(0, 10**9)), max_size=30))
def test_a_csv_round_trips(pairs) -> None:
    text = "user_id,points\n" + "".join(f"{u},{p}\n" for u, p in pairs)
    rows, problems = parse_csv("p.csv", text)
    assert problems == [] and [(r.user_id, r.points) for r in rows] == pairs
