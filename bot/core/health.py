"""Program health: is the ambassador program working, measured against its own targets?

The report covers a monthly period — the last *complete* calendar month — and compares every
figure with the month before, so a half-finished month never looks like a drop. Each figure
carries its target from ``[program]`` in the config (where the playbook sets one) and a status:
"on target", "below" or "above" (only a range has an "above"). The numbers behind it export as
CSV rows, one per metric per period, because program managers work in spreadsheets.

Pure: the service gathers plain numbers, this module judges, words and renders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from bot.core.embeds import EmbedField, EmbedSpec, line_fields
from bot.core.feedback import FeedbackFigures
from bot.core.newsletter import MINUS, NO_DATA, change, duration_change, format_duration

__all__ = [
    "ABOVE",
    "BELOW",
    "CSV_HEADER",
    "ON_TARGET",
    "Cohort",
    "GroupActivity",
    "HealthInputs",
    "HealthReport",
    "Metric",
    "MonthFigures",
    "NpsRound",
    "Reading",
    "Target",
    "Targets",
    "TierMovement",
    "TierName",
    "WeekFigures",
    "compose_health",
    "csv_rows",
    "render_health",
    "tier_movement",
]

Status = Literal["on target", "below", "above"]
ON_TARGET: Final = "on target"
BELOW: Final = "below"
ABOVE: Final = "above"
_MARK: Final[Mapping[str, str]] = {ON_TARGET: "✅", BELOW: "🔻", ABOVE: "🔺"}

HEALTH_COLOR: Final = 0x2ECC71
CSV_HEADER: Final = ("metric", "period", "value", "target", "status")
#: Slipping-away members named in the report; the rest are counted ("and 12 more").
SLIPPING_SHOWN: Final = 15
NOT_ENOUGH_ANSWERS: Final = "not enough answers"


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A range (both bounds) or a floor (minimum only). A value on a bound is on target."""

    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""

    def status(self, value: float) -> Status:
        if self.minimum is not None and value < self.minimum:
            return BELOW
        if self.maximum is not None and value > self.maximum:
            return ABOVE
        return ON_TARGET

    @property
    def label(self) -> str:
        """``2–4``, ``≥ 70``, ``≥ 60%``."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{number(low)}–{number(high)}{self.unit}"
        if low is not None:
            return f"≥ {number(low)}{self.unit}"
        return "" if high is None else f"≤ {number(high)}{self.unit}"

    @property
    def csv(self) -> str:
        """The label in plain ASCII, which every spreadsheet reads: ``2-4``, ``>=70``."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{number(low)}-{number(high)}"
        if low is not None:
            return f">={number(low)}"
        return "" if high is None else f"<={number(high)}"


@dataclass(frozen=True)
class Targets:
    content_per_member: Target
    nps: Target
    retention: Target
    slipping_days: int
    nps_min_responses: int


@dataclass(frozen=True)
class Cohort:
    """Members promoted in ``month`` and how many of them were active six months later."""

    month_key: str
    month_label: str
    measured_label: str
    promoted: int
    active_later: int

    @property
    def percent(self) -> float | None:
        return None if not self.promoted else 100 * self.active_later / self.promoted


@dataclass(frozen=True)
class MonthFigures:
    """One monthly period's numbers, as the store counted them."""

    key: str
    label: str
    tier_members: int
    """On a tier at the end of the month."""
    tier_member_content: int
    """Content pieces approved in the month whose authors are among ``tier_members``."""
    referrals_credited: int
    referrals_measured: int
    """Of the credited referrals, those whose invitee joined at least 30 days ago."""
    referrals_retained: int
    """Of the measured ones, invitees still members 30 days after joining."""
    active_members: int
    contributors: int
    questions_asked: int
    questions_answered: int
    median_first_response: timedelta | None
    new_contributors: int
    slipping: int
    """Contributors silent for ``slipping_days`` at the end of the month."""
    tier_moves: Mapping[tuple[str | None, str | None], int]
    """(tier at the start, tier at the end) -> members, for members on a tier at either."""
    cohort: Cohort | None
    """The cohort promoted six months before this month, measured in this month."""


