"""Who credits whom: reciprocal pairs and rings, for the weekly integrity note.

Two members who thank each other every day, or three who pass answers around, farm the
ladder. The pair cap (``[integrity] pair_credits_per_week``) already stops them from gaining
points past it; this names them to moderators, who can look and decide: a pair that helps each
other for real is fine, and only people can tell. Every peer credit counts here, capped or not:
a capped attempt is as telling as a counted one.

Pure: edges in (giver, receiver, credits), findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Members named per finding line, and findings shown (the rest are counted).
FINDINGS_SHOWN = 15


@dataclass(frozen=True)
class Pair:
    """Two members who each credited the other at least the threshold."""

    first: int
    second: int
    first_to_second: int
    second_to_first: int


@dataclass(frozen=True)
class Ring:
    """Three members each crediting the next, round the ring, at least the threshold."""

    members: tuple[int, int, int]
    credits: tuple[int, int, int]


def _graph(edges: Iterable[tuple[int, int, int]]) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = {}
    for giver, receiver, credits in edges:
        if giver != receiver and credits > 0:
            row = out.setdefault(giver, {})
            row[receiver] = row.get(receiver, 0) + credits
    return out


def reciprocal_pairs(edges: Iterable[tuple[int, int, int]], threshold: int) -> list[Pair]:
    """Pairs crediting each other at least ``threshold`` times each, most credits first."""
    graph = _graph(edges)
    found = []
    for a, targets in graph.items():
        for b, ab in targets.items():
            ba = graph.get(b, {}).get(a, 0)
            if a < b and ab >= threshold and ba >= threshold:
                found.append(Pair(a, b, ab, ba))
    return sorted(found, key=lambda p: (-(p.first_to_second + p.second_to_first), p.first))


def rings(edges: Iterable[tuple[int, int, int]], threshold: int) -> list[Ring]:
    """Rings of three (a → b → c → a), each link at least ``threshold``; each ring once."""
    graph = _graph(edges)
    strong = {
        giver: {r for r, n in targets.items() if n >= threshold} for giver, targets in graph.items()
    }
    found = []
    for a, targets in strong.items():
        for b in targets:
            for c in strong.get(b, ()):
                # The smallest id first names each ring once, whichever member it starts from.
                if c not in (a, b) and a in strong.get(c, ()) and a < b and a < c:
                    found.append(Ring((a, b, c), (graph[a][b], graph[b][c], graph[c][a])))
    return sorted(found, key=lambda r: (-sum(r.credits), r.members))


def note(
    pairs: Sequence[Pair], found_rings: Sequence[Ring], *, week: str, threshold: int
) -> str | None:
    """The mod-log note, or None when there is nothing to look at."""
    if not pairs and not found_rings:
        return None
    lines = [
        f"🔎 **Integrity note** for {week}: members who credited each other at least "
        f"{threshold} times each (thanks, accepted answers). Often that is real help; have a "
        "look before acting. Credit between two members counts only up to "
        "`[integrity] pair_credits_per_week`."
    ]
    findings = [
        f"• <@{p.first}> ⇄ <@{p.second}>: {p.first_to_second} and {p.second_to_first}"
        for p in pairs
    ] + [
        "• ring "
        + " → ".join(f"<@{m}>" for m in (*r.members, r.members[0]))
        + ": "
        + ", ".join(str(n) for n in r.credits)
        for r in found_rings
    ]
    lines += findings[:FINDINGS_SHOWN]
    if len(findings) > FINDINGS_SHOWN:
        lines.append(f"…and {len(findings) - FINDINGS_SHOWN} more.")
    return "\n".join(lines)
