"""NPS arithmetic and the k >= 5 rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.embeds import DESCRIPTION_MAX, EmbedSpec
from bot.core.nps import (
    COMMENT_SHOWN_MAX,
    NpsResult,
    SurveyReport,
    closes_on,
    is_open,
    nps_result,
    period_from_key,
    quarter_period,
    render_report,
    survey_period,
    survey_report,
)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([10, 10, 10, 10, 10], NpsResult(100, 5, 5, 0, 0)),
        ([0, 1, 2, 3, 6], NpsResult(-100, 5, 0, 0, 5)),
        ([7, 8, 7, 8, 7], NpsResult(0, 5, 0, 5, 0)),
        ([9, 10, 8, 6, 3], NpsResult(0, 5, 2, 1, 2)),
        ([9, 9, 9, 7, 0, 10], NpsResult(50, 6, 4, 1, 1)),
        ([9, 0, 7, 7, 7, 7], NpsResult(0, 6, 1, 4, 1)),
        ([9, 9, 6, 7, 7, 7, 7, 7], NpsResult(13, 8, 2, 5, 1)),  # 12.5 rounds away from zero
        ([6, 6, 9, 7, 7, 7, 7, 7], NpsResult(-13, 8, 1, 5, 2)),
    ],
)
def test_score_and_groups(scores: list[int], expected: NpsResult) -> None:
    assert nps_result(scores) == expected


def test_fewer_than_five_answers_show_nothing() -> None:
    assert nps_result([]) is None
    assert nps_result([10, 10, 10, 10]) is None
    assert nps_result([10] * 5) is not None


def test_a_higher_configured_minimum_applies_but_never_a_lower_one() -> None:
    assert nps_result([10] * 6, min_responses=7) is None
    assert nps_result([10] * 7, min_responses=7) is not None
    assert nps_result([10] * 4, min_responses=1) is None


@pytest.mark.parametrize("bad", [-1, 11])
def test_answers_outside_0_to_10_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        nps_result([5, 5, 5, 5, bad])


# --------------------------------------------------------------------------- survey periods

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("moment", "key", "start", "end"),
    [
        (datetime(2026, 10, 15, 16, tzinfo=BERLIN), "2026-Q4", (2026, 10, 1), (2027, 1, 1)),
        (datetime(2026, 1, 1, 0, tzinfo=BERLIN), "2026-Q1", (2026, 1, 1), (2026, 4, 1)),
        (datetime(2026, 3, 31, 23, 59, tzinfo=BERLIN), "2026-Q1", (2026, 1, 1), (2026, 4, 1)),
        # 22:30 UTC on 30 June is already 1 July in Berlin: the local quarter counts.
        (datetime(2026, 6, 30, 22, 30, tzinfo=UTC), "2026-Q3", (2026, 7, 1), (2026, 10, 1)),
    ],
)
def test_survey_period_is_the_local_quarter_it_is_sent_in(
    moment: datetime, key: str, start: tuple[int, int, int], end: tuple[int, int, int]
) -> None:
    period = survey_period(moment, BERLIN)
    assert period.key == key
    assert period.start == datetime(*start, tzinfo=BERLIN)
    assert period.end == datetime(*end, tzinfo=BERLIN)
    assert period.scheduled_at == moment
    assert period.label == f"Q{key[-1]} {key[:4]}"


def test_quarter_windows_follow_daylight_saving() -> None:
    q2 = quarter_period(2026, 2, BERLIN)  # CEST on both ends
    assert q2.start.utcoffset() == timedelta(hours=2)
    q1 = quarter_period(2026, 1, BERLIN)  # starts in CET, ends in CEST
    assert q1.start.utcoffset() == timedelta(hours=1)
    assert q1.end.utcoffset() == timedelta(hours=2)
    assert q1.end == q2.start


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("2026-Q4", "2026-Q4"),
        (" 2026-q1 ", "2026-Q1"),
        ("2026-Q5", None),
        ("2026-Q0", None),
        ("2026-10", None),
        ("Q4 2026", None),
        ("", None),
    ],
)
def test_period_from_key(key: str, expected: str | None) -> None:
    period = period_from_key(key, UTC)
    assert (None if period is None else period.key) == expected


def test_a_survey_is_open_from_its_quarter_start_until_it_ends() -> None:
    period = quarter_period(2026, 4, UTC)
    assert not is_open(period, datetime(2026, 9, 30, 23, 59, tzinfo=UTC))
    assert is_open(period, datetime(2026, 10, 1, tzinfo=UTC))
    assert is_open(period, datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert not is_open(period, datetime(2027, 1, 1, tzinfo=UTC))
    assert closes_on(period) == "the end of 31 December 2026"


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        survey_period(datetime(2026, 10, 15), UTC)


# --------------------------------------------------------------------------- the moderators' view

NOW = datetime(2026, 11, 2, tzinfo=UTC)
Q4 = quarter_period(2026, 4, UTC)


def report(scores: list[int], comments: list[str], **kwargs: Any) -> SurveyReport:
    return survey_report(
        Q4,
        scores=scores,
        comments=comments,
        invited=kwargs.get("invited", 8),
        unreachable=kwargs.get("unreachable", 1),
        min_responses=kwargs.get("min_responses", 5),
        now=kwargs.get("now", NOW),
    )


def text(specs: list[EmbedSpec]) -> str:
    return "\n".join(
        [s.title + "\n" + s.description for s in specs]
        + [f"{f.name} {f.value}" for s in specs for f in s.fields]
    )


def test_below_the_threshold_only_the_count_is_shown() -> None:
    below = report([10, 0, 9, 7], ["Zebra talk was great", "too few events"])
    assert below.result is None and below.comments == () and below.answers == 4
    shown = text(render_report(below))
    assert "4 answer(s) so far; results appear at 5" in shown
    assert "NPS" not in shown.replace("Ambassador NPS", "")
    assert "Zebra" not in shown and "Promoters" not in shown
    assert "Sent to 8 tier member(s); 1 couldn't be reached" in shown
    assert "open until the end of 31 December 2026" in shown


def test_a_higher_configured_threshold_is_what_the_report_names() -> None:
    assert "results appear at 7" in text(render_report(report([9] * 6, [], min_responses=7)))


def test_at_the_threshold_scores_and_sorted_comments_are_shown() -> None:
    comments = ["zebra talk was great", "", "  More\n events ", "Ask before merging", "ask again"]
    at = report([10, 9, 9, 7, 3], comments, now=datetime(2027, 1, 2, tzinfo=UTC))
    assert at.result == NpsResult(40, 5, 3, 1, 1)
    assert at.comments == ("ask again", "Ask before merging", "More events", "zebra talk was great")
    shown = text(render_report(at))
    assert "**NPS +40** from 5 answers" in shown
    assert "Promoters (9–10) 3 (60%)" in shown and "Detractors (0–6) 1 (20%)" in shown
    assert "Survey 2026-Q4: closed." in shown
    assert shown.index("ask again") < shown.index("More events") < shown.index("zebra")


def test_long_comments_are_clipped_and_many_are_paginated() -> None:
    many = report([9] * 40, ["x" * 900 + str(i) for i in range(40)])
    specs = render_report(many)
    assert all(len(s.description) <= DESCRIPTION_MAX for s in specs)
    assert len(specs) > 1 and specs[1].title.endswith("(continued)")
    assert "x" * (COMMENT_SHOWN_MAX + 1) not in text(specs)
