"""The beta programs and user-research store on SQLite and PostgreSQL: seats never overfilled
(even by simultaneous joins), reports decided once, thank-you and pick DMs claimed once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from db.models import GroupMember, TierState, UserGroup
from db.repositories.programs import ProgramsRepository

GUILD, OTHER = 111111111111111111, 222222222222222222
ADA, BEA, CY, DEE, STAFF = 1001, 1002, 1003, 1004, 2001
NOW = datetime(2026, 10, 15, 16, tzinfo=UTC)


async def program(sessions, *, seats: int | None = 2, guild: int = GUILD) -> int:
    async with sessions() as session, session.begin():
        row = await ProgramsRepository(session, guild).create_program(
            name="Offline mode",
            min_tier="champion",
            seats=seats,
            until=date(2026, 12, 31),
            created_by=STAFF,
            now=NOW,
        )
        return row.id


async def join(sessions, program_id: int, user_id: int) -> str:
    """One join in its own transaction, rolled back unless the member got a seat."""
    async with sessions() as session:
        async with session.begin():
            outcome = await ProgramsRepository(session, GUILD).join(program_id, user_id, now=NOW)
            if outcome != "joined":
                await session.rollback()
        return outcome


async def test_seats_fill_up_and_a_member_joins_once(sessions):
    program_id = await program(sessions)
    assert await join(sessions, program_id, ADA) == "joined"
    assert await join(sessions, program_id, ADA) == "already"
    assert await join(sessions, program_id, BEA) == "joined"
    assert await join(sessions, program_id, CY) == "full"
    async with sessions() as session:
        repo = ProgramsRepository(session, GUILD)
        assert [t.user_id for t in await repo.testers(program_id)] == [ADA, BEA]
        row = await repo.program(program_id)
        assert row is not None and row.taken == 2
        assert await ProgramsRepository(session, OTHER).program(program_id) is None


async def test_simultaneous_joins_never_overfill_a_program(sessions):
    program_id = await program(sessions, seats=1)
    all_read = asyncio.Barrier(2)

    async def click(user_id: int) -> str:
        async with sessions() as session:
            async with session.begin():
                repo = ProgramsRepository(session, GUILD)
                row = await repo.program(program_id)
                assert row is not None and row.taken == 0
                await all_read.wait()  # both saw a free seat before either takes it
                outcome = await repo.join(program_id, user_id, now=NOW)
                if outcome != "joined":
                    await session.rollback()
            return outcome

    results = await asyncio.gather(click(ADA), click(BEA))
    assert sorted(results) == ["full", "joined"]
    async with sessions() as session:
        repo = ProgramsRepository(session, GUILD)
        assert len(await repo.testers(program_id)) == 1
        row = await repo.program(program_id)
        assert row is not None and row.taken == 1


async def test_a_closed_program_takes_no_one_and_closes_once(sessions):
    program_id = await program(sessions, seats=None)
    async with sessions() as session, session.begin():
        repo = ProgramsRepository(session, GUILD)
        assert await repo.close(program_id, now=NOW) is True
        assert await repo.close(program_id, now=NOW) is False
    assert await join(sessions, program_id, ADA) == "full"


async def test_reports_are_decided_once_and_only_accepted_testers_count(sessions):
    program_id = await program(sessions)
    async with sessions() as session, session.begin():
        repo = ProgramsRepository(session, GUILD)
        good = await repo.add_report(program_id, ADA, "Sync loses edits", now=NOW)
        other = await repo.add_report(program_id, BEA, "Fine", now=NOW)
        assert [r.id for r in await repo.reports_without_card()] == [good.id, other.id]
        await repo.card_posted(good.id, 1, 2)
        assert [r.id for r in await repo.reports_without_card()] == [other.id]
        kw = {"moderator_id": STAFF, "now": NOW}
        assert await repo.decide_report(good.id, status="approved", reason=None, **kw) is True
        assert await repo.decide_report(good.id, status="rejected", reason="no", **kw) is False
        assert await repo.decide_report(other.id, status="rejected", reason="vague", **kw)
        assert await repo.accepted_testers(program_id) == [ADA]
        decided = await repo.report(good.id)
        assert decided is not None and decided.status == "approved"


async def test_thanks_are_claimed_once(sessions):
    program_id = await program(sessions)
    for user_id in (ADA, BEA):
        assert await join(sessions, program_id, user_id) == "joined"
    async with sessions() as session, session.begin():
        repo = ProgramsRepository(session, GUILD)
        assert await repo.to_thank(program_id) == [ADA, BEA]
        assert await repo.claim_thanks(program_id, ADA, now=NOW) is True
        assert await repo.claim_thanks(program_id, ADA, now=NOW) is False
        await repo.record_thanks(program_id, ADA, ok=True, now=NOW)
        assert await repo.to_thank(program_id) == [BEA]


async def test_research_criteria_picks_and_participation(sessions):
    async with sessions() as session, session.begin():
        group = UserGroup(
            guild_id=GUILD, name="Berlin", name_key="berlin", kind="local", region="Europe",
            created_by=STAFF, created_at=NOW,
        )  # fmt: skip
        session.add(group)
        await session.flush()
        session.add(
            GroupMember(
                group_id=group.id, user_id=ADA, guild_id=GUILD, part="member", joined_at=NOW
            )
        )
        session.add(TierState(guild_id=GUILD, user_id=ADA, tier_key="champion", updated_at=NOW))
        repo = ProgramsRepository(session, GUILD)
        call = await repo.create_call(
            title="Interviews", details="Thirty minutes", min_tier=None, region="Europe",
            group_id=group.id, seats=1, created_by=STAFF, now=NOW,
        )  # fmt: skip
        assert await repo.tier_of(ADA) == "champion" and await repo.tier_of(BEA) is None
        assert await repo.regions_of(ADA) == {"europe"} and await repo.regions_of(BEA) == set()
        assert await repo.group_ids_of(ADA) == {group.id}
        assert await repo.volunteer(call.id, ADA, now=NOW) is True
        assert await repo.volunteer(call.id, ADA, now=NOW) is False
        assert await repo.volunteer(call.id, BEA, now=NOW) is True
        assert [v.user_id for v in await repo.volunteers(call.id)] == [ADA, BEA]
        assert await repo.pick(call.id, ADA, by=STAFF, now=NOW) == "picked"
        assert await repo.pick(call.id, ADA, by=STAFF, now=NOW) == "already"
        assert await repo.claim_pick_notice(call.id, ADA) is True
        assert await repo.claim_pick_notice(call.id, ADA) is False
        assert await repo.took_part(call.id, ADA, now=NOW) is True
        assert await repo.took_part(call.id, ADA, now=NOW) is False
    async with sessions() as session, session.begin():
        repo = ProgramsRepository(session, GUILD)
        assert await repo.pick(call.id, BEA, by=STAFF, now=NOW) == "full"
        await session.rollback()
    async with sessions() as session:
        row = await ProgramsRepository(session, GUILD).volunteer_row(call.id, BEA)
        assert row is not None and row.picked_at is None
        assert await ProgramsRepository(session, OTHER).call(call.id) is None


async def test_programs_and_calls_without_their_post_are_listed_until_posted(sessions):
    first, second = await program(sessions), await program(sessions)
    await program(sessions, guild=OTHER)
    async with sessions() as session, session.begin():
        repo = ProgramsRepository(session, GUILD)
        call = await repo.create_call(
            title="Interviews", details="Thirty minutes.", min_tier=None, region=None,
            group_id=None, seats=None, created_by=STAFF, now=NOW,
        )  # fmt: skip
        await repo.set_thread(first, 555)
        await repo.set_post(first, 556)
        await repo.set_thread(second, 557)
        assert await repo.close(second, now=NOW)
    async with sessions() as session:
        repo = ProgramsRepository(session, GUILD)
        assert [r.id for r in await repo.unposted_programs()] == []
        assert [r.id for r in await repo.unposted_calls()] == [call.id]
    async with sessions() as session, session.begin():
        await ProgramsRepository(session, GUILD).call_posted(call.id, 10, 11)
    third = await program(sessions)
    async with sessions() as session:
        repo = ProgramsRepository(session, GUILD)
        assert [r.id for r in await repo.unposted_programs()] == [third]
        assert await repo.unposted_calls() == []
