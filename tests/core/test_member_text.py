"""Member text: normalised once, compared by one key, look-alike words refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.member_text import clean_line, clean_text, name_key, spoofing_problem

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202e\u2066"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Berlin   Meetup ", "Berlin Meetup"),
        ("Ｂｅｒｌｉｎ", "Berlin"),
        ("Ber\u200blin", "Berlin"),
        (INVISIBLE, ""),
        ("tab\tand\nnewline", "tab and newline"),
        ("ﬁne ligature", "fine ligature"),
    ],
)
def test_clean_line(raw: str, cleaned: str) -> None:
    assert clean_line(raw) == cleaned


def test_clean_text_keeps_paragraphs_and_drops_the_invisible() -> None:
    assert clean_text(" one\u200b \n\n\n\n two\t\tthree \n") == "one\n\ntwo three"
    assert clean_text(INVISIBLE + "\n" + INVISIBLE) == ""


def test_names_compare_alike_across_case_width_and_invisible_characters() -> None:
    key = name_key("Berlin Meetup")
    for variant in ("berlin  meetup", "ＢＥＲＬＩＮ ＭＥＥＴＵＰ", "Berlin\u200d Mee\u2060tup"):
        assert name_key(variant) == key
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Berlin Meetup") != name_key("Bern Meetup")


@pytest.mark.parametrize("name", ["Berlin Meetup", "東京 meetup", "Café Crew", "Москва", "42"])
def test_one_alphabet_per_word_is_fine(name: str) -> None:
    assert spoofing_problem(name) is None


def test_a_word_mixing_look_alike_alphabets_is_refused() -> None:
    problem = spoofing_problem("Berlin M\u0435etup")  # a Cyrillic "е"
    assert problem is not None and "“Mеetup”" in problem and "one alphabet" in problem


@given(st.text())
def test_cleaning_is_idempotent_and_leaves_nothing_invisible(raw: str) -> None:
    for clean in (clean_line, clean_text):
        once = clean(raw)
        assert clean(once) == once
        assert not any(unicodedata.category(c) == "Cf" for c in once)
        assert once == once.strip()
    assert "\n" not in clean_line(raw)
    assert name_key(name_key(raw)) == name_key(raw)
