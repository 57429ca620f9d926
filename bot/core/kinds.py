"""The contribution kinds: the one table every surface reads its kinds and their words from.

Config validation (``[points]`` and ``min_counts``), the ladder's criteria, the weekly post and
the quarterly awards, /profile, /leaderboard, /contribution and the health figures all derive
from :data:`KINDS`, so a new kind is one row here plus the code that credits it. The helpers
read the table when called; the config schema and the slash-command choices are built from it
once, at import.

Pure: no discord, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "KINDS",
    "Kind",
    "awarded",
    "chat_keys",
    "check_table",
    "count_phrase",
    "find",
    "keys",
    "kind",
    "label",
    "peer_keys",
    "weekly",
]


_KEY: Final = re.compile(r"[a-z][a-z_]{0,31}")
"""Keys are TOML keys, travel in /leaderboard custom ids (``[a-z_]+``) and fit the ledger's
32-character ``kind`` column."""


@dataclass(frozen=True)
class Kind:
    """One kind of contribution, as the ledger, the config file and members see it."""

    #: Ledger value, ``[points]`` key and ``min_counts`` key: never renamed once in use.
    key: str
    #: Points per contribution when ``[points]`` leaves the key out.
    default_points: int
    #: Heading for the kind: /profile field, /leaderboard choice and title, weekly post section.
    label: str
    #: Nouns for a number of them: "1 accepted answer", "3/5 accepted answers".
    one: str
    many: str
    #: How a member earns it, a sentence for people (the comment above its ``[points]`` key).
    credited: str
    #: Title of its quarterly award; None = no award for this kind.
    award: str | None = None
    #: Has its own section in the weekly recognition post.
    weekly: bool = False
    #: Place in the weekly post and among the awards (1 first); None when in neither.
    rank: int | None = None
    #: False for showing up and chatting: health's contributor figures leave such kinds out.
    contributing: bool = True
    #: Credited by another member (their thanks, their accepting an answer): the kinds two
    #: members could trade, so credit between one pair is capped and distinct givers counted.
    peer: bool = False

    def count(self, number: int) -> str:
        """``1 accepted answer``, ``5 accepted answers``."""
        return f"{number} {self.one if number == 1 else self.many}"


KINDS: Final[tuple[Kind, ...]] = (
    Kind(
        key="message_day",
        default_points=1,
        label="Active days credited",
        one="active day",
        many="active days",
        credited="For each day a member posted at least one counted message.",
        contributing=False,
    ),
    Kind(
        key="answer",
        default_points=10,
        label="Answers",
        one="accepted answer",
        many="accepted answers",
        credited="For an answer accepted in a help forum.",
        award="Top helper",
        weekly=True,
        rank=1,
        peer=True,
    ),
    Kind(
        key="thanks_received",
        default_points=2,
        label="Thanks received",
        one="thank-you received",
        many="thank-yous received",
        credited="For each time someone thanks the member.",
        award="Most thanked",
        weekly=True,
        rank=4,
        peer=True,
    ),
    Kind(
        key="event_hosted",
        default_points=15,
        label="Events hosted",
        one="event hosted",
        many="events hosted",
        credited="For hosting an event.",
        award="Top host",
        weekly=True,
        rank=2,
    ),
    Kind(
        key="event_attended",
        default_points=3,
        label="Events attended",
        one="event attended",
        many="events attended",
        credited="For attending an event.",
        award="Event regular",
        rank=7,
    ),
    Kind(
        key="content",
        default_points=10,
        label="Content shared",
        one="piece of content",
        many="pieces of content",
        credited="For a piece of content: a blog post, video, talk or tutorial.",
        award="Top creator",
        weekly=True,
        rank=3,
    ),
    Kind(
        key="referral",
        default_points=5,
        label="Referrals",
        one="referral",
        many="referrals",
        credited="For bringing in a new member who stayed.",
        award="Top recruiter",
        rank=5,
    ),
    Kind(
        key="mentoring",
        default_points=5,
        label="Mentoring",
        one="mentoring session",
        many="mentoring sessions",
        credited="For a mentoring session.",
        award="Top mentor",
        rank=6,
    ),
    Kind(
        key="feedback",
        default_points=10,
        label="Product feedback",
        one="feedback credit",
        many="feedback credits",
        credited="When a product request the member made with /feedback is planned or ships.",
        award="Voice of the users",
        rank=8,
    ),
    Kind(
        key="beta_testing",
        default_points=8,
        label="Beta testing",
        one="beta program tested",
        many="beta programs tested",
        credited="For a beta program the member tested with an accepted report (/beta report).",
    ),
    Kind(
        key="user_research",
        default_points=8,
        label="User research",
        one="research session",
        many="research sessions",
        credited="For taking part in a user-research session (/research).",
    ),
)
"""Every kind, in the order members see them (/profile, /leaderboard, ``[points]``)."""


def check_table(table: Iterable[Kind]) -> tuple[Kind, ...]:
    """``table`` as a tuple, or ValueError naming the first row that breaks the rules.

    Keys are unique words of up to 32 lowercase letters and _, no text is blank,
    default points are not negative, and a kind in the weekly post or with an award has a rank
    of its own.
    """
    rows = tuple(table)
    seen_keys: set[str] = set()
    seen_ranks: set[int] = set()
    for row in rows:
        where = f"contribution kind {row.key!r}"
        if _KEY.fullmatch(row.key) is None:
            raise ValueError(f"{where}: the key must be 1–32 lowercase letters and _")
        if row.key in seen_keys:
            raise ValueError(f"{where} is listed twice")
        seen_keys.add(row.key)
        texts = [row.label, row.one, row.many, row.credited]
        if row.award is not None:
            texts.append(row.award)
        if any(not text.strip() for text in texts):
            raise ValueError(f"{where}: label, nouns, credited text and award must not be blank")
        if row.default_points < 0:
            raise ValueError(f"{where}: default points must not be negative")
        if (row.weekly or row.award is not None) and row.rank is None:
            raise ValueError(f"{where}: a kind in the weekly post or with an award needs a rank")
        if row.rank is not None:
            if row.rank in seen_ranks:
                raise ValueError(f"{where}: rank {row.rank} is taken")
            seen_ranks.add(row.rank)
    return rows


check_table(KINDS)


def keys() -> tuple[str, ...]:
    """Every kind's key, in table order."""
    return tuple(row.key for row in KINDS)


