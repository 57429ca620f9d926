"""Ambassador NPS: "How likely are you to recommend the program?" answered 0–10.

Promoters answer 9–10, passives 7–8, detractors 0–6; NPS is the share of promoters minus the
share of detractors, from -100 to 100. Results exist only with enough answers that no single
member's answer can be singled out (k-anonymity, never fewer than 5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.embeds import EmbedField, EmbedSpec, fit
from bot.core.periods import Period, replace_scheduled
from bot.core.text import clip

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


# --------------------------------------------------------------------------------------------
# Survey periods: a survey is keyed by the quarter it is sent in and closes when that quarter ends
# --------------------------------------------------------------------------------------------

_QUARTER_KEY: Final = re.compile(r"(\d{4})-Q([1-4])")


def survey_period(moment: datetime, tz: ZoneInfo) -> Period:
    """The survey of the quarter ``moment`` falls in (local time): open ``[start, end)``.

    Unlike the quarterly awards (which look back at the quarter just finished), a survey asks
    about *now*, so a survey sent on 15 October 2026 is "2026-Q4" and closes on 1 January 2027.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("survey periods need timezone-aware datetimes")
    local = moment.astimezone(tz)
    period = quarter_period(local.year, (local.month - 1) // 3 + 1, tz)
    return replace_scheduled(period, local)


def quarter_period(year: int, quarter: int, tz: ZoneInfo) -> Period:
    """Calendar quarter ``quarter`` (1-4) of ``year``, local midnight to local midnight."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"a quarter is 1 to 4, got {quarter}")
    first_month = 3 * (quarter - 1) + 1
    start = _local_midnight(date(year, first_month, 1), tz)
    end_year, end_month = (year + 1, 1) if quarter == 4 else (year, first_month + 3)
    return Period(
        kind="quarterly",
        key=f"{year:04d}-Q{quarter}",
        label=f"Q{quarter} {year}",
        start=start,
        end=_local_midnight(date(end_year, end_month, 1), tz),
        scheduled_at=start,
    )


def period_from_key(key: str, tz: ZoneInfo) -> Period | None:
    """The survey period a key like ``2026-Q4`` names (from a button or a command), or None."""
    match = _QUARTER_KEY.fullmatch(key.strip().upper())
    if match is None or not 1 <= int(match[1]) <= 9998:
        return None
    return quarter_period(int(match[1]), int(match[2]), tz)


def is_open(period: Period, now: datetime) -> bool:
    """Answers are taken (and changed) from the quarter's start until it ends."""
    return period.start <= now < period.end


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    naive = datetime.combine(day, time(0, 0))
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


# --------------------------------------------------------------------------------------------
# What moderators see
# --------------------------------------------------------------------------------------------

#: A comment longer than this is cut when listed (the form allows it; a page must stay readable).
COMMENT_SHOWN_MAX: Final = 300


@dataclass(frozen=True)
class SurveyReport:
    """One survey's state for ``/nps results``; nothing in it names or orders members."""

    period: Period
    invited: int
    unreachable: int
    answers: int
    result: NpsResult | None
    comments: tuple[str, ...]
    min_responses: int
    open: bool


def survey_report(
    period: Period,
    *,
    scores: Sequence[int],
    comments: Sequence[str],
    invited: int,
    unreachable: int,
    min_responses: int,
    now: datetime,
) -> SurveyReport:
    """Scores and comments only with enough answers; comments sorted, so answer order is lost.

    Below the threshold even the comments are withheld: with three answers, a comment is
    easily traced back to its author.
    """
    result = nps_result(scores, min_responses=min_responses)
    shown: tuple[str, ...] = ()
    if result is not None:
        cleaned = (" ".join(comment.split()) for comment in comments)
        shown = tuple(sorted((c for c in cleaned if c), key=lambda c: (c.casefold(), c)))
    return SurveyReport(
        period=period,
        invited=invited,
        unreachable=unreachable,
        answers=len(scores),
        result=result,
        comments=shown,
        min_responses=max(MIN_RESPONSES, min_responses),
        open=is_open(period, now),
    )


def render_report(report: SurveyReport) -> list[EmbedSpec]:
    """The moderators' view: counts always; score and comments only past the threshold."""
    period = report.period
    state = "open until " + closes_on(period) if report.open else "closed"
    reach = f"Sent to {report.invited} tier member(s)"
    if report.unreachable:
        reach += f"; {report.unreachable} couldn't be reached (DMs closed)"
    lines = [f"Survey {period.key}: {state}.", reach + "."]
    result = report.result
    if result is None:
        lines.append(
            f"**{report.answers} answer(s) so far; results appear at {report.min_responses}.** "
            "Nothing more is shown until then, so no single answer can be singled out."
        )
        return fit(
            EmbedSpec(title=f"Ambassador NPS · {period.label}", description="\n".join(lines))
        )
    lines.append(f"**NPS {result.score:+d}** from {result.responses} answers.")
    fields = [
        EmbedField("Promoters (9–10)", _share(result.promoters, result.responses), inline=True),
        EmbedField("Passives (7–8)", _share(result.passives, result.responses), inline=True),
        EmbedField("Detractors (0–6)", _share(result.detractors, result.responses), inline=True),
    ]
    comment_lines = [f"• {clip(comment, COMMENT_SHOWN_MAX)}" for comment in report.comments]
    if comment_lines:
        lines += ["", f"**Comments** ({len(comment_lines)}, without names, sorted A–Z):"]
        lines += comment_lines
    else:
        lines += ["", "No comments."]
    return fit(
        EmbedSpec(
            title=f"Ambassador NPS · {period.label}",
            description="\n".join(lines),
            fields=tuple(fields),
        )
    )


def _share(count: int, total: int) -> str:
    return f"{count} ({round(100 * count / total)}%)"


_MONTHS: Final = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _day(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month]} {moment.year}"


def closes_on(period: Period) -> str:
    """``the end of 31 December 2026``: the survey takes answers through the quarter's last day."""
    return "the end of " + _day(period.end - timedelta(days=1))
