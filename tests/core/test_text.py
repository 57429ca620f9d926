from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.core.text import bullets, clip, day_label, with_article


@given(st.text(), st.integers(min_value=1, max_value=50))
def test_clip_never_exceeds_the_limit_and_keeps_what_fits(text, limit):
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    if len(text) <= limit:
        assert clipped == text
    else:
        assert clipped.endswith("…") and text.startswith(clipped[:-1])


def test_articles_follow_the_first_letter():
    assert with_article("Champion") == "a Champion"
    assert with_article("Ambassador") == "an Ambassador"
    assert with_article("advisor") == "an advisor"


def test_bullets_put_one_item_per_line():
    assert bullets(["a", "b"]) == "• a\n• b"
    assert bullets([]) == ""


def test_day_labels_name_the_local_day():
    late_evening_utc = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert day_label(late_evening_utc, ZoneInfo("Europe/Berlin")) == "3 Mar 2026"
    assert day_label(late_evening_utc, UTC) == "2 Mar 2026"
