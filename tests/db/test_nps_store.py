"""The NPS store on SQLite and PostgreSQL: who is surveyed, invites once, answers that change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from db.models import Member, TierState
from db.repositories.nps import NpsRepository

GUILD, OTHER = 111111111111111111, 222222222222222222
ADA, BEA, CY, DEE, BOT = 1001, 1002, 1003, 1004, 9009
EVE = 1005
NOW = datetime(2026, 10, 15, 16, tzinfo=UTC)
Q4, Q1 = "2026-Q4", "2027-Q1"


async def people(sessions) -> None:
    """ADA and BEA on a tier; CY on none; DEE on a tier but gone; a bot with a tier row."""
    async with sessions() as session, session.begin():
        for user, tier, left, bot in (
            (ADA, "champion", False, False),
            (BEA, "advisor", False, False),
            (CY, None, False, False),
            (DEE, "champion", True, False),
            (BOT, "champion", False, True),
        ):
            session.add(
                Member(
                    guild_id=GUILD,
                    user_id=user,
                    display_name=str(user),
                    is_bot=bot,
                    first_seen_at=NOW,
                    left_at=NOW if left else None,
                )
            )
            session.add(TierState(guild_id=GUILD, user_id=user, tier_key=tier, updated_at=NOW))
        session.add(TierState(guild_id=OTHER, user_id=CY, tier_key="champion", updated_at=NOW))
        session.add(Member(guild_id=OTHER, user_id=CY, display_name="cy", first_seen_at=NOW))


async def test_only_present_tier_members_are_surveyed(sessions):
    await people(sessions)
    async with sessions() as session:
        assert await NpsRepository(session, GUILD).tier_members() == [ADA, BEA]
        assert await NpsRepository(session, OTHER).tier_members() == [CY]


async def test_an_invite_is_claimed_before_it_is_sent_recorded_once_and_counted(sessions):
    async with sessions() as session, session.begin():
        repo = NpsRepository(session, GUILD)
        assert await repo.record_invite(Q4, ADA, ok=True, now=NOW) is False, "not claimed"
        assert await repo.claim_invite(Q4, ADA, now=NOW) is True
        assert await repo.claim_invite(Q4, ADA, now=NOW) is False, "claimed once"
        assert await repo.record_invite(Q4, ADA, ok=True, now=NOW) is True
        assert await repo.record_invite(Q4, ADA, ok=False, now=NOW) is False, "the first stands"
        for user, period in ((BEA, Q4), (CY, Q1), (EVE, Q4)):
            assert await repo.claim_invite(period, user, now=NOW) is True
        assert await repo.record_invite(Q4, BEA, ok=False, now=NOW) is True
        assert await repo.record_invite(Q1, CY, ok=True, now=NOW) is True
        other = NpsRepository(session, OTHER)
        assert await other.claim_invite(Q4, DEE, now=NOW) is True
        assert await other.record_invite(Q4, DEE, ok=True, now=NOW) is True
    async with sessions() as session:
        repo = NpsRepository(session, GUILD)
        # EVE's DM was claimed and its outcome never recorded: she counts as asked, never twice.
        assert await repo.invited(Q4) == {ADA, BEA, EVE}
        assert await repo.invite_counts(Q4) == (2, 1)
        assert await repo.invite_counts(Q1) == (1, 0)
        assert await repo.invite_counts("2025-Q1") == (0, 0)


async def test_a_second_answer_replaces_the_first_and_keeps_the_comment(sessions):
    later = NOW + timedelta(days=2)
    async with sessions() as session, session.begin():
        repo = NpsRepository(session, GUILD)
        assert await repo.set_comment(Q4, ADA, "no answer yet", now=NOW) is False
        await repo.answer(Q4, ADA, 6, now=NOW)
        assert await repo.set_comment(Q4, ADA, "More demos please", now=NOW) is True
        await repo.answer(Q4, ADA, 9, now=later)
        await repo.answer(Q1, ADA, 3, now=later)
        await NpsRepository(session, OTHER).answer(Q4, ADA, 0, now=NOW)
    async with sessions() as session:
        repo = NpsRepository(session, GUILD)
        row = await repo.response(Q4, ADA)
        assert row is not None
        assert (row.score, row.comment) == (9, "More demos please")
        assert row.answered_at == NOW and row.updated_at == later
        assert await repo.scores(Q4) == [9]
        assert await repo.scores(Q1) == [3]
        assert await repo.response(Q4, BEA) is None


async def test_scores_and_comments_come_back_in_an_order_unrelated_to_answering(sessions):
    async with sessions() as session, session.begin():
        repo = NpsRepository(session, GUILD)
        answers = [(DEE, 10, "zeal"), (ADA, 2, None), (CY, 7, "Apples"), (BEA, 9, "")]
        for minutes, (user, score, comment) in enumerate(answers):
            at = NOW + timedelta(minutes=minutes)
            await repo.answer(Q4, user, score, now=at)
            await repo.set_comment(Q4, user, comment, now=at)
    async with sessions() as session:
        repo = NpsRepository(session, GUILD)
        assert await repo.scores(Q4) == [2, 7, 9, 10]
        assert await repo.comments(Q4) == ["Apples", "zeal"]
        assert await NpsRepository(session, OTHER).comments(Q4) == []


async def test_scores_outside_0_to_10_are_refused_by_the_database(sessions):
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await NpsRepository(session, GUILD).answer(Q4, ADA, 11, now=NOW)