@dataclass(frozen=True)
class WeekFigures:
    key: str
    label: str
    active_members: int
    contributors: int


@dataclass(frozen=True)
class NpsRound:
    """One survey's result; ``score`` is None when fewer members answered than required."""

    key: str
    responses: int
    score: int | None


@dataclass(frozen=True)
class GroupActivity:
    name: str
    kind: str
    region: str | None
    members: int
    events: int
    """Events credited to the group in the report's month."""
    last_activity_at: datetime | None


@dataclass(frozen=True)
class TierName:
    key: str
    name: str


@dataclass(frozen=True)
class HealthInputs:
    current: MonthFigures
    previous: MonthFigures
    weeks: Sequence[WeekFigures]
    """Complete weeks, oldest first."""
    cohorts: Sequence[Cohort]
    """Promotion cohorts already six months old, newest first."""
    nps: NpsRound | None
    """The latest survey with answers, and the one before it."""
    nps_previous: NpsRound | None
    tiers: Sequence[TierName]
    """Lowest first, as configured."""
    targets: Targets
    slipping_now: Sequence[int]
    """Members slipping away right now (not at the month's end): who to reach out to."""
    groups: Sequence[GroupActivity]
    feedback: FeedbackFigures | None = None
    """The product feedback loop in the current month; None when /feedback is off."""


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """A metric's value for one period, as a number (for CSV) and as words (for Discord)."""

    period: str
    value: float | None
    shown: str
    status: Status | None = None


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    current: Reading
    previous: Reading
    trend: str
    target: Target | None = None
    detail: str = ""


@dataclass(frozen=True)
class TierMovement:
    key: str
    name: str
    up: int
    held: int
    down: int


@dataclass(frozen=True)
class HealthReport:
    period_key: str
    period_label: str
    previous_key: str
    previous_label: str
    metrics: tuple[Metric, ...]
    weeks: tuple[WeekFigures, ...]
    cohorts: tuple[Cohort, ...]
    retention_target: Target
    movement: tuple[TierMovement, ...]
    """Highest tier first."""
    previous_movement: tuple[TierMovement, ...]
    slipping_now: tuple[int, ...]
    slipping_days: int
    groups: tuple[GroupActivity, ...]
    """Most active first."""
    feedback: FeedbackFigures | None = None
    #: The month's voters by their tier now: (tier key, tier name, voters), highest tier first,
    #: members without a tier last (key and name "none").
    feedback_voters: tuple[tuple[str, str, int], ...] = ()

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)


