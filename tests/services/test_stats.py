"""Profile and leaderboard totals, and the question-thread metrics, on a real store."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from bot.config import Settings, parse_config
from bot.services.answers import AnswersService, HelpThread
from bot.services.contributions import Contributions
from bot.services.members import MembersService
from bot.services.stats import StatsService
from db.models import Member
from db.repositories.activity import ActivityRepository
from db.repositories.questions import QuestionRepository
from db.repositories.tiers import TierRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
FORUM = 555555555555555555
ADA, GRACE, LINUS, KEN, RADIA = 1001, 1002, 1003, 1004, 1005


@pytest.fixture
def settings() -> Settings:
    data = minimal_config(
        guild_id=GUILD,
        channels={"help_forums": [FORUM]},
        tiers=[{"key": "champion", "name": "Champion", "role_id": 666666666666666666}],
    )
    return parse_config(data, env={"DISCORD_TOKEN": "x"}).settings


@pytest.fixture
def contributions(settings, clock) -> Contributions:
    return Contributions(settings, clock)


async def credit(sessions, contributions, kind, user_id, source, *, at, points=None):
    async with sessions() as session, session.begin():
        row = await contributions.record(
            session, contributions.credit(kind, user_id, source, occurred_at=at, points=points)
        )
        assert row is not None
        return row


async def test_profile_counts_points_and_active_days_per_period(
    sessions, settings, clock, contributions
):
    now = clock.now()
    old = await credit(sessions, contributions, "answer", ADA, "a:1", at=now - timedelta(days=40))
    await credit(sessions, contributions, "answer", ADA, "a:2", at=now - timedelta(days=10))
    recent = await credit(sessions, contributions, "answer", ADA, "a:3", at=now - timedelta(days=1))
    await credit(sessions, contributions, "answer", ADA, "a:4", at=now - timedelta(hours=2))
    await credit(sessions, contributions, "thanks_received", ADA, "t:1", at=now)
    await credit(sessions, contributions, "answer", GRACE, "a:5", at=now)
    async with sessions() as session, session.begin():
        await contributions.reverse(session, recent, actor_id=LINUS, reason="moved")
        today = now.date()
        await ActivityRepository(session, GUILD).add_messages(
            {(ADA, today): 3, (ADA, today - timedelta(days=6)): 1,
             (ADA, today - timedelta(days=7)): 2, (ADA, date(2020, 1, 1)): 1,
             (GRACE, today): 5}
        )  # fmt: skip
        state = await TierRepository(session, GUILD).state_for_update(ADA, now=now)
        await TierRepository(session, GUILD).change(
            state, to_tier="champion", reason="test", actor_id=None, now=now
        )
    del old

    profile = await StatsService(sessions, settings, clock).profile(ADA)

    week, month, ever = (profile.totals[p]["answer"] for p in ("week", "month", "all"))
    assert (week.count, week.points) == (1, 10)  # a:3 reversed, a:4 counts
    assert (month.count, month.points) == (2, 20)
    assert (ever.count, ever.points) == (3, 30)
    assert profile.totals["week"]["thanks_received"].points == 2
    assert profile.points("all") == 32
    assert profile.kinds == ["answer", "thanks_received"]
    assert profile.active_days == {"week": 2, "month": 3, "all": 4}
    assert (profile.tier_key, profile.tier_name) == ("champion", "Champion")
    assert profile.tier_since == now


async def test_profile_of_a_newcomer_is_empty_without_a_tier(sessions, settings, clock):
    profile = await StatsService(sessions, settings, clock).profile(KEN)
    assert profile.kinds == [] and profile.points("all") == 0
    assert profile.active_days == {"week": 0, "month": 0, "all": 0}
    assert profile.tier_name is None


async def test_leaderboard_ranks_by_points_and_hides_opted_out_and_departed(
    sessions, settings, clock, contributions
):
    now = clock.now()
    for n, user in enumerate((ADA, GRACE, LINUS, KEN, RADIA)):
        for i in range(n + 1):
            await credit(sessions, contributions, "answer", user, f"a:{user}:{i}", at=now)
    await credit(sessions, contributions, "content", ADA, "c:1", at=now)  # ada: 10 + 10
    await credit(sessions, contributions, "answer", 2000, "a:old", at=now - timedelta(days=9))
    await credit(sessions, contributions, "mentoring", 3000, "m:neg", at=now, points=-5)
    async with sessions() as session, session.begin():
        session.add_all(
            [
                Member(guild_id=GUILD, user_id=KEN, first_seen_at=now, recognition_opt_out=True),
                Member(guild_id=GUILD, user_id=LINUS, first_seen_at=now, left_at=now),
                Member(guild_id=GUILD, user_id=GRACE, first_seen_at=now),
            ]
        )
    stats = StatsService(sessions, settings, clock)

    week = await stats.leaderboard("week", None, 0)
    assert [(r.rank, r.user_id, r.points) for r in week.rows] == [
        (1, RADIA, 50), (2, ADA, 20), (3, GRACE, 20),
    ]  # fmt: skip
    assert not week.has_more
    answers_only = await stats.leaderboard("week", "answer", 0)
    assert [(r.user_id, r.points, r.count) for r in answers_only.rows] == [
        (RADIA, 50, 5), (GRACE, 20, 2), (ADA, 10, 1),
    ]  # fmt: skip
    ever = await stats.leaderboard("all", None, 0, is_present=lambda user: user != RADIA)
    assert [r.user_id for r in ever.rows] == [ADA, GRACE, 2000]
    assert [r.rank for r in ever.rows] == [1, 2, 3]


async def test_leaderboard_pages_have_no_gaps_when_members_are_filtered(
    sessions, settings, clock, contributions
):
    now = clock.now()
    users = list(range(5000, 5025))  # 25 members, member i has 25 - i points
    for i, user in enumerate(users):
        await credit(sessions, contributions, "mentoring", user, f"m:{user}", at=now, points=25 - i)
    absent = set(users[::2])  # every other member left
    present = [u for u in users if u not in absent]
    stats = StatsService(sessions, settings, clock)

    pages = [
        await stats.leaderboard("month", None, p, is_present=lambda u: u not in absent)
        for p in range(3)
    ]
    assert [r.user_id for r in pages[0].rows] == present[:10]
    assert [r.user_id for r in pages[1].rows] == present[10:12]
    assert [r.rank for r in pages[1].rows] == [11, 12]
    assert (pages[0].has_more, pages[1].has_more) == (True, False)
    assert pages[2].rows == []


async def test_first_response_keeps_the_earliest_reply_and_metrics_use_it(
    sessions, settings, clock, contributions
):
    now = clock.now()
    service = AnswersService(sessions, settings, clock, contributions)
    opened = now - timedelta(hours=3)
    thread = HelpThread(1, FORUM, LINUS, "Sync fails", opened)
    await service.thread_opened(thread)
    await service.thread_opened(thread)  # a replayed THREAD_CREATE changes nothing
    by_asker = await service.message_posted(thread, author_id=LINUS, author_is_bot=False, at=now)
    by_bot = await service.message_posted(thread, author_id=99, author_is_bot=True, at=now)
    assert by_asker is None and by_bot is None
    first = await service.message_posted(
        thread, author_id=GRACE, author_is_bot=False, at=opened + timedelta(minutes=30)
    )
    assert first is not None and first.after == timedelta(minutes=30)
    async with sessions() as session, session.begin():
        repo = QuestionRepository(session, GUILD)
        # Handled late (concurrently, or replayed), an earlier reply still wins; a later one not.
        earlier = opened + timedelta(minutes=15)
        assert await repo.record_first_response(1, responder_id=ADA, at=earlier)
        assert not await repo.record_first_response(1, responder_id=KEN, at=now)
    other = HelpThread(2, FORUM, ADA, "Docs?", now - timedelta(hours=1))
    await service.thread_opened(other)
    await service.thread_opened(HelpThread(3, FORUM, KEN, "Old", now - timedelta(days=30)))

    metrics = await service.response_metrics(now - timedelta(days=1))
    assert (metrics.questions, metrics.responded, metrics.median) == (2, 1, timedelta(minutes=15))
    async with sessions() as session:
        q = await QuestionRepository(session, GUILD).get(1)
    assert q is not None and q.first_responder_id == ADA


async def test_answer_is_only_moved_from_the_answer_that_was_read(
    sessions, settings, clock, contributions
):
    now = clock.now()
    row = await credit(sessions, contributions, "answer", ADA, "answer:7:70", at=now)
    async with sessions() as session, session.begin():
        repo = QuestionRepository(session, GUILD)
        await repo.open(7, parent_id=FORUM, asker_id=LINUS, title="Q", opened_at=now)
        accept = dict(author_id=ADA, contribution_id=row.id, marker_id=LINUS, at=now)
        assert await repo.accept(7, replacing=None, message_id=70, **accept)
        assert not await repo.accept(7, replacing=None, message_id=71, **accept)
        assert not await repo.accept(7, replacing=69, message_id=71, **accept)
        assert await repo.accept(7, replacing=70, message_id=71, **accept)
        assert (await repo.get(7)).answer_message_id == 71


async def test_a_cached_leaderboard_is_shared_then_refreshed_in_the_background(
    sessions, engine, settings, clock, contributions
):
    """``max_age``: one grouping of the ledger for every page loaded at once; a copy past its
    age is served while a fresh one is computed; ``max_age=0`` is always exact."""
    now = clock.now()
    for n, user in enumerate((ADA, GRACE, LINUS)):
        for i in range(n + 1):
            await credit(sessions, contributions, "answer", user, f"a:{user}:{i}", at=now)
    stats = StatsService(sessions, settings, clock)
    groupings: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "GROUP BY" in statement and "contributions" in statement:
            groupings.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        pages = await asyncio.gather(
            *(stats.leaderboard("week", None, 0, max_age=60) for _ in range(20))
        )
        assert {tuple(r.user_id for r in p.rows) for p in pages} == {(LINUS, GRACE, ADA)}
        assert len(groupings) == 1, "twenty pages, one grouping"

        for i in range(3):  # ada overtakes everyone
            await credit(sessions, contributions, "content", ADA, f"c:{i}", at=now)
        cached = await stats.leaderboard("week", None, 0, max_age=60)
        assert cached.rows[0].user_id == LINUS, "within a minute: the copy"
        exact = await stats.leaderboard("week", None, 0)
        assert exact.rows[0].user_id == ADA, "max_age=0 groups now"

        clock.advance(61)
        stale = await stats.leaderboard("week", None, 0, max_age=60)
        assert stale.rows[0].user_id == LINUS, "past its age the copy is served once more..."
        for _ in range(100):  # ...while the fresh one is computed
            await asyncio.sleep(0.01)
            fresh = await stats.leaderboard("week", None, 0, max_age=60)
            if fresh.rows[0].user_id == ADA:
                break
        assert fresh.rows[0].user_id == ADA
        clock.advance(60 * 11)
        groupings.clear()
        await credit(sessions, contributions, "answer", LINUS, "a:late", at=clock.now())
        waited = await stats.leaderboard("week", None, 0, max_age=60)
        assert len(groupings) == 1 and waited.rows[0].user_id == ADA, "too old: waits for one"
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_a_cached_leaderboard_never_shows_who_opted_out_or_left_since(
    sessions, settings, clock, contributions
):
    """The copy is up to a minute old; an opt-out or a departure counts at once."""
    now = clock.now()
    async with sessions() as session, session.begin():
        for user, name in ((ADA, "Ada"), (GRACE, "Grace"), (LINUS, "Linus")):
            session.add(Member(guild_id=GUILD, user_id=user, display_name=name, first_seen_at=now))
    for n, user in enumerate((ADA, GRACE, LINUS)):
        for i in range(n + 1):
            await credit(sessions, contributions, "answer", user, f"a:{user}:{i}", at=now)
    stats = StatsService(sessions, settings, clock)
    first = await stats.leaderboard("week", None, 0, max_age=60, known_only=True)
    assert [r.user_id for r in first.rows] == [LINUS, GRACE, ADA]

    members = MembersService(sessions, settings, clock)
    await members.set_recognition_opt_out(LINUS, True, name="Linus")
    await members.left(ADA)
    again = await stats.leaderboard("week", None, 0, max_age=60, known_only=True)

    assert [(r.rank, r.user_id) for r in again.rows] == [(1, GRACE)]
