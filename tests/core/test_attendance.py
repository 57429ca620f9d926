"""Event attendance: counted minutes, the voice timeline, and event credits."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.attendance import (
    EventOutcome,
    VoiceSegment,
    VoiceTimeline,
    attended,
    attended_minutes,
    event_outcome,
)

T0 = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
W_START, W_END = T0, T0 + timedelta(minutes=60)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def seg(start: float, end: float | None, parked: bool = False) -> VoiceSegment:
    return VoiceSegment(at(start), None if end is None else at(end), parked)


def minutes(*segments: VoiceSegment) -> float:
    return attended_minutes(segments, window_start=W_START, window_end=W_END)


# --- attended_minutes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        pytest.param([], 0.0, id="no segments"),
        pytest.param([seg(10, 40)], 30.0, id="inside the window"),
        pytest.param([seg(-30, 15)], 15.0, id="joined early"),
        pytest.param([seg(50, 90)], 10.0, id="stayed late"),
        pytest.param([seg(-10, 70)], 60.0, id="whole window"),
        pytest.param([seg(-30, -5), seg(65, 80)], 0.0, id="outside the window"),
        pytest.param([seg(30, None)], 30.0, id="still connected: counts to window end"),
        pytest.param([seg(10, 40, parked=True)], 0.0, id="muted and deafened"),
        pytest.param([seg(0, 20), seg(20, 40, parked=True), seg(40, 45)], 25.0, id="parked mid"),
        pytest.param([seg(10, 40), seg(10, 40)], 30.0, id="duplicate segment"),
        pytest.param([seg(10, 40), seg(30, 50)], 40.0, id="overlapping segments"),
        pytest.param([seg(10, 40), seg(15, 20)], 30.0, id="nested segment"),
        pytest.param([seg(10, 20), seg(20, 30)], 20.0, id="touching segments"),
        pytest.param([seg(30, 50), seg(0, 10)], 30.0, id="unordered"),
        pytest.param([seg(10, 40, parked=True), seg(20, 30)], 10.0, id="parked overlaps counted"),
        pytest.param([seg(10, 10.5)], 0.5, id="fractional minutes"),
        pytest.param([seg(20, 10)], 0.0, id="backwards segment counts nothing"),
    ],
)
def test_attended_minutes(segments: list[VoiceSegment], expected: float) -> None:
    assert minutes(*segments) == pytest.approx(expected)


def test_empty_or_backwards_window_counts_nothing() -> None:
    assert attended_minutes([seg(0, 60)], window_start=W_END, window_end=W_END) == 0.0
    assert attended_minutes([seg(0, 60)], window_start=W_END, window_end=W_START) == 0.0


@pytest.mark.parametrize(
    ("segments", "min_minutes", "expected"),
    [
        ([seg(0, 15)], 15, True),  # exactly min_minutes
        ([seg(0, 14.99)], 15, False),
        ([seg(0, 15, parked=True)], 15, False),
        ([seg(0, 10), seg(20, 25)], 15, True),  # time adds up across visits
        ([seg(0, 10), seg(5, 10)], 15, False),  # but not twice
        ([], 0, True),
    ],
)
def test_attended(segments: list[VoiceSegment], min_minutes: float, expected: bool) -> None:
    result = attended(segments, window_start=W_START, window_end=W_END, min_minutes=min_minutes)
    assert result is expected


offsets = st.integers(-120, 180)


@st.composite
def segments_strategy(draw: st.DrawFn) -> VoiceSegment:
    start = draw(offsets)
    length = draw(st.one_of(st.none(), st.integers(-10, 120)))
    end = None if length is None else at(start + length)
    return VoiceSegment(at(start), end, draw(st.booleans()))


segment_lists = st.lists(segments_strategy(), max_size=12)
windows = st.tuples(offsets, st.integers(0, 240))


def _window(window: tuple[int, int]) -> tuple[datetime, datetime]:
    start, length = window
    return at(start), at(start + length)


@given(segment_lists, windows)
def test_never_exceeds_the_window(segments: list[VoiceSegment], window: tuple[int, int]) -> None:
    start, end = _window(window)
    result = attended_minutes(segments, window_start=start, window_end=end)
    assert 0.0 <= result <= (end - start) / timedelta(minutes=1)


@given(segment_lists, windows)
def test_duplicating_segments_changes_nothing(
    segments: list[VoiceSegment], window: tuple[int, int]
) -> None:
    start, end = _window(window)
    once = attended_minutes(segments, window_start=start, window_end=end)
    twice = attended_minutes(segments + segments[::-1], window_start=start, window_end=end)
    assert twice == pytest.approx(once)


@given(segment_lists, segment_lists, windows)
def test_adding_segments_never_lowers_the_count(
    segments: list[VoiceSegment], extra: list[VoiceSegment], window: tuple[int, int]
) -> None:
    start, end = _window(window)
    base = attended_minutes(segments, window_start=start, window_end=end)
    more = attended_minutes(segments + extra, window_start=start, window_end=end)
    assert more >= base - 1e-9


# --- VoiceTimeline ------------------------------------------------------------------------------

EVENT, OTHER = 500, 501
ANN, BEN = 1, 2


def test_join_and_leave() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(ANN, channel_id=None, self_mute=False, self_deaf=False, at=at(20))
    assert timeline.segments(ANN, until=at(60)) == [seg(0, 20)]
    assert timeline.members() == {ANN}


def test_open_segment_ends_at_until() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(5))
    assert timeline.segments(ANN, until=at(30)) == [seg(5, 30)]
    assert timeline.segments(ANN, until=at(5)) == []
    assert timeline.segments(ANN, until=at(45)) == [seg(5, 45)]  # still open


def test_moving_to_another_channel_leaves() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(ANN, channel_id=OTHER, self_mute=False, self_deaf=False, at=at(10))
    timeline.update(ANN, channel_id=OTHER, self_mute=True, self_deaf=True, at=at(15))
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(30))
    assert timeline.segments(ANN, until=at(40)) == [seg(0, 10), seg(30, 40)]


def test_mute_and_deafen_splits_segments() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(ANN, channel_id=EVENT, self_mute=True, self_deaf=False, at=at(5))  # mute only
    timeline.update(ANN, channel_id=EVENT, self_mute=True, self_deaf=True, at=at(10))
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(25))
    timeline.update(ANN, channel_id=None, self_mute=False, self_deaf=False, at=at(30))
    segments = timeline.segments(ANN, until=at(60))
    assert segments == [seg(0, 10), seg(10, 25, parked=True), seg(25, 30)]
    assert minutes(*segments) == 15.0


def test_replayed_and_stale_updates_are_no_ops() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(10))
    timeline.update(ANN, channel_id=None, self_mute=False, self_deaf=False, at=at(20))
    timeline.update(ANN, channel_id=None, self_mute=False, self_deaf=False, at=at(20))
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(5))  # stale
    assert timeline.segments(ANN, until=at(60)) == [seg(0, 20)]


def test_zero_length_visits_leave_no_segment() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(3))
    timeline.update(ANN, channel_id=None, self_mute=False, self_deaf=False, at=at(3))
    assert timeline.segments(ANN, until=at(60)) == []
    assert timeline.members() == {ANN}


def test_members_are_only_those_seen_here() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(BEN, channel_id=OTHER, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(BEN, channel_id=None, self_mute=False, self_deaf=False, at=at(4))
    assert timeline.members() == {ANN}
    assert timeline.segments(BEN, until=at(60)) == []


def test_members_are_tracked_separately() -> None:
    timeline = VoiceTimeline(EVENT)
    timeline.update(ANN, channel_id=EVENT, self_mute=False, self_deaf=False, at=at(0))
    timeline.update(BEN, channel_id=EVENT, self_mute=True, self_deaf=True, at=at(5))
    timeline.update(ANN, channel_id=None, self_mute=False, self_deaf=False, at=at(30))
    assert timeline.segments(ANN, until=at(60)) == [seg(0, 30)]
    assert timeline.segments(BEN, until=at(60)) == [seg(5, 60, parked=True)]
    assert timeline.members() == {ANN, BEN}


# --- event_outcome ------------------------------------------------------------------------------

HOST = 99
ROOM = {1: 30.0, 2: 15.0, 3: 14.9, HOST: 60.0}


@pytest.mark.parametrize(
    ("status", "host_id", "min_attendees", "credit", "attendees"),
    [
        ("completed", HOST, 2, True, {1, 2}),  # exactly min_minutes and exactly min_attendees
        ("completed", HOST, 3, False, {1, 2}),  # host does not count towards the room
        ("completed", None, 1, False, {1, 2, HOST}),  # no host: everyone is an attendee
        ("completed", HOST, 0, True, {1, 2}),
        ("canceled", HOST, 1, False, set()),
        ("active", HOST, 1, False, set()),
        ("scheduled", HOST, 1, False, set()),
    ],
)
def test_event_outcome(
    status: str, host_id: int | None, min_attendees: int, credit: bool, attendees: set[int]
) -> None:
    outcome = event_outcome(
        status=status,  # type: ignore[arg-type]
        host_id=host_id,
        attendance=ROOM,
        min_minutes=15,
        min_attendees=min_attendees,
    )
    assert outcome.hosted_credit is credit
    assert outcome.attendees == frozenset(attendees)


def test_empty_room_earns_the_host_nothing() -> None:
    outcome = event_outcome(
        status="completed", host_id=HOST, attendance={HOST: 90.0}, min_minutes=10, min_attendees=1
    )
    assert outcome == EventOutcome(False, frozenset(), "0 attendees, fewer than the 1 needed")


@pytest.mark.parametrize(
    ("status", "host_id", "min_attendees", "reason"),
    [
        ("completed", HOST, 2, "2 attendees; the host is credited"),
        ("completed", HOST, 3, "2 attendees, fewer than the 3 needed"),
        ("completed", None, 1, "3 attendees; no host is known to credit"),
        ("canceled", HOST, 1, "the event was canceled"),
        ("active", HOST, 1, "the event has not ended yet"),
    ],
)
def test_event_outcome_reasons(
    status: str, host_id: int | None, min_attendees: int, reason: str
) -> None:
    outcome = event_outcome(
        status=status,  # type: ignore[arg-type]
        host_id=host_id,
        attendance=ROOM,
        min_minutes=15,
        min_attendees=min_attendees,
    )
    assert outcome.reason == reason


updates = st.lists(
    st.tuples(
        st.sampled_from([ANN, BEN]),
        st.sampled_from([EVENT, OTHER, None]),
        st.booleans(),
        st.booleans(),
        st.integers(0, 5),
    ),
    max_size=20,
)


def _replay(steps: list[tuple[int, int | None, bool, bool, int]], times: int) -> VoiceTimeline:
    timeline = VoiceTimeline(EVENT)
    clock = 0
    for user, channel, mute, deaf, gap in steps:
        clock += gap
        for _ in range(times):
            timeline.update(user, channel_id=channel, self_mute=mute, self_deaf=deaf, at=at(clock))
    return timeline


@given(updates)
def test_timeline_ignores_replays_and_never_overlaps(
    steps: list[tuple[int, int | None, bool, bool, int]],
) -> None:
    once, twice = _replay(steps, 1), _replay(steps, 2)
    assert once.members() == twice.members()
    for user in (ANN, BEN):
        segments = once.segments(user, until=at(200))
        assert segments == twice.segments(user, until=at(200))
        for earlier, later in pairwise(segments):
            assert earlier.end is not None
            assert earlier.end <= later.start
        assert all(s.end is not None and s.start < s.end for s in segments)


def test_the_event_report_and_the_credits_count_attendees_the_same_way():
    """One rule: exactly ``min_minutes`` counts, in the report and in the credits."""
    from bot.core.attendance import attendees_of, event_outcome

    minutes = {1: 30.0, 2: 29.99, 3: 45.0, 4: 0.0}
    assert attendees_of(minutes, min_minutes=30) == {1, 3}
    outcome = event_outcome(
        status="completed", host_id=3, attendance=minutes, min_minutes=30, min_attendees=1
    )
    assert outcome.attendees == attendees_of(minutes, min_minutes=30) - {3}
