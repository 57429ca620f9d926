"""The kinds table: well formed, its nouns pluralise, its lookups answer for unknown keys, and a
server's own kinds extend it."""

from dataclasses import fields, replace

import pytest

from bot.core.kinds import BUILT_IN, CREDITS, Kind, KindTable, check_table

KINDS = BUILT_IN.rows

ANSWER = Kind(
    key="answer",
    default_points=10,
    label="Answers",
    one="accepted answer",
    many="accepted answers",
    credited="For an answer accepted in a help forum.",
    award="Top helper",
    weekly=True,
    rank=1,
    peer=True,
)


def test_peer_kinds_are_the_credits_members_give_each_other() -> None:
    assert BUILT_IN.peer_keys() == {"answer", "thanks_received"}


def test_keys_are_unique_and_in_table_order() -> None:
    assert BUILT_IN.keys() == tuple(row.key for row in KINDS)
    assert len(set(BUILT_IN.keys())) == len(KINDS)
    assert check_table(KINDS) == KINDS


@pytest.mark.parametrize("row", KINDS, ids=lambda row: row.key)
def test_every_kind_has_every_field(row: Kind) -> None:
    for text in (row.key, row.label, row.one, row.many, row.credited):
        assert isinstance(text, str) and text.strip() == text and text
    assert row.credited.endswith(".")
    assert isinstance(row.default_points, int) and row.default_points >= 0
    assert row.award is None or row.award.strip()
    assert (row.rank is not None) == (row.weekly or row.award is not None)
    assert {f.name for f in fields(Kind)} == set(vars(row))


@pytest.mark.parametrize("row", KINDS, ids=lambda row: row.key)
def test_nouns_pluralise(row: Kind) -> None:
    assert row.one != row.many
    assert row.count(1) == f"1 {row.one}"
    assert row.count(0) == f"0 {row.many}"
    assert row.count(12) == f"12 {row.many}"
    assert BUILT_IN.count_phrase(row.key, 3) == f"3 {row.many}"


@pytest.mark.parametrize(
    ("key", "count", "phrase"),
    [
        ("answer", 1, "1 accepted answer"),
        ("answer", 5, "5 accepted answers"),
        ("thanks_received", 2, "2 thank-yous received"),
        ("content", 1, "1 piece of content"),
        ("message_day", 2, "2 active days"),
        ("mystery", 3, "3 × mystery"),
    ],
)
def test_count_phrase(key: str, count: int, phrase: str) -> None:
    assert BUILT_IN.count_phrase(key, count) == phrase


def test_the_recognition_orders_are_the_ones_posts_always_had() -> None:
    """Ranks keep the weekly sections and the awards in their long-standing order."""
    assert [row.key for row in BUILT_IN.weekly()] == [
        "answer",
        "event_hosted",
        "content",
        "thanks_received",
    ]
    assert [row.key for row in BUILT_IN.awarded()] == [
        "answer",
        "event_hosted",
        "content",
        "thanks_received",
        "referral",
        "mentoring",
        "event_attended",
        "feedback",
    ]
    assert BUILT_IN.chat_keys() == ("message_day", "imported")


def test_lookups() -> None:
    assert BUILT_IN.find("answer") == BUILT_IN.kind("answer") == ANSWER
    assert BUILT_IN.find("answers") is None
    with pytest.raises(KeyError, match=r"unknown contribution kind 'answers'; kinds: message_day"):
        BUILT_IN.kind("answers")
    assert BUILT_IN.label("content") == "Content shared"
    assert BUILT_IN.label("old_kind") == "Old kind"
    assert BUILT_IN.count_phrase("mystery", 3) == "3 × mystery"


REVIEW = replace(ANSWER, key="review", label="Reviews", one="review", many="reviews", rank=9)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (replace(REVIEW, key="Review"), "lowercase letters and _"),
        (replace(REVIEW, key="code-review"), "lowercase letters and _"),
        (replace(REVIEW, key="review2"), "lowercase letters and _"),
        (replace(REVIEW, key="r" * 33), "lowercase letters and _"),
        (replace(REVIEW, label=" "), "must not be blank"),
        (replace(REVIEW, many=""), "must not be blank"),
        (replace(REVIEW, award=""), "must not be blank"),
        (replace(REVIEW, default_points=-1), "must not be negative"),
        (replace(REVIEW, rank=None), "needs a rank"),
        (replace(REVIEW, award=None, rank=None), "needs a rank"),
        (replace(REVIEW, rank=4), "rank 4 is taken"),
        (replace(REVIEW, key="answer"), "'answer' is listed twice"),
    ],
)
def test_check_table_names_the_row_that_breaks_a_rule(row: Kind, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_table((*KINDS, row))
    assert check_table((*KINDS, REVIEW))[-1] == REVIEW


def test_a_kind_without_award_or_weekly_section_needs_no_rank() -> None:
    quiet = replace(REVIEW, award=None, weekly=False, rank=None)
    assert check_table((*KINDS, quiet))[-1] == quiet


def test_every_built_in_kind_is_credited_by_a_feature() -> None:
    assert BUILT_IN.credited_by("feature") == KINDS
    assert BUILT_IN.credited_by("review") == BUILT_IN.credited_by("moderators") == ()
    assert CREDITS == ("feature", "moderators", "review")


TALK = replace(
    REVIEW, key="talk", label="Talks", one="talk", many="talks", peer=False, credit="review"
)


def test_an_extended_table_answers_for_the_server_s_kinds_too() -> None:
    table = BUILT_IN.extended([TALK])
    assert table.keys() == (*BUILT_IN.keys(), "talk")
    assert "talk" in table and "talk" not in BUILT_IN
    assert table.find("talk") == TALK and table.label("talk") == "Talks"
    assert table.count_phrase("talk", 2) == "2 talks"
    assert table.credited_by("review") == (TALK,)
    assert table.awarded()[-1] == TALK and table.weekly()[-1] == TALK
    assert table.next_rank() == 10 and BUILT_IN.next_rank() == 9
    assert table == BUILT_IN.extended([TALK]) and hash(table) == hash(BUILT_IN.extended([TALK]))
    assert table != BUILT_IN and len(table) == len(BUILT_IN) + 1
    with pytest.raises(ValueError, match="'answer' is listed twice"):
        BUILT_IN.extended([replace(TALK, key="answer")])


def test_a_table_is_checked_when_built() -> None:
    with pytest.raises(ValueError, match="rank 4 is taken"):
        KindTable((*KINDS, replace(REVIEW, rank=4)))
