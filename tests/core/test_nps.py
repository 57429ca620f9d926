"""NPS arithmetic and the k >= 5 rule."""

from __future__ import annotations

import pytest

from bot.core.nps import NpsResult, nps_result


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
