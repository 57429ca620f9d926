"""The program health queries on real SQLite and PostgreSQL databases.

Windows are ``[start, end)``. The month is October 2026 in Berlin (the clocks go back on
25 October), as a monthly ``Period`` gives it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from db.models import (
    ActivityDay,
    ContentSubmission,
    GroupEvent,
    GroupMember,
    Member,
    NpsResponse,
    QuestionThread,
    Referral,
    TierChange,
    TierState,
    UserGroup,
)
from db.repositories.health import HealthRepository
from db.repositories.ledger import Credit, LedgerRepository

GUILD = 111111111111111111
#: The kinds credited for chatting, as the health service passes them.
CHAT = ("message_day",)
OTHER = 222222222222222222
ADA, BEA, CY, DEE, EVE, FAY = 1001, 1002, 1003, 1004, 1005, 1006
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 10, 1, tzinfo=BERLIN)
END = datetime(2026, 11, 1, tzinfo=BERLIN)
MID = datetime(2026, 10, 15, 12, tzinfo=BERLIN)
NOW = datetime(2026, 11, 20, 9, tzinfo=BERLIN)

_ids = itertools.count(1)


async def add(sessions, *rows: object) -> None:
    async with sessions() as session, session.begin():
        session.add_all(rows)


async def credit(
    sessions, user: int, kind: str, at: datetime, *, points: int = 10, guild: int = GUILD
) -> int:
    async with sessions() as session, session.begin():
        row = await LedgerRepository(session, guild).record(
            Credit(user, kind, points, f"src:{next(_ids)}", at), now=at
        )
        assert row is not None
        return row.id


async def reverse(sessions, contribution_id: int, at: datetime) -> None:
    async with sessions() as session, session.begin():
        ledger = LedgerRepository(session, GUILD)
        original = await ledger.get(contribution_id)
        assert original is not None
        assert await ledger.reverse(original, now=at, actor_id=FAY, reason="mistake") is not None


def member(user: int, *, guild: int = GUILD, **fields: object) -> Member:
    values: dict[str, object] = {
        "guild_id": guild,
        "user_id": user,
        "display_name": f"user{user}",
        "first_seen_at": START - timedelta(days=100),
        "joined_at": START - timedelta(days=100),
    }
    values.update(fields)
    return Member(**values)


def change(user: int, old: str | None, new: str | None, at: datetime, guild: int = GUILD):
    return TierChange(
        guild_id=guild, user_id=user, from_tier=old, to_tier=new, reason="test", created_at=at
    )


def state(user: int, tier: str | None, since: datetime | None) -> TierState:
    return TierState(guild_id=GUILD, user_id=user, tier_key=tier, tier_since=since, updated_at=NOW)


def day(user: int, on: date, messages: int = 3, guild: int = GUILD) -> ActivityDay:
    return ActivityDay(guild_id=guild, user_id=user, day=on, messages=messages)


async def repo_call(sessions, method: str, *args, **kwargs):
    async with sessions() as session:
        repo = HealthRepository(session, GUILD, chat_kinds=CHAT)
        return await getattr(repo, method)(*args, **kwargs)


# ---------------------------------------------------------------------- the ladder


async def test_tiers_at_a_moment_follow_the_audit_log_then_the_current_state(sessions):
    await add(
        sessions,
        change(ADA, None, "champion", START - timedelta(days=40)),
        change(ADA, "champion", "ambassador", MID),  # after START: not yet at START
        change(BEA, None, "champion", START - timedelta(days=10)),
        change(BEA, "champion", None, START - timedelta(days=1)),  # off the ladder again
        change(CY, None, "champion", START - timedelta(days=5)),
        change(CY, "champion", "champion", START - timedelta(days=1)),  # a pin: keeps it
        change(DEE, None, "advisor", START - timedelta(days=5), guild=OTHER),
        state(EVE, "champion", START - timedelta(days=300)),  # imported, never audited
        state(FAY, "champion", MID),  # reached after START
    )
    at_start = await repo_call(sessions, "tiers_at", START)
    at_end = await repo_call(sessions, "tiers_at", END)
    assert at_start == {ADA: "champion", CY: "champion", EVE: "champion"}
    assert at_end == {ADA: "ambassador", CY: "champion", EVE: "champion", FAY: "champion"}


async def test_content_by_author_counts_approved_pieces_decided_in_the_window(sessions):
    def piece(author: int, status: str, decided: datetime | None, guild: int = GUILD):
        return ContentSubmission(
            guild_id=guild,
            author_id=author,
            url=f"https://example.com/{next(_ids)}",
            title="A post",
            kind="blog",
            status=status,
            submitted_at=START - timedelta(days=2),
            decided_at=decided,
        )

    await add(
        sessions,
        piece(ADA, "approved", START),
        piece(ADA, "approved", END - timedelta(seconds=1)),
        piece(ADA, "approved", END),  # out
        piece(BEA, "approved", MID),
        piece(BEA, "rejected", MID),
        piece(CY, "pending", None),
        piece(CY, "approved", MID, guild=OTHER),
    )
    assert await repo_call(sessions, "content_by_author", START, END) == {ADA: 2, BEA: 1}


# ---------------------------------------------------------------------- referrals


async def test_referral_retention_counts_invitees_still_here_after_30_days(sessions):
    def referral(invitee: int, joined: datetime, status: str = "credited", decided=MID):
        return Referral(
            guild_id=GUILD,
            invitee_id=invitee,
            joined_at=joined,
            attribution="invite",
            inviter_id=FAY,
            status=status,
            decided_at=decided,
        )

    joined = datetime(2026, 10, 2, 12, tzinfo=BERLIN)
    late = datetime(2026, 10, 28, 12, tzinfo=BERLIN)  # 30 days not over by NOW
    await add(
        sessions,
        member(ADA, joined_at=joined),  # stayed
        member(BEA, joined_at=joined, left_at=joined + timedelta(days=29)),  # left too soon
        member(CY, joined_at=joined, left_at=joined + timedelta(days=30)),  # stayed 30 days
        member(DEE, joined_at=late),
        member(EVE, joined_at=joined),
        referral(ADA, joined),
        referral(BEA, joined),
        referral(CY, joined),
        referral(DEE, late),
        referral(EVE, joined, status="pending", decided=None),
        referral(FAY, joined, decided=START - timedelta(days=1)),  # credited in September
    )
    figures = await repo_call(sessions, "referral_retention", START, END, now=NOW)
    assert (figures.credited, figures.measured, figures.retained) == (4, 3, 2)


# ---------------------------------------------------------------------- engagement


async def test_active_members_per_window_of_local_days(sessions):
    await add(
        sessions,
        day(ADA, date(2026, 10, 1)),
        day(ADA, date(2026, 10, 31)),
        day(BEA, date(2026, 10, 31)),
        day(BEA, date(2026, 11, 1)),  # out of October
        day(CY, date(2026, 9, 30)),
        day(DEE, date(2026, 10, 10), messages=0),  # a rollup row with nothing counted
        day(EVE, date(2026, 10, 10), guild=OTHER),
    )
    windows = [
        (date(2026, 9, 1), date(2026, 10, 1)),
        (date(2026, 10, 1), date(2026, 11, 1)),
        (date(2026, 10, 31), date(2026, 11, 7)),
    ]
    assert await repo_call(sessions, "active_members", windows) == [1, 2, 2]
    assert await repo_call(sessions, "active_members", []) == []


async def test_contributors_per_window_are_net_of_reversals_and_skip_chat(sessions):
    september = (datetime(2026, 9, 1, tzinfo=BERLIN), START)
    await credit(sessions, ADA, "answer", START)
    await credit(sessions, ADA, "answer", MID)
    await credit(sessions, BEA, "message_day", MID)  # chatting is not contributing
    cy = await credit(sessions, CY, "content", MID)
    await reverse(sessions, cy, MID + timedelta(days=1))  # CY's only contribution, undone
    await credit(sessions, DEE, "event_hosted", START - timedelta(seconds=1))
    await credit(sessions, EVE, "thanks_received", END)  # out
    await credit(sessions, FAY, "answer", MID, guild=OTHER)
    assert await repo_call(sessions, "contributors", [september, (START, END)]) == [1, 1]
    assert await repo_call(sessions, "contributors", []) == []


async def test_new_contributors_are_those_whose_first_contribution_is_in_the_window(sessions):
    await credit(sessions, ADA, "answer", START - timedelta(days=60))  # not new
    await credit(sessions, ADA, "answer", MID)
    await credit(sessions, BEA, "message_day", START - timedelta(days=60))  # chatted before
    await credit(sessions, BEA, "answer", MID)  # first contribution: new
    await credit(sessions, CY, "content", MID)
    await credit(sessions, CY, "content", MID + timedelta(days=1))  # counted once
    await credit(sessions, DEE, "message_day", MID)  # chatting only
    await credit(sessions, EVE, "answer", END)
    assert await repo_call(sessions, "new_contributors", START, END) == 2


async def test_slipping_away_contributors_were_active_then_silent(sessions):
    as_of = END  # midnight 1 November, Berlin
    silent = timedelta(days=14)
    before = as_of - timedelta(days=20)
    await add(
        sessions,
        member(ADA),
        member(BEA),
        member(CY),
        member(DEE, left_at=as_of - timedelta(days=3)),
        member(EVE),
        day(BEA, date(2026, 10, 31)),  # posted on the last day: not silent
        day(EVE, date(2026, 11, 1)),  # after as_of: does not count
    )
    for user in (ADA, BEA, CY, DEE, EVE):
        await credit(sessions, user, "answer", before)
    await credit(sessions, CY, "thanks_received", as_of - timedelta(days=2))  # credited lately
    await credit(sessions, FAY, "answer", as_of - timedelta(days=60))  # long gone: not "before"
    found = await repo_call(sessions, "slipping", as_of, silent=silent)
    assert found == [ADA, EVE]


async def test_active_among_counts_messages_or_credits_in_the_window(sessions):
    await add(sessions, day(ADA, date(2026, 10, 31)), day(BEA, date(2026, 11, 1)))
    await credit(sessions, CY, "message_day", MID)
    await credit(sessions, DEE, "answer", START - timedelta(seconds=1))
    users = [ADA, BEA, CY, DEE, EVE, *range(5000, 6200)]  # more than one IN (...) chunk
    assert await repo_call(sessions, "active_among", users, START, END) == {ADA, CY}
    assert await repo_call(sessions, "active_among", [], START, END) == set()


# ---------------------------------------------------------------------- help questions


async def test_questions_answered_and_median_first_response(sessions):
    def thread(opened: datetime, wait: timedelta | None, answered: bool) -> QuestionThread:
        return QuestionThread(
            guild_id=GUILD,
            thread_id=next(_ids),
            parent_id=1,
            asker_id=ADA,
            opened_at=opened,
            first_response_at=None if wait is None else opened + wait,
            answer_message_id=next(_ids) if answered else None,
        )

    await add(
        sessions,
        thread(MID, timedelta(minutes=10), True),
        thread(MID, timedelta(hours=2), True),
        thread(MID, timedelta(minutes=30), False),
        thread(MID, None, False),
        thread(START - timedelta(seconds=1), timedelta(minutes=1), True),  # out
    )
    figures = await repo_call(sessions, "questions", START, END)
    assert (figures.asked, figures.answered) == (4, 2)
    assert figures.median_first_response == timedelta(minutes=30)
    empty = await repo_call(sessions, "questions", END, END + timedelta(days=30))
    assert (empty.asked, empty.answered, empty.median_first_response) == (0, 0, None)


# ---------------------------------------------------------------------- NPS


async def test_nps_rounds_are_the_latest_surveys_scores_only(sessions):
    def answer(period: str, user: int, score: int, at: datetime, guild: int = GUILD):
        return NpsResponse(
            guild_id=guild,
            period=period,
            user_id=user,
            score=score,
            comment="nice",
            answered_at=at,
            updated_at=at,
        )

    q2, q3, q4 = (datetime(2026, m, 20, tzinfo=UTC) for m in (4, 7, 10))
    await add(
        sessions,
        answer("2026-Q2", ADA, 3, q2),
        answer("2026-Q3", ADA, 9, q3),
        answer("2026-Q3", BEA, 10, q3),
        answer("2026-Q4", ADA, 10, q4),
        answer("2026-Q4", BEA, 6, q4),
        answer("2026-Q4", CY, 8, q4),
        answer("2027-Q1", ADA, 0, q4 + timedelta(days=90), guild=OTHER),
    )
    rounds = await repo_call(sessions, "nps_rounds", 2)
    assert [(r.period, r.scores) for r in rounds] == [("2026-Q4", (6, 8, 10)), ("2026-Q3", (9, 10))]
    async with sessions() as session:
        assert await HealthRepository(session, 999, chat_kinds=CHAT).nps_rounds() == []


# ---------------------------------------------------------------------- user groups


async def test_groups_with_members_events_in_the_window_and_last_activity(sessions):
    created = START - timedelta(days=100)

    def group(name: str, kind: str, last: datetime | None = None, guild: int = GUILD):
        return UserGroup(
            guild_id=guild,
            name=name,
            name_key=name.casefold(),
            kind=kind,
            region="Berlin" if kind == "local" else None,
            created_by=FAY,
            created_at=created,
            last_activity_at=last,
        )

    berlin, fintech, quiet = (
        group("Berlin", "local"),
        group("Fintech", "industry"),
        group("Quiet", "virtual", last=START - timedelta(days=50)),
    )
    await add(sessions, berlin, fintech, quiet, group("Elsewhere", "local", guild=OTHER))
    await add(
        sessions,
        *(
            GroupMember(group_id=g.id, user_id=u, guild_id=GUILD, part="member", joined_at=created)
            for g, users in ((berlin, (ADA, BEA, CY)), (fintech, (ADA,)))
            for u in users
        ),
        GroupEvent(guild_id=GUILD, event_id=1, group_id=berlin.id, credited_by=ADA, at=MID),
        GroupEvent(guild_id=GUILD, event_id=2, group_id=berlin.id, credited_by=ADA, at=START),
        GroupEvent(guild_id=GUILD, event_id=3, group_id=fintech.id, credited_by=ADA, at=END),
    )
    rows = await repo_call(sessions, "groups", START, END)
    found = {r.name: (r.kind, r.region, r.members, r.events, r.last_activity_at) for r in rows}
    assert found == {
        "Berlin": ("local", "Berlin", 3, 2, MID),
        "Fintech": ("industry", None, 1, 0, END),
        "Quiet": ("virtual", None, 0, 0, START - timedelta(days=50)),
    }
    async with sessions() as session:
        assert await HealthRepository(session, 999, chat_kinds=CHAT).groups(START, END) == []
