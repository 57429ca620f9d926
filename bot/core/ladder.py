"""The ambassador ladder: from a member's numbers to a tier decision (promote, keep, warn, demote).

Stable under noise, the way Discourse trust levels are: a member is promoted as soon as every
criterion of a tier is met, but only loses a tier after staying below its *low-water mark*
(``low_water_ratio`` × each requirement) continuously for a grace period, never within
``min_days_after_promotion`` of getting it, and after an at-risk notice. Someone hovering between
90% and 100% of a requirement therefore neither drops out nor re-qualifies every other day.

A moderator can pin a member (no automatic change at all) or grant a leave of absence (no
demotion; the grace clock restarts when the leave ends). Promotion still happens on leave.

Pure: plain data in, a :class:`Decision` out. Time comes from ``now``; the caller stores
``Decision.below_since`` and, after sending the notice, ``at_risk_notified_at``. Tiers are listed
lowest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from bot.core.kinds import KindTable

__all__ = [
    "Criterion",
    "Decision",
    "LadderRules",
    "MemberState",
    "MemberStats",
    "Progress",
    "TierRule",
    "WindowStats",
    "evaluate",
    "progress",
    "required_windows",
]

Action = Literal["promote", "keep", "warn", "demote"]

#: Criteria that are not contribution numbers: they have no low-water mark. Tenure never goes
#: down, and a nomination or a seat is not taken back from someone who holds the tier.
_NOT_MEASURED = frozenset({"tenure_days", "nomination", "seats"})

#: Human words for the numbers of criteria that are not contribution kinds ("40/50 points");
#: a kind's words are its plural noun in :mod:`bot.core.kinds`.
_WORDS: Mapping[str, str] = {
    "points": "points",
    "active_weeks": "active weeks",
    "tenure_days": "days in the server",
    "distinct_members": "different members crediting them",
}


class _TierLike(Protocol):
    """What :meth:`TierRule.of` reads (``bot.config.TierConfig`` fits, without importing it)."""

    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def window_days(self) -> int: ...
    @property
    def min_points(self) -> int: ...
    @property
    def min_counts(self) -> Mapping[str, int]: ...
    @property
    def min_active_weeks(self) -> int: ...
    @property
    def min_tenure_days(self) -> int: ...
    @property
    def min_distinct_members(self) -> int: ...
    @property
    def nomination_required(self) -> bool: ...
    @property
    def seats(self) -> int | None: ...


class _LadderLike(Protocol):
    @property
    def low_water_ratio(self) -> float: ...
    @property
    def demotion_grace_days(self) -> int: ...
    @property
    def min_days_after_promotion(self) -> int: ...
    @property
    def at_risk_notice_days(self) -> int: ...


@dataclass(frozen=True)
class TierRule:
    key: str
    name: str
    #: Points, counts and active weeks are summed over the last ``window_days`` days.
    window_days: int
    min_points: int
    #: Contribution kind → how many are needed in the window.
    min_counts: Mapping[str, int]
    min_active_weeks: int
    min_tenure_days: int
    nomination_required: bool
    #: ``None`` = unlimited.
    seats: int | None
    #: Peer credits (thanks, accepted answers) in the window come from at least this many members.
    min_distinct_members: int = 0
    #: Contribution kind → its plural noun, for criteria read by people ("3/5 talks given").
    nouns: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"tier {self.key!r}: window_days must be at least 1")
        numbers = (
            self.min_points,
            self.min_active_weeks,
            self.min_tenure_days,
            self.min_distinct_members,
        )
        if min(numbers) < 0 or any(n < 0 for n in self.min_counts.values()):
            raise ValueError(f"tier {self.key!r}: minimums must not be negative")
        if self.seats is not None and self.seats < 1:
            raise ValueError(f"tier {self.key!r}: seats must be at least 1 (or None)")

    @classmethod
    def of(cls, tier: _TierLike, kinds: KindTable) -> TierRule:
        """The rule of a configured tier (``bot.config.TierConfig``), worded by ``kinds``."""
        return cls(
            key=tier.key,
            name=tier.name,
            window_days=tier.window_days,
            min_points=tier.min_points,
            min_counts=dict(tier.min_counts),
            min_active_weeks=tier.min_active_weeks,
            min_tenure_days=tier.min_tenure_days,
            nomination_required=tier.nomination_required,
            seats=tier.seats,
            min_distinct_members=tier.min_distinct_members,
            nouns={key: row.many for key in tier.min_counts if (row := kinds.find(key))},
        )


@dataclass(frozen=True)
class LadderRules:
    #: Below this share of a requirement, the member is "below" (and the grace clock runs).
    low_water_ratio: float = 0.9
    demotion_grace_days: int = 30
    min_days_after_promotion: int = 30
    at_risk_notice_days: int = 7

    def __post_init__(self) -> None:
        if not 0 < self.low_water_ratio <= 1:
            raise ValueError("low_water_ratio must be in (0, 1]")
        days = (self.demotion_grace_days, self.min_days_after_promotion, self.at_risk_notice_days)
        if min(days) < 0:
            raise ValueError("ladder day counts must not be negative")

    @classmethod
    def of(cls, ladder: _LadderLike) -> LadderRules:
        """The rules of the ``[ladder]`` config section (``bot.config.LadderConfig``)."""
        return cls(
            low_water_ratio=ladder.low_water_ratio,
            demotion_grace_days=ladder.demotion_grace_days,
            min_days_after_promotion=ladder.min_days_after_promotion,
            at_risk_notice_days=ladder.at_risk_notice_days,
        )


@dataclass(frozen=True)
class WindowStats:
    """A member's numbers over one rolling window."""

    points: int
    #: Contribution kind → how many in the window; a missing kind is 0.
    counts: Mapping[str, int]
    #: Weeks of the window with at least one active day.
    active_weeks: int
    #: Different members whose peer credits (thanks, accepted answers) the member got.
    distinct_members: int = 0


