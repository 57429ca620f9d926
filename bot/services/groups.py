"""User groups over the store: creating, joining, leaving, crediting events, nudging leaders.

Discord work (the role, the channel) happens in the cog before :meth:`GroupsService.create`
writes anything, so a refusal from Discord leaves no group behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.groups import (
    GROUP_KINDS,
    GroupActivity,
    can_credit_event,
    clean_name,
    due_for_nudge,
    name_problem,
    organizers_problem,
    region_problem,
)
from bot.core.member_text import name_key
from bot.errors import UserFacingError
from bot.services.base import Service
from db.models import TrackedEvent
from db.repositories.events import EventRepository
from db.repositories.groups import DuplicateGroupError, GroupRepository, GroupRow, GroupSummary

UNKNOWN_GROUP = "There's no group called {name}. /group list shows them all."
LEADER_CANNOT_LEAVE = (
    "You lead {name}, so you can't leave it yet: hand it over first with /group handover "
    "(or ask a moderator to)."
)
NOT_IN_GROUP = "You're not in {name}."
UNKNOWN_EVENT = "I don't know that event: pick one from the list (Flywheel tracks server events)."


@dataclass(frozen=True)
class NewGroup:
    name: str
    kind: str
    region: str | None
    leader_id: int
    co_organizer_ids: tuple[int, ...]


@dataclass(frozen=True)
class GroupInfo:
    group: GroupRow
    members: dict[int, str]
    events: int


@dataclass(frozen=True)
class Nudge:
    group: GroupRow
    organizers: list[int]


class GroupsService(Service):
    async def find_events(self, query: str, *, limit: int = 25) -> list[TrackedEvent]:
        """Tracked events for ``/group event``'s autocomplete, newest first."""
        async with self.sessions() as session:
            return await EventRepository(session, self.guild_id).search(
                query.strip(), open_only=False, limit=limit
            )

    async def validate_new(
        self,
        name: str,
        kind: str,
        region: str | None,
        leader_id: int,
        co_organizer_ids: Sequence[int],
    ) -> NewGroup:
        """The group to create, cleaned, or a UserFacingError saying what to fix."""
        if kind not in GROUP_KINDS:
            raise UserFacingError(f"The type must be one of: {', '.join(GROUP_KINDS)}.")
        region = clean_name(region) if region is not None and region.strip() else None
        async with self.sessions() as session:
            existing = await GroupRepository(session, self.guild_id).names()
        problem = (
            name_problem(name, existing)
            or region_problem(region)
            or organizers_problem(leader_id, co_organizer_ids)
        )
        if problem is not None:
            raise UserFacingError(problem)
        return NewGroup(clean_name(name), kind, region, leader_id, tuple(co_organizer_ids))

    async def create(
        self, new: NewGroup, *, role_id: int | None, channel_id: int | None, created_by: int
    ) -> GroupRow:
        try:
            async with self.sessions.begin() as session:
                return await GroupRepository(session, self.guild_id).create(
                    name=new.name,
                    name_key=name_key(new.name),
                    kind=new.kind,
                    region=new.region,
                    role_id=role_id,
                    channel_id=channel_id,
                    created_by=created_by,
                    leader_id=new.leader_id,
                    co_organizer_ids=new.co_organizer_ids,
                    now=self.clock.now(),
                )
        except DuplicateGroupError:
            raise UserFacingError(f"There is already a group called {new.name}.") from None

    async def find(self, name: str) -> GroupRow:
        async with self.sessions() as session:
            group = await GroupRepository(session, self.guild_id).by_key(name_key(name))
        if group is None:
            raise UserFacingError(UNKNOWN_GROUP.format(name=clean_name(name)[:100]))
        return group

    async def matching(self, current: str, limit: int = 25) -> list[str]:
        """Group names containing ``current`` (for autocomplete)."""
        wanted = name_key(current)
        async with self.sessions() as session:
            names = await GroupRepository(session, self.guild_id).names()
        return sorted((n for n in names if wanted in name_key(n)), key=str.casefold)[:limit]

    async def part_of(self, group: GroupRow, user_id: int) -> str | None:
        async with self.sessions() as session:
            return await GroupRepository(session, self.guild_id).part_of(group.id, user_id)

    async def join(self, group: GroupRow, user_id: int) -> bool:
        async with self.sessions.begin() as session:
            return await GroupRepository(session, self.guild_id).join(
                group.id, user_id, now=self.clock.now()
            )

    async def leave(self, group: GroupRow, user_id: int) -> None:
        async with self.sessions.begin() as session:
            repo = GroupRepository(session, self.guild_id)
            part = await repo.part_of(group.id, user_id)
            if part is None:
                raise UserFacingError(NOT_IN_GROUP.format(name=group.name))
            if part == "leader":
                raise UserFacingError(LEADER_CANNOT_LEAVE.format(name=group.name))
            await repo.leave(group.id, user_id)

    async def hand_over(self, group: GroupRow, new_leader_id: int) -> int | None:
        """Make someone the leader (joining them if needed); returns the previous leader."""
        async with self.sessions.begin() as session:
            return await GroupRepository(session, self.guild_id).hand_over(
                group.id, new_leader_id, now=self.clock.now()
            )

    async def summaries(self) -> list[GroupSummary]:
        async with self.sessions() as session:
            return await GroupRepository(session, self.guild_id).summaries()

    async def info(self, group: GroupRow) -> GroupInfo:
        async with self.sessions() as session:
            repo = GroupRepository(session, self.guild_id)
            members = await repo.members(group.id)
            events = len(await repo.event_ids(group.id))
        return GroupInfo(group, members, events)

    async def credit_event(self, group: GroupRow, event_id: int, user_id: int) -> str:
        """Credit an event one of the organizers hosts to the group; returns its name."""
        async with self.sessions.begin() as session:
            repo = GroupRepository(session, self.guild_id)
            event = await EventRepository(session, self.guild_id).get(event_id)
            if event is None:
                raise UserFacingError(UNKNOWN_EVENT)
            if event.status == "canceled":
                raise UserFacingError(f"{event.name} was cancelled, so it can't be credited.")
            organizers = await repo.organizers(group.id)
            problem = can_credit_event(user_id, organizers, event.host_id or event.creator_id)
            if problem is not None:
                raise UserFacingError(problem)
            credited_to = await repo.credited_group(event_id)
            if credited_to is not None:
                owner = await repo.get(credited_to)
                where = "this group" if credited_to == group.id else (owner.name if owner else "?")
                raise UserFacingError(f"{event.name} is already credited to {where}.")
            at = event.ended_at or event.started_at or event.scheduled_start
            await repo.credit_event(group.id, event_id, by=user_id, at=at, now=self.clock.now())
            return event.name

    async def due_nudges(self) -> list[Nudge]:
        """Groups quiet for ``groups.inactive_days`` whose organizers weren't nudged yet."""
        inactive_after = timedelta(days=self.settings.groups.inactive_days)
        async with self.sessions() as session:
            repo = GroupRepository(session, self.guild_id)
            groups = {g.id: g for g in await repo.all_groups()}
            due = due_for_nudge(
                (
                    GroupActivity(g.id, g.created_at, g.last_activity_at, g.nudged_at)
                    for g in groups.values()
                ),
                now=self.clock.now(),
                inactive_after=inactive_after,
            )
            return [Nudge(groups[i], await repo.organizers(i)) for i in due]

    async def mark_nudged(self, group_id: int) -> None:
        async with self.sessions.begin() as session:
            await GroupRepository(session, self.guild_id).mark_nudged(
                group_id, now=self.clock.now()
            )