def number(value: float) -> str:
    """``3``, ``2.5``, ``0.33``: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else 100 * part / whole


def _shown_percent(value: float | None, part: int, whole: int, empty: str) -> str:
    return empty if value is None else f"{round(value)}% ({part:,} of {whole:,})"


def delta(current: float | None, previous: float | None, unit: str = "") -> str:
    """``+0.5``, ``−12 pts``, ``no change``; ``—`` when either side has no figure."""
    if current is None or previous is None:
        return NO_DATA
    diff = round(current - previous, 2)
    if diff == 0:
        return "no change"
    sign = "+" if diff > 0 else MINUS
    return f"{sign}{number(abs(diff))}{unit}"


def _count_metric(
    key: str, title: str, now: MonthFigures, before: MonthFigures, field: str, detail: str = ""
) -> Metric:
    current, previous = int(getattr(now, field)), int(getattr(before, field))
    return Metric(
        key=key,
        title=title,
        current=Reading(now.key, current, f"{current:,}"),
        previous=Reading(before.key, previous, f"{previous:,}"),
        trend=change(current, previous),
        detail=detail,
    )


def _rate_metric(
    key: str,
    title: str,
    pairs: tuple[tuple[MonthFigures, int, int], tuple[MonthFigures, int, int]],
    *,
    empty: str,
    target: Target | None = None,
    detail: str = "",
) -> Metric:
    """A share in percent for the current and the previous month: (month, part, whole)."""
    readings = []
    for month, part, whole in pairs:
        value = _percent(part, whole)
        status = None if value is None or target is None else target.status(value)
        readings.append(
            Reading(month.key, value, _shown_percent(value, part, whole, empty), status)
        )
    current, previous = readings
    return Metric(
        key=key,
        title=title,
        current=current,
        previous=previous,
        trend=delta(current.value, previous.value, " pts"),
        target=target,
        detail=detail,
    )


def _content_metric(now: MonthFigures, before: MonthFigures, target: Target) -> Metric:
    def reading(month: MonthFigures) -> Reading:
        if not month.tier_members:
            return Reading(month.key, None, "no tier members")
        value = month.tier_member_content / month.tier_members
        return Reading(month.key, value, number(value), target.status(value))

    current, previous = reading(now), reading(before)
    return Metric(
        key="content_per_tier_member",
        title="Content per tier member",
        current=current,
        previous=previous,
        trend=delta(current.value, previous.value),
        target=target,
        detail=(
            f"{now.tier_member_content:,} piece(s) by tier members · "
            f"{now.tier_members:,} tier member(s)"
        ),
    )


def _nps_reading(survey: NpsRound | None, target: Target, min_responses: int) -> Reading:
    if survey is None:
        return Reading("", None, "no survey answers yet")
    if survey.score is None:
        return Reading(
            survey.key,
            None,
            f"{NOT_ENOUGH_ANSWERS} ({survey.responses} of the {min_responses} needed)",
        )
    answers = f"{survey.responses} answer{'s' if survey.responses != 1 else ''}"
    return Reading(
        survey.key, survey.score, f"{survey.score:+d} ({answers})", target.status(survey.score)
    )


def _nps_metric(inputs: HealthInputs) -> Metric:
    targets = inputs.targets
    current = _nps_reading(inputs.nps, targets.nps, targets.nps_min_responses)
    previous = _nps_reading(inputs.nps_previous, targets.nps, targets.nps_min_responses)
    return Metric(
        key="nps",
        title="Ambassador NPS",
        current=current,
        previous=previous,
        trend=delta(current.value, previous.value),
        target=targets.nps,
        detail=(
            f"survey {current.period}, compared with the survey before"
            if current.period
            else "tier members are surveyed by DM"
        ),
    )


def _retention_metric(now: MonthFigures, before: MonthFigures, target: Target) -> Metric:
    def reading(month: MonthFigures) -> Reading:
        cohort = month.cohort
        if cohort is None or not cohort.promoted:
            label = "no cohort" if cohort is None else f"no promotions in {cohort.month_label}"
            return Reading(month.key, None, label)
        value = cohort.percent
        assert value is not None
        shown = f"{round(value)}% ({cohort.active_later:,} of {cohort.promoted:,})"
        return Reading(month.key, value, shown, target.status(value))

    current, previous = reading(now), reading(before)
    cohort = now.cohort
    return Metric(
        key="tier_retention_6m_percent",
        title="Tier members active 6 months on",
        current=current,
        previous=previous,
        trend=delta(current.value, previous.value, " pts"),
        target=target,
        detail="" if cohort is None else f"promoted in {cohort.month_label}, active in {now.label}",
    )


def _response_metric(now: MonthFigures, before: MonthFigures) -> Metric:
    def reading(month: MonthFigures) -> Reading:
        wait = month.median_first_response
        if wait is None:
            return Reading(month.key, None, "no replies")
        return Reading(month.key, round(wait.total_seconds() / 60, 2), format_duration(wait))

    return Metric(
        key="median_first_response_minutes",
        title="Median time to first response",
        current=reading(now),
        previous=reading(before),
        trend=duration_change(now.median_first_response, before.median_first_response),
        detail=f"{now.questions_asked:,} question(s) asked",
    )


def compose_health(inputs: HealthInputs) -> HealthReport:
    now, before, targets = inputs.current, inputs.previous, inputs.targets
    metrics = (
        _content_metric(now, before, targets.content_per_member),
        _count_metric(
            "referrals_credited", "Referrals credited", now, before, "referrals_credited"
        ),
        _rate_metric(
            "referral_retention_30d_percent",
            "Referred members still here after 30 days",
            (
                (now, now.referrals_retained, now.referrals_measured),
                (before, before.referrals_retained, before.referrals_measured),
            ),
            empty="none 30 days old yet",
            detail="of the month's credited referrals",
        ),
        _count_metric(
            "active_members",
            "Active members",
            now,
            before,
            "active_members",
            "posted on at least one day",
        ),
        _count_metric(
            "contributors",
            "Contributors",
            now,
            before,
            "contributors",
            "credited for more than chatting",
        ),
        _nps_metric(inputs),
        _retention_metric(now, before, targets.retention),
        _response_metric(now, before),
        _rate_metric(
            "questions_answered_percent",
            "Help questions answered",
            (
                (now, now.questions_answered, now.questions_asked),
                (before, before.questions_answered, before.questions_asked),
            ),
            empty="no questions",
            detail="questions opened in the month with an accepted answer",
        ),
        _count_metric(
            "new_contributors",
            "New contributors",
            now,
            before,
            "new_contributors",
            "first contribution ever",
        ),
        _count_metric(
            "slipping_away_contributors",
            "Slipping-away contributors",
            now,
            before,
            "slipping",
            f"contributed before, silent {targets.slipping_days}+ days at the month's end",
        ),
    )
    return HealthReport(
        period_key=now.key,
        period_label=now.label,
        previous_key=before.key,
        previous_label=before.label,
        metrics=metrics,
        weeks=tuple(inputs.weeks),
        cohorts=tuple(inputs.cohorts),
        retention_target=targets.retention,
        movement=tier_movement(now.tier_moves, inputs.tiers),
        previous_movement=tier_movement(before.tier_moves, inputs.tiers),
        slipping_now=tuple(sorted(inputs.slipping_now)),
        slipping_days=targets.slipping_days,
        groups=tuple(
            sorted(
                inputs.groups,
                key=lambda g: (
                    -g.events,
                    g.last_activity_at is None,
                    -(g.last_activity_at.timestamp() if g.last_activity_at else 0),
                    g.name.casefold(),
                ),
            )
        ),
        feedback=inputs.feedback,
        feedback_voters=_voters_by_tier(inputs.feedback, inputs.tiers),
    )


def _voters_by_tier(
    feedback: FeedbackFigures | None, tiers: Sequence[TierName]
) -> tuple[tuple[str, str, int], ...]:
    if feedback is None:
        return ()
    counts = feedback.voters_by_tier
    rows = [(t.key, t.name, counts.get(t.key, 0)) for t in reversed(tiers)]
    known = {t.key for t in tiers}
    # Voters with a tier no longer configured count as without one.
    untiered = sum(n for key, n in counts.items() if key is None or key not in known)
    return (*rows, ("none", "No tier", untiered))


def tier_movement(
    moves: Mapping[tuple[str | None, str | None], int], tiers: Sequence[TierName]
) -> tuple[TierMovement, ...]:
    """Up / held / down per tier, highest tier first.

    A member who moved up counts as "up" in the tier they reached; one who moved down counts as
    "down" in the tier they left. Tiers no longer configured rank below the ladder.
    """
    rank = {tier.key: index for index, tier in enumerate(tiers)}
    up = dict.fromkeys(rank, 0)
    held = dict.fromkeys(rank, 0)
    down = dict.fromkeys(rank, 0)
    for (start, end), members in moves.items():
        before = -1 if start is None else rank.get(start, -1)
        after = -1 if end is None else rank.get(end, -1)
        if after > before and end is not None:
            up[end] += members
        elif after == before and before >= 0 and start is not None:
            held[start] += members
        elif after < before and start is not None:
            down[start] += members
    return tuple(
        TierMovement(t.key, t.name, up[t.key], held[t.key], down[t.key]) for t in reversed(tiers)
    )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _status_text(reading: Reading, target: Target | None) -> str:
    if target is None:
        return ""
    if reading.status is None:
        return f" · target {target.label}"
    return f" · target {target.label} · {_MARK[reading.status]} {reading.status}"


def _metric_field(metric: Metric, previous_label: str) -> EmbedField:
    lines = [f"**{metric.current.shown}**{_status_text(metric.current, metric.target)}"]
    trend = "" if metric.trend == NO_DATA else f" · {metric.trend}"
    if metric.key == "nps":
        if metric.previous.period:
            lines.append(f"vs survey {metric.previous.period}: {metric.previous.shown}{trend}")
    else:
        lines.append(f"vs {previous_label}: {metric.previous.shown}{trend}")
    if metric.detail:
        lines.append(f"_{metric.detail}_")
    return EmbedField(metric.title, "\n".join(lines), inline=False)


def _week_lines(weeks: Iterable[WeekFigures]) -> list[str]:
    return [
        f"`{w.key}` {w.label}: **{w.active_members:,}** active · **{w.contributors:,}** "
        "contributing"
        for w in weeks
    ]


def _cohort_lines(cohorts: Iterable[Cohort], target: Target) -> list[str]:
    lines = []
    for cohort in cohorts:
        value = cohort.percent
        if value is None:
            lines.append(f"{cohort.month_label} → {cohort.measured_label}: no promotions")
            continue
        mark = _MARK[target.status(value)]
        lines.append(
            f"{cohort.month_label} → {cohort.measured_label}: {cohort.active_later:,} of "
            f"{cohort.promoted:,} active ({round(value)}%) {mark}"
        )
    return lines


def _movement_lines(movement: Iterable[TierMovement]) -> list[str]:
    return [
        f"**{m.name}**: ↑ {m.up:,} up · = {m.held:,} held · ↓ {m.down:,} down" for m in movement
    ]


def _group_lines(groups: Iterable[GroupActivity]) -> list[str]:
    lines = []
    for group in groups:
        where = f", {group.region}" if group.region else ""
        last = (
            f"last active {group.last_activity_at:%d %b %Y}"
            if group.last_activity_at
            else "no activity yet"
        )
        lines.append(
            f"**{group.name}** ({group.kind.replace('_', ' ')}{where}): {group.events:,} "
            f"event(s) · {group.members:,} member(s) · {last}"
        )
    return lines


def render_health(report: HealthReport) -> list[EmbedSpec]:
    """The report as embeds; ``bot.core.embeds.paginate`` fits them to Discord's limits."""
    title = f"Program health · {report.period_label}"
    summary = EmbedSpec(
        title=title,
        description=(
            f"The last complete month, **{report.period_label}**, compared with the month "
            f"before, **{report.previous_label}**. Targets come from `[program]` in the config."
        ),
        fields=tuple(_metric_field(m, report.previous_label) for m in report.metrics),
        color=HEALTH_COLOR,
    )
    weeks = EmbedSpec(
        title="Engagement, week by week",
        description="\n".join(_week_lines(report.weeks)) or "No complete weeks yet.",
        color=HEALTH_COLOR,
    )
    ladder_fields = (
        *line_fields(
            f"Tier movement · {report.period_label}",
            _movement_lines(report.movement) or ["No tiers configured."],
        ),
        *line_fields(
            f"Six-month retention by promotion month (target {report.retention_target.label})",
            _cohort_lines(report.cohorts, report.retention_target) or ["No cohorts yet."],
        ),
    )
    ladder = EmbedSpec(title="The ladder", fields=ladder_fields, color=HEALTH_COLOR)
    shown = [f"<@{user}>" for user in report.slipping_now[:SLIPPING_SHOWN]]
    more = len(report.slipping_now) - len(shown)
    if more > 0:
        shown.append(f"and {more:,} more")
    slipping = EmbedSpec(
        title=f"Slipping away now (silent {report.slipping_days}+ days)",
        description=(
            ", ".join(shown) + "\nA personal note from a moderator often brings them back."
            if shown
            else "Nobody: every recent contributor was active lately."
        ),
        color=HEALTH_COLOR,
    )
    groups = EmbedSpec(
        title=f"User groups by activity · {report.period_label}",
        description="\n".join(_group_lines(report.groups)) or "No user groups yet.",
        color=HEALTH_COLOR,
    )
    specs = [summary, weeks, ladder, slipping, groups]
    if report.feedback is not None:
        specs.append(_feedback_spec(report))
    return specs


