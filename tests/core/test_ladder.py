"""The ladder: promotion, low-water marks, grace, at-risk notices, pins, leaves, seats, windows."""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import LadderConfig, TierConfig
from bot.core.kinds import BUILT_IN
from bot.core.ladder import (
    Criterion,
    Decision,
    LadderRules,
    MemberState,
    MemberStats,
    Progress,
    TierRule,
    WindowStats,
    evaluate,
    meets_numbers,
    progress,
    required_windows,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
LONG_AGO = NOW - 365 * DAY
RULES = LadderRules()
#: Every built-in kind's plural noun: how criteria read (``TierRule.of`` takes them from the table).
NOUNS = {row.key: row.many for row in BUILT_IN}

CHAMPION = TierRule(
    key="champion",
    name="Champion",
    window_days=30,
    min_points=50,
    min_counts={"answer": 3},
    min_active_weeks=3,
    min_tenure_days=14,
    nomination_required=False,
    seats=None,
    nouns=NOUNS,
)
AMBASSADOR = TierRule(
    key="ambassador",
    name="Ambassador",
    window_days=90,
    min_points=200,
    min_counts={"answer": 10, "event_hosted": 1},
    min_active_weeks=8,
    min_tenure_days=60,
    nomination_required=False,
    seats=None,
    nouns=NOUNS,
)
ADVISOR = TierRule(
    key="advisor",
    name="Advisor",
    window_days=180,
    min_points=500,
    min_counts={"mentoring": 3},
    min_active_weeks=16,
    min_tenure_days=180,
    nomination_required=True,
    seats=3,
    nouns=NOUNS,
)
LADDER = (CHAMPION, AMBASSADOR, ADVISOR)
BY_KEY = {tier.key: tier for tier in LADDER}


def ws(points: int = 0, active_weeks: int = 0, **counts: int) -> WindowStats:
    return WindowStats(points=points, counts=counts, active_weeks=active_weeks)


def at(tier: TierRule, percent: int = 100, **override: int) -> WindowStats:
    """Every contribution number of ``tier`` at ``percent`` of its requirement (rounded up)."""

    def share(required: int) -> int:
        return math.ceil(Fraction(percent, 100) * required)

    stats = ws(
        share(tier.min_points),
        share(tier.min_active_weeks),
        **{kind: share(n) for kind, n in tier.min_counts.items()},
    )
    if not override:
        return stats
    counts = {**stats.counts, **{k: v for k, v in override.items() if k in tier.min_counts}}
    return WindowStats(
        points=override.get("points", stats.points),
        counts=counts,
        active_weeks=override.get("active_weeks", stats.active_weeks),
    )


def stats(*, joined_at: datetime | None = LONG_AGO, **windows: WindowStats) -> MemberStats:
    """Windows by name: ``w30=``, ``w90=``, ``w180=``."""
    return MemberStats(
        user_id=1, joined_at=joined_at, windows={int(k[1:]): v for k, v in windows.items()}
    )


def full(*tiers: TierRule) -> MemberStats:
    """Meets every contribution number of each of ``tiers`` (in their own windows)."""
    return MemberStats(user_id=1, joined_at=LONG_AGO, windows={t.window_days: at(t) for t in tiers})


def holding(key: str | None, **changes: object) -> MemberState:
    return replace(MemberState(tier_key=key, tier_since=NOW - 90 * DAY), **changes)  # type: ignore[arg-type]


def run(
    member: MemberStats,
    state: MemberState | None = None,
    *,
    tiers: Sequence[TierRule] = LADDER,
    rules: LadderRules = RULES,
    now: datetime = NOW,
    seats: Mapping[str, int] | None = None,
) -> Decision:
    return evaluate(member, state or MemberState(), tiers, rules, now=now, seats_taken=seats or {})


def store(state: MemberState, decision: Decision, now: datetime) -> MemberState:
    """What the service writes back after a decision."""
    if decision.action in ("promote", "demote"):
        return replace(
            state,
            tier_key=decision.to_tier,
            tier_since=now,
            below_since=None,
            at_risk_notified_at=None,
        )
    notified = now if decision.notify_at_risk else state.at_risk_notified_at
    return replace(state, below_since=decision.below_since, at_risk_notified_at=notified)


def simulate(
    state: MemberState,
    member: Callable[[int], MemberStats],
    days: int,
    *,
    tiers: Sequence[TierRule] = LADDER,
    rules: LadderRules = RULES,
    start: datetime = NOW,
) -> list[tuple[int, Decision]]:
    """A daily sweep from ``start``: (day, decision) for each day, state carried over."""
    out: list[tuple[int, Decision]] = []
    for day in range(days):
        now = start + day * DAY
        decision = evaluate(member(day), state, tiers, rules, now=now, seats_taken={})
        out.append((day, decision))
        state = store(state, decision, now)
    return out


# --- promotion ----------------------------------------------------------------------------------


def test_promotes_as_soon_as_every_criterion_is_met() -> None:
    decision = run(full(CHAMPION))
    assert decision.action == "promote"
    assert (decision.from_tier, decision.to_tier) == (None, "champion")
    assert all(c.met for c in decision.criteria)
    assert [c.name for c in decision.criteria] == [
        "points",
        "answer",
        "active_weeks",
        "tenure_days",
    ]
    assert (decision.below_since, decision.demotion_due_at, decision.notify_at_risk) == (
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("member", "missed"),
    [
        pytest.param(stats(w30=at(CHAMPION, points=49)), "points", id="points"),
        pytest.param(stats(w30=at(CHAMPION, answer=2)), "answer", id="count of one kind"),
        pytest.param(stats(w30=at(CHAMPION, active_weeks=2)), "active_weeks", id="active weeks"),
        pytest.param(
            stats(w30=at(CHAMPION), joined_at=NOW - 13 * DAY), "tenure_days", id="tenure 13/14"
        ),
        pytest.param(
            stats(w30=at(CHAMPION), joined_at=None), "tenure_days", id="join date unknown"
        ),
        pytest.param(
            stats(w30=at(CHAMPION), joined_at=NOW + DAY), "tenure_days", id="join in the future"
        ),
    ],
)
def test_one_missed_criterion_blocks_promotion(member: MemberStats, missed: str) -> None:
    decision = run(member)
    assert decision.action == "keep"
    assert (decision.from_tier, decision.to_tier) == (None, None)
    assert [c.name for c in decision.criteria if not c.met] == [missed]
    assert decision.reasons[0] == "Not yet Champion: some criteria are still missing."


def test_tenure_counts_whole_days_since_joining() -> None:
    assert run(stats(w30=at(CHAMPION), joined_at=NOW - 14 * DAY)).to_tier == "champion"
    almost = run(stats(w30=at(CHAMPION), joined_at=NOW - 14 * DAY + SECOND))
    assert almost.to_tier is None


def test_every_kind_in_min_counts_is_required() -> None:
    ambassador = at(AMBASSADOR)
    no_event = replace(ambassador, counts={"answer": 10})
    decision = run(stats(w30=at(CHAMPION), w90=no_event), holding("champion"))
    assert decision.action == "keep" and decision.to_tier == "champion"
    both = run(stats(w30=at(CHAMPION), w90=ambassador), holding("champion"))
    assert (both.action, both.to_tier) == ("promote", "ambassador")
    assert {c.name for c in both.criteria} >= {"answer", "event_hosted"}


def test_counts_of_other_kinds_do_not_stand_in() -> None:
    member = stats(w30=ws(500, 5, thanks_received=40, content=9))
    decision = run(member)
    assert decision.to_tier is None
    assert [c.describe() for c in decision.criteria if not c.met] == ["0/3 accepted answers ✗"]


def test_skips_straight_to_the_highest_met_tier() -> None:
    everything = full(CHAMPION, AMBASSADOR, ADVISOR)
    nominated = MemberState(approved_nominations=frozenset({"advisor"}))
    decision = run(everything, nominated)
    assert (decision.action, decision.from_tier, decision.to_tier) == ("promote", None, "advisor")
    assert decision.reasons[0] == "Promoted to Advisor: every criterion is met."
    assert run(everything).to_tier == "ambassador"  # no nomination for Advisor: next best
    from_champion = run(
        everything, holding("champion", approved_nominations=frozenset({"advisor"}))
    )
    assert (from_champion.from_tier, from_champion.to_tier) == ("champion", "advisor")


def test_a_higher_tier_counts_even_when_a_lower_one_is_not_met() -> None:
    member = stats(w30=ws(), w90=at(AMBASSADOR))  # nothing in the last 30 days
    assert run(member).to_tier == "ambassador"


@pytest.mark.parametrize(
    ("nominations", "expected"),
    [
        pytest.param(frozenset(), "ambassador", id="no nomination"),
        pytest.param(frozenset({"ambassador"}), "ambassador", id="nominated for another tier"),
        pytest.param(frozenset({"advisor"}), "advisor", id="approved nomination"),
    ],
)
def test_nomination_required(nominations: frozenset[str], expected: str) -> None:
    state = holding("ambassador", approved_nominations=nominations)
    decision = run(full(CHAMPION, AMBASSADOR, ADVISOR), state)
    assert decision.to_tier == expected
    if expected == "ambassador":
        assert decision.action == "keep"


def test_nomination_missing_is_named_in_the_reasons() -> None:
    report = progress(full(ADVISOR), holding("ambassador"), LADDER, now=NOW, seats_taken={})
    assert report.next == "advisor"
    assert [c.describe() for c in report.missing] == ["needs an approved nomination ✗"]


NOMINATED = frozenset({"advisor"})


@pytest.mark.parametrize(
    ("held", "nominated", "taken", "expected"),
    [
        pytest.param("ambassador", True, 2, ("promote", "advisor"), id="seat available"),
        pytest.param("ambassador", True, 3, ("keep", "ambassador"), id="seats full"),
        pytest.param("ambassador", True, 7, ("keep", "ambassador"), id="seats over-full"),
        pytest.param("advisor", True, 3, ("keep", "advisor"), id="full, already holding it"),
        pytest.param("advisor", False, 3, ("keep", "advisor"), id="full, set by a moderator"),
    ],
)
def test_seats(held: str, nominated: bool, taken: int, expected: tuple[str, str]) -> None:
    state = holding(held, approved_nominations=NOMINATED if nominated else frozenset())
    decision = run(full(CHAMPION, AMBASSADOR, ADVISOR), state, seats={"advisor": taken})
    assert (decision.action, decision.to_tier) == expected


def test_a_full_tier_below_the_one_held_counts_as_available() -> None:
    seated = replace(AMBASSADOR, seats=1)
    tiers = (CHAMPION, seated, ADVISOR)
    state = holding("advisor", below_since=NOW - 31 * DAY)
    member = full(CHAMPION, AMBASSADOR)  # Advisor's numbers gone, Ambassador's still there
    decision = run(member, state, tiers=tiers, seats={"ambassador": 1, "advisor": 3})
    assert (decision.action, decision.to_tier) == ("demote", "ambassador")
    newcomer = run(member, tiers=tiers, seats={"ambassador": 1})
    assert (newcomer.action, newcomer.to_tier) == ("promote", "champion")


def test_full_seats_are_named_in_the_reasons() -> None:
    state = holding("ambassador", approved_nominations=NOMINATED)
    report = progress(full(ADVISOR), state, LADDER, now=NOW, seats_taken={"advisor": 3})
    assert [c.describe() for c in report.missing] == ["no seat free (3/3 seats taken) ✗"]


# --- reasons ------------------------------------------------------------------------------------


def test_promotion_reasons_name_each_criterion() -> None:
    assert run(full(CHAMPION)).reasons == (
        "Promoted to Champion: every criterion is met.",
        "50/50 points ✓.",
        "3/3 accepted answers ✓.",
        "3/3 active weeks ✓.",
        "365/14 days in the server ✓.",
    )


def test_not_yet_reasons_name_each_criterion_met_or_missed() -> None:
    member = stats(w30=ws(40, 3, answer=1), joined_at=NOW - 20 * DAY)
    assert run(member).reasons == (
        "Not yet Champion: some criteria are still missing.",
        "40/50 points ✗.",
        "1/3 accepted answers ✗.",
        "3/3 active weeks ✓.",
        "20/14 days in the server ✓.",
    )


def test_at_risk_reasons_name_the_low_water_marks() -> None:
    member = stats(w30=ws(44, 3, answer=2))  # under 45 points and 2.7 answers
    decision = run(member, holding("champion"))
    assert decision.reasons == (
        "At risk of losing Champion: below the low-water mark since 2025-06-01; "
        "demotion on 2025-07-01 unless that changes.",
        "44/50 points ✗ (below the low-water mark of 45).",
        "2/3 accepted answers ✗ (below the low-water mark of 2.7).",
        "3/3 active weeks ✓.",
        "365/14 days in the server ✓.",
    )


def test_keep_reasons_say_a_miss_is_still_above_its_low_water_mark() -> None:
    decision = run(stats(w30=ws(47, 3, answer=3)), holding("champion"))
    assert decision.reasons[:2] == (
        "Keeps Champion: every criterion is at or above 90% of its requirement.",
        "47/50 points ✗ (above the low-water mark of 45).",
    )


def test_demotion_reasons() -> None:
    decision = run(stats(), holding("champion", below_since=NOW - 30 * DAY))
    assert decision.reasons[0] == (
        "Demoted from Champion to no tier: below the low-water mark since 2025-05-02, "
        "past the grace period."
    )
    assert "0/50 points ✗ (below the low-water mark of 45)." in decision.reasons


@pytest.mark.parametrize(
    ("criterion", "text"),
    [
        (Criterion("answer", 3, 3, True, NOUNS["answer"]), "3/3 accepted answers ✓"),
        (Criterion("points", 50, 40, False), "40/50 points ✗"),
        (
            Criterion("thanks_received", 5, 6, True, NOUNS["thanks_received"]),
            "6/5 thank-yous received ✓",
        ),
        (Criterion("event_hosted", 1, 0, False, NOUNS["event_hosted"]), "0/1 events hosted ✗"),
        (Criterion("event_attended", 4, 4, True, NOUNS["event_attended"]), "4/4 events attended ✓"),
        (Criterion("content", 2, 1, False, NOUNS["content"]), "1/2 pieces of content ✗"),
        (Criterion("referral", 2, 2, True, NOUNS["referral"]), "2/2 referrals ✓"),
        (Criterion("mentoring", 3, 1, False, NOUNS["mentoring"]), "1/3 mentoring sessions ✗"),
        (Criterion("message_day", 10, 12, True, NOUNS["message_day"]), "12/10 active days ✓"),
        (Criterion("active_weeks", 8, 6, False), "6/8 active weeks ✗"),
        (Criterion("tenure_days", 30, 45, True), "45/30 days in the server ✓"),
        (Criterion("some_new_kind", 2, 1, False), "1/2 some new kind ✗"),
        (Criterion("points", 4.5, 4.25, False), "4.25/4.5 points ✗"),
        (Criterion("nomination", 1, 1, True), "nomination approved ✓"),
        (Criterion("nomination", 1, 0, False), "needs an approved nomination ✗"),
        (Criterion("nomination", 1, 0, True), "no nomination needed: tier already held ✓"),
        (Criterion("seats", 3, 2, True), "seat available (2/3 seats taken) ✓"),
        (Criterion("seats", 3, 3, True), "seat held (3/3 seats taken) ✓"),
        (Criterion("seats", 3, 3, False), "no seat free (3/3 seats taken) ✗"),
    ],
)
def test_describe(criterion: Criterion, text: str) -> None:
    assert criterion.describe() == text


def test_zero_requirements_are_not_criteria() -> None:
    open_tier = TierRule("open", "Open", 30, 0, {"answer": 0}, 0, 0, False, None, nouns=NOUNS)
    decision = run(stats(), tiers=(open_tier,))
    assert (decision.action, decision.to_tier, decision.criteria) == ("promote", "open", ())
    assert decision.reasons == ("Promoted to Open: every criterion is met.", "(no requirements)")


def test_no_tiers_configured() -> None:
    decision = run(full(CHAMPION), tiers=())
    assert (decision.action, decision.to_tier, decision.reasons) == (
        "keep",
        None,
        ("No tiers are configured.",),
    )


# --- low-water marks ----------------------------------------------------------------------------


def test_95_percent_of_a_criterion_keeps_the_tier() -> None:
    decision = run(stats(w30=at(CHAMPION, points=48)), holding("champion"))  # 96%
    assert (decision.action, decision.to_tier) == ("keep", "champion")
    assert (decision.below_since, decision.demotion_due_at) == (None, None)
    everything_95 = run(stats(w30=at(CHAMPION, 95)), holding("champion"))
    assert (everything_95.action, everything_95.below_since) == ("keep", None)


@pytest.mark.parametrize(
    "override",
    [
        pytest.param({"points": 42}, id="points 84%"),
        pytest.param({"answer": 2}, id="answers 67%"),
        pytest.param({"active_weeks": 2}, id="active weeks 67%"),
    ],
)
def test_below_the_low_water_mark_starts_the_grace_clock(override: dict[str, int]) -> None:
    decision = run(stats(w30=at(CHAMPION, **override)), holding("champion"))
    assert (decision.action, decision.to_tier) == ("keep", "champion")
    assert decision.below_since == NOW
    assert decision.demotion_due_at == NOW + 30 * DAY
    assert not decision.notify_at_risk


def test_85_percent_is_below() -> None:
    tier = replace(CHAMPION, min_points=100)
    decision = run(stats(w30=at(tier, points=85)), holding("champion"), tiers=(tier,))
    assert decision.below_since == NOW
    kept = run(stats(w30=at(tier, points=95)), holding("champion"), tiers=(tier,))
    assert kept.below_since is None


@pytest.mark.parametrize("required", [10, 30, 50, 70, 110, 130, 1000, 12345])
def test_exactly_the_low_water_mark_holds(required: int) -> None:
    tier = replace(CHAMPION, min_points=required)
    mark = math.ceil(Fraction(9, 10) * required)
    held = run(stats(w30=at(tier, points=mark)), holding("champion"), tiers=(tier,))
    assert held.below_since is None
    under = run(stats(w30=at(tier, points=mark - 1)), holding("champion"), tiers=(tier,))
    assert under.below_since == NOW


@pytest.mark.parametrize(("ratio", "required"), [(0.55, 100), (0.55, 180), (0.9, 70), (0.8, 15)])
def test_exactly_the_low_water_mark_holds_despite_float_rounding(
    ratio: float, required: int
) -> None:
    tier = replace(CHAMPION, min_points=required)
    mark = Fraction(str(ratio)) * required
    assert mark.denominator == 1  # an exact whole number of points...
    rules = LadderRules(low_water_ratio=ratio)
    member = stats(w30=at(tier, points=int(mark)))  # ...which must hold the mark
    assert run(member, holding("champion"), tiers=(tier,), rules=rules).below_since is None


def test_the_low_water_ratio_is_configurable() -> None:
    half = LadderRules(low_water_ratio=0.5)
    member = stats(w30=at(CHAMPION, points=30))
    assert run(member, holding("champion"), rules=half).below_since is None
    assert run(member, holding("champion")).below_since == NOW


@pytest.mark.parametrize(
    ("state", "member", "seats"),
    [
        pytest.param(
            holding("champion"), stats(w30=at(CHAMPION), joined_at=None), {}, id="tenure unknown"
        ),
        pytest.param(
            holding("champion"),
            stats(w30=at(CHAMPION), joined_at=NOW),
            {},
            id="tenure 0 (set by a moderator)",
        ),
        pytest.param(
            holding("advisor"),
            full(CHAMPION, AMBASSADOR, ADVISOR),
            {"advisor": 5},
            id="no nomination, seats over-full",
        ),
    ],
)
def test_tenure_nomination_and_seats_never_count_as_below(
    state: MemberState, member: MemberStats, seats: dict[str, int]
) -> None:
    decision = run(member, state, seats=seats)
    assert (decision.action, decision.to_tier, decision.below_since) == (
        "keep",
        state.tier_key,
        None,
    )
    assert all(c.met for c in decision.criteria if c.name in ("nomination", "seats"))


# --- grace, demotion ----------------------------------------------------------------------------

BELOW = stats(w30=at(CHAMPION, 80))


def test_demotes_after_being_below_for_the_whole_grace_period() -> None:
    state = holding("champion", below_since=NOW - 30 * DAY, at_risk_notified_at=NOW - 7 * DAY)
    decision = run(BELOW, state)
    assert (decision.action, decision.from_tier, decision.to_tier) == ("demote", "champion", None)
    assert decision.below_since is None
    assert decision.demotion_due_at == NOW
    assert not decision.notify_at_risk
    a_second_earlier = run(BELOW, state, now=NOW - SECOND)
    assert (a_second_earlier.action, a_second_earlier.to_tier) == ("keep", "champion")


def test_demotion_is_due_even_without_a_notice() -> None:
    # A missed sweep must not keep someone forever: the notice is a courtesy, not a gate.
    decision = run(BELOW, holding("champion", below_since=NOW - 45 * DAY))
    assert decision.action == "demote"


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        pytest.param(full(CHAMPION, AMBASSADOR), "ambassador", id="ambassador marks hold"),
        pytest.param(
            stats(w30=at(CHAMPION, 90), w90=at(AMBASSADOR, 90)),
            "ambassador",
            id="ambassador marks exactly held",
        ),
        pytest.param(
            stats(w30=at(CHAMPION), w90=at(AMBASSADOR, 85)),
            "champion",
            id="only champion marks hold",
        ),
        pytest.param(
            stats(w30=at(CHAMPION, 92), w90=at(AMBASSADOR, 50)),
            "champion",
            id="champion marks held, not met",
        ),
        pytest.param(stats(w30=at(CHAMPION, 50), w90=at(AMBASSADOR, 50)), None, id="none hold"),
        pytest.param(stats(), None, id="no stats at all"),
    ],
)
def test_demotes_to_the_highest_lower_tier_whose_marks_hold(
    member: MemberStats, expected: str | None
) -> None:
    state = holding("advisor", below_since=NOW - 30 * DAY)
    decision = run(member, state, seats={"advisor": 3})
    assert (decision.action, decision.from_tier, decision.to_tier) == (
        "demote",
        "advisor",
        expected,
    )
    assert decision.criteria[0].name == "points" and not decision.criteria[0].met


