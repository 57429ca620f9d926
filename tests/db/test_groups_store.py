"""The user-group store on SQLite and PostgreSQL: groups, parts, events, activity, nudges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.member_text import name_key
from db.models import GroupMember
from db.repositories.groups import DuplicateGroupError, GroupRepository

GUILD, OTHER = 111111111111111111, 222222222222222222
MOD, LEAD, CO1, CO2, ANN, BOB = 9, 1001, 1002, 1003, 1004, 1005
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


async def create(repo: GroupRepository, name: str, **kw) -> object:
    defaults = dict(
        kind="local",
        region="Berlin",
        role_id=77,
        channel_id=None,
        created_by=MOD,
        leader_id=LEAD,
        co_organizer_ids=[CO1, CO2],
        now=NOW,
    )
    return await repo.create(name=name, name_key=name_key(name), **{**defaults, **kw})


async def test_create_with_organizers_and_find_by_name_key(sessions):
    async with sessions() as session, session.begin():
        repo = GroupRepository(session, GUILD)
        group = await create(repo, "Straße Meetup")
        assert group.name == "Straße Meetup" and group.kind == "local" and group.role_id == 77
        assert (await repo.by_key(name_key("STRASSE MEETUP"))).id == group.id
        assert (await repo.by_key(name_key("ｓｔｒａße\u200b meetup"))).id == group.id
        assert await GroupRepository(session, OTHER).by_key(name_key("Straße Meetup")) is None
        assert await repo.members(group.id) == {
            LEAD: "leader",
            CO1: "co_organizer",
            CO2: "co_organizer",
        }
        assert await repo.organizers(group.id) == [LEAD, CO1, CO2]
        assert await repo.names() == ["Straße Meetup"]


async def test_duplicate_name_raises_and_writes_nothing(sessions):
    async with sessions() as session, session.begin():
        repo = GroupRepository(session, GUILD)
        await create(repo, "Berlin Meetup")
        with pytest.raises(DuplicateGroupError):
            await create(repo, "Berlin Meetup", leader_id=ANN, co_organizer_ids=[])
        with pytest.raises(DuplicateGroupError):  # a race of two spellings of one name
            await create(repo, "berlin  MEETUP", leader_id=ANN, co_organizer_ids=[])
        # The session is still usable and only the first group and its members exist.
        assert await repo.names() == ["Berlin Meetup"]
        count = await session.scalar(select(func.count()).select_from(GroupMember))
        assert count == 3
    async with sessions() as session, session.begin():
        # Another guild may use the same name.
        await create(GroupRepository(session, OTHER), "Berlin Meetup")


async def test_join_leave_and_a_leader_cannot_leave(sessions):
    async with sessions() as session, session.begin():
        repo = GroupRepository(session, GUILD)
        group = await create(repo, "Data Engineers", kind="industry", region=None)
        assert await repo.join(group.id, ANN, now=NOW) is True
        assert await repo.join(group.id, ANN, now=NOW) is False
        assert await repo.join(group.id, LEAD, now=NOW) is False  # keeps being the leader
        assert await repo.part_of(group.id, ANN) == "member"
        assert await repo.leave(group.id, LEAD) is False
        assert await repo.part_of(group.id, LEAD) == "leader"
        assert await repo.leave(group.id, CO1) is True
        assert await repo.leave(group.id, ANN) is True
        assert await repo.leave(group.id, ANN) is False
        assert [(g.name, p) for g, p in await repo.groups_of(LEAD)] == [
            ("Data Engineers", "leader")
        ]


async def test_hand_over_makes_the_old_leader_a_member(sessions):
    async with sessions() as session, session.begin():
        repo = GroupRepository(session, GUILD)
        group = await create(repo, "Virtual Friday", kind="virtual", co_organizer_ids=[])
        await repo.join(group.id, ANN, now=NOW)
        assert await repo.hand_over(group.id, ANN, now=NOW) == LEAD
        assert await repo.members(group.id) == {LEAD: "member", ANN: "leader"}
        assert await repo.leave(group.id, LEAD) is True
        assert await repo.hand_over(group.id, BOB, now=NOW) == ANN  # not yet a member: joins
        assert await repo.organizers(group.id) == [BOB]


async def test_event_credit_once_moves_last_activity_forward_only(sessions):
    async with sessions() as session, session.begin():
        repo = GroupRepository(session, GUILD)
        a = await create(repo, "Group A")
        b = await create(repo, "Group B", leader_id=ANN, co_organizer_ids=[])
        later, earlier = NOW - timedelta(days=2), NOW - timedelta(days=9)
        assert await repo.credit_event(a.id, 501, by=LEAD, at=later, now=NOW) is True
        assert await repo.credit_event(b.id, 501, by=ANN, at=later, now=NOW) is False
        assert await repo.credited_group(501) == a.id
        assert await repo.credit_event(a.id, 502, by=LEAD, at=earlier, now=NOW) is True
        assert (await repo.get(a.id)).last_activity_at == later
        assert (await repo.get(b.id)).last_activity_at is None
        assert await repo.event_ids(a.id) == [501, 502]
        assert await GroupRepository(session, OTHER).credited_group(501) is None
        summaries = await repo.summaries()
        assert [(s.group.name, s.members, s.events) for s in summaries] == [
            ("Group B", 1, 0),  # created NOW: more recent than A's last event
            ("Group A", 3, 2),
        ]
        await repo.mark_nudged(b.id, now=NOW)
        assert (await repo.get(b.id)).nudged_at == NOW


async def test_deleting_a_group_removes_its_members(sessions):
    async with sessions() as session, session.begin():
        repo = GroupRepository(session, GUILD)
        group = await create(repo, "Short Lived")
        await repo.delete(group.id)
        assert await repo.get(group.id) is None
        assert await session.scalar(select(func.count()).select_from(GroupMember)) == 0
