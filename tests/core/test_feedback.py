"""The feedback loop's pure rules: statuses and their tags, duplicate titles, ranking, figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.feedback import (
    DECIDED,
    LIVE,
    STATUS_TAGS,
    ItemFacts,
    Status,
    Titled,
    figures,
    similar,
    similarity,
    status_named,
    title_key,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
titles = st.text(min_size=1, max_size=60)


def test_every_status_has_a_forum_tag_discord_accepts() -> None:
    assert set(STATUS_TAGS) == set(Status)
    assert all(1 <= len(tag) <= 20 for tag in STATUS_TAGS.values())
    assert (
        set(Status) == LIVE | DECIDED
        and {
            Status.PLANNED,
            Status.IN_PROGRESS,
        }
        == LIVE & DECIDED
    )


def test_a_status_is_found_by_value_tag_or_spoken_name() -> None:
    for status in Status:
        assert status_named(status.value) is status
        assert status_named(status.tag) is status
    assert status_named(" in progress ") is Status.IN_PROGRESS
    assert status_named("In-Progress") is Status.IN_PROGRESS
    assert status_named("done") is None


@given(titles)
def test_a_title_is_exactly_like_itself(title: str) -> None:
    assert similarity(title, title) in (0.0, 1.0)
    if title_key(title):
        assert similarity(title, title) == 1.0


@given(titles, titles)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    assert 0.0 <= similarity(a, b) <= 1.0
    assert abs(similarity(a, b) - similarity(b, a)) < 1e-9


def test_alike_titles_are_found_and_unrelated_ones_are_not() -> None:
    existing = [
        Titled(1, "Dark mode for the mobile app"),
        Titled(2, "Export my data as CSV"),
        Titled(3, "Webhooks for new orders"),
    ]
    assert [t.item_id for t in similar("Mobile app dark mode please", existing)] == [1]
    assert [t.item_id for t in similar("dark-mode", [Titled(4, "Darkmode")])] == [4]
    assert similar("Single sign-on with Okta", existing) == []
    assert title_key("Please ADD Dark Mode!") == "dark mode"


def test_similar_keeps_the_closest_few() -> None:
    existing = [Titled(i, f"dark mode {'x' * i}") for i in range(1, 8)]
    found = similar("dark mode", existing, limit=3)
    assert len(found) == 3 and [t.item_id for t in found] == [1, 2, 3]


def test_figures_of_a_month() -> None:
    start, end = T0, T0 + timedelta(days=30)
    items = [
        ItemFacts(T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2), Status.PLANNED, None),
        ItemFacts(T0 + timedelta(days=2), T0 + timedelta(days=2, hours=10), Status.DECLINED, None),
        ItemFacts(T0 + timedelta(days=3), None, Status.OPEN, None),
        # Made the month before, shipped in this one: counted as shipped, not as new.
        ItemFacts(
            T0 - timedelta(days=5),
            T0 - timedelta(days=4),
            Status.SHIPPED,
            T0 + timedelta(days=9),
        ),
    ]
    result = figures(items, ["champion", None, None], start=start, end=end)
    assert result.new_items == 3
    assert result.median_hours_to_first_status == 6.0
    assert result.decided_share == 2 / 3
    assert result.shipped == 1
    assert result.voters_by_tier == {"champion": 1, None: 2}


def test_figures_without_requests_say_there_is_nothing_to_measure() -> None:
    result = figures([], [], start=T0, end=T0 + timedelta(days=30))
    assert result.new_items == 0 and result.shipped == 0
    assert result.median_hours_to_first_status is None and result.decided_share is None
