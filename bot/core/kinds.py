"""The contribution kinds: the one table every surface reads its kinds and their words from.

Config validation (``[points]``, ``[[kinds]]`` and ``min_counts``), the ladder's criteria, the
weekly post and the quarterly awards, /profile, /leaderboard, /contribution and the health
figures all read a :class:`KindTable`: :data:`BUILT_IN` (the kinds Flywheel's own features
credit) plus the kinds a server defines in ``[[kinds]]``, as ``Settings.kinds`` holds them. A new
built-in kind is one row here plus the code that credits it; a server's own kind is config only.

Pure: no discord, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "BUILT_IN",
    "CREDITS",
    "Credit",
    "Kind",
    "KindTable",
    "check_table",
]

Credit = Literal["feature", "moderators", "review"]
#: How a kind is credited, as ``[[kinds]] credited`` spells it (``feature`` is Flywheel's own).
CREDITS: Final[tuple[Credit, ...]] = ("feature", "moderators", "review")

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
    #: Who credits it: a Flywheel feature (every built-in kind), moderators only
    #: (/contribution add), or review (a member submits evidence with /contribution submit and a
    #: moderator approves it on the review card).
    credit: Credit = "feature"
    #: Its points are a ``[points]`` key; False when each credit brings its own (imports).
    configurable: bool = True

    def count(self, number: int) -> str:
        """``1 accepted answer``, ``5 accepted answers``."""
        return f"{number} {self.one if number == 1 else self.many}"


_BUILT_IN_ROWS: Final[tuple[Kind, ...]] = (
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
    Kind(
        key="imported",
        default_points=0,
        label="Imported points",
        one="import",
        many="imports",
        credited="Points carried over from another bot (python -m bot import).",
        # Dated the day of the import: counting it as that month's contributing would make
        # every imported member a "new contributor" in the health report.
        contributing=False,
        configurable=False,
    ),
)
"""Every built-in kind, in the order members see them (/profile, /leaderboard, ``[points]``)."""


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


class KindTable:
    """A checked, immutable table of kinds with the lookups every surface needs.

    Indexed by key once: :meth:`find` is on the ladder's hot path (every criterion's wording).
    """

    __slots__ = ("_by_key", "_rows")

    def __init__(self, rows: Iterable[Kind]) -> None:
        self._rows = check_table(rows)
        self._by_key = {row.key: row for row in self._rows}

    def extended(self, rows: Iterable[Kind]) -> KindTable:
        """This table with ``rows`` after it (a server's ``[[kinds]]``)."""
        return KindTable((*self._rows, *rows))

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KindTable) and other._rows == self._rows

    def __hash__(self) -> int:
        return hash(self._rows)

    def __repr__(self) -> str:
        return f"KindTable({', '.join(self.keys())})"

    @property
    def rows(self) -> tuple[Kind, ...]:
        return self._rows

    def keys(self) -> tuple[str, ...]:
        """Every kind's key, in table order."""
        return tuple(self._by_key)

    def find(self, key: str) -> Kind | None:
        """The kind called ``key``, or None (the ledger may hold kinds no longer in the table)."""
        return self._by_key.get(key)

    def kind(self, key: str) -> Kind:
        """The kind called ``key``; KeyError naming the known kinds otherwise."""
        found = self._by_key.get(key)
        if found is None:
            raise KeyError(f"unknown contribution kind {key!r}; kinds: {', '.join(self.keys())}")
        return found

    def label(self, key: str) -> str:
        """The kind's label; a key no longer in the table reads as its words ("Old kind")."""
        found = self._by_key.get(key)
        return key.replace("_", " ").capitalize() if found is None else found.label

    def count_phrase(self, key: str, number: int) -> str:
        """``5 accepted answers``; a kind not in the table reads ``3 × key``."""
        found = self._by_key.get(key)
        return f"{number} × {key}" if found is None else found.count(number)

    def weekly(self) -> tuple[Kind, ...]:
        """The kinds with a section in the weekly recognition post, in rank order."""
        return _ranked(row for row in self._rows if row.weekly)

    def awarded(self) -> tuple[Kind, ...]:
        """The kinds with a quarterly award, in rank order."""
        return _ranked(row for row in self._rows if row.award is not None)

    def chat_keys(self) -> tuple[str, ...]:
        """Keys of the kinds that are not contributing (showing up and chatting)."""
        return tuple(row.key for row in self._rows if not row.contributing)

    def peer_keys(self) -> frozenset[str]:
        """Kinds credited by another member (see :attr:`Kind.peer`)."""
        return frozenset(row.key for row in self._rows if row.peer)

    def credited_by(self, credit: Credit) -> tuple[Kind, ...]:
        """The kinds credited one way, in table order (``review``: /contribution submit's)."""
        return tuple(row for row in self._rows if row.credit == credit)

    def next_rank(self) -> int:
        """The rank after every ranked kind: where a server's own ranked kinds start."""
        return max((row.rank or 0 for row in self._rows), default=0) + 1


def _ranked(rows: Iterable[Kind]) -> tuple[Kind, ...]:
    return tuple(sorted(rows, key=lambda row: row.rank or 0))


BUILT_IN: Final = KindTable(_BUILT_IN_ROWS)
"""The kinds Flywheel's own features credit; ``Settings.kinds`` adds a server's ``[[kinds]]``."""
