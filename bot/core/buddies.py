"""Buddies for newcomers: who gets the next one, and when a pairing has earned its credit.

Pure: the service hands in what the store knows (volunteers' loads, a pairing's facts) and the
time; nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

#: Sorts before any real time: a volunteer never assigned has waited longest.
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Volunteer:
    """An opted-in tier member and their current load."""

    user_id: int
    active: int
    """Pairings neither credited nor ended."""
    last_assigned_at: datetime | None


def choose_buddy(
    volunteers: Sequence[Volunteer], *, max_active: int, exclude: Collection[int] = ()
) -> int | None:
    """The volunteer with the fewest active pairings below ``max_active``, or None.

    Deterministic so a replayed join picks the same person: ties go to whoever has waited
    longest since their last assignment (never assigned first), then the lowest id.
    """
    eligible = [v for v in volunteers if v.active < max_active and v.user_id not in exclude]
    if not eligible:
        return None
    best = min(
        eligible,
        key=lambda v: (v.active, v.last_assigned_at or _NEVER, v.user_id),
    )
    return best.user_id


Outcome = Literal["credit", "end_left", "end_quiet", "wait"]


@dataclass(frozen=True)
class Pairing:
    """What settling a pairing needs to know about it."""

    pair_id: int
    buddy_id: int
    newcomer_id: int
    assigned_at: datetime
    newcomer_present: bool
    last_active_day: date | None
    """The newcomer's latest day with a qualifying message (activity_days), if any."""


def credit_due_day(assigned_at: datetime, credit_after: timedelta, tz: tzinfo) -> date:
    """The first local day on which the newcomer's activity counts as "still active"."""
    return (assigned_at + credit_after).astimezone(tz).date()


def settle(pairing: Pairing, *, now: datetime, credit_after: timedelta, tz: tzinfo) -> Outcome:
    """What the daily pass does with one open pairing.

    A newcomer who left ends it without credit. After ``credit_after`` the buddy is credited
    once the newcomer has been active on or after the due day; a newcomer still silent a
    second ``credit_after`` later has gone quiet, which ends the pairing and frees the buddy.
    """
    if not pairing.newcomer_present:
        return "end_left"
    due = pairing.assigned_at + credit_after
    if now < due:
        return "wait"
    due_day = credit_due_day(pairing.assigned_at, credit_after, tz)
    if pairing.last_active_day is not None and pairing.last_active_day >= due_day:
        return "credit"
    if now >= due + credit_after:
        return "end_quiet"
    return "wait"


class NoteThrottle:
    """Collapses a repeated moderator note: the first goes out, then at most one per ``every``.

    A server with buddies on and no volunteer would otherwise get a note per newcomer. The
    held-back cases are counted so the next note says how many there were.
    """

    def __init__(self, every: timedelta) -> None:
        self.every = every
        self._last: datetime | None = None
        self._held = 0

    def note(self, now: datetime) -> int | None:
        """Another case at ``now``: how many cases to report now (this one included), or None."""
        self._held += 1
        if self._last is not None and now - self._last < self.every:
            return None
        cases, self._held, self._last = self._held, 0, now
        return cases
