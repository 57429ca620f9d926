"""The weekly recognition post, the member spotlight and the quarterly awards.

Recognition only works when it is fair and safe: everyone is ranked by the same net counts,
ties are broken the same way every time (lowest user id), the spotlight rotates instead of
landing on the same regular every week, and a member who opted out of public recognition or
left the server is never named — not in a category, not as a new tier member, not in the
spotlight, not even inside a nomination's reason.

Pure: the service gathers the numbers (already net of reversals), this module decides who is
named and renders the post as :class:`~bot.core.embeds.EmbedSpec` values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.core.embeds import EmbedField, EmbedSpec, fit, line_fields
from bot.core.kinds import Kind, KindTable
from bot.core.periods import Period

__all__ = [
    "CONSISTENCY_KIND",
    "Award",
    "AwardsDigest",
    "AwardsInputs",
    "Category",
    "Leader",
    "Spotlight",
    "SpotlightNomination",
    "TierArrival",
    "WeeklyDigest",
    "WeeklyInputs",
    "choose_spotlight",
    "compose_awards",
    "compose_weekly",
    "mention",
    "render_awards",
    "render_weekly",
    "scrub_mentions",
    "visible_arrivals",
]

#: The "Most consistent" award: ranked by active days, not by a contribution kind.
CONSISTENCY_KIND: Final = "active_days"
_CONSISTENCY_TITLE: Final = "Most consistent"

RECOGNITION_COLOR: Final = 0xF1C40F
AWARDS_COLOR: Final = 0xE67E22

_MENTION: Final = re.compile(r"<@!?(\d+)>")


# --------------------------------------------------------------------------------------------
# Inputs and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierArrival:
    """A member promoted into ``tier_name`` at ``at``."""

    user_id: int
    tier_name: str
    at: datetime


@dataclass(frozen=True)
class SpotlightNomination:
    id: int
    user_id: int
    reason: str
    nominated_by: int
    created_at: datetime


@dataclass(frozen=True)
class Spotlight:
    user_id: int
    reason: str
    #: "nomination" (a moderator nominated them) or "contributions" (chosen from the numbers).
    source: str
    nomination_id: int | None


@dataclass(frozen=True)
class Leader:
    user_id: int
    count: int


@dataclass(frozen=True)
class Category:
    row: Kind
    leaders: tuple[Leader, ...]

    @property
    def kind(self) -> str:
        return self.row.key

    @property
    def title(self) -> str:
        return self.row.label


@dataclass(frozen=True)
class WeeklyInputs:
    period: Period
    #: user -> kind -> net count in the window.
    counts: Mapping[int, Mapping[str, int]]
    #: Opted out of public recognition, or left: never named anywhere.
    hidden: frozenset[int]
    #: Promotions into a tier in the window.
    arrivals: Sequence[TierArrival]
    #: Pending nominations, oldest first.
    nominations: Sequence[SpotlightNomination]
    #: user -> net points over the spotlight lookback.
    candidates: Mapping[int, int]
    #: Spotlighted within the cooldown: skipped this time.
    recently_spotlighted: frozenset[int]
    #: The server's kinds (``Settings.kinds``): those with a weekly section are the categories.
    kinds: KindTable
    #: Already chosen for this period (recovery or re-render): reused as is.
    recorded_spotlight: Spotlight | None = None
    top_n: int = 3
    spotlight_min_points: int = 10
    #: Length of the ``candidates`` lookback, for the spotlight's reason ("… in the last 28 days").
    spotlight_lookback_days: int | None = None


@dataclass(frozen=True)
class WeeklyDigest:
    period: Period
    #: Only non-empty categories, in the order of the weekly kinds (:meth:`KindTable.weekly`).
    categories: tuple[Category, ...]
    #: Hidden members removed; one (the latest) per member, oldest first.
    arrivals: tuple[TierArrival, ...]
    spotlight: Spotlight | None
    #: Every user the post names (for allowed mentions).
    named: frozenset[int]

    @property
    def is_empty(self) -> bool:
        return not self.categories and not self.arrivals and self.spotlight is None


@dataclass(frozen=True)
class Award:
    kind: str
    title: str
    user_id: int
    count: int
    points: int
    #: The number behind the award, e.g. "14 answers accepted".
    detail: str


@dataclass(frozen=True)
class AwardsInputs:
    period: Period
    counts: Mapping[int, Mapping[str, int]]
    #: user -> kind -> net points in the quarter.
    points: Mapping[int, Mapping[str, int]]
    hidden: frozenset[int]
    #: user -> active days in the quarter (the "Most consistent" award).
    active_days: Mapping[int, int]
    #: The server's kinds (``Settings.kinds``): those with an award title are the categories.
    kinds: KindTable


@dataclass(frozen=True)
class AwardsDigest:
    period: Period
    awards: tuple[Award, ...]
    named: frozenset[int]

    @property
    def is_empty(self) -> bool:
        return not self.awards


# --------------------------------------------------------------------------------------------
# Weekly recognition
# --------------------------------------------------------------------------------------------


def choose_spotlight(inputs: WeeklyInputs) -> Spotlight | None:
    """Who is in the spotlight this week, if anyone.

    A spotlight already recorded for the period is reused (so a re-render after a crash shows
    the same person). Otherwise the oldest pending nomination wins — moderators' picks come
    first — and failing that the strongest recent contributor. Anyone spotlighted within the
    cooldown is skipped so the spotlight rotates; hidden members are never chosen.
    """
    recorded = inputs.recorded_spotlight
    if recorded is not None:
        if recorded.user_id in inputs.hidden:
            return None
        return Spotlight(
            user_id=recorded.user_id,
            reason=scrub_mentions(recorded.reason, inputs.hidden),
            source=recorded.source,
            nomination_id=recorded.nomination_id,
        )
    blocked = inputs.hidden | inputs.recently_spotlighted
    for nomination in sorted(inputs.nominations, key=lambda n: (n.created_at, n.id)):
        if nomination.user_id not in blocked:
            return Spotlight(
                user_id=nomination.user_id,
                reason=scrub_mentions(nomination.reason.strip(), inputs.hidden),
                source="nomination",
                nomination_id=nomination.id,
            )
    eligible = [
        (points, user_id)
        for user_id, points in inputs.candidates.items()
        if user_id not in blocked and points >= inputs.spotlight_min_points and points > 0
    ]
    if not eligible:
        return None
    points, user_id = min(eligible, key=lambda pair: (-pair[0], pair[1]))
    return Spotlight(
        user_id=user_id,
        reason=_contribution_reason(inputs.counts.get(user_id, {}), points, inputs),
        source="contributions",
        nomination_id=None,
    )


def compose_weekly(inputs: WeeklyInputs) -> WeeklyDigest:
    """The week's categories, new tier members and spotlight, with hidden members left out."""
    categories = []
    for kind in inputs.kinds.weekly():
        leaders = _leaders(inputs.counts, kind.key, inputs.hidden, inputs.top_n)
        if leaders:
            categories.append(Category(row=kind, leaders=leaders))
    arrivals = visible_arrivals(inputs.arrivals, inputs.hidden)
    spotlight = choose_spotlight(inputs)
    named = {leader.user_id for category in categories for leader in category.leaders}
    named.update(arrival.user_id for arrival in arrivals)
    if spotlight is not None:
        named.add(spotlight.user_id)
    return WeeklyDigest(
        period=inputs.period,
        categories=tuple(categories),
        arrivals=arrivals,
        spotlight=spotlight,
        named=frozenset(named),
    )


