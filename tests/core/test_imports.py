"""Reading other bots' exports: MEE6 pages and CSV files, every problem named by file and line."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.imports import MAX_POINTS, ImportRow, merge, parse_csv, parse_mee6, points_per_xp

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
        "p.json:players[2]: message_count must be a whole number of 0 or more (got 'many')",
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


def test_a_csv_of_another_bot_s_xp_converts_by_the_factor_rounding_half_up() -> None:
    text = f"user_id,points,note\n{ADA},150,Tatsu XP\n{GRACE},{MAX_POINTS * 100 + 100},\n"
    rows, problems = parse_csv("t.csv", text, Decimal("0.01"))
    assert rows == [ImportRow(ADA, 2, None, "Tatsu XP", "t.csv:2")]  # 1.5 rounds up
    assert [str(p) for p in problems] == [
        f"t.csv:3: {MAX_POINTS + 1} points is more than the {MAX_POINTS:,} one member can be "
        f"given ({MAX_POINTS * 100 + 100} × 0.01)"
    ]
    # By default the points column is taken as it is.
    assert parse_csv("t.csv", text.replace(str(MAX_POINTS * 100 + 100), "7"))[0][1].points == 7


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
        st.tuples(st.integers(1, 2**63), st.integers(0, 10**7), st.integers(0, 10**6)),
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


@given(st.lists(st.tuples(st.integers(1, 2**63), st.integers(0, MAX_POINTS)), max_size=30))
def test_a_csv_round_trips(pairs) -> None:
    text = "user_id,points\n" + "".join(f"{u},{p}\n" for u, p in pairs)
    rows, problems = parse_csv("p.csv", text)
    assert problems == [] and [(r.user_id, r.points) for r in rows] == pairs


# ------------------------------------------------------------------- what a file can get wrong


def test_more_points_than_a_member_can_hold_are_refused() -> None:
    over = MAX_POINTS + 1
    _, problems = parse_csv("p.csv", f"user_id,points\n{ADA},{over}\n{GRACE},{MAX_POINTS}\n")
    assert [str(p) for p in problems] == [
        f"p.csv:2: {over} points is more than the 100,000,000 one member can be given"
    ]
    rows, problems = parse_mee6("p.json", page({"id": str(ADA), "xp": 10**12}), Decimal("0.01"))
    assert rows == [] and str(problems[0]).startswith("p.json:players[0]: 10000000000 points is")
    assert "(1000000000000 XP × 0.01)" in str(problems[0])


def test_another_server_s_leaderboard_is_refused() -> None:
    ours, theirs = 111111111111111111, 999999999999999999
    other = json.dumps({"guild": {"id": str(theirs)}, "players": [{"id": str(ADA), "xp": 5}]})
    rows, problems = parse_mee6("p.json", other, Decimal(1), guild_id=ours)
    assert rows == [] and [str(p) for p in problems] == [
        f"p.json: this is server {theirs}'s leaderboard, not this server's ({ours}, "
        "discord.guild_id): save the pages of this server's leaderboard"
    ]
    mixed = page(
        {"id": str(ADA), "xp": 5, "guild_id": str(ours)},
        {"id": str(GRACE), "xp": 5, "guild_id": str(theirs)},
    )
    rows, problems = parse_mee6("p.json", mixed, Decimal(1), guild_id=ours)
    assert [r.user_id for r in rows] == [ADA]
    assert str(problems[0]).startswith(f"p.json:players[1]: this is server {theirs}'s")
    assert parse_mee6("p.json", other, Decimal(1))[1] == [], "no server to compare: taken"


def test_an_id_a_spreadsheet_rounded_gets_a_hint() -> None:
    text = 'user_id,points\n3.00E+17,5\n"300,000,000,000,000,001",5\nada,5\n'
    _, problems = parse_csv("p.csv", text)
    hint = "(a spreadsheet rounds long ids: format the column as text and export again)"
    assert [str(p).endswith(hint) for p in problems] == [True, True, False]


def test_a_column_named_twice_is_refused() -> None:
    _, problems = parse_csv("p.csv", "user_id,points,Points\n1,2,3\n")
    assert [str(p) for p in problems] == ["p.csv:1: column(s) points named twice"]


@pytest.mark.parametrize("value", ["²", "١٢", "+5", " ", "5 5"])
def test_only_plain_digits_are_numbers(value: str) -> None:
    _, problems = parse_csv("p.csv", f'user_id,points\n{ADA},"{value}"\n')
    assert [p.where for p in problems] == ["p.csv:2"]


# --------------------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.lists(
        st.fixed_dictionaries(
            {}, optional={"id": JSON, "xp": JSON, "message_count": JSON, "level": JSON}
        )
        | JSON,
        max_size=8,
    )
)
def test_any_page_is_read_or_refused_player_by_player(players) -> None:
    """Whatever a page holds, nothing raises, and each player is a row or named problems."""
    rows, problems = parse_mee6("p.json", json.dumps({"players": players}), Decimal("0.5"))
    kept = {row.where for row in rows}
    refused = {problem.where for problem in problems}
    assert kept.isdisjoint(refused)
    assert kept | refused == {f"p.json:players[{i}]" for i in range(len(players))}


@given(st.text(alphabet=st.sampled_from('0123456789,"\n\r ab-.\ufeff'), max_size=80))
def test_any_csv_text_is_read_or_refused_by_line(body) -> None:
    """Arbitrary text under a good header never raises; each problem names a line that exists."""
    text = "user_id,points,messages,note\n" + body
    rows, problems = parse_csv("p.csv", text)
    lines = text.count("\n") + text.count("\r") + 1
    for where in [r.where for r in rows] + [p.where for p in problems]:
        name, line = where.split(":")
        assert name == "p.csv" and 2 <= int(line) <= lines
    assert all(0 < r.user_id < 2**64 and 0 <= r.points <= MAX_POINTS for r in rows)


ROWS = st.lists(
    st.builds(
        ImportRow,
        st.sampled_from([ADA, GRACE, 300000000000000003]),
        st.integers(0, 3),
        st.none(),
        st.just(""),
        st.text(alphabet="abc", min_size=1, max_size=3),
    ),
    max_size=10,
)


@given(ROWS)
def test_merge_keeps_one_row_per_member_and_names_every_disagreement(rows) -> None:
    merged, problems = merge(rows)
    assert sorted(r.user_id for r in merged) == sorted({r.user_id for r in rows})
    first = {r.user_id: r for r in reversed(rows)}
    assert {r.user_id: r for r in merged} == first
    disagreeing = [r for r in rows if r.points != first[r.user_id].points]
    assert [p.where for p in problems] == [r.where for r in disagreeing]


# ------------------------------------------------------------- numbers no parser should choke on


@pytest.mark.parametrize("column", ["user_id", "points", "messages"])
def test_a_number_thousands_of_digits_long_is_a_problem_not_a_crash(column: str) -> None:
    """``int`` refuses text of more than 4,300 digits; the cell is named, shortened."""
    cells = {"user_id": str(ADA), "points": "5", "messages": "1"}
    cells[column] = "9" * 5000
    text = "user_id,points,messages\n" + ",".join(cells.values()) + "\n"
    rows, problems = parse_csv("p.csv", text)
    assert rows == [] and [p.where for p in problems] == ["p.csv:2"]
    assert column in problems[0].message and len(problems[0].message) < 200


def test_xp_beyond_decimal_precision_is_more_than_a_member_can_hold() -> None:
    """40 digits of XP times the factor overflows the decimal context when rounded."""
    xp = 10**40
    rows, problems = parse_mee6("p.json", page({"id": str(ADA), "xp": xp}), Decimal("0.01"))
    assert rows == [] and [p.where for p in problems] == ["p.json:players[0]"]
    assert "more than the 100,000,000 one member can be given" in problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        '{"players": [{"id": "300000000000000001", "xp": ' + "9" * 5000 + "}]}",
        '{"players": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["5000-digit number", "nested 100,000 deep"],
)
def test_json_no_parser_should_build_is_refused_by_name(text: str) -> None:
    rows, problems = parse_mee6("p.json", text, Decimal("0.01"))
    assert rows == [] and len(problems) == 1 and problems[0].where.startswith("p.json")
    assert "not valid JSON" in problems[0].message and len(problems[0].message) < 200