_NO_STATS = WindowStats(points=0, counts={}, active_weeks=0)


@dataclass(frozen=True)
class MemberStats:
    user_id: int
    #: ``None`` (unknown) counts as a tenure of 0 days.
    joined_at: datetime | None
    #: Keyed by window_days, one entry per distinct tier window; a missing window is all zeros.
    windows: Mapping[int, WindowStats]


@dataclass(frozen=True)
class MemberState:
    tier_key: str | None = None
    tier_since: datetime | None = None
    pinned: bool = False
    leave_until: datetime | None = None
    below_since: datetime | None = None
    at_risk_notified_at: datetime | None = None
    #: Tier keys with an approved (unapplied or applied) nomination.
    approved_nominations: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Criterion:
    #: "points", a contribution kind ("answer"), "active_weeks", "tenure_days", "nomination",
    #: or "seats" (required = the tier's seats, actual = seats taken).
    name: str
    required: float
    actual: float
    met: bool
    #: How people read ``name`` when it is a contribution kind (its plural noun).
    words: str = field(default="", compare=False)

    @property
    def measured(self) -> bool:
        """A contribution number, with a low-water mark (not tenure, nomination or seats)."""
        return self.name not in _NOT_MEASURED

    def describe(self) -> str:
        """One line for people: "3/3 accepted answers ✓", "40/50 points ✗"."""
        mark = "✓" if self.met else "✗"
        if self.name == "nomination":
            if not self.met:
                return f"needs an approved nomination {mark}"
            if self.actual >= self.required:
                return f"nomination approved {mark}"
            return f"no nomination needed: tier already held {mark}"
        if self.name == "seats":
            taken = f"{_num(self.actual)}/{_num(self.required)} seats taken"
            if not self.met:
                return f"no seat free ({taken}) {mark}"
            if self.actual >= self.required:
                return f"seat held ({taken}) {mark}"
            return f"seat available ({taken}) {mark}"
        words = self.words or _WORDS.get(self.name, self.name.replace("_", " "))
        return f"{_num(self.actual)}/{_num(self.required)} {words} {mark}"


@dataclass(frozen=True)
class Decision:
    action: Action
    from_tier: str | None
    #: Equal to ``from_tier`` for keep and warn.
    to_tier: str | None
    #: Plain sentences: what was decided, then each criterion met or missed.
    reasons: tuple[str, ...]
    #: The criteria of the tier that decided it (the new tier for a promotion, the held tier
    #: otherwise, the next tier up for a member without one).
    criteria: tuple[Criterion, ...]
    #: Value to store in tier_states.below_since.
    below_since: datetime | None
    #: When the demotion will happen if nothing changes.
    demotion_due_at: datetime | None
    #: True once per stretch below the mark: send the at-risk notice now (action "warn").
    notify_at_risk: bool


