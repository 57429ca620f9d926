"""Embed limits: fit never fails, never breaks a limit and never loses text silently."""

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.embeds import (
    BLANK,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    EmbedField,
    EmbedSpec,
    embed_chars,
    fit,
    line_fields,
    message_chars,
    paginate,
    truncate,
)

_NON_SPACE = re.compile(r"\s")


def visible(text: str) -> str:
    return _NON_SPACE.sub("", text)


def assert_valid(embed: EmbedSpec) -> None:
    assert len(embed.title) <= TITLE_MAX
    assert len(embed.description) <= DESCRIPTION_MAX
    assert len(embed.fields) <= FIELDS_MAX
    for f in embed.fields:
        assert 0 < len(f.name) <= FIELD_NAME_MAX
        assert 0 < len(f.value) <= FIELD_VALUE_MAX
        assert f.name.strip() or f.name == BLANK
        assert f.value.strip() or f.value == BLANK
    assert len(embed.footer) <= FOOTER_MAX
    assert embed_chars(embed) <= EMBED_TOTAL_MAX


def assert_kept_or_truncated(original: str, shown: str) -> None:
    """``shown`` is ``original`` or a prefix of it marked with "…"."""
    if shown != original:
        assert shown.endswith("…")
        assert original.startswith(shown[:-1])
        assert len(shown) < len(original)


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("abcdefghijk", 10, "abcdefghi…"),
        ("hello wonderful world", 12, "hello…"),
        ("x", 0, ""),
        ("xy", 1, "…"),
        ("trailing   spaces here", 12, "trailing…"),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


def test_a_small_embed_is_unchanged() -> None:
    spec = EmbedSpec(
        title="Weekly recognition",
        description="Thanks all!",
        fields=(EmbedField("Answers", "1. <@1> — 5 answers", inline=True),),
        footer="Flywheel",
        url="https://example.com",
        image_url="attachment://chart.png",
        color=0xFFAA00,
    )
    assert fit(spec) == [spec]
    counted = ["Weekly recognition", "Thanks all!", "Answers", "1. <@1> — 5 answers", "Flywheel"]
    assert embed_chars(spec) == sum(len(text) for text in counted)


def test_empty_spec_fits_as_itself() -> None:
    assert fit(EmbedSpec()) == [EmbedSpec()]
    assert paginate([]) == []


def test_long_description_splits_at_line_breaks_into_continuations() -> None:
    lines = [f"{i:04d} " + "x" * 95 for i in range(100)]  # 100 lines of 100 characters
    spec = EmbedSpec(
        title="Newsletter",
        description="\n".join(lines),
        footer="See you next month",
        url="https://example.com/n",
        image_url="attachment://chart.png",
        color=7,
    )
    embeds = fit(spec)
    assert len(embeds) == 3
    assert [e.title for e in embeds] == [
        "Newsletter",
        "Newsletter (continued)",
        "Newsletter (continued)",
    ]
    assert [e.footer for e in embeds] == ["", "", "See you next month"]
    assert [e.url for e in embeds] == ["https://example.com/n", None, None]
    assert [e.image_url for e in embeds] == ["attachment://chart.png", None, None]
    assert {e.color for e in embeds} == {7}
    # Whole lines only: every chunk is a run of complete lines, in order.
    assert [line for e in embeds for line in e.description.split("\n")] == lines


def test_a_single_huge_line_is_broken_at_spaces() -> None:
    words = " ".join(f"word{i}" for i in range(2000))
    embeds = fit(EmbedSpec(description=words))
    assert len(embeds) > 1
    assert " ".join(e.description for e in embeds) == words


def test_more_than_25_fields_continue_in_another_embed() -> None:
    fields = tuple(EmbedField(f"Field {i}", f"value {i}") for i in range(30))
    embeds = fit(EmbedSpec(title="Many", fields=fields, footer="end"))
    assert [len(e.fields) for e in embeds] == [25, 5]
    assert [f for e in embeds for f in e.fields] == list(fields)
    assert [e.footer for e in embeds] == ["", "end"]
    assert embeds[1].title == "Many (continued)"