def render_weekly(digest: WeeklyDigest) -> list[EmbedSpec]:
    """The weekly post; a short "quiet week" note when there is nobody to name."""
    title = f"Weekly recognition · {digest.period.label}"
    if digest.is_empty:
        return fit(
            EmbedSpec(
                title=title,
                description=(
                    "A quiet week — nothing to celebrate just yet. Answer a question, share "
                    "something you made or thank someone who helped you, and you could be "
                    "here next week!"
                ),
                color=RECOGNITION_COLOR,
            )
        )
    fields: list[EmbedField] = []
    for category in digest.categories:
        fields += line_fields(category.title, _leader_lines(category))
    if digest.arrivals:
        fields += line_fields(
            "New tier members",
            [f"{mention(a.user_id)} reached **{_plain(a.tier_name)}**" for a in digest.arrivals],
        )
    if digest.spotlight is not None:
        fields += line_fields("Member spotlight", _spotlight_lines(digest.spotlight))
    if digest.categories:
        intro = "Thank you to everyone who helped out this week! Here's who stood out:"
    else:
        intro = "Thank you to everyone who helped out this week!"
    return fit(
        EmbedSpec(title=title, description=intro, fields=tuple(fields), color=RECOGNITION_COLOR)
    )


def visible_arrivals(
    arrivals: Iterable[TierArrival], hidden: frozenset[int]
) -> tuple[TierArrival, ...]:
    """Arrivals of members who may be named, the latest per member, oldest first.

    Someone promoted twice in one period is listed once, with the tier they reached last.
    """
    latest: dict[int, TierArrival] = {}
    for arrival in arrivals:
        if arrival.user_id in hidden:
            continue
        known = latest.get(arrival.user_id)
        if known is None or arrival.at >= known.at:
            latest[arrival.user_id] = arrival
    return tuple(sorted(latest.values(), key=lambda a: (a.at, a.user_id)))


