"""Ambassador NPS: "How likely are you to recommend the program?" answered 0–10.

Promoters answer 9–10, passives 7–8, detractors 0–6; NPS is the share of promoters minus the
share of detractors, from -100 to 100. Results exist only with enough answers that no single
member's answer can be singled out (k-anonymity, never fewer than 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: The floor for showing results, whatever the config says.
MIN_RESPONSES: Final = 5


@dataclass(frozen=True)
class NpsResult:
    score: int
    responses: int
    promoters: int
    passives: int
    detractors: int


def nps_result(scores: Sequence[int], *, min_responses: int = MIN_RESPONSES) -> NpsResult | None:
    """The aggregate, or None with fewer than ``max(5, min_responses)`` answers."""
    for score in scores:
        if not 0 <= score <= 10:
            raise ValueError(f"an NPS answer is 0 to 10, got {score}")
    if len(scores) < max(MIN_RESPONSES, min_responses):
        return None
    promoters = sum(1 for score in scores if score >= 9)
    detractors = sum(1 for score in scores if score <= 6)
    passives = len(scores) - promoters - detractors
    # Half away from zero, so +50% and -50% round alike.
    raw = 100 * (promoters - detractors) / len(scores)
    value = int(raw + 0.5) if raw >= 0 else -int(-raw + 0.5)
    return NpsResult(value, len(scores), promoters, passives, detractors)
