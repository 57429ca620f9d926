"""The product feedback loop's rules: statuses, their forum tags, duplicates, ranking, figures.

A feedback item moves from Open through Planned and In progress to Shipped, or is Declined;
every move is a staff decision with a note, told to the author and the voters. The first
staff decision is what the health report times ("median time to a first staff status").

Pure: no discord, no database.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Final

__all__ = [
    "DECIDED",
    "LIVE",
    "SIMILAR_AT",
    "STATUS_TAGS",
    "FeedbackFigures",
    "ItemFacts",
    "Ranked",
    "Status",
    "Titled",
    "figures",
    "similar",
    "similarity",
    "status_named",
    "title_key",
]


class Status(StrEnum):
    """An item's place in the loop; the value is stored, the tag name is shown."""

    OPEN = "open"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SHIPPED = "shipped"
    DECLINED = "declined"

    @property
    def tag(self) -> str:
        """The forum tag (and the word members read) for this status."""
        return STATUS_TAGS[self]


STATUS_TAGS: Final[dict[Status, str]] = {
    Status.OPEN: "Open",
    Status.PLANNED: "Planned",
    Status.IN_PROGRESS: "In progress",
    Status.SHIPPED: "Shipped",
    Status.DECLINED: "Declined",
}
"""Forum tag names, created on the feedback forum at start-up when missing (20 characters max)."""

#: Items still wanted: /feedback top lists these unless a status is asked for.
LIVE: Final = frozenset({Status.OPEN, Status.PLANNED, Status.IN_PROGRESS})
#: A decision was made: the item was taken on or turned down.
DECIDED: Final = frozenset({Status.PLANNED, Status.IN_PROGRESS, Status.SHIPPED, Status.DECLINED})

#: Titles at least this similar (0–1) to an open item's are offered before a new item is made.
SIMILAR_AT: Final = 0.6


def status_named(text: str) -> Status | None:
    """The status a member or a button names (``"in progress"``, ``"In progress"``, value)."""
    wanted = re.sub(r"[\s_-]+", "_", text.strip().casefold())
    for status in Status:
        if wanted in (status.value, status.tag.casefold().replace(" ", "_")):
            return status
    return None


_WORD = re.compile(r"[^\W_]+")
#: Words that say nothing about what is asked for.
_FILLER: Final = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "and",
        "or",
        "with",
        "please",
        "add",
        "support",
        "allow",
        "feature",
        "request",
        "could",
        "would",
        "should",
        "be",
        "able",
        "i",
        "we",
        "it",
        "is",
    ]
)


def title_key(title: str) -> str:
    """The title as titles are compared: NFKC, casefolded, filler words and punctuation gone."""
    text = unicodedata.normalize("NFKC", title).casefold()
    words = [w for w in _WORD.findall(text) if w not in _FILLER]
    return " ".join(words) if words else " ".join(_WORD.findall(text))


def similarity(a: str, b: str) -> float:
    """How alike two titles read, 0–1: the better of word overlap and character similarity.

    Word overlap (Jaccard) catches reordered words ("dark mode for mobile" / "mobile dark
    mode"); the character ratio catches spelling variants ("dark-mode", "darkmode").
    """
    key_a, key_b = title_key(a), title_key(b)
    if not key_a or not key_b:
        return 0.0
    words_a, words_b = set(key_a.split()), set(key_b.split())
    overlap = len(words_a & words_b) / len(words_a | words_b)
    joined_a, joined_b = key_a.replace(" ", ""), key_b.replace(" ", "")
    # SequenceMatcher's ratio depends on the order of its arguments ("121"/"201"): both ways.
    spelled = max(
        SequenceMatcher(None, joined_a, joined_b).ratio(),
        SequenceMatcher(None, joined_b, joined_a).ratio(),
    )
    return max(overlap, spelled)


@dataclass(frozen=True)
class Titled:
    """An existing item as duplicate detection sees it."""

    item_id: int
    title: str


def similar(
    title: str, existing: Iterable[Titled], *, at: float = SIMILAR_AT, limit: int = 3
) -> list[Titled]:
    """The existing items whose titles read like ``title``, most alike first."""
    scored = [(similarity(title, item.title), item) for item in existing]
    close = [(score, item) for score, item in scored if score >= at]
    close.sort(key=lambda pair: (-pair[0], pair[1].item_id))
    return [item for _, item in close[:limit]]


@dataclass(frozen=True)
class Ranked:
    """An item as /feedback top lists it: most votes first, the older request first among
    equals (it has waited longer); the store orders them."""

    item_id: int
    title: str
    status: Status
    area: str
    votes: int
    created_at: datetime
    #: Where it is discussed (the forum post), when posted.
    thread_id: int | None = None


@dataclass(frozen=True)
class ItemFacts:
    """What the health report needs of one item."""

    created_at: datetime
    first_staff_status_at: datetime | None
    status: Status
    shipped_at: datetime | None


@dataclass(frozen=True)
class FeedbackFigures:
    """The loop's health over a window: is the community heard, and how fast?"""

    new_items: int
    #: Median hours from an item's creation to its first staff status; None if none has one.
    median_hours_to_first_status: float | None
    #: Share (0–1) of the window's items that got a decision; None without items.
    decided_share: float | None
    shipped: int
    #: Tier key (or None for members without a tier) → voters in the window.
    voters_by_tier: dict[str | None, int]


def figures(
    items: Sequence[ItemFacts],
    voter_tiers: Iterable[str | None],
    *,
    start: datetime,
    end: datetime,
) -> FeedbackFigures:
    """The figures for items created in ``[start, end)`` and items shipped in it."""
    new = [item for item in items if start <= item.created_at < end]
    waits = [
        (item.first_staff_status_at - item.created_at).total_seconds() / 3600
        for item in new
        if item.first_staff_status_at is not None
    ]
    decided = [item for item in new if item.status in DECIDED]
    shipped = [item for item in items if item.shipped_at and start <= item.shipped_at < end]
    tiers: dict[str | None, int] = {}
    for tier in voter_tiers:
        tiers[tier] = tiers.get(tier, 0) + 1
    return FeedbackFigures(
        new_items=len(new),
        median_hours_to_first_status=statistics.median(waits) if waits else None,
        decided_share=len(decided) / len(new) if new else None,
        shipped=len(shipped),
        voters_by_tier=tiers,
    )