def test_fields_over_6000_characters_continue_in_another_embed() -> None:
    fields = tuple(EmbedField(f"F{i}", "v" * 1000) for i in range(8))
    embeds = fit(EmbedSpec(title="Big", fields=fields))
    assert len(embeds) == 2
    assert [f for e in embeds for f in e.fields] == list(fields)
    for embed in embeds:
        assert_valid(embed)


def test_overlong_slots_are_truncated_with_an_ellipsis() -> None:
    spec = EmbedSpec(
        title="T" * 300,
        fields=(EmbedField("N" * 300, "V" * 2000),),
        footer="F" * 3000,
    )
    (embed,) = fit(spec)
    assert embed.title == "T" * 255 + "…"
    assert embed.fields[0].name == "N" * 255 + "…"
    assert embed.fields[0].value == "V" * 1023 + "…"
    assert embed.footer == "F" * 2047 + "…"
    assert_valid(embed)


def test_continuation_title_of_a_long_title_still_fits() -> None:
    embeds = fit(EmbedSpec(title="T" * 300, description="line\n" * 2000))
    assert len(embeds) > 1
    assert embeds[1].title.endswith("… (continued)")
    assert len(embeds[1].title) <= TITLE_MAX


def test_blank_field_names_and_values_become_invisible_placeholders() -> None:
    (embed,) = fit(EmbedSpec(fields=(EmbedField("", "  "), EmbedField("ok", "fine"))))
    assert embed.fields == (EmbedField(BLANK, BLANK), EmbedField("ok", "fine"))


def test_paginate_groups_ten_embeds_per_message() -> None:
    specs = [EmbedSpec(title=f"E{i}") for i in range(23)]
    messages = paginate(specs)
    assert [len(m) for m in messages] == [10, 10, 3]
    assert [e for m in messages for e in m] == specs


def test_paginate_keeps_each_message_under_6000_characters() -> None:
    specs = [EmbedSpec(title=f"E{i}", description="d" * 2500) for i in range(5)]
    messages = paginate(specs)
    assert [len(m) for m in messages] == [2, 2, 1]
    assert all(message_chars(m) <= EMBED_TOTAL_MAX for m in messages)


def test_paginate_adds_the_part_footer_to_the_last_embed_and_counts_it() -> None:
    specs = [EmbedSpec(title=f"E{i}", description="d" * 2990, footer="own") for i in range(4)]
    # Two such embeds are 6000 characters with their footers; the part footer must push apart.
    messages = paginate(specs, footer=lambda i, n: f"Part {i} of {n}")
    assert [len(m) for m in messages] == [1, 1, 1, 1]
    assert [m[-1].footer for m in messages] == [f"own · Part {i} of 4" for i in range(1, 5)]
    assert all(message_chars(m) <= EMBED_TOTAL_MAX for m in messages)


def test_paginate_footer_only_on_the_last_embed_of_each_message() -> None:
    specs = [EmbedSpec(title=f"E{i}") for i in range(12)]
    messages = paginate(specs, footer=lambda i, n: f"{i}/{n}")
    assert [[e.footer for e in m] for m in messages] == [
        [""] * 9 + ["1/2"],
        ["", "2/2"],
    ]


def test_paginate_empty_part_footer_leaves_footers_alone() -> None:
    specs = [EmbedSpec(title="A", footer="mine")]
    assert paginate(specs, footer=lambda i, n: "" if n == 1 else f"{i}/{n}") == [specs]


def test_line_fields_continue_a_long_list_instead_of_cutting_it() -> None:
    lines = [f"{i}. <@{1000 + i}> — {i} answers" for i in range(1, 101)]
    fields = line_fields("Answers", lines, inline=True)
    assert len(fields) > 1
    assert [f.name for f in fields] == ["Answers"] + ["Answers (continued)"] * (len(fields) - 1)
    assert all(len(f.value) <= FIELD_VALUE_MAX and f.inline for f in fields)
    assert [line for f in fields for line in f.value.split("\n")] == lines