@dataclass(frozen=True)
class Progress:
    current: str | None
    #: The tier right above ``current`` (``None`` at the top).
    next: str | None
    #: The next tier's criteria, each met or missing.
    criteria: tuple[Criterion, ...]
    #: Below the current tier's low-water mark, so a demotion is coming.
    at_risk: bool
    demotion_due_at: datetime | None
    #: While at risk: the current tier's contribution numbers under their low-water mark
    #: (the same check, and rounding, as the decision's reasons).
    below: tuple[Criterion, ...] = ()

    @property
    def missing(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if not c.met)


def required_windows(tiers: Sequence[TierRule]) -> frozenset[int]:
    """The window lengths (days) the stats must cover: one query per distinct window."""
    return frozenset(tier.window_days for tier in tiers)


def evaluate(
    stats: MemberStats,
    state: MemberState,
    tiers: Sequence[TierRule],
    rules: LadderRules,
    *,
    now: datetime,
    seats_taken: Mapping[str, int],
) -> Decision:
    """Decide one member's tier.

    ``seats_taken``: tier key → members holding it now (the member included, if they do).
    A member whose stored tier is no longer configured moves at once to the highest tier they
    meet ("promote"), or to no tier ("demote"): there is nothing left to keep.
    """
    ladder = _Ladder(tiers, stats, state, now, seats_taken)
    key = state.tier_key
    if key is not None and key not in ladder.rank:
        return _unknown_tier(ladder, key)
    if state.pinned:
        tier = ladder.current
        criteria = ladder.criteria(tier) if tier else _next_criteria(ladder)
        return _decision(
            "keep",
            key,
            key,
            ("Pinned by a moderator: automatic tier changes are paused.",),
            criteria,
        )
    promotion = _promotion(ladder)
    if promotion is not None:
        return promotion
    tier = ladder.current
    if tier is None:
        return _not_yet(ladder)
    criteria = ladder.criteria(tier)
    lines = _lines(criteria, rules.low_water_ratio)
    leave_until = state.leave_until
    if leave_until is not None and leave_until > now:
        head = f"On leave until {_day(leave_until)}: {tier.name} can't be lost meanwhile."
        return _decision("keep", key, key, (head, *lines), criteria)
    risk = _risk(ladder, tier, rules)
    if risk is None:
        pct = _num(round(rules.low_water_ratio * 100, 2))
        head = f"Keeps {tier.name}: every criterion is at or above {pct}% of its requirement."
        return _decision("keep", key, key, (head, *lines), criteria)
    below_since, due = risk
    if now >= due:
        target = _demotion_target(ladder, rules)
        head = (
            f"Demoted from {tier.name} to {target.name if target else 'no tier'}: below the "
            f"low-water mark since {_day(below_since)}, past the grace period."
        )
        to_key = target.key if target else None
        return _decision("demote", key, to_key, (head, *lines), criteria, None, due)
    notified = state.at_risk_notified_at
    noticed = notified is not None and notified >= below_since
    head = (
        f"At risk of losing {tier.name}: below the low-water mark since {_day(below_since)}; "
        f"demotion on {_day(due)} unless that changes."
    )
    if now >= due - timedelta(days=rules.at_risk_notice_days) and not noticed:
        return _decision("warn", key, key, (head, *lines), criteria, below_since, due, True)
    return _decision("keep", key, key, (head, *lines), criteria, below_since, due)


def progress(
    stats: MemberStats,
    state: MemberState,
    tiers: Sequence[TierRule],
    rules: LadderRules | None = None,
    *,
    now: datetime,
    seats_taken: Mapping[str, int],
) -> Progress:
    """Where the member stands: the next tier's criteria, whether the current one is at risk, and
    which of its numbers are under their low-water mark.

    Pass the configured ``rules``: the at-risk state depends on the low-water ratio and the grace
    periods (the defaults are used without them).
    """
    rules = rules or LadderRules()
    ladder = _Ladder(tiers, stats, state, now, seats_taken)
    up = ladder.above_current()
    nxt = up[0] if up else None
    criteria = ladder.criteria(nxt) if nxt else ()
    tier = ladder.current
    risk = None
    below: tuple[Criterion, ...] = ()
    if tier is not None and not state.pinned and not _on_leave(state, now):
        risk = _risk(ladder, tier, rules)
        if risk is not None:
            below = _below(ladder.criteria(tier), rules.low_water_ratio)
    return Progress(
        current=state.tier_key,
        next=nxt.key if nxt else None,
        criteria=criteria,
        at_risk=risk is not None,
        demotion_due_at=risk[1] if risk else None,
        below=below,
    )


