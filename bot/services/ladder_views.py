"""Read-only views of the ladder for people: a member's outlook and the what-if report.

* :func:`requirements`: a tier's requirements in one line, for /tiers and the web ladder.
* :func:`outlook`: where one member stands (next tier, what is missing, at risk) for /profile.
* :func:`build_report`/:func:`render`: who the ladder would promote, warn or demote right now,
  changing nothing; shared by ``python -m bot tiers preview`` and ``/tier preview`` so a
  community sees the same report in both places before it changes its thresholds.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import tomli_w

from bot.config import ConfigError, ConfigProblem, Settings, TierConfig, parse_config
from bot.core.kinds import KindTable
from bot.core.ladder import (
    Criterion,
    Decision,
    MemberState,
    MemberStats,
    Progress,
    progress,
)
from bot.services.ladder import LadderService
from db.repositories.ladder import LadderRepository


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def requirements(tier: TierConfig, kinds: KindTable) -> str:
    """ "50 points · 3 accepted answers · active in 2 weeks (last 90 days) · nomination"."""
    window: list[str] = []
    if tier.min_points:
        window.append(_count(tier.min_points, "point", "points"))
    for kind, count in tier.min_counts.items():
        if count:
            window.append(kinds.count_phrase(kind, count))
    if tier.min_active_weeks:
        window.append(f"active in {_count(tier.min_active_weeks, 'week', 'different weeks')}")
    parts = [f"{', '.join(window)} in the last {tier.window_days} days"] if window else []
    if tier.min_tenure_days:
        parts.append(f"a member for {_count(tier.min_tenure_days, 'day', 'days')}")
    if tier.nomination_required:
        parts.append("a moderator's approved nomination")
    return " · ".join(parts) or "none"


@dataclass(frozen=True)
class Outlook:
    """Where one member stands on the ladder (for /profile)."""

    progress: Progress

    @property
    def below(self) -> tuple[Criterion, ...]:
        """While at risk: the held tier's numbers under their low-water mark (core's check)."""
        return self.progress.below


async def outlook(ladder: LadderService, user_id: int) -> Outlook | None:
    """The member's progress toward the next tier and at-risk state; None without tiers."""
    if not ladder.tiers:
        return None
    now = ladder.clock.now()
    stats = (await ladder.stats_for([user_id])).get(user_id, MemberStats(user_id, None, {}))
    async with ladder.sessions() as session:
        repo = LadderRepository(session, ladder.guild_id)
        row = (await repo.states([user_id])).get(user_id)
        nominated = frozenset((await repo.approved_nominations([user_id])).get(user_id, ()))
        seats = await repo.seats_taken()
    state = MemberState(
        tier_key=row.tier_key if row else None,
        tier_since=row.tier_since if row else None,
        pinned=row.pinned if row else False,
        leave_until=row.leave_until if row else None,
        below_since=row.below_since if row else None,
        at_risk_notified_at=row.at_risk_notified_at if row else None,
        approved_nominations=nominated,
    )
    ahead = progress(stats, state, ladder.tiers, ladder.rules, now=now, seats_taken=seats)
    return Outlook(ahead)


SECTIONS = ("promoted", "warned", "at_risk", "demoted")
TITLES = {
    "promoted": "Would be promoted",
    "warned": "Would get an at-risk notice now",
    "at_risk": "At risk, no notice due now",
    "demoted": "Would be demoted",
}


class PlannedLike(Protocol):
    """``LadderService.plan`` rows: a member and the decision the ladder would take."""

    @property
    def user_id(self) -> int: ...
    @property
    def decision(self) -> Decision: ...


@dataclass(frozen=True)
class PreviewEntry:
    user_id: int
    section: str
    decision: Decision


@dataclass(frozen=True)
class PreviewReport:
    evaluated: int
    entries: tuple[PreviewEntry, ...]

    def section(self, name: str) -> list[PreviewEntry]:
        return [entry for entry in self.entries if entry.section == name]

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(self.section(name)) for name in SECTIONS}


def section_of(decision: Decision) -> str | None:
    """Where a decision goes in the report; None for "nothing would change"."""
    if decision.action == "promote":
        return "promoted"
    if decision.action == "demote":
        return "demoted"
    if decision.action == "warn":
        return "warned"
    if decision.demotion_due_at is not None:
        return "at_risk"
    return None


def build_report(planned: Sequence[PlannedLike]) -> PreviewReport:
    entries = []
    for row in planned:
        section = section_of(row.decision)
        if section is not None:
            entries.append(PreviewEntry(row.user_id, section, row.decision))
    return PreviewReport(evaluated=len(planned), entries=tuple(entries))


def render(
    report: PreviewReport,
    *,
    name_of: Callable[[int], str],
    tier_names: Mapping[str, str],
) -> list[str]:
    """The report as plain text lines (names as ``name_of`` spells them)."""

    def tier(key: str | None) -> str:
        return "no tier" if key is None else tier_names.get(key, key)

    counts = report.counts
    lines = [
        f"What-if under the current rules and data: {report.evaluated} member(s) evaluated; "
        f"{counts['promoted']} promoted, {counts['warned']} warned, {counts['at_risk']} at risk, "
        f"{counts['demoted']} demoted. Nothing was changed."
    ]
    for name in SECTIONS:
        entries = report.section(name)
        lines.append("")
        lines.append(f"{TITLES[name]} ({len(entries)}):" if entries else f"{TITLES[name]}: none")
        for entry in entries:
            decision = entry.decision
            move = (
                f"{tier(decision.from_tier)} → {tier(decision.to_tier)}"
                if decision.action in ("promote", "demote")
                else tier(decision.from_tier)
            )
            lines.append(f"  {name_of(entry.user_id)}: {move}")
            if decision.reasons:
                lines.append(f"    {decision.reasons[0]}")
            shown = (
                decision.criteria
                if decision.action == "promote"
                else [c for c in decision.criteria if not c.met]
            )
            lines.extend(f"    - {criterion.describe()}" for criterion in shown)
    return lines


# ---------------------------------------------------------------------------- the what-if editor
WHAT_IF_EXAMPLE = '[[tiers]]\nkey = "helper"\nname = "Helper"\nrole_id = 123456789012345678'


def tiers_as_toml(settings: Settings) -> str:
    """The configured tiers as the ``[[tiers]]`` tables of a config file (set keys only)."""
    tiers = [tier.model_dump(mode="json", exclude_unset=True) for tier in settings.tiers]
    return tomli_w.dumps({"tiers": tiers})


def with_tiers_from_toml(settings: Settings, text: str) -> Settings:
    """``settings`` with its tiers replaced by ``text`` (``[[tiers]]`` tables), validated by
    the same rules as the config file; a ConfigError lists every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [ConfigProblem("tiers", f"this is not valid TOML ({exc})", WHAT_IF_EXAMPLE)]
        ) from None
    others = sorted(set(data) - {"tiers"})
    if others:
        raise ConfigError(
            [
                ConfigProblem(
                    others[0],
                    "only the tiers can be tried here: write [[tiers]] tables and nothing else",
                    WHAT_IF_EXAMPLE,
                )
            ]
        )
    full = settings.model_dump(mode="python", exclude_unset=True)
    full["tiers"] = data.get("tiers", [])
    return parse_config(full, env={}, require_token=False).settings


async def what_if(ladder: LadderService, settings: Settings) -> PreviewReport:
    """Who would move under ``settings``' tiers, with today's data: the same plan as ``tiers
    preview``, from a ladder built for those tiers. Nothing is written."""
    trial = LadderService(ladder.sessions, settings, ladder.clock, ladder.contributions)
    return build_report(await trial.plan(None))