def test_never_demoted_within_the_minimum_time_after_promotion() -> None:
    promoted = NOW - 10 * DAY
    state = holding("champion", tier_since=promoted, below_since=NOW - 40 * DAY)
    decision = run(BELOW, state)
    due = promoted + 30 * DAY
    assert (decision.action, decision.demotion_due_at) == ("keep", due)
    assert run(BELOW, state, now=due - 7 * DAY).action == "warn"
    assert run(BELOW, state, now=due - SECOND).action == "warn"
    assert run(BELOW, state, now=due).action == "demote"


def test_no_grace_still_waits_for_the_minimum_time_after_promotion() -> None:
    rules = LadderRules(demotion_grace_days=0, at_risk_notice_days=0)
    fresh = holding("champion", tier_since=NOW - 29 * DAY)
    assert run(BELOW, fresh, rules=rules).action == "keep"
    old = holding("champion", tier_since=NOW - 30 * DAY)
    assert run(BELOW, old, rules=rules).action == "demote"


def test_unknown_promotion_time_only_waits_for_the_grace() -> None:
    state = holding("champion", tier_since=None, below_since=NOW - 30 * DAY)
    assert run(BELOW, state).action == "demote"


# --- at-risk notice -----------------------------------------------------------------------------


def test_at_risk_notice_exactly_notice_days_before_the_due_date() -> None:
    since = NOW - 23 * DAY  # due NOW + 7 days
    state = holding("champion", below_since=since)
    decision = run(BELOW, state)
    assert (decision.action, decision.to_tier) == ("warn", "champion")
    assert decision.notify_at_risk
    assert (decision.below_since, decision.demotion_due_at) == (since, NOW + 7 * DAY)
    earlier = run(BELOW, state, now=NOW - SECOND)
    assert (earlier.action, earlier.notify_at_risk) == ("keep", False)
    assert earlier.demotion_due_at == NOW + 7 * DAY