# --- internals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ladder:
    """One evaluation's inputs, with tier ranks (lowest tier = 0, no tier = -1)."""

    tiers: Sequence[TierRule]
    stats: MemberStats
    state: MemberState
    now: datetime
    seats_taken: Mapping[str, int]
    rank: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        rank = {tier.key: index for index, tier in enumerate(self.tiers)}
        if len(rank) != len(self.tiers):
            raise ValueError("tier keys must be unique")
        object.__setattr__(self, "rank", rank)

    @property
    def held_rank(self) -> int:
        """The current tier's rank; an unknown or absent tier is -1."""
        key = self.state.tier_key
        return self.rank.get(key, -1) if key is not None else -1

    @property
    def current(self) -> TierRule | None:
        rank = self.held_rank
        return self.tiers[rank] if rank >= 0 else None

    def above_current(self) -> Sequence[TierRule]:
        return self.tiers[self.held_rank + 1 :]

    def below_current(self) -> Sequence[TierRule]:
        return self.tiers[: max(self.held_rank, 0)]

    def criteria(self, tier: TierRule) -> tuple[Criterion, ...]:
        """Every non-trivial criterion of ``tier``, judged strictly (the full requirement)."""
        held = self.held_rank >= self.rank[tier.key]
        window = self.stats.windows.get(tier.window_days, _NO_STATS)
        out: list[Criterion] = []

        for name, required, actual in _numbers(
            tier,
            points=window.points,
            count=window.counts.get,
            active_weeks=window.active_weeks,
            tenure_days=self._tenure_days(),
            distinct_members=window.distinct_members,
        ):
            words = tier.nouns.get(name, "")
            out.append(Criterion(name, required, actual, actual >= required, words))
        if tier.nomination_required:
            nominated = tier.key in self.state.approved_nominations
            out.append(Criterion("nomination", 1, int(nominated), nominated or held))
        if tier.seats is not None:
            taken = self.seats_taken.get(tier.key, 0)
            out.append(Criterion("seats", tier.seats, taken, held or taken < tier.seats))
        return tuple(out)

    def _tenure_days(self) -> int:
        joined = self.stats.joined_at
        return max((self.now - joined).days, 0) if joined is not None else 0


def _numbers(
    tier: TierRule,
    *,
    points: int,
    count: Callable[[str], int | None],
    active_weeks: int,
    tenure_days: int,
    distinct_members: int,
) -> Iterator[tuple[str, int, int]]:
    """``(criterion, required, actual)`` for each of the tier's minimums that is not zero.

    ``count(kind)`` may answer None for a kind never credited (``dict.get`` of the counts).
    """
    if tier.min_points > 0:
        yield "points", tier.min_points, points
    for kind, required in tier.min_counts.items():
        if required > 0:
            yield kind, required, count(kind) or 0
    if tier.min_active_weeks > 0:
        yield "active_weeks", tier.min_active_weeks, active_weeks
    if tier.min_tenure_days > 0:
        yield "tenure_days", tier.min_tenure_days, tenure_days
    if tier.min_distinct_members > 0:
        yield "distinct_members", tier.min_distinct_members, distinct_members


def meets_numbers(
    tier: TierRule,
    *,
    points: int,
    count: Callable[[str], int | None],
    active_weeks: int,
    tenure_days: int,
    distinct_members: int = 0,
) -> bool:
    """Whether the numbers meet every minimum of ``tier``, judged as :func:`evaluate` judges.

    Nomination and seats are not numbers: they only ever stop a promotion. A sweep uses this
    to skip members who can't move without building their whole standing.
    """
    numbers = _numbers(
        tier,
        points=points,
        count=count,
        active_weeks=active_weeks,
        tenure_days=tenure_days,
        distinct_members=distinct_members,
    )
    return all(actual >= required for _, required, actual in numbers)


