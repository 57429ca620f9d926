"""The buddy store on SQLite and PostgreSQL: volunteers, loads, pairings, settling facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from db.models import ActivityDay, Member, TierState
from db.repositories.buddies import BuddyRepository, VolunteerRow

GUILD, OTHER = 111111111111111111, 222222222222222222
ADA, BEA, CY, DEE, NEW1, NEW2, NEW3 = 1001, 1002, 1003, 1004, 2001, 2002, 2003
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


async def people(
    sessions, *, tiers: dict[int, str | None], left: set[int] = frozenset(), guild: int = GUILD
) -> None:
    async with sessions() as session, session.begin():
        for user in {*tiers, NEW1, NEW2, NEW3}:
            session.add(
                Member(
                    guild_id=guild,
                    user_id=user,
                    display_name=str(user),
                    first_seen_at=NOW,
                    left_at=NOW if user in left else None,
                )
            )
        for user, tier in tiers.items():
            session.add(TierState(guild_id=guild, user_id=user, tier_key=tier, updated_at=NOW))


async def test_opt_in_is_idempotent_and_opt_out_removes(sessions):
    async with sessions() as session, session.begin():
        repo = BuddyRepository(session, GUILD)
        assert await repo.opt_in(ADA, now=NOW) is True
        assert await repo.opt_in(ADA, now=NOW + timedelta(days=1)) is False
        assert await repo.is_volunteer(ADA)
        assert not await BuddyRepository(session, OTHER).is_volunteer(ADA)
        assert await repo.opt_out(ADA) is True
        assert await repo.opt_out(ADA) is False
        assert not await repo.is_volunteer(ADA)


async def test_available_volunteers_are_present_tier_members_with_their_load(sessions):
    await people(
        sessions, tiers={ADA: "champion", BEA: "champion", CY: None, DEE: "advisor"}, left={DEE}
    )
    async with sessions() as session, session.begin():
        repo = BuddyRepository(session, GUILD)
        for user in (ADA, BEA, CY, DEE):
            await repo.opt_in(user, now=NOW)
        await BuddyRepository(session, OTHER).opt_in(ADA, now=NOW)
        first = await repo.create_pair(NEW1, ADA, now=NOW - timedelta(days=3))
        await repo.create_pair(NEW2, ADA, now=NOW - timedelta(days=2))
        await repo.create_pair(NEW3, BEA, now=NOW - timedelta(days=1))
        await repo.mark_credited(first.id, now=NOW)
    async with sessions() as session:
        found = await BuddyRepository(session, GUILD).available_volunteers()
    # CY has no tier, DEE left: neither can take a newcomer. ADA's credited pairing is closed.
    assert found == [
        VolunteerRow(ADA, 1, NOW - timedelta(days=2)),
        VolunteerRow(BEA, 1, NOW - timedelta(days=1)),
    ]


async def test_volunteer_never_assigned_has_zero_load(sessions):
    await people(sessions, tiers={ADA: "champion"})
    async with sessions() as session, session.begin():
        repo = BuddyRepository(session, GUILD)
        await repo.opt_in(ADA, now=NOW)
        assert await repo.available_volunteers() == [VolunteerRow(ADA, 0, None)]
        assert await repo.active_count(ADA) == 0


async def test_a_newcomer_is_paired_once(sessions):
    async with sessions() as session, session.begin():
        repo = BuddyRepository(session, GUILD)
        pair = await repo.create_pair(NEW1, ADA, now=NOW)
        again = await repo.create_pair(NEW1, BEA, now=NOW + timedelta(hours=1))
        assert again == pair and again.buddy_id == ADA
        await repo.set_thread(pair.id, 555)
        assert (await repo.get(pair.id)).thread_id == 555
        assert await BuddyRepository(session, OTHER).get(pair.id) is None
        assert await repo.active_count(ADA) == 1


async def test_open_pairs_carry_presence_and_last_active_day_and_close_once(sessions):
    await people(sessions, tiers={ADA: "champion"}, left={NEW2})
    async with sessions() as session, session.begin():
        repo = BuddyRepository(session, GUILD)
        p1 = await repo.create_pair(NEW1, ADA, now=NOW - timedelta(days=40))
        p2 = await repo.create_pair(NEW2, ADA, now=NOW - timedelta(days=5))
        p3 = await repo.create_pair(NEW3, ADA, now=NOW - timedelta(days=1))
        session.add_all(
            [
                ActivityDay(guild_id=GUILD, user_id=NEW1, day=date(2026, 11, 1), messages=2),
                ActivityDay(guild_id=GUILD, user_id=NEW1, day=date(2026, 11, 20), messages=1),
                ActivityDay(guild_id=GUILD, user_id=NEW1, day=date(2026, 11, 22), messages=0),
                ActivityDay(guild_id=OTHER, user_id=NEW1, day=date(2026, 11, 23), messages=4),
            ]
        )
    async with sessions() as session, session.begin():
        repo = BuddyRepository(session, GUILD)
        rows = await repo.open_pairs()
        assert [(r.pair.id, r.newcomer_present, r.last_active_day) for r in rows] == [
            (p1.id, True, date(2026, 11, 20)),
            (p2.id, False, None),
            (p3.id, True, None),
        ]
        assert await repo.mark_credited(p1.id, now=NOW) is True
        assert await repo.mark_credited(p1.id, now=NOW) is False
        assert await repo.mark_ended(p1.id, now=NOW) is False
        assert await repo.mark_ended(p2.id, now=NOW) is True
        assert [r.pair.id for r in await repo.open_pairs()] == [p3.id]
        assert await repo.active_count(ADA) == 1
        closed = await repo.get(p1.id)
        assert closed.credited_at == NOW and closed.ended_at is None