def test_at_risk_notice_only_once_per_stretch_below() -> None:
    since = NOW - 23 * DAY
    notified = holding("champion", below_since=since, at_risk_notified_at=NOW)
    for later in (NOW, NOW + DAY, NOW + 7 * DAY - SECOND):
        decision = run(BELOW, notified, now=later)
        assert (decision.action, decision.notify_at_risk) == ("keep", False)
        assert decision.below_since == since
    stale = holding("champion", below_since=since, at_risk_notified_at=since - DAY)
    assert run(BELOW, stale).notify_at_risk  # notified in an earlier stretch: tell them again


def test_daily_sweeps_warn_once_then_demote() -> None:
    log = simulate(holding("champion"), lambda day: BELOW, 40)
    actions = [(day, d.action) for day, d in log if d.action != "keep"]
    assert actions == [(23, "warn"), (30, "demote")]
    assert all(d.below_since == NOW for day, d in log if day < 30)
    assert log[31][1].to_tier is None and log[31][1].action == "keep"


def test_no_notice_days_means_no_warning() -> None:
    rules = LadderRules(at_risk_notice_days=0)
    log = simulate(holding("champion"), lambda day: BELOW, 31, rules=rules)
    assert [(day, d.action) for day, d in log if d.action != "keep"] == [(30, "demote")]