def _feedback_spec(report: HealthReport) -> EmbedSpec:
    """Is the community heard, and how fast? And is the ladder the voice of the users?"""
    figures = report.feedback
    assert figures is not None
    median = figures.median_hours_to_first_status
    decided = figures.decided_share
    voters = sum(n for _, _, n in report.feedback_voters)
    lines = [
        f"New requests: **{figures.new_items:,}**",
        "Median time to a first staff status: "
        + ("no decision yet" if median is None else f"**{number(median)} h**"),
        "Requests of the month with a decision: "
        + ("no requests" if decided is None else f"**{number(decided * 100)}%**"),
        f"Shipped: **{figures.shipped:,}**",
        f"Voters: **{voters:,}**"
        + (
            " (" + ", ".join(f"{name} {n:,}" for _, name, n in report.feedback_voters) + ")"
            if voters
            else ""
        ),
    ]
    return EmbedSpec(
        title=f"Product feedback · {report.period_label}",
        description="\n".join(lines),
        color=HEALTH_COLOR,
    )


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _csv_value(value: float | None) -> str:
    return "" if value is None else number(value)


def csv_rows(report: HealthReport) -> list[tuple[str, str, str, str, str]]:
    """Rows under :data:`CSV_HEADER`: one per metric per period, then the tables behind them.

    Values are plain numbers (percentages as 0–100, durations in minutes); an empty value
    means there was nothing to measure, and the status says why when it can.
    """
    rows: list[tuple[str, str, str, str, str]] = []
    for metric in report.metrics:
        target = "" if metric.target is None else metric.target.csv
        for reading in (metric.current, metric.previous):
            if not reading.period:
                continue
            status = reading.status or (
                NOT_ENOUGH_ANSWERS if reading.shown.startswith(NOT_ENOUGH_ANSWERS) else ""
            )
            rows.append((metric.key, reading.period, _csv_value(reading.value), target, status))
    for week in report.weeks:
        rows.append(("weekly_active_members", week.key, str(week.active_members), "", ""))
        rows.append(("weekly_contributors", week.key, str(week.contributors), "", ""))
    retention = report.retention_target
    for cohort in report.cohorts:
        value = cohort.percent
        status = "" if value is None else retention.status(value)
        rows.append(("cohort_promoted", cohort.month_key, str(cohort.promoted), "", ""))
        rows.append(("cohort_active_6m", cohort.month_key, str(cohort.active_later), "", ""))
        rows.append(
            (
                "cohort_retention_6m_percent",
                cohort.month_key,
                _csv_value(value),
                retention.csv,
                status,
            )
        )
    for key, movement in (
        (report.period_key, report.movement),
        (report.previous_key, report.previous_movement),
    ):
        for tier in movement:
            rows.append((f"tier_up.{tier.key}", key, str(tier.up), "", ""))
            rows.append((f"tier_held.{tier.key}", key, str(tier.held), "", ""))
            rows.append((f"tier_down.{tier.key}", key, str(tier.down), "", ""))
    for group in report.groups:
        rows.append((f"group_events.{group.name}", report.period_key, str(group.events), "", ""))
    if report.feedback is not None:
        key, fb = report.period_key, report.feedback
        share = None if fb.decided_share is None else fb.decided_share * 100
        rows += [
            ("feedback_new_items", key, str(fb.new_items), "", ""),
            (
                "feedback_median_hours_to_first_status",
                key,
                _csv_value(fb.median_hours_to_first_status),
                "",
                "",
            ),
            ("feedback_decided_percent", key, _csv_value(share), "", ""),
            ("feedback_shipped", key, str(fb.shipped), "", ""),
        ]
        rows += [
            (f"feedback_voters.{tier}", key, str(n), "", "")
            for tier, _, n in report.feedback_voters
        ]
    return rows