def _below(criteria: Sequence[Criterion], ratio: float) -> tuple[Criterion, ...]:
    """The contribution numbers under their low-water mark."""
    return tuple(c for c in criteria if c.measured and c.actual < _low_water(c.required, ratio))


def _low_water(required: float, ratio: float) -> float:
    # Rounded so that 55 holds 55% of 100 (0.55 * 100 is 55.00000000000001 in floating point).
    return round(required * ratio, 9)


def _on_leave(state: MemberState, now: datetime) -> bool:
    return state.leave_until is not None and state.leave_until > now


def _risk(ladder: _Ladder, tier: TierRule, rules: LadderRules) -> tuple[datetime, datetime] | None:
    """(below_since, demotion due) while the held ``tier`` is under its low-water mark."""
    if not _below(ladder.criteria(tier), rules.low_water_ratio):
        return None
    state, now = ladder.state, ladder.now
    below_since = state.below_since or now
    ended = state.leave_until
    if ended is not None and below_since < ended <= now:
        below_since = ended  # a leave ended: its grace clock restarts then
    due = below_since + timedelta(days=rules.demotion_grace_days)
    if state.tier_since is not None:
        due = max(due, state.tier_since + timedelta(days=rules.min_days_after_promotion))
    return below_since, due


def _promotion(ladder: _Ladder) -> Decision | None:
    """Straight to the highest tier above the current one whose criteria are all met."""
    for tier in reversed(ladder.above_current()):
        criteria = ladder.criteria(tier)
        if all(c.met for c in criteria):
            head = f"Promoted to {tier.name}: every criterion is met."
            lines = _lines(criteria, None) or ("(no requirements)",)
            return _decision("promote", ladder.state.tier_key, tier.key, (head, *lines), criteria)
    return None


def _not_yet(ladder: _Ladder) -> Decision:
    """No tier, and none met."""
    criteria = _next_criteria(ladder)
    if not ladder.tiers:
        return _decision("keep", None, None, ("No tiers are configured.",), ())
    head = f"Not yet {ladder.tiers[0].name}: some criteria are still missing."
    return _decision("keep", None, None, (head, *_lines(criteria, None)), criteria)


def _next_criteria(ladder: _Ladder) -> tuple[Criterion, ...]:
    up = ladder.above_current()
    return ladder.criteria(up[0]) if up else ()


def _demotion_target(ladder: _Ladder, rules: LadderRules) -> TierRule | None:
    """The highest lower tier whose low-water marks all hold."""
    for tier in reversed(ladder.below_current()):
        if not _below(ladder.criteria(tier), rules.low_water_ratio):
            return tier
    return None


def _unknown_tier(ladder: _Ladder, key: str) -> Decision:
    gone = f"{key!r} is no longer a configured tier."
    if ladder.state.pinned:
        return _decision("keep", key, key, (gone, "Pinned by a moderator: no change."), ())
    promotion = _promotion(ladder)
    if promotion is not None:
        return Decision(
            "promote",
            key,
            promotion.to_tier,
            (gone, *promotion.reasons),
            promotion.criteria,
            None,
            None,
            False,
        )
    return _decision("demote", key, None, (gone, "No configured tier's criteria are all met."), ())


def _lines(criteria: Sequence[Criterion], ratio: float | None) -> tuple[str, ...]:
    """One sentence per criterion; with ``ratio``, misses also say where the low-water mark is."""
    lines: list[str] = []
    for criterion in criteria:
        line = criterion.describe()
        if ratio is not None and criterion.measured and not criterion.met:
            mark = _num(round(_low_water(criterion.required, ratio), 2))
            held = criterion.actual >= _low_water(criterion.required, ratio)
            line += f" ({'above' if held else 'below'} the low-water mark of {mark})"
        lines.append(line + ".")
    return tuple(lines)


def _decision(
    action: Action,
    from_tier: str | None,
    to_tier: str | None,
    reasons: tuple[str, ...],
    criteria: tuple[Criterion, ...],
    below_since: datetime | None = None,
    demotion_due_at: datetime | None = None,
    notify_at_risk: bool = False,
) -> Decision:
    return Decision(
        action=action,
        from_tier=from_tier,
        to_tier=to_tier,
        reasons=reasons,
        criteria=criteria,
        below_since=below_since,
        demotion_due_at=demotion_due_at,
        notify_at_risk=notify_at_risk,
    )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")