# --- recovery -----------------------------------------------------------------------------------


def test_recovering_above_the_mark_resets_below_since() -> None:
    state = holding("champion", below_since=NOW - 29 * DAY, at_risk_notified_at=NOW - 6 * DAY)
    recovered = run(stats(w30=at(CHAMPION, 90)), state)
    assert (recovered.action, recovered.below_since, recovered.demotion_due_at) == (
        "keep",
        None,
        None,
    )


def test_after_recovering_the_grace_starts_again() -> None:
    def member(day: int) -> MemberStats:
        return full(CHAMPION) if day == 20 else BELOW  # one good day in the middle

    log = simulate(holding("champion"), member, 60)
    assert log[20][1].below_since is None
    assert log[21][1].below_since == NOW + 21 * DAY
    assert [(day, d.action) for day, d in log if d.action != "keep"] == [
        (21 + 23, "warn"),
        (21 + 30, "demote"),
    ]


# --- pin and leave ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "member"),
    [
        pytest.param(
            holding("champion", pinned=True, below_since=NOW - 90 * DAY),
            stats(),
            id="pinned below, long past due",
        ),
        pytest.param(
            holding("champion", pinned=True),
            full(CHAMPION, AMBASSADOR),
            id="pinned, would be promoted",
        ),
        pytest.param(holding(None, pinned=True), full(CHAMPION), id="pinned to no tier"),
        pytest.param(holding("advisor", pinned=True), stats(), id="pinned at the top"),
    ],
)
def test_pinned_keeps_regardless(state: MemberState, member: MemberStats) -> None:
    decision = run(member, state)
    assert (decision.action, decision.from_tier, decision.to_tier) == (
        "keep",
        state.tier_key,
        state.tier_key,
    )
    assert (decision.below_since, decision.demotion_due_at, decision.notify_at_risk) == (
        None,
        None,
        False,
    )
    assert decision.reasons[0] == "Pinned by a moderator: automatic tier changes are paused."