_index: tuple[tuple[Kind, ...], dict[str, Kind]] = ((), {})


def find(key: str) -> Kind | None:
    """The kind called ``key``, or None (the ledger may hold kinds no longer in the table).

    On the ladder's hot path (every criterion's wording): the table is indexed by key once,
    and again only if ``KINDS`` is replaced.
    """
    global _index
    table, by_key = _index
    if table is not KINDS:
        table, by_key = KINDS, {row.key: row for row in KINDS}
        _index = (table, by_key)
    return by_key.get(key)


def kind(key: str) -> Kind:
    """The kind called ``key``; KeyError naming the known kinds otherwise."""
    found = find(key)
    if found is None:
        raise KeyError(f"unknown contribution kind {key!r}; kinds: {', '.join(keys())}")
    return found


def label(key: str) -> str:
    """The kind's label; a key no longer in the table reads as its words ("Old kind")."""
    found = find(key)
    return key.replace("_", " ").capitalize() if found is None else found.label


def weekly() -> tuple[Kind, ...]:
    """The kinds with a section in the weekly recognition post, in rank order."""
    return _ranked(row for row in KINDS if row.weekly)


def awarded() -> tuple[Kind, ...]:
    """The kinds with a quarterly award, in rank order."""
    return _ranked(row for row in KINDS if row.award is not None)


def chat_keys() -> tuple[str, ...]:
    """Keys of the kinds that are not contributing (showing up and chatting)."""
    return tuple(row.key for row in KINDS if not row.contributing)


def count_phrase(key: str, number: int) -> str:
    """``5 accepted answers``, ``1 event hosted``; a kind not in the table reads ``3 × key``."""
    found = find(key)
    return f"{number} × {key}" if found is None else found.count(number)


def _ranked(rows: Iterable[Kind]) -> tuple[Kind, ...]:
    return tuple(sorted(rows, key=lambda row: row.rank or 0))


def peer_keys() -> frozenset[str]:
    """Kinds credited by another member (see :attr:`Kind.peer`)."""
    return frozenset(k.key for k in KINDS if k.peer)
