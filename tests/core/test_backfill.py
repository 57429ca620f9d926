"""Backfill rules: the span, the answer history shows, the summary, and that screening then
counting in time order decides exactly as the live counter does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.activity import ActivityCounter, ActivityRules
from bot.core.backfill import (
    DISCORD_EPOCH_MS,
    Reply,
    accepted_answer,
    parse_span,
    snowflake_at,
    summary_text,
)

ASKER, ADA, BEA, BOT = 1, 2, 3, 4
T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "days"), [("180d", 180), ("26w", 182), (" 7D ", 7), ("1d", 1), ("3650d", 3650)]
)
def test_spans_in_days_or_weeks(text: str, days: int) -> None:
    assert parse_span(text) == timedelta(days=days)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("six months", "'six months' is not a span: write days or weeks, like 180d or 26w"),
        ("180", "'180' is not a span: write days or weeks, like 180d or 26w"),
        ("0d", "'0d': choose between 1d and 3650d"),
        ("600w", "'600w': choose between 1d and 3650d"),
        ("9999999999d", "'9999999999d': choose between 1d and 3650d"),
        ("9" * 5000 + "w", "'99999999…': choose between 1d and 3650d"),
    ],
    ids=["words", "no unit", "zero", "too long", "past timedelta", "past int"],
)
def test_bad_spans_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(") + "$"):
        parse_span(text)


def reply(message_id: int, author: int, *, approved: bool = False, bot: bool = False) -> Reply:
    return Reply(message_id, author, bot, approved)


def test_the_answer_needs_the_solved_tag_and_one_approved_reply() -> None:
    replies = [reply(10, ADA, approved=True), reply(11, BEA), reply(12, ASKER)]
    assert accepted_answer(asker_id=ASKER, solved=True, replies=replies) == replies[0]
    assert accepted_answer(asker_id=ASKER, solved=False, replies=replies) is None
    assert accepted_answer(asker_id=None, solved=True, replies=replies) is None


@pytest.mark.parametrize(
    "replies",
    [
        [reply(10, ADA, approved=True), reply(11, BEA, approved=True)],  # two: ambiguous
        [reply(10, ADA), reply(11, BEA)],  # tagged, but no ✅ from the asker
        [reply(10, ASKER, approved=True)],  # the asker's own message
        [reply(10, BOT, approved=True, bot=True)],  # a bot's
    ],
)
def test_ambiguous_or_missing_signals_credit_nobody(replies: list[Reply]) -> None:
    assert accepted_answer(asker_id=ASKER, solved=True, replies=replies) is None


def test_one_approved_reply_among_the_asker_and_bot_ones() -> None:
    replies = [reply(9, ASKER, approved=True), reply(10, BOT, bot=True, approved=True)]
    replies.append(reply(11, BEA, approved=True))
    assert accepted_answer(asker_id=ASKER, solved=True, replies=replies) == replies[2]


def test_the_summary_names_each_tier_from_the_top() -> None:
    order = [("advisor", "Advisor"), ("ambassador", "Ambassador"), ("champion", "Champion")]
    text = summary_text(timedelta(days=180), {"champion": 42, "ambassador": 9}, order)
    assert text == (
        "📜 The ladder now reflects the last 180 days of history: 9 Ambassadors, 42 Champions."
    )
    one = summary_text(timedelta(days=90), {"advisor": 1}, order)
    assert one.endswith(": 1 Advisor.")
    assert "nobody's tier changed" in summary_text(timedelta(days=7), {}, order)


def test_snowflake_at_is_the_first_id_of_that_millisecond() -> None:
    flake = snowflake_at(T0)
    assert (flake >> 22) + DISCORD_EPOCH_MS == int(T0.timestamp() * 1000)
    assert flake & ((1 << 22) - 1) == 0
    with pytest.raises(ValueError, match="timezone-aware"):
        snowflake_at(datetime(2026, 1, 1))


RULES = ActivityRules(cooldown_seconds=60, min_length=10, ignored_channels=frozenset({99}))
TEXTS = ["a real message about the build", "lol", "another long enough message here", "🎉🎉"]
messages = st.lists(
    st.tuples(
        st.sampled_from([ADA, BEA]),
        st.sampled_from([10, 11, 99]),  # 99 is ignored
        st.integers(min_value=0, max_value=3 * 24 * 3600),  # seconds after T0
        st.sampled_from(TEXTS),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(messages)
def test_screen_then_count_in_time_order_is_the_live_decision(rows) -> None:
    """Screening as read (any channel order) then counting in time order equals the live bot
    seeing the same messages in time order."""
    ordered = sorted(
        ((T0 + timedelta(seconds=s), i, author, channel, text)
         for i, (author, channel, s, text) in enumerate(rows)),
    )  # fmt: skip
    live = ActivityCounter(RULES)
    for at, i, author, channel, text in ordered:
        live.observe_post(i, author, channel, None, None, at, text)
    backfill = ActivityCounter(RULES)
    passed = [
        (at, i, author)
        for at, i, author, channel, text in sorted(ordered, key=lambda r: (r[3], -r[1]))
        if backfill.screen(channel, None, None, text) is None
    ]
    for at, i, author in sorted(passed):
        backfill.count_screened(i, author, at)
    assert backfill.drain().increments == live.drain().increments
