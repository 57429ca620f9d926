"""The feedback store on SQLite and PostgreSQL: votes that toggle and stop counting when a
member leaves, decisions made once, DMs claimed once and never to who opted out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.models import Member, TierState
from db.repositories.feedback import FeedbackRepository
from db.repositories.members import MemberRepository

GUILD, OTHER = 111111111111111111, 222222222222222222
ADA, BEA, CY, DEE, STAFF = 1001, 1002, 1003, 1004, 2001
NOW = datetime(2026, 10, 15, 16, tzinfo=UTC)


async def item(sessions, guild: int = GUILD, title: str = "Dark mode", author: int = ADA) -> int:
    async with sessions() as session, session.begin():
        row = await FeedbackRepository(session, guild).create(
            author_id=author,
            title=title,
            problem="Too bright at night",
            wanted="A dark theme",
            area="General",
            now=NOW,
        )
        return row.id


async def test_a_vote_toggles_and_only_counts_while_its_member_is_here(sessions):
    item_id = await item(sessions)
    async with sessions() as session, session.begin():
        repo = FeedbackRepository(session, GUILD)
        assert await repo.toggle_vote(item_id, BEA, now=NOW) is True
        assert await repo.toggle_vote(item_id, CY, now=NOW) is True
        assert await repo.toggle_vote(item_id, CY, now=NOW) is False, "pressed again: withdrawn"
        assert await repo.toggle_vote(item_id, DEE, now=NOW) is True
        assert await repo.votes(item_id) == 2
        session.add(Member(guild_id=GUILD, user_id=DEE, display_name="dee", first_seen_at=NOW))
        await session.flush()
        await MemberRepository(session, GUILD).left(DEE, now=NOW)
        assert await repo.votes(item_id) == 1, "DEE left: her vote stops counting"
        assert await repo.top(["open"], area=None, limit=10) == [], "not posted: not listed"
        await repo.set_thread(item_id, 5555)
        [(top, votes)] = await repo.top(["open"], area=None, limit=10)
        assert (top.id, votes) == (item_id, 1)
        assert await repo.top(["open"], area="Mobile", limit=10) == []
    async with sessions() as session:
        assert await FeedbackRepository(session, OTHER).votes(item_id) == 0


async def test_top_orders_by_votes_then_age(sessions):
    first, second = await item(sessions, title="First"), await item(sessions, title="Second")
    async with sessions() as session, session.begin():
        repo = FeedbackRepository(session, GUILD)
        for item_id, thread in ((first, 1), (second, 2)):
            await repo.set_thread(item_id, thread)
        await repo.toggle_vote(second, BEA, now=NOW)
        ranked = await repo.top(["open"], area=None, limit=10)
        assert [(row.title, votes) for row, votes in ranked] == [("Second", 1), ("First", 0)]


async def test_a_decision_is_recorded_once_and_stamps_the_first_staff_status(sessions):
    item_id = await item(sessions)
    later = NOW + timedelta(hours=5)
    async with sessions() as session, session.begin():
        repo = FeedbackRepository(session, GUILD)
        row = await repo.get(item_id)
        assert row is not None
        change = await repo.set_status(
            row, status="planned", note="Soon", actor_id=STAFF, now=later
        )
        assert change is not None
        # A second click working from the same (stale) row changes nothing.
        assert (
            await repo.set_status(row, status="planned", note="x", actor_id=STAFF, now=later)
            is None
        )
        row = await repo.get(item_id)
        assert row is not None and row.first_staff_status_at == later and row.shipped_at is None
        shipped = await repo.set_status(
            row, status="shipped", note="Out", actor_id=STAFF, now=later + timedelta(days=3)
        )
        assert shipped is not None
        row = await repo.get(item_id)
        assert row is not None
        assert row.first_staff_status_at == later, "the first staff status stays the first"
        assert row.shipped_at == later + timedelta(days=3)
        assert [r.id for r in await repo.shipped_between(NOW, NOW + timedelta(days=30))] == [
            item_id
        ]


async def test_who_is_told_author_first_without_opted_out_departed_or_already_told(sessions):
    item_id = await item(sessions)
    async with sessions() as session, session.begin():
        repo = FeedbackRepository(session, GUILD)
        members = MemberRepository(session, GUILD)
        for voter in (BEA, CY, DEE, ADA):
            await repo.toggle_vote(item_id, voter, now=NOW)
        await members.set_feedback_updates_opt_out(CY, True, display_name="cy", now=NOW)
        row = await repo.get(item_id)
        assert row is not None
        change = await repo.set_status(row, status="planned", note="Yes", actor_id=STAFF, now=NOW)
        assert change is not None
        assert await repo.to_tell(row, change.id) == [ADA, BEA, DEE]
        assert await repo.claim_notice(change.id, ADA, now=NOW) is True
        assert await repo.claim_notice(change.id, ADA, now=NOW) is False, "claimed once"
        await repo.record_notice(change.id, ADA, ok=True, now=NOW)
        assert await repo.claim_notice(change.id, BEA, now=NOW) is True
        # BEA's DM was claimed but the bot stopped before recording it: never sent twice.
        assert await repo.to_tell(row, change.id) == [DEE]
        assert await repo.notice_counts(change.id) == (2, 0)


async def test_voter_tiers_count_each_member_once_with_their_tier(sessions):
    first, second = await item(sessions, title="A"), await item(sessions, title="B")
    async with sessions() as session, session.begin():
        session.add(TierState(guild_id=GUILD, user_id=BEA, tier_key="champion", updated_at=NOW))
        repo = FeedbackRepository(session, GUILD)
        for item_id in (first, second):
            await repo.toggle_vote(item_id, BEA, now=NOW)
        await repo.toggle_vote(first, CY, now=NOW)
        await repo.toggle_vote(first, DEE, now=NOW - timedelta(days=40))
        tiers = await repo.voter_tiers(NOW - timedelta(days=1), NOW + timedelta(days=1))
        assert sorted(tiers, key=lambda tier: tier or "") == [None, "champion"]
