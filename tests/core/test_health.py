"""The program health report: targets and statuses, trends, tier movement, rendering, CSV rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.embeds import (
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    embed_chars,
    paginate,
)
from bot.core.feedback import FeedbackFigures
from bot.core.health import (
    CSV_HEADER,
    Cohort,
    GroupActivity,
    HealthInputs,
    MonthFigures,
    NpsRound,
    Target,
    Targets,
    TierName,
    WeekFigures,
    compose_health,
    csv_rows,
    delta,
    number,
    render_health,
    tier_movement,
)

TIERS = (
    TierName("champion", "Champion"),
    TierName("ambassador", "Ambassador"),
    TierName("advisor", "Advisor"),
)
TARGETS = Targets(
    content_per_member=Target(2, 4),
    nps=Target(70),
    retention=Target(60, unit="%"),
    slipping_days=14,
    nps_min_responses=5,
)
APRIL = Cohort("2026-04", "April 2026", "October 2026", promoted=5, active_later=3)
MARCH = Cohort("2026-03", "March 2026", "September 2026", promoted=4, active_later=1)
OCTOBER = MonthFigures(
    key="2026-10",
    label="October 2026",
    tier_members=4,
    tier_member_content=10,
    referrals_credited=6,
    referrals_measured=5,
    referrals_retained=4,
    active_members=40,
    contributors=12,
    questions_asked=20,
    questions_answered=15,
    median_first_response=timedelta(minutes=42),
    new_contributors=3,
    slipping=2,
    tier_moves={("champion", "champion"): 2, (None, "champion"): 1, ("ambassador", "advisor"): 1},
    cohort=APRIL,
)
SEPTEMBER = replace(
    OCTOBER,
    key="2026-09",
    label="September 2026",
    tier_members=5,
    tier_member_content=5,
    referrals_credited=6,
    referrals_measured=4,
    referrals_retained=2,
    active_members=30,
    contributors=12,
    questions_asked=10,
    questions_answered=5,
    median_first_response=timedelta(hours=1),
    tier_moves={},
    cohort=MARCH,
)
INPUTS = HealthInputs(
    current=OCTOBER,
    previous=SEPTEMBER,
    weeks=[WeekFigures("2026-W43", "19–25 October 2026", 20, 6)],
    cohorts=[APRIL, MARCH],
    nps=NpsRound("2026-Q4", responses=8, score=75),
    nps_previous=NpsRound("2026-Q3", responses=3, score=None),
    tiers=TIERS,
    targets=TARGETS,
    slipping_now=[3003, 1001],
    groups=[],
)


# --------------------------------------------------------------------------------------------
# Targets, numbers and trends
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "value", "status"),
    [
        (Target(2, 4), 1.99, "below"),
        (Target(2, 4), 2, "on target"),
        (Target(2, 4), 3.5, "on target"),
        (Target(2, 4), 4, "on target"),
        (Target(2, 4), 4.01, "above"),
        (Target(70), 69, "below"),
        (Target(70), 70, "on target"),
        (Target(70), 100, "on target"),  # a floor has no "above"
        (Target(-20), -25, "below"),
        (Target(None, 60), 61, "above"),
    ],
)
def test_status_against_target(target: Target, value: float, status: str) -> None:
    assert target.status(value) == status


@pytest.mark.parametrize(
    ("target", "label", "csv"),
    [
        (Target(2, 4), "2–4", "2-4"),
        (Target(2.5, 4), "2.5–4", "2.5-4"),
        (Target(70), "≥ 70", ">=70"),
        (Target(60, unit="%"), "≥ 60%", ">=60"),
        (Target(None, 60), "≤ 60", "<=60"),
        (Target(), "", ""),
    ],
)
def test_target_labels(target: Target, label: str, csv: str) -> None:
    assert (target.label, target.csv) == (label, csv)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3, "3"),
        (2.5, "2.5"),
        (1 / 3, "0.33"),
        (2.0, "2"),
        (0.001, "0"),
        (-0.001, "0"),
        (-1.25, "-1.25"),
    ],
)
def test_number(value: float, shown: str) -> None:
    assert number(value) == shown


@pytest.mark.parametrize(
    ("current", "previous", "unit", "expected"),
    [
        (2.5, 2.0, "", "+0.5"),
        (50.0, 62.5, " pts", "−12.5 pts"),
        (3.0, 3.0, "", "no change"),
        (None, 2.0, "", "—"),
        (2.0, None, "", "—"),
    ],
)
def test_delta(current: float | None, previous: float | None, unit: str, expected: str) -> None:
    assert delta(current, previous, unit) == expected


# --------------------------------------------------------------------------------------------
# Tier movement
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        ({}, {"advisor": (0, 0, 0), "ambassador": (0, 0, 0), "champion": (0, 0, 0)}),
        (  # joined the ladder, held, climbed two rungs
            {(None, "champion"): 3, ("champion", "champion"): 2, ("champion", "advisor"): 1},
            {"advisor": (1, 0, 0), "ambassador": (0, 0, 0), "champion": (3, 2, 0)},
        ),
        (  # dropped a rung, dropped off the ladder
            {("advisor", "ambassador"): 1, ("champion", None): 4, ("advisor", "advisor"): 1},
            {"advisor": (0, 1, 1), "ambassador": (0, 0, 0), "champion": (0, 0, 4)},
        ),
        (  # a tier since removed from the config ranks below the ladder
            {("retired", "champion"): 1, ("ambassador", "retired"): 2, ("retired", "retired"): 5},
            {"advisor": (0, 0, 0), "ambassador": (0, 0, 2), "champion": (1, 0, 0)},
        ),
    ],
)
def test_tier_movement(
    moves: dict[tuple[str | None, str | None], int], expected: dict[str, tuple[int, int, int]]
) -> None:
    table = tier_movement(Counter(moves), TIERS)
    assert [row.key for row in table] == ["advisor", "ambassador", "champion"]  # highest first
    assert {row.key: (row.up, row.held, row.down) for row in table} == expected


# --------------------------------------------------------------------------------------------
# The report's metrics
# --------------------------------------------------------------------------------------------


def test_metrics_carry_values_targets_statuses_and_trends() -> None:
    report = compose_health(INPUTS)
    content = report.metric("content_per_tier_member")
    assert (content.current.value, content.current.status) == (2.5, "on target")
    assert (content.previous.value, content.previous.status) == (1.0, "below")
    assert content.trend == "+1.5"

    referrals = report.metric("referral_retention_30d_percent")
    assert referrals.current.shown == "80% (4 of 5)"
    assert referrals.trend == "+30 pts"
    assert report.metric("referrals_credited").trend == "no change"

    assert report.metric("active_members").trend == "+10 (+33%)"
    answered = report.metric("questions_answered_percent")
    assert (answered.current.value, answered.previous.value) == (75.0, 50.0)
    wait = report.metric("median_first_response_minutes")
    assert (wait.current.value, wait.current.shown) == (42.0, "42 min")
    assert wait.trend == "−18 min (−30%)"

    retention = report.metric("tier_retention_6m_percent")
    assert (retention.current.value, retention.current.status) == (60.0, "on target")
    assert (retention.previous.value, retention.previous.status) == (25.0, "below")
    assert "April 2026" in retention.detail

    nps = report.metric("nps")
    assert (nps.current.period, nps.current.value, nps.current.status) == (
        "2026-Q4",
        75,
        "on target",
    )
    assert nps.previous.value is None
    assert nps.previous.shown == "not enough answers (3 of the 5 needed)"
    assert nps.trend == "—"
    assert report.slipping_now == (1001, 3003)


@pytest.mark.parametrize(
    ("changes", "key", "shown", "status"),
    [
        ({"tier_members": 0}, "content_per_tier_member", "no tier members", None),
        ({"tier_member_content": 20}, "content_per_tier_member", "5", "above"),
        (
            {"referrals_measured": 0, "referrals_retained": 0},
            "referral_retention_30d_percent",
            "none 30 days old yet",
            None,
        ),
        (
            {"questions_asked": 0, "questions_answered": 0},
            "questions_answered_percent",
            "no questions",
            None,
        ),
        ({"median_first_response": None}, "median_first_response_minutes", "no replies", None),
        ({"cohort": None}, "tier_retention_6m_percent", "no cohort", None),
        (
            {"cohort": replace(APRIL, promoted=0, active_later=0)},
            "tier_retention_6m_percent",
            "no promotions in April 2026",
            None,
        ),
    ],
)
def test_a_month_with_nothing_to_measure(
    changes: dict[str, object], key: str, shown: str, status: str | None
) -> None:
    report = compose_health(replace(INPUTS, current=replace(OCTOBER, **changes)))  # type: ignore[arg-type]
    metric = report.metric(key)
    assert (metric.current.shown, metric.current.status) == (shown, status)
    if metric.current.value is None:
        assert metric.trend == "—"


@pytest.mark.parametrize(
    ("nps", "shown", "status"),
    [
        (None, "no survey answers yet", None),
        (NpsRound("2026-Q4", 4, None), "not enough answers (4 of the 5 needed)", None),
        (NpsRound("2026-Q4", 5, 20), "+20 (5 answers)", "below"),
        (NpsRound("2026-Q4", 9, -40), "-40 (9 answers)", "below"),
        (NpsRound("2026-Q4", 12, 70), "+70 (12 answers)", "on target"),
    ],
)
def test_nps_is_shown_only_with_enough_answers(
    nps: NpsRound | None, shown: str, status: str | None
) -> None:
    metric = compose_health(replace(INPUTS, nps=nps)).metric("nps")
    assert (metric.current.shown, metric.current.status) == (shown, status)


def test_groups_are_listed_most_active_first() -> None:
    at = datetime(2026, 10, 20, tzinfo=UTC)
    groups = [
        GroupActivity("Quiet", "virtual", None, 3, 0, None),
        GroupActivity("Berlin", "local", "Berlin", 12, 2, at),
        GroupActivity("Fintech", "industry", None, 8, 2, at + timedelta(days=3)),
        GroupActivity("Dormant", "use_case", None, 4, 0, at - timedelta(days=90)),
    ]
    report = compose_health(replace(INPUTS, groups=groups))
    assert [g.name for g in report.groups] == ["Fintech", "Berlin", "Dormant", "Quiet"]


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def text_of(specs) -> str:
    parts = []
    for spec in specs:
        parts += [spec.title, spec.description, spec.footer]
        parts += [f"{f.name}\n{f.value}" for f in spec.fields]
    return "\n".join(parts)


def test_render_names_the_months_targets_and_statuses() -> None:
    specs = render_health(compose_health(INPUTS))
    text = text_of(specs)
    assert specs[0].title == "Program health · October 2026"
    assert "compared with the month before, **September 2026**" in text
    assert "**2.5** · target 2–4 · ✅ on target\nvs September 2026: 1 · +1.5" in text
    assert "**60% (3 of 5)** · target ≥ 60% · ✅ on target" in text
    assert (
        "**+75 (8 answers)** · target ≥ 70 · ✅ on target\nvs survey 2026-Q3: not enough " in text
    )
    assert "vs September 2026: 25% (1 of 4) · +35 pts" in text
    assert "`2026-W43` 19–25 October 2026: **20** active · **6** contributing" in text
    assert "**Advisor**: ↑ 1 up · = 0 held · ↓ 0 down" in text
    assert "**Champion**: ↑ 1 up · = 2 held · ↓ 0 down" in text
    assert "April 2026 → October 2026: 3 of 5 active (60%) ✅" in text
    assert "March 2026 → September 2026: 1 of 4 active (25%) 🔻" in text
    assert "<@1001>, <@3003>" in text
    assert "No user groups yet." in text


def test_render_stays_within_discord_limits_with_long_lists() -> None:
    many_groups = [
        GroupActivity(f"Group {i:03d} " + "x" * 60, "local", "Somewhere far", i, i % 4, None)
        for i in range(300)
    ]
    weeks = [WeekFigures(f"2026-W{i:02d}", "1–7 January 2026", 10**6, 10**5) for i in range(8)]
    inputs = replace(INPUTS, groups=many_groups, weeks=weeks, slipping_now=list(range(1, 2000)))
    specs = render_health(compose_health(inputs))
    assert "and 1,984 more" in text_of(specs)
    pages = paginate(specs)
    for page in pages:
        assert len(page) <= EMBEDS_PER_MESSAGE
        assert sum(embed_chars(e) for e in page) <= EMBED_TOTAL_MAX
        for embed in page:
            assert len(embed.fields) <= FIELDS_MAX
            assert all(len(f.value) <= FIELD_VALUE_MAX for f in embed.fields)
    shown = text_of([e for page in pages for e in page])
    assert all(f"Group {i:03d}" in shown for i in range(300)), "nothing is dropped"


# --------------------------------------------------------------------------------------------
# CSV rows
# --------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_metric_per_period() -> None:
    report = compose_health(INPUTS)
    rows = csv_rows(report)
    assert CSV_HEADER == ("metric", "period", "value", "target", "status")
    assert all(len(row) == len(CSV_HEADER) for row in rows)
    keys = [(metric, period) for metric, period, *_ in rows]
    assert len(keys) == len(set(keys)), "one row per metric per period"
    by_key = {(row[0], row[1]): row[2:] for row in rows}
    assert by_key[("content_per_tier_member", "2026-10")] == ("2.5", "2-4", "on target")
    assert by_key[("content_per_tier_member", "2026-09")] == ("1", "2-4", "below")
    assert by_key[("active_members", "2026-09")] == ("30", "", "")
    assert by_key[("median_first_response_minutes", "2026-10")] == ("42", "", "")
    assert by_key[("nps", "2026-Q4")] == ("75", ">=70", "on target")
    assert by_key[("nps", "2026-Q3")] == ("", ">=70", "not enough answers")
    assert by_key[("tier_retention_6m_percent", "2026-10")] == ("60", ">=60", "on target")
    assert by_key[("weekly_active_members", "2026-W43")] == ("20", "", "")
    assert by_key[("cohort_retention_6m_percent", "2026-03")] == ("25", ">=60", "below")
    assert by_key[("tier_up.champion", "2026-10")] == ("1", "", "")
    assert by_key[("tier_held.champion", "2026-10")] == ("2", "", "")
    assert by_key[("tier_up.champion", "2026-09")] == ("0", "", "")


def test_csv_without_any_survey_has_no_nps_rows() -> None:
    rows = csv_rows(compose_health(replace(INPUTS, nps=None, nps_previous=None)))
    assert not [row for row in rows if row[0] == "nps"]


def test_the_feedback_loop_is_reported_with_voters_by_tier_and_in_the_csv() -> None:
    feedback = FeedbackFigures(
        new_items=4,
        median_hours_to_first_status=6.5,
        decided_share=0.5,
        shipped=2,
        voters_by_tier={TIERS[0].key: 3, None: 5, "retired_tier": 1},
    )
    report = compose_health(replace(INPUTS, feedback=feedback))
    text = text_of(render_health(report))
    assert "Product feedback · October 2026" in text
    assert "New requests: **4**" in text and "**6.5 h**" in text and "**50%**" in text
    assert f"{TIERS[0].name} 3" in text and "No tier 6" in text, "a tier no longer configured"
    rows = {(key, period): value for key, period, value, _, _ in csv_rows(report)}
    assert rows[("feedback_new_items", "2026-10")] == "4"
    assert rows[("feedback_decided_percent", "2026-10")] == "50"
    assert rows[("feedback_voters.none", "2026-10")] == "6"
    assert rows[(f"feedback_voters.{TIERS[0].key}", "2026-10")] == "3"


def test_no_feedback_section_when_the_loop_is_off() -> None:
    report = compose_health(INPUTS)
    assert "Product feedback" not in text_of(render_health(report))
    assert not [row for row in csv_rows(report) if row[0].startswith("feedback_")]
