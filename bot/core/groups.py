"""User groups: valid names and organizer lists, channel names, and who is due a nudge.

Local meetups, virtual groups, industry groups and use-case groups (the user-group playbook)
share one shape here; the kind only changes how a group is listed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.member_text import clean_line, name_key, spoofing_problem

GROUP_KINDS = ("local", "virtual", "industry", "use_case")
KIND_LABELS = {
    "local": "Local meetup",
    "virtual": "Virtual group",
    "industry": "Industry group",
    "use_case": "Use-case group",
}
NAME_MIN, NAME_MAX = 3, 50
REGION_MAX = 100
MAX_CO_ORGANIZERS = 3

_SPACES = re.compile(r"\s+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
#: Names that would turn into a ping or Discord markup in a role name or a message.
_FORBIDDEN = ("@", "#", "`", "<", ">", "*", "_", "~", "|", ":")


def clean_name(name: str) -> str:
    """The name as stored: normalised (:mod:`bot.core.member_text`), one space between words."""
    return clean_line(name)


def name_problem(name: str, existing: Iterable[str]) -> str | None:
    """Why ``name`` can't be a new group's name, or None if it can."""
    cleaned = clean_name(name)
    if not NAME_MIN <= len(cleaned) <= NAME_MAX:
        return f"A group name must be {NAME_MIN} to {NAME_MAX} characters long."
    if any(char in cleaned for char in _FORBIDDEN):
        shown = " ".join(_FORBIDDEN)
        return f"A group name can't contain any of these characters: {shown}"
    if not any(char.isalnum() for char in cleaned):
        return "A group name needs at least one letter or digit."
    spoof = spoofing_problem(cleaned)
    if spoof is not None:
        return spoof
    key = name_key(cleaned)
    for other in existing:
        if name_key(other) == key:
            return f"There is already a group called {other}."
    return None


def region_problem(region: str | None) -> str | None:
    if region is not None and len(clean_name(region)) > REGION_MAX:
        return f"A region must be at most {REGION_MAX} characters long."
    return None


def organizers_problem(leader_id: int, co_organizer_ids: Sequence[int]) -> str | None:
    """Why this leader and these co-organizers don't make a valid team, or None."""
    if len(co_organizer_ids) > MAX_CO_ORGANIZERS:
        return f"A group has at most {MAX_CO_ORGANIZERS} co-organizers."
    if leader_id in co_organizer_ids:
        return "The leader can't also be a co-organizer."
    if len(set(co_organizer_ids)) != len(co_organizer_ids):
        return "Each co-organizer can be named only once."
    return None


def channel_name(name: str) -> str:
    """A Discord text channel name for the group: lower case, words joined by hyphens."""
    slug = _NOT_SLUG.sub("-", name_key(name)).strip("-")
    return slug[:100] or "group"


@dataclass(frozen=True)
class GroupActivity:
    group_id: int
    created_at: datetime
    last_activity_at: datetime | None
    nudged_at: datetime | None

    @property
    def active_since(self) -> datetime:
        """When the current stretch started: the last credited event, else the creation."""
        return self.last_activity_at or self.created_at


def due_for_nudge(
    groups: Iterable[GroupActivity], *, now: datetime, inactive_after: timedelta
) -> list[int]:
    """Groups inactive for ``inactive_after`` whose leaders weren't nudged this stretch.

    A nudge is sent once per inactive stretch: a credited event starts a new stretch (its
    time is after the last nudge), so a group that goes quiet again is nudged again.
    """
    due = []
    for group in groups:
        if now - group.active_since < inactive_after:
            continue
        if group.nudged_at is not None and group.nudged_at >= group.active_since:
            continue
        due.append(group.group_id)
    return sorted(due)


def can_credit_event(
    user_id: int, organizers: Collection[int], event_host_id: int | None
) -> str | None:
    """Why ``user_id`` can't credit this event to the group, or None if they can.

    Only the group's organizers (leader and co-organizers) credit events, and only events one
    of them hosts: a group's activity is what its organizers run.
    """
    if user_id not in organizers:
        return "Only the group's leader and co-organizers can credit events to it."
    if event_host_id is None or event_host_id not in organizers:
        return (
            "That event isn't hosted by one of the group's organizers; a moderator can set "
            "its host with /event host."
        )
    return None
