"""User groups: names, organizers, channel names, nudges once per inactive stretch, credits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.groups import (
    GroupActivity,
    can_credit_event,
    channel_name,
    clean_name,
    due_for_nudge,
    name_key,
    name_problem,
    organizers_problem,
    region_problem,
)


@pytest.mark.parametrize(
    ("raw", "cleaned", "key"),
    [
        ("Berlin Meetup", "Berlin Meetup", "berlin meetup"),
        ("  Berlin   Meetup ", "Berlin Meetup", "berlin meetup"),
        ("STRASSE\tGroup", "STRASSE Group", "strasse group"),
        ("Straße Group", "Straße Group", "strasse group"),  # casefold, not lower
    ],
)
def test_clean_name_and_key(raw, cleaned, key):
    assert clean_name(raw) == cleaned
    assert name_key(raw) == key


EXISTING = ["Berlin Meetup", "Data Engineers"]
BAD_CHARS = "A group name can't contain any of these characters: @ # ` < > * _ ~ | :"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Paris Meetup", None),
        ("ML", "A group name must be 3 to 50 characters long."),
        ("  ab  ", "A group name must be 3 to 50 characters long."),
        ("x" * 50, None),
        ("x" * 51, "A group name must be 3 to 50 characters long."),
        ("berlin meetup", "There is already a group called Berlin Meetup."),
        ("DATA  ENGINEERS", "There is already a group called Data Engineers."),
        ("---", "A group name needs at least one letter or digit."),
        ("@everyone fans", BAD_CHARS),
        ("<@123> group", BAD_CHARS),
        ("C# users", BAD_CHARS),
        ("São Paulo", None),
    ],
)
def test_name_problem(name, problem):
    assert name_problem(name, EXISTING) == problem


@pytest.mark.parametrize(
    ("region", "problem"),
    [
        (None, None),
        ("Europe", None),
        ("x" * 100, None),
        ("x" * 101, "A region must be at most 100 characters long."),
    ],
)
def test_region_problem(region, problem):
    assert region_problem(region) == problem


@pytest.mark.parametrize(
    ("leader", "cos", "problem"),
    [
        (1, [], None),
        (1, [2, 3, 4], None),
        (1, [2, 3, 4, 5], "A group has at most 3 co-organizers."),
        (1, [1], "The leader can't also be a co-organizer."),
        (1, [2, 2], "Each co-organizer can be named only once."),
    ],
)
def test_organizers_problem(leader, cos, problem):
    assert organizers_problem(leader, cos) == problem


@pytest.mark.parametrize(
    ("name", "channel"),
    [
        ("Berlin Meetup", "berlin-meetup"),
        ("  Data / ML  Engineers! ", "data-ml-engineers"),
        ("São Paulo", "s-o-paulo"),
        ("!!!", "group"),
        ("a" * 120, "a" * 100),
    ],
)
def test_channel_name(name, channel):
    assert channel_name(name) == channel


NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
DAYS60 = timedelta(days=60)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.mark.parametrize(
    ("created", "last", "nudged", "due"),
    [
        (ago(10), None, None, False),  # new group
        (ago(60), None, None, True),  # never ran an event, exactly 60 days
        (ago(59.9), None, None, False),
        (ago(200), ago(30), None, False),  # recent event
        (ago(200), ago(61), None, True),
        (ago(200), ago(90), ago(20), False),  # nudged in this stretch already
        (ago(200), ago(90), ago(100), True),  # nudged, then an event, then quiet again
        (ago(200), ago(150), ago(100), False),  # the nudge came after the last event
        (ago(200), None, ago(1), False),
    ],
)
def test_due_for_nudge(created, last, nudged, due):
    group = GroupActivity(7, created, last, nudged)
    assert due_for_nudge([group], now=NOW, inactive_after=DAYS60) == ([7] if due else [])


def test_due_for_nudge_sorted_ids():
    groups = [GroupActivity(i, ago(100), None, None) for i in (5, 2, 9)]
    assert due_for_nudge(groups, now=NOW, inactive_after=DAYS60) == [2, 5, 9]


@pytest.mark.parametrize(
    ("user", "host", "ok"),
    [
        (1, 1, True),  # the leader credits their own event
        (2, 1, True),  # a co-organizer credits the leader's
        (1, 2, True),
        (9, 1, False),  # not an organizer
        (1, 9, False),  # hosted by someone outside the team
        (1, None, False),  # no known host
    ],
)
def test_can_credit_event(user, host, ok):
    problem = can_credit_event(user, {1, 2}, host)
    assert (problem is None) == ok