def _leaders(
    counts: Mapping[int, Mapping[str, int]], kind: str, hidden: frozenset[int], top_n: int
) -> tuple[Leader, ...]:
    # Hidden members go before the cut, so the top 3 shown are three people who may be named.
    ranked = sorted(
        (
            Leader(user_id=user_id, count=kinds.get(kind, 0))
            for user_id, kinds in counts.items()
            if user_id not in hidden and kinds.get(kind, 0) > 0
        ),
        key=lambda leader: (-leader.count, leader.user_id),
    )
    return tuple(ranked[: max(top_n, 0)])


def _leader_lines(category: Category) -> list[str]:
    return [
        f"{rank}. {mention(leader.user_id)} — {category.row.count(leader.count)}"
        for rank, leader in enumerate(category.leaders, start=1)
    ]


def _spotlight_lines(spotlight: Spotlight) -> list[str]:
    quoted = [
        f"> {line}" if line.strip() else ">" for line in spotlight.reason.strip().splitlines()
    ]
    return [f"🌟 {mention(spotlight.user_id)}", *quoted]


def _contribution_reason(kinds: Mapping[str, int], points: int, inputs: WeeklyInputs) -> str:
    """Why someone chosen from the numbers is in the spotlight, in a friendly sentence."""
    this_week = [
        kind.count(kinds[kind.key]) for kind in inputs.kinds.weekly() if kinds.get(kind.key, 0) > 0
    ]
    if inputs.spotlight_lookback_days:
        span = f"in the last {inputs.spotlight_lookback_days} days"
    else:
        span = "recently"
    reason = f"A steady force in the community: {points} contribution points {span}"
    if this_week:
        reason += f", including {_and_list(this_week)} this week"
    return reason + ". Thank you!"


# --------------------------------------------------------------------------------------------
# Quarterly awards
# --------------------------------------------------------------------------------------------


def compose_awards(inputs: AwardsInputs) -> AwardsDigest:
    """One winner per category: highest count, then most points, then lowest user id.

    A member may win several awards. Categories nobody (visible) contributed to are left out.
    """
    awards = []
    for kind in inputs.kinds.awarded():
        ranked = [
            (count, inputs.points.get(user_id, {}).get(kind.key, 0), user_id)
            for user_id, kinds in inputs.counts.items()
            if user_id not in inputs.hidden and (count := kinds.get(kind.key, 0)) > 0
        ]
        if ranked:
            count, points, user_id = min(ranked, key=lambda r: (-r[0], -r[1], r[2]))
            title = kind.award or kind.label
            awards.append(_award(kind.key, title, kind.count(count), user_id, count, points))
    consistent = [
        (days, sum(inputs.points.get(user_id, {}).values()), user_id)
        for user_id, days in inputs.active_days.items()
        if user_id not in inputs.hidden and days > 0
    ]
    if consistent:
        days, points, user_id = min(consistent, key=lambda r: (-r[0], -r[1], r[2]))
        detail = f"active on {days} day" if days == 1 else f"active on {days} days"
        awards.append(_award(CONSISTENCY_KIND, _CONSISTENCY_TITLE, detail, user_id, days, points))
    return AwardsDigest(
        period=inputs.period,
        awards=tuple(awards),
        named=frozenset(award.user_id for award in awards),
    )


def render_awards(digest: AwardsDigest) -> list[EmbedSpec]:
    """The quarterly awards post; a short note when there is nobody to award."""
    title = f"Quarterly awards · {digest.period.label}"
    if digest.is_empty:
        return fit(
            EmbedSpec(
                title=title,
                description=(
                    "A quiet quarter — no awards this time. Every answer, event and thank-you "
                    "counts towards the next ones!"
                ),
                color=AWARDS_COLOR,
            )
        )
    fields = tuple(
        EmbedField(
            name=f"🏆 {award.title}",
            value=f"{mention(award.user_id)} — {award.detail}{_points_suffix(award.points)}",
        )
        for award in digest.awards
    )
    return fit(
        EmbedSpec(
            title=title,
            description=(
                f"Thank you all for a great quarter! Here are the standouts of "
                f"{digest.period.label}, and the numbers behind each award:"
            ),
            fields=fields,
            color=AWARDS_COLOR,
        )
    )


def _award(kind: str, title: str, detail: str, user_id: int, count: int, points: int) -> Award:
    return Award(kind=kind, title=title, user_id=user_id, count=count, points=points, detail=detail)


def _points_suffix(points: int) -> str:
    if points <= 0:
        return ""
    return f" · {points} point" if points == 1 else f" · {points} points"


# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def scrub_mentions(text: str, hidden: frozenset[int]) -> str:
    """``text`` with mentions of hidden members replaced, so free text can't name them either."""
    if not hidden:
        return text

    def replace(match: re.Match[str]) -> str:
        return "a member" if int(match.group(1)) in hidden else match.group(0)

    return _MENTION.sub(replace, text)


def _and_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _plain(text: str) -> str:
    """``text`` with Markdown emphasis characters escaped (for tier names inside **bold**)."""
    return re.sub(r"([\\*_~`|])", r"\\\1", text)