def test_leave_freezes_demotion() -> None:
    state = holding(
        "champion", leave_until=NOW + DAY, below_since=NOW - 60 * DAY, at_risk_notified_at=None
    )
    decision = run(stats(), state)
    assert (decision.action, decision.to_tier) == ("keep", "champion")
    assert (decision.below_since, decision.demotion_due_at, decision.notify_at_risk) == (
        None,
        None,
        False,
    )
    assert decision.reasons[0] == "On leave until 2025-06-02: Champion can't be lost meanwhile."


def test_promotion_still_happens_on_leave() -> None:
    state = holding("champion", leave_until=NOW + 10 * DAY)
    assert run(full(CHAMPION, AMBASSADOR), state).to_tier == "ambassador"


def test_after_the_leave_the_grace_restarts() -> None:
    ended = NOW - DAY
    after = run(BELOW, holding("champion", leave_until=ended))
    assert (after.action, after.below_since) == ("keep", NOW)
    assert after.demotion_due_at == NOW + 30 * DAY
    # Below since before the leave, but no sweep ran during it: the clock restarts at its end.
    stale = run(BELOW, holding("champion", leave_until=ended, below_since=NOW - 50 * DAY))
    assert (stale.action, stale.below_since) == ("keep", ended)
    # A leave long over does not move a later start.
    later = run(BELOW, holding("champion", leave_until=NOW - 50 * DAY, below_since=NOW - 5 * DAY))
    assert later.below_since == NOW - 5 * DAY
    # The leave ends exactly now: no longer on leave.
    assert run(BELOW, holding("champion", leave_until=NOW)).below_since == NOW


def test_daily_sweeps_across_a_leave() -> None:
    # Below for 20 days, then on leave (granted on day 20) for 20 days, then still below.
    log: list[tuple[int, Decision]] = []
    current = holding("champion")
    for day in range(100):
        now = NOW + day * DAY
        if day == 20:
            current = replace(current, leave_until=now + 20 * DAY)
        decision = run(BELOW, current, now=now)
        log.append((day, decision))
        current = store(current, decision, now)
    changes = [(day, d.action) for day, d in log if d.action != "keep"]
    assert changes == [(40 + 23, "warn"), (40 + 30, "demote")]
    assert all(d.below_since is None for day, d in log if 20 <= day < 40)


# --- windows ------------------------------------------------------------------------------------


def test_each_tier_reads_its_own_window() -> None:
    only_recent = stats(w30=at(CHAMPION), w90=ws())
    assert run(only_recent).to_tier == "champion"
    # The 90-day window meets Ambassador; the 30-day one is what Champion reads.
    decision = run(stats(w30=at(CHAMPION, 50), w90=at(AMBASSADOR)), holding("champion"))
    assert (decision.action, decision.to_tier) == ("promote", "ambassador")
    assert decision.criteria[0] == Criterion("points", 200, 200, True)


def test_held_tier_low_water_reads_its_own_window() -> None:
    member = stats(w30=ws(), w90=at(AMBASSADOR, 95))
    decision = run(member, holding("ambassador"))
    assert (decision.action, decision.below_since) == ("keep", None)
    quiet = run(stats(w30=at(CHAMPION), w90=at(AMBASSADOR, 50)), holding("ambassador"))
    assert quiet.below_since == NOW


def test_a_missing_window_is_all_zeros() -> None:
    decision = run(MemberStats(user_id=1, joined_at=LONG_AGO, windows={}))
    assert decision.to_tier is None
    assert [(c.name, c.actual) for c in decision.criteria] == [
        ("points", 0),
        ("answer", 0),
        ("active_weeks", 0),
        ("tenure_days", 365),
    ]
    at_risk = run(MemberStats(user_id=1, joined_at=LONG_AGO, windows={}), holding("champion"))
    assert at_risk.below_since == NOW