def test_line_fields_short_and_empty_lists() -> None:
    assert line_fields("Top", ["a", "b"]) == (EmbedField("Top", "a\nb"),)
    assert line_fields("Top", []) == (EmbedField("Top", ""),)
    (only,) = line_fields("Top", ["x" * 2000])
    assert only.value == "x" * 1023 + "…"


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(["a", "b", " ", "\n", "é", "🎉", "—", "<@1>", "[x](y)", "\t"])
_PIECE = st.lists(_ALPHABET, min_size=1, max_size=30).map("".join)
#: Short random text, or a random piece repeated up to a few thousand characters long.
TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(lambda piece, times: piece * times, _PIECE, st.integers(0, 400)),
)
FIELDS = st.lists(
    st.builds(EmbedField, name=TEXT, value=TEXT, inline=st.booleans()), max_size=40
).map(tuple)
SPECS = st.builds(
    EmbedSpec,
    title=TEXT,
    description=TEXT,
    fields=FIELDS,
    footer=TEXT,
    url=st.none() | st.just("https://example.com"),
    image_url=st.none() | st.just("attachment://chart.png"),
    color=st.none() | st.integers(0, 0xFFFFFF),
)


@settings(max_examples=300, deadline=None)
@given(spec=SPECS)
def test_fit_respects_every_limit_and_loses_nothing_silently(spec: EmbedSpec) -> None:
    embeds = fit(spec)
    assert embeds
    for embed in embeds:
        assert_valid(embed)
        assert embed.color == spec.color
    first, rest = embeds[0], embeds[1:]
    assert_kept_or_truncated(spec.title, first.title)
    assert (first.url, first.image_url) == (spec.url, spec.image_url)
    for embed in rest:
        assert (embed.url, embed.image_url) == (None, None)
        if spec.title:
            assert embed.title.endswith(" (continued)")
        else:
            assert embed.title == ""
    # The description is never truncated: all its visible text is there, in order.
    assert visible("".join(e.description for e in embeds)) == visible(spec.description)
    # Fields keep their order, each kept as is or truncated.
    shown = [f for e in embeds for f in e.fields]
    assert len(shown) == len(spec.fields)
    for original, out in zip(spec.fields, shown, strict=True):
        assert out.inline == original.inline
        for before, after in ((original.name, out.name), (original.value, out.value)):
            if before.strip():
                assert_kept_or_truncated(before, after)
            else:
                assert after == BLANK
    # The footer closes the last embed only.
    assert all(e.footer == "" for e in embeds[:-1])
    assert_kept_or_truncated(spec.footer, embeds[-1].footer)


FOOTERS: list[Callable[[int, int], str] | None] = [
    None,
    lambda i, n: f"Part {i} of {n}",
    lambda i, n: "" if n == 1 else f"Page {i}/{n}",
    lambda i, n: "long footer " * 300,
    lambda i, n: "x" * (50 * (n % 3)),
]


@settings(max_examples=150, deadline=None)
@given(specs=st.lists(SPECS, max_size=12), footer=st.sampled_from(FOOTERS))
def test_paginate_respects_message_limits(
    specs: list[EmbedSpec], footer: Callable[[int, int], str] | None
) -> None:
    messages = paginate(specs, footer=footer)
    assert bool(messages) == bool(specs)
    for index, message in enumerate(messages, start=1):
        assert 0 < len(message) <= EMBEDS_PER_MESSAGE
        assert message_chars(message) <= EMBED_TOTAL_MAX
        for embed in message:
            assert_valid(embed)
        if footer is not None:
            text = footer(index, len(messages))
            if text and len(text) < FOOTER_MAX // 2:
                assert message[-1].footer.endswith(text)
    embeds = [e for m in messages for e in m]
    assert visible("".join(e.description for e in embeds)) == visible(
        "".join(s.description for s in specs)
    )
    assert len([f for e in embeds for f in e.fields]) == sum(len(s.fields) for s in specs)
