"""Event attendance: who was really at a Discord scheduled event, and does the host get credit?

The bot records voice-state updates in the event's voice or stage channel as segments of time.
Time spent self-muted *and* self-deafened does not count: that is parking in the channel, not
attending. Duplicate or overlapping segments (replayed gateway events, reconnects) are merged,
so nobody gets counted twice for the same minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal


@dataclass(frozen=True)
class VoiceSegment:
    start: datetime
    #: None: still connected (counted up to the window end).
    end: datetime | None
    #: Self-mute and self-deafen were both set during this whole segment.
    muted_and_deafened: bool


def attended_minutes(
    segments: Sequence[VoiceSegment], *, window_start: datetime, window_end: datetime
) -> float:
    """Minutes of ``[window_start, window_end]`` spent in the channel, not muted and deafened."""
    if window_end <= window_start:
        return 0.0
    clipped = []
    for segment in segments:
        if segment.muted_and_deafened:
            continue
        start = max(segment.start, window_start)
        end = min(segment.end if segment.end is not None else window_end, window_end)
        if start < end:
            clipped.append((start, end))
    total = sum((end - start for start, end in _merge(clipped)), timedelta())
    return total / timedelta(minutes=1)


def attended(
    segments: Sequence[VoiceSegment],
    *,
    window_start: datetime,
    window_end: datetime,
    min_minutes: float,
) -> bool:
    """At least ``min_minutes`` of counted time in the window (exactly ``min_minutes`` counts)."""
    minutes = attended_minutes(segments, window_start=window_start, window_end=window_end)
    return minutes >= min_minutes


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class _Open:
    start: datetime
    muted_and_deafened: bool


class VoiceTimeline:
    """Builds segments from voice-state updates as they arrive, for one event channel.

    Updates for a member that are older than the last one seen for them are ignored: gateway
    replays after a reconnect must not reopen or shorten time already recorded.
    """

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        self._closed: dict[int, list[VoiceSegment]] = {}
        self._open: dict[int, _Open] = {}
        self._last_at: dict[int, datetime] = {}

    def update(
        self,
        user_id: int,
        *,
        channel_id: int | None,
        self_mute: bool,
        self_deaf: bool,
        at: datetime,
    ) -> None:
        """Apply one voice-state update; leaving means ``channel_id`` is None or elsewhere."""
        last = self._last_at.get(user_id)
        if last is not None and at < last:
            return
        self._last_at[user_id] = at
        here = channel_id == self.channel_id
        flag = self_mute and self_deaf
        current = self._open.get(user_id)
        if current is not None:
            if here and current.muted_and_deafened == flag:
                return
            self._close(user_id, current, at)
        if here:
            self._open[user_id] = _Open(at, flag)
            self._closed.setdefault(user_id, [])

    def segments(self, user_id: int, *, until: datetime) -> list[VoiceSegment]:
        """The member's segments in order; a still-open one ends at ``until``."""
        result = list(self._closed.get(user_id, ()))
        current = self._open.get(user_id)
        if current is not None and current.start < until:
            result.append(VoiceSegment(current.start, until, current.muted_and_deafened))
        return result

    def members(self) -> set[int]:
        """Everyone who has been in the channel while the timeline was recording."""
        return set(self._closed)

    def _close(self, user_id: int, current: _Open, at: datetime) -> None:
        del self._open[user_id]
        if current.start < at:
            segment = VoiceSegment(current.start, at, current.muted_and_deafened)
            self._closed[user_id].append(segment)


@dataclass(frozen=True)
class EventOutcome:
    hosted_credit: bool
    attendees: frozenset[int]
    #: Plain words for the mod log.
    reason: str


def attendees_of(attendance: Mapping[int, float], *, min_minutes: float) -> frozenset[int]:
    """Who attended: at least ``min_minutes`` of counted time (exactly ``min_minutes`` counts)."""
    return frozenset(member for member, minutes in attendance.items() if minutes >= min_minutes)


def event_outcome(
    *,
    status: Literal["completed", "canceled", "active", "scheduled"],
    host_id: int | None,
    attendance: Mapping[int, float],
    min_minutes: float,
    min_attendees: int,
) -> EventOutcome:
    """Credits for an event from each member's attended minutes.

    Only a completed event credits anyone. The host is never their own attendee, and is
    credited only when enough other people came — an empty room earns no hosting points.
    """
    if status == "canceled":
        return EventOutcome(False, frozenset(), "the event was canceled")
    if status != "completed":
        return EventOutcome(False, frozenset(), "the event has not ended yet")
    attendees = attendees_of(attendance, min_minutes=min_minutes).difference({host_id})
    count = f"{len(attendees)} attendee{'' if len(attendees) == 1 else 's'}"
    if host_id is None:
        return EventOutcome(False, attendees, f"{count}; no host is known to credit")
    if len(attendees) < min_attendees:
        return EventOutcome(False, attendees, f"{count}, fewer than the {min_attendees} needed")
    return EventOutcome(True, attendees, f"{count}; the host is credited")