def test_required_windows() -> None:
    assert required_windows(LADDER) == frozenset({30, 90, 180})
    assert required_windows((CHAMPION, replace(AMBASSADOR, window_days=30))) == frozenset({30})
    assert required_windows(()) == frozenset()


# --- odd input ----------------------------------------------------------------------------------


def test_a_tier_no_longer_configured() -> None:
    gone = holding("legend")
    down = run(full(CHAMPION), gone, tiers=(replace(CHAMPION, min_points=999),))
    assert (down.action, down.from_tier, down.to_tier) == ("demote", "legend", None)
    assert down.reasons[0] == "'legend' is no longer a configured tier."
    across = run(full(CHAMPION, AMBASSADOR), gone)
    assert (across.action, across.from_tier, across.to_tier) == ("promote", "legend", "ambassador")
    assert all(c.met for c in across.criteria)
    pinned = run(stats(), replace(gone, pinned=True))
    assert (pinned.action, pinned.to_tier) == ("keep", "legend")
    assert progress(stats(), gone, LADDER, now=NOW, seats_taken={}).next == "champion"


def test_duplicate_tier_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        run(stats(), tiers=(CHAMPION, CHAMPION))


@pytest.mark.parametrize(
    "changes",
    [
        {"window_days": 0},
        {"min_points": -1},
        {"min_counts": {"answer": -1}},
        {"min_active_weeks": -1},
        {"min_tenure_days": -1},
        {"seats": 0},
    ],
)
def test_tier_rule_validation(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="champion"):
        replace(CHAMPION, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"low_water_ratio": 0},
        {"low_water_ratio": 1.1},
        {"demotion_grace_days": -1},
        {"min_days_after_promotion": -1},
        {"at_risk_notice_days": -1},
    ],
)
def test_ladder_rules_validation(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LadderRules(**changes)  # type: ignore[arg-type]


def test_rules_from_config() -> None:
    tier = TierConfig(
        key="advisor",
        name="Advisor",
        role_id=111111111111111111,
        window_days=180,
        min_points=500,
        min_counts={"mentoring": 3},
        min_active_weeks=16,
        min_tenure_days=180,
        nomination_required=True,
        seats=3,
    )
    assert TierRule.of(tier, BUILT_IN) == ADVISOR
    assert TierRule.of(tier, BUILT_IN).nouns == {"mentoring": "mentoring sessions"}
    ladder = LadderConfig(low_water_ratio=0.8, demotion_grace_days=14)
    assert LadderRules.of(ladder) == LadderRules(low_water_ratio=0.8, demotion_grace_days=14)
    assert LadderRules.of(LadderConfig()) == RULES


# --- progress -----------------------------------------------------------------------------------


def test_progress_toward_the_first_tier() -> None:
    member = stats(w30=ws(40, 3, answer=3), joined_at=NOW - 5 * DAY)
    report = progress(member, MemberState(), LADDER, RULES, now=NOW, seats_taken={})
    assert (report.current, report.next, report.at_risk, report.demotion_due_at) == (
        None,
        "champion",
        False,
        None,
    )
    assert [(c.name, c.met) for c in report.criteria] == [
        ("points", False),
        ("answer", True),
        ("active_weeks", True),
        ("tenure_days", False),
    ]
    assert [c.describe() for c in report.missing] == [
        "40/50 points ✗",
        "5/14 days in the server ✗",
    ]


def test_progress_shows_the_at_risk_state() -> None:
    state = holding("champion", below_since=NOW - 10 * DAY)
    report = progress(BELOW, state, LADDER, RULES, now=NOW, seats_taken={})
    assert report == Progress(
        current="champion",
        next="ambassador",
        criteria=report.criteria,
        at_risk=True,
        demotion_due_at=NOW + 20 * DAY,
        below=report.below,
    )
    assert [c.describe() for c in report.below] == ["40/50 points ✗"]  # 80%, rounded up
    assert [c.name for c in report.criteria] == [
        "points",
        "answer",
        "event_hosted",
        "active_weeks",
        "tenure_days",
    ]
    fine = progress(full(CHAMPION), state, LADDER, RULES, now=NOW, seats_taken={})
    assert (fine.at_risk, fine.demotion_due_at, fine.below) == (False, None, ())


def test_progress_lists_below_the_mark_with_the_decisions_rounding() -> None:
    """0.55 × 100 is 55.00000000000001 in floating point: 55 points hold the mark in both views.

    /profile lists ``Progress.below``; it once re-checked the mark without the rounding and named
    the points as below while the ladder's own reasons said "above the low-water mark of 55".
    """
    tier = replace(CHAMPION, min_points=100)
    rules = LadderRules(low_water_ratio=0.55)
    member = stats(w30=at(tier, points=55, answer=0))
    state = holding("champion")
    report = progress(member, state, (tier,), rules, now=NOW, seats_taken={})
    assert report.at_risk and [c.describe() for c in report.below] == ["0/3 accepted answers ✗"]
    decision = run(member, state, tiers=(tier,), rules=rules)
    assert "55/100 points ✗ (above the low-water mark of 55)." in decision.reasons
    assert "0/3 accepted answers ✗ (below the low-water mark of 1.65)." in decision.reasons
    under = progress(
        stats(w30=at(tier, points=54, answer=0)), state, (tier,), rules, now=NOW, seats_taken={}
    )
    assert [c.name for c in under.below] == ["points", "answer"]


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(holding("champion", pinned=True), id="pinned"),
        pytest.param(holding("champion", leave_until=NOW + DAY), id="on leave"),
    ],
)
def test_progress_not_at_risk_when_pinned_or_on_leave(state: MemberState) -> None:
    report = progress(BELOW, state, LADDER, RULES, now=NOW, seats_taken={})
    assert (report.at_risk, report.demotion_due_at, report.below) == (False, None, ())


def test_progress_uses_the_rules_given() -> None:
    member = stats(w30=at(CHAMPION, 60))
    lenient = LadderRules(low_water_ratio=0.5, demotion_grace_days=3)
    state = holding("champion")
    assert not progress(member, state, LADDER, lenient, now=NOW, seats_taken={}).at_risk
    strict = progress(member, state, LADDER, now=NOW, seats_taken={})  # defaults: 90%
    assert (strict.at_risk, strict.demotion_due_at) == (True, NOW + 30 * DAY)


