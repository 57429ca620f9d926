"""History backfill rules that need no Discord and no store: the window, which reply history
shows as accepted, and the summary the ladder posts once at the end."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

_SPAN = re.compile(r"^\s*([0-9]+)\s*([dw])\s*$", re.IGNORECASE)
#: Discord keeps history for ever, but the ladder looks back months, not years.
MAX_SPAN = timedelta(days=3650)


def parse_span(text: str) -> timedelta:
    """``"180d"`` or ``"26w"`` as a timedelta; ValueError with a message a member can act on."""
    match = _SPAN.match(text)
    shown = repr(text) if len(text) <= 12 else repr(text[:8])[:-1] + "…'"
    if match is None:
        raise ValueError(f"{shown} is not a span: write days or weeks, like 180d or 26w")
    # Five digits already pass the limit; more would overflow ``int`` or ``timedelta``.
    days = int(match[1][-6:]) * (7 if match[2].lower() == "w" else 1)
    if match[1].lstrip("0")[:-6] or not 1 <= days <= MAX_SPAN.days:
        raise ValueError(f"{shown}: choose between 1d and {MAX_SPAN.days}d")
    return timedelta(days=days)


@dataclass(frozen=True)
class Reply:
    """A message in a help thread, as history shows it."""

    message_id: int
    author_id: int
    author_is_bot: bool
    #: The asker put a ✅ on it.
    asker_approved: bool


def accepted_answer(
    *, asker_id: int | None, solved: bool, replies: Sequence[Reply]
) -> Reply | None:
    """The reply history shows as the answer, or None when it doesn't show one for sure.

    Both signals are needed: the post carries the forum's Solved tag, and the asker put a ✅
    on exactly one reply by someone else (not a bot). Two approved replies, or a ✅ without
    the tag, are ambiguous: nothing is guessed.
    """
    if asker_id is None or not solved:
        return None
    approved = [
        r for r in replies if r.asker_approved and not r.author_is_bot and r.author_id != asker_id
    ]
    return approved[0] if len(approved) == 1 else None


def summary_text(
    span: timedelta, promoted: Mapping[str, int], tier_order: Sequence[tuple[str, str]]
) -> str:
    """The one post that replaces a promotion announcement per member."""
    parts = [
        f"{promoted[key]} {name}{'' if promoted[key] == 1 else 's'}"
        for key, name in tier_order
        if promoted.get(key)
    ]
    if not parts:
        return (
            f"📜 The ladder now reflects the last {span.days} days of history: "
            "nobody's tier changed."
        )
    return (
        f"📜 The ladder now reflects the last {span.days} days of history: "
        + ", ".join(parts)
        + "."
    )


DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(moment: datetime) -> int:
    """The smallest snowflake of ``moment``: history ``before`` it starts at that instant."""
    if moment.utcoffset() is None:
        raise ValueError("snowflake_at needs a timezone-aware datetime")
    return (int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22
