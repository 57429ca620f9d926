"""User groups, their members (with each one's part) and the events credited to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GroupEvent, GroupMember, UserGroup
from db.upsert import insert_for


class DuplicateGroupError(Exception):
    """Another group got this name first (the unique constraint caught a race)."""


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    kind: str
    region: str | None
    role_id: int | None
    channel_id: int | None
    created_by: int
    created_at: datetime
    last_activity_at: datetime | None
    nudged_at: datetime | None

    @classmethod
    def of(cls, row: UserGroup) -> GroupRow:
        return cls(
            row.id,
            row.name,
            row.kind,
            row.region,
            row.role_id,
            row.channel_id,
            row.created_by,
            row.created_at,
            row.last_activity_at,
            row.nudged_at,
        )


@dataclass(frozen=True)
class GroupSummary:
    group: GroupRow
    members: int
    events: int


class GroupRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def names(self) -> list[str]:
        rows = await self.session.scalars(
            select(UserGroup.name).where(UserGroup.guild_id == self.guild_id)
        )
        return list(rows)

    async def by_key(self, name_key: str) -> GroupRow | None:
        """The group whose name compares as ``name_key`` (see ``UserGroup.name_key``)."""
        row = await self.session.scalar(
            select(UserGroup).where(
                UserGroup.guild_id == self.guild_id, UserGroup.name_key == name_key
            )
        )
        return GroupRow.of(row) if row is not None else None

    async def get(self, group_id: int) -> GroupRow | None:
        row = await self.session.get(UserGroup, group_id)
        return GroupRow.of(row) if row is not None and row.guild_id == self.guild_id else None

    async def create(
        self,
        *,
        name: str,
        name_key: str,
        kind: str,
        region: str | None,
        role_id: int | None,
        channel_id: int | None,
        created_by: int,
        leader_id: int,
        co_organizer_ids: Sequence[int],
        now: datetime,
    ) -> GroupRow:
        """A new group with its leader and co-organizers as members.

        Raises :class:`DuplicateGroupError` if the name was taken meanwhile (nothing is written).
        """
        group = UserGroup(
            guild_id=self.guild_id,
            name=name,
            name_key=name_key,
            kind=kind,
            region=region,
            role_id=role_id,
            channel_id=channel_id,
            created_by=created_by,
            created_at=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(group)
                await self.session.flush()
        except IntegrityError as exc:
            raise DuplicateGroupError(name) from exc
        parts = [(leader_id, "leader"), *((user, "co_organizer") for user in co_organizer_ids)]
        self.session.add_all(
            GroupMember(
                group_id=group.id, user_id=user, guild_id=self.guild_id, part=part, joined_at=now
            )
            for user, part in parts
        )
        await self.session.flush()
        return GroupRow.of(group)

    async def delete(self, group_id: int) -> None:
        await self.session.execute(
            delete(UserGroup).where(UserGroup.guild_id == self.guild_id, UserGroup.id == group_id)
        )

    async def summaries(self) -> list[GroupSummary]:
        """Every group with its member and credited-event counts, most recently active first."""
        members = (
            select(GroupMember.group_id, func.count().label("n"))
            .where(GroupMember.guild_id == self.guild_id)
            .group_by(GroupMember.group_id)
            .subquery()
        )
        events = (
            select(GroupEvent.group_id, func.count().label("n"))
            .where(GroupEvent.guild_id == self.guild_id)
            .group_by(GroupEvent.group_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(UserGroup, members.c.n, events.c.n)
            .outerjoin(members, members.c.group_id == UserGroup.id)
            .outerjoin(events, events.c.group_id == UserGroup.id)
            .where(UserGroup.guild_id == self.guild_id)
        )
        found = [GroupSummary(GroupRow.of(g), int(m or 0), int(e or 0)) for g, m, e in rows]
        found.sort(
            key=lambda s: (
                -(s.group.last_activity_at or s.group.created_at).timestamp(),
                s.group.name.casefold(),
            )
        )
        return found

    # -------------------------------------------------------------- members
    async def members(self, group_id: int) -> dict[int, str]:
        """user id -> part ("leader", "co_organizer" or "member")."""
        rows = await self.session.execute(
            select(GroupMember.user_id, GroupMember.part).where(
                GroupMember.guild_id == self.guild_id, GroupMember.group_id == group_id
            )
        )
        return {user: part for user, part in rows}

    async def part_of(self, group_id: int, user_id: int) -> str | None:
        part = await self.session.scalar(
            select(GroupMember.part).where(
                GroupMember.guild_id == self.guild_id,
                GroupMember.group_id == group_id,
                GroupMember.user_id == user_id,
            )
        )
        return part

    async def organizers(self, group_id: int) -> list[int]:
        """Leader first, then co-organizers by id."""
        rows = await self.session.execute(
            select(GroupMember.user_id, GroupMember.part).where(
                GroupMember.guild_id == self.guild_id,
                GroupMember.group_id == group_id,
                GroupMember.part.in_(("leader", "co_organizer")),
            )
        )
        return [user for part, user in sorted((p != "leader", u) for u, p in rows)]

    async def join(self, group_id: int, user_id: int, *, now: datetime) -> bool:
        """Join as a member; False if already in the group (in any part)."""
        stmt = (
            insert_for(self.session, GroupMember)
            .values(
                group_id=group_id,
                user_id=user_id,
                guild_id=self.guild_id,
                part="member",
                joined_at=now,
            )
            .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def leave(self, group_id: int, user_id: int) -> bool:
        """Leave a group, except as its leader (a leader hands over first); False if not in it."""
        result = await self.session.execute(
            delete(GroupMember).where(
                GroupMember.guild_id == self.guild_id,
                GroupMember.group_id == group_id,
                GroupMember.user_id == user_id,
                GroupMember.part != "leader",
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def hand_over(self, group_id: int, new_leader_id: int, *, now: datetime) -> int | None:
        """Make ``new_leader_id`` the leader; the old leader stays as a member.

        Returns the previous leader's id (None if the group had none).
        """
        previous = await self.session.scalar(
            select(GroupMember.user_id).where(
                GroupMember.guild_id == self.guild_id,
                GroupMember.group_id == group_id,
                GroupMember.part == "leader",
            )
        )
        if previous is not None:
            await self._set_part(group_id, previous, "member")
        stmt = insert_for(self.session, GroupMember).values(
            group_id=group_id,
            user_id=new_leader_id,
            guild_id=self.guild_id,
            part="leader",
            joined_at=now,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["group_id", "user_id"], set_={"part": "leader"}
            )
        )
        return previous

    async def _set_part(self, group_id: int, user_id: int, part: str) -> None:
        await self.session.execute(
            update(GroupMember)
            .where(
                GroupMember.guild_id == self.guild_id,
                GroupMember.group_id == group_id,
                GroupMember.user_id == user_id,
            )
            .values(part=part)
        )

    async def groups_of(self, user_id: int) -> list[tuple[GroupRow, str]]:
        rows = await self.session.execute(
            select(UserGroup, GroupMember.part)
            .join(GroupMember, GroupMember.group_id == UserGroup.id)
            .where(GroupMember.guild_id == self.guild_id, GroupMember.user_id == user_id)
            .order_by(UserGroup.name)
        )
        return [(GroupRow.of(g), part) for g, part in rows]

    # --------------------------------------------------------------- events
    async def credited_group(self, event_id: int) -> int | None:
        """The group an event is credited to, if any (an event counts for one group)."""
        return await self.session.scalar(
            select(GroupEvent.group_id).where(
                GroupEvent.guild_id == self.guild_id, GroupEvent.event_id == event_id
            )
        )

    async def credit_event(
        self, group_id: int, event_id: int, *, by: int, at: datetime, now: datetime
    ) -> bool:
        """Credit an event to a group and move its last activity to ``at`` if later.

        False (and nothing changes) if the event is already credited to a group.
        """
        stmt = (
            insert_for(self.session, GroupEvent)
            .values(
                guild_id=self.guild_id,
                event_id=event_id,
                group_id=group_id,
                credited_by=by,
                at=now,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "event_id"])
        )
        result = await self.session.execute(stmt)
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        await self.session.execute(
            update(UserGroup)
            .where(
                UserGroup.guild_id == self.guild_id,
                UserGroup.id == group_id,
                (UserGroup.last_activity_at.is_(None)) | (UserGroup.last_activity_at < at),
            )
            .values(last_activity_at=at)
        )
        return True

    async def event_ids(self, group_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(GroupEvent.event_id)
            .where(GroupEvent.guild_id == self.guild_id, GroupEvent.group_id == group_id)
            .order_by(GroupEvent.at)
        )
        return list(rows)

    async def all_groups(self) -> list[GroupRow]:
        rows = await self.session.scalars(
            select(UserGroup).where(UserGroup.guild_id == self.guild_id).order_by(UserGroup.id)
        )
        return [GroupRow.of(g) for g in rows]

    async def mark_nudged(self, group_id: int, *, now: datetime) -> None:
        await self.session.execute(
            update(UserGroup)
            .where(UserGroup.guild_id == self.guild_id, UserGroup.id == group_id)
            .values(nudged_at=now)
        )