def test_progress_at_the_top() -> None:
    report = progress(full(ADVISOR), holding("advisor"), LADDER, now=NOW, seats_taken={})
    assert (report.current, report.next, report.criteria, report.missing) == (
        "advisor",
        None,
        (),
        (),
    )


def test_progress_lists_a_met_next_tier_as_met() -> None:
    report = progress(
        full(CHAMPION, AMBASSADOR), holding("champion"), LADDER, now=NOW, seats_taken={}
    )
    assert report.next == "ambassador"
    assert report.criteria and report.missing == ()


# --- properties ---------------------------------------------------------------------------------

KINDS = ("answer", "thanks_received", "content")
WINDOWS = (7, 30, 90)


@st.composite
def ladders(draw: st.DrawFn) -> tuple[TierRule, ...]:
    size = draw(st.integers(1, 4))
    return tuple(
        TierRule(
            key=f"t{index}",
            name=f"Tier {index}",
            window_days=draw(st.sampled_from(WINDOWS)),
            min_points=draw(st.integers(0, 120)),
            min_counts={
                kind: draw(st.integers(0, 12)) for kind in draw(st.sets(st.sampled_from(KINDS)))
            },
            min_active_weeks=draw(st.integers(0, 6)),
            min_tenure_days=draw(st.integers(0, 60)),
            nomination_required=draw(st.booleans()),
            seats=draw(st.none() | st.integers(1, 3)),
            nouns=NOUNS,
        )
        for index in range(size)
    )


window_stats = st.builds(
    WindowStats,
    points=st.integers(0, 150),
    counts=st.dictionaries(st.sampled_from(KINDS), st.integers(0, 15)),
    active_weeks=st.integers(0, 7),
)
member_stats = st.builds(
    MemberStats,
    user_id=st.just(1),
    joined_at=st.none() | st.integers(0, 100).map(lambda d: NOW - d * DAY),
    windows=st.dictionaries(st.sampled_from(WINDOWS), window_stats),
)
HOUR = timedelta(hours=1)
moments = st.integers(-60 * 24, 60 * 24).map(lambda hours: NOW + hours * HOUR)
past = st.integers(0, 60 * 24).map(lambda hours: NOW - hours * HOUR)
rules_strategy = st.builds(
    LadderRules,
    low_water_ratio=st.sampled_from([0.5, 0.55, 0.8, 0.9, 1.0]),
    demotion_grace_days=st.integers(0, 40),
    min_days_after_promotion=st.integers(0, 40),
    at_risk_notice_days=st.integers(0, 10),
)


@st.composite
def situations(
    draw: st.DrawFn,
) -> tuple[tuple[TierRule, ...], MemberStats, MemberState, LadderRules, dict[str, int]]:
    tiers = draw(ladders())
    keys = [tier.key for tier in tiers]
    state = MemberState(
        tier_key=draw(st.none() | st.sampled_from(keys)),
        tier_since=draw(st.none() | past),
        pinned=draw(st.booleans()),
        leave_until=draw(st.none() | moments),
        below_since=draw(st.none() | past),
        at_risk_notified_at=draw(st.none() | past),
        approved_nominations=frozenset(draw(st.sets(st.sampled_from(keys)))),
    )
    seats = draw(st.dictionaries(st.sampled_from(keys), st.integers(0, 4)))
    return tiers, draw(member_stats), state, draw(rules_strategy), seats


def rank(tiers: Sequence[TierRule], key: str | None) -> int:
    return -1 if key is None else [t.key for t in tiers].index(key)


def more(member: MemberStats, extra: WindowStats, tenure_days: int) -> MemberStats:
    """``member`` with ``extra`` added to every window (missing ones included)."""
    windows = {}
    for days in WINDOWS:
        base = member.windows.get(days, WindowStats(0, {}, 0))
        counts = {k: base.counts.get(k, 0) + extra.counts.get(k, 0) for k in KINDS}
        windows[days] = WindowStats(
            base.points + extra.points, counts, base.active_weeks + extra.active_weeks
        )
    joined = member.joined_at - tenure_days * DAY if member.joined_at else None
    return replace(member, windows=windows, joined_at=joined)


@settings(max_examples=300)
@given(situations(), window_stats, st.integers(0, 30))
def test_property_monotone(
    situation: tuple[tuple[TierRule, ...], MemberStats, MemberState, LadderRules, dict[str, int]],
    extra: WindowStats,
    tenure_days: int,
) -> None:
    tiers, member, state, rules, seats = situation
    before = evaluate(member, state, tiers, rules, now=NOW, seats_taken=seats)
    after = evaluate(
        more(member, extra, tenure_days), state, tiers, rules, now=NOW, seats_taken=seats
    )
    assert rank(tiers, after.to_tier) >= rank(tiers, before.to_tier)
    if before.action == "promote":
        assert after.action == "promote"
    if after.action == "demote":
        assert before.action == "demote"


def meets(
    tier: TierRule, member: MemberStats, state: MemberState, seats: Mapping[str, int]
) -> bool:
    """An independent reading of "every criterion met" for a tier above the member's."""
    window = member.windows.get(tier.window_days, WindowStats(0, {}, 0))
    tenure = (NOW - member.joined_at).days if member.joined_at else 0
    return (
        window.points >= tier.min_points
        and all(window.counts.get(k, 0) >= n for k, n in tier.min_counts.items())
        and window.active_weeks >= tier.min_active_weeks
        and tenure >= tier.min_tenure_days
        and (not tier.nomination_required or tier.key in state.approved_nominations)
        and (tier.seats is None or seats.get(tier.key, 0) < tier.seats)
    )


@settings(max_examples=300)
@given(situations())
def test_property_decisions_are_consistent(
    situation: tuple[tuple[TierRule, ...], MemberStats, MemberState, LadderRules, dict[str, int]],
) -> None:
    tiers, member, state, rules, seats = situation
    decision = evaluate(member, state, tiers, rules, now=NOW, seats_taken=seats)
    by_key = {t.key: t for t in tiers}
    held = rank(tiers, state.tier_key)
    assert decision.from_tier == state.tier_key
    assert decision.reasons
    if decision.action in ("keep", "warn"):
        assert decision.to_tier == decision.from_tier
    assert decision.notify_at_risk == (decision.action == "warn")
    if decision.action == "promote":
        target = by_key[decision.to_tier]  # type: ignore[index]
        assert rank(tiers, target.key) > held
        # Seats respected: never into a full tier.
        assert target.seats is None or seats.get(target.key, 0) < target.seats
        # Every criterion of the new tier is met, and it is the highest met one.
        assert all(c.met for c in decision.criteria)
        assert meets(target, member, state, seats)
        assert not any(meets(t, member, state, seats) for t in tiers[rank(tiers, target.key) + 1 :])
        assert decision.below_since is None and decision.demotion_due_at is None
    else:
        assert not any(meets(t, member, state, seats) for t in tiers[held + 1 :]) or state.pinned
    if decision.action == "demote":
        assert rank(tiers, decision.to_tier) < held
        assert not state.pinned
        assert state.leave_until is None or state.leave_until <= NOW
        assert decision.demotion_due_at is not None and decision.demotion_due_at <= NOW
        if state.tier_since is not None:
            assert state.tier_since + timedelta(days=rules.min_days_after_promotion) <= NOW
    if state.pinned:
        assert (decision.action, decision.below_since, decision.demotion_due_at) == (
            "keep",
            None,
            None,
        )
    if state.leave_until is not None and state.leave_until > NOW:
        assert decision.action in ("keep", "promote")
        assert decision.below_since is None
    if decision.below_since is not None:
        assert decision.demotion_due_at is not None and decision.demotion_due_at > NOW
        assert decision.below_since <= NOW


@settings(max_examples=300)
@given(situations())
def test_property_progress_names_the_criteria_the_decision_calls_below(
    situation: tuple[tuple[TierRule, ...], MemberStats, MemberState, LadderRules, dict[str, int]],
) -> None:
    """/profile (``Progress.below``) and the ladder's reasons never disagree about the mark."""
    tiers, member, state, rules, seats = situation
    report = progress(member, state, tiers, rules, now=NOW, seats_taken=seats)
    decision = evaluate(member, state, tiers, rules, now=NOW, seats_taken=seats)
    assert report.at_risk == bool(report.below)
    on_leave = state.leave_until is not None and state.leave_until > NOW
    if state.tier_key is None or state.pinned or on_leave:
        assert report.below == ()
        return
    if decision.action == "promote":
        return  # the reasons are the new tier's, without low-water marks
    called_below = [line for line in decision.reasons if "(below the low-water mark" in line]
    assert [line.split(" (below")[0] for line in called_below] == [
        c.describe() for c in report.below
    ]


def test_hovering_after_a_promotion_never_flaps() -> None:
    shares = [100, 90, 99, 91, 100, 90, 95, 90, 100, 92] * 12

    def member(day: int) -> MemberStats:
        return stats(w30=at(CHAMPION, shares[day]), w90=at(AMBASSADOR, shares[day] - 10))

    log = simulate(MemberState(), member, len(shares))
    assert [(day, d.action, d.to_tier) for day, d in log if d.action != "keep"] == [
        (0, "promote", "champion")
    ]
    assert all(d.to_tier == "champion" and d.below_since is None for _, d in log)


@st.composite
def hovering(draw: st.DrawFn) -> tuple[tuple[TierRule, ...], int, list[int]]:
    """A ladder with strictly rising points, a held tier, and daily shares in [90%, 100%]."""
    tiers = list(draw(ladders()))
    points = sorted(draw(st.sets(st.integers(1, 300), min_size=len(tiers), max_size=len(tiers))))
    tiers = [replace(tier, min_points=p) for tier, p in zip(tiers, points, strict=True)]
    held = draw(st.integers(0, len(tiers) - 1))
    shares = draw(st.lists(st.integers(90, 100), min_size=30, max_size=120))
    return tuple(tiers), held, shares


@settings(max_examples=100)
@given(hovering(), st.integers(0, 60), st.integers(0, 30))
def test_property_no_flapping(
    case: tuple[tuple[TierRule, ...], int, list[int]], promoted_days_ago: int, tenure: int
) -> None:
    tiers, held, shares = case
    tier = tiers[held]

    def member(day: int) -> MemberStats:
        numbers = at(tier, shares[day])
        return MemberStats(
            user_id=1, joined_at=NOW - tenure * DAY, windows={d: numbers for d in WINDOWS}
        )

    state = MemberState(tier_key=tier.key, tier_since=NOW - promoted_days_ago * DAY)
    for _, decision in simulate(state, member, len(shares), tiers=tiers):
        assert (decision.action, decision.to_tier) == ("keep", tier.key)
        assert decision.below_since is None


@settings(max_examples=100)
@given(rules_strategy, st.integers(0, 60))
def test_property_continuously_below_warns_at_most_once_then_demotes_when_due(
    rules: LadderRules, promoted_days_ago: int
) -> None:
    state = holding("champion", tier_since=NOW - promoted_days_ago * DAY)
    days = max(rules.demotion_grace_days, rules.min_days_after_promotion) + 2
    log = simulate(state, lambda day: stats(), days, rules=rules)
    changes = [(day, d.action) for day, d in log if d.action != "keep"]
    due = max(rules.demotion_grace_days, rules.min_days_after_promotion - promoted_days_ago)
    assert changes[-1] == (due, "demote")
    warns = [day for day, action in changes if action == "warn"]
    assert len(warns) <= 1
    if warns:
        assert warns == [max(due - rules.at_risk_notice_days, 0)]
    elif rules.at_risk_notice_days and due > 0:
        pytest.fail("a member demoted after a grace period must have been warned")


@given(
    points=st.integers(0, 120),
    answers=st.integers(0, 6),
    weeks=st.integers(0, 5),
    tenure=st.integers(0, 30),
)
def test_the_sweeps_filter_and_evaluate_agree_on_the_numbers(
    points: int, answers: int, weeks: int, tenure: int
) -> None:
    """``meets_numbers`` (the sweep's shortcut) promotes exactly whom ``evaluate`` promotes."""
    member = MemberStats(
        user_id=1,
        joined_at=NOW - tenure * DAY,
        windows={30: ws(points, weeks, answer=answers)},
    )
    met = meets_numbers(
        CHAMPION,
        points=points,
        count=lambda kind: answers if kind == "answer" else 0,
        active_weeks=weeks,
        tenure_days=tenure,
    )
    assert met == (run(member, tiers=(CHAMPION,)).action == "promote")
