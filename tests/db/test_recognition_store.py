"""The recognition store (migration 0004) on real SQLite and PostgreSQL databases.

Windows are ``[start, end)``: a row at ``start`` is in, a row at ``end`` is out. The window is
October 2026 in Berlin (the clocks go back on 25 October), as a monthly ``Period`` gives it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from db.models import (
    ContentSubmission,
    EventRsvp,
    Member,
    QuestionThread,
    Referral,
    TierChange,
    TrackedEvent,
)
from db.repositories import (
    LedgerRepository,
    NewsletterRepository,
    NominationRepository,
    RecognitionRepository,
    ScheduledPostRepository,
    SpotlightRepository,
)
from db.repositories.ledger import Credit
from db.repositories.recognition import MonthNumbersRow

GUILD = 111111111111111111
OTHER = 222222222222222222
ADA, BEA, CY, DEE, EVE, FAY = 1001, 1002, 1003, 1004, 1005, 1006
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 10, 1, tzinfo=BERLIN)
END = datetime(2026, 11, 1, tzinfo=BERLIN)
MID = datetime(2026, 10, 15, 12, tzinfo=BERLIN)
JUST_BEFORE_END = END - timedelta(microseconds=1)
NOW = datetime(2026, 11, 1, 9, tzinfo=BERLIN)


def credit(user: int, kind: str, source: str, at: datetime, points: int = 10) -> Credit:
    return Credit(user_id=user, kind=kind, points=points, source_id=source, occurred_at=at)


async def record(sessions, *credits: Credit, guild: int = GUILD) -> list[int]:
    async with sessions() as session, session.begin():
        ledger = LedgerRepository(session, guild)
        ids = []
        for c in credits:
            row = await ledger.record(c, now=NOW)
            assert row is not None
            ids.append(row.id)
        return ids


async def reverse(sessions, contribution_id: int, at: datetime) -> None:
    async with sessions() as session, session.begin():
        ledger = LedgerRepository(session, GUILD)
        original = await ledger.get(contribution_id)
        assert original is not None
        assert await ledger.reverse(original, now=at, actor_id=FAY, reason="moved") is not None


async def add(sessions, *rows: object) -> None:
    async with sessions() as session, session.begin():
        session.add_all(rows)


def member(user: int, **fields: object) -> Member:
    values: dict[str, object] = {
        "guild_id": GUILD,
        "user_id": user,
        "display_name": f"user{user}",
        "first_seen_at": START - timedelta(days=100),
        "joined_at": START - timedelta(days=100),
    }
    values.update(fields)
    return Member(**values)


# ---------------------------------------------------------------------- ledger totals


async def test_counts_are_net_of_reversals_within_the_window(sessions):
    answers = await record(
        sessions,
        credit(ADA, "answer", "a1", START),  # at start: in
        credit(ADA, "answer", "a2", MID),
        credit(ADA, "answer", "a3", MID),
        credit(ADA, "answer", "a4", END),  # at end: out
        credit(ADA, "answer", "a0", START - timedelta(microseconds=1)),  # before: out
        credit(ADA, "thanks_received", "t1", MID, points=2),
        credit(BEA, "answer", "b1", JUST_BEFORE_END),
        credit(CY, "answer", "c1", MID),
        credit(CY, "content", "c2", MID),
    )
    await reverse(sessions, answers[1], MID + timedelta(days=1))  # ADA: 3 answers -> 2
    await reverse(sessions, answers[7], MID + timedelta(days=1))  # CY's only answer: gone
    await record(sessions, credit(ADA, "answer", "x1", MID), guild=OTHER)

    async with sessions() as session:
        repo = RecognitionRepository(session, GUILD)
        counts = await repo.counts_by_member_kind(START, END)
        answers_only = await repo.counts_by_member_kind(START, END, ["answer"])
        points = await repo.points_by_member_kind(START, END)

    assert counts == {
        ADA: {"answer": 2, "thanks_received": 1},
        BEA: {"answer": 1},
        CY: {"content": 1},  # a count of zero is not kept
    }
    assert answers_only == {ADA: {"answer": 2}, BEA: {"answer": 1}}
    assert points == {
        ADA: {"answer": 20, "thanks_received": 2},
        BEA: {"answer": 10},
        CY: {"content": 10},
    }


async def test_a_reversal_counts_in_the_window_it_was_recorded_in(sessions):
    """As in /profile: reversing an old credit lowers the week it happened in, not the old one."""
    (old,) = await record(sessions, credit(ADA, "answer", "a1", START - timedelta(days=3)))
    await record(sessions, credit(ADA, "answer", "a2", MID), credit(ADA, "answer", "a3", MID))
    await reverse(sessions, old, MID)

    async with sessions() as session:
        repo = RecognitionRepository(session, GUILD)
        assert await repo.counts_by_member_kind(START, END) == {ADA: {"answer": 1}}
        before = await repo.counts_by_member_kind(START - timedelta(days=7), START)
        assert before == {ADA: {"answer": 1}}


async def test_points_by_member_best_first_ties_by_id_positive_only(sessions):
    ids = await record(
        sessions,
        credit(CY, "answer", "c1", MID, points=30),
        credit(BEA, "answer", "b1", MID, points=20),
        credit(ADA, "answer", "a1", MID, points=20),
        credit(DEE, "answer", "d1", MID, points=5),
        credit(EVE, "answer", "e1", MID, points=5),
        credit(DEE, "adjustment", "d2", END, points=100),  # outside
    )
    await reverse(sessions, ids[4], MID)  # EVE nets 0: left out

    async with sessions() as session:
        repo = RecognitionRepository(session, GUILD)
        assert await repo.points_by_member(START, END) == [(CY, 30), (ADA, 20), (BEA, 20), (DEE, 5)]
        assert await repo.points_by_member(START, END, limit=2) == [(CY, 30), (ADA, 20)]


# ---------------------------------------------------------------------- members and tiers


async def test_hidden_members_are_the_opted_out_and_the_departed(sessions):
    await add(
        sessions,
        member(ADA),
        member(BEA, recognition_opt_out=True),
        member(CY, left_at=MID),
        member(DEE, recognition_opt_out=True, left_at=MID),
        Member(guild_id=OTHER, user_id=EVE, first_seen_at=MID, recognition_opt_out=True),
    )
    async with sessions() as session:
        assert await RecognitionRepository(session, GUILD).hidden_members() == {BEA, CY, DEE}


async def test_display_names_of_many_members(sessions):
    users = range(5000, 5000 + 1200)  # more than one IN list
    await add(sessions, *(member(u, display_name=f"name {u}") for u in users))
    async with sessions() as session:
        names = await RecognitionRepository(session, GUILD).display_names([*users, 42, 5000])
    assert len(names) == 1200
    assert names[5000] == "name 5000" and names[6199] == "name 6199"
    assert 42 not in names


async def test_tier_changes_in_the_window_without_notes(sessions):
    def change(user: int, old: str | None, new: str | None, at: datetime) -> TierChange:
        return TierChange(
            guild_id=GUILD, user_id=user, from_tier=old, to_tier=new, reason="r", created_at=at
        )

    await add(
        sessions,
        change(ADA, None, "champion", START),
        change(BEA, "champion", "ambassador", MID),
        change(BEA, "ambassador", "ambassador", MID),  # a pin: a note, not a change
        change(CY, None, None, MID),  # a note for a member without a tier
        change(CY, "champion", None, JUST_BEFORE_END),
        change(DEE, None, "champion", END),
    )
    async with sessions() as session:
        rows = await RecognitionRepository(session, GUILD).tier_changes(START, END)
    assert [(user, old, new) for user, old, new, _ in rows] == [
        (ADA, None, "champion"),
        (BEA, "champion", "ambassador"),
        (CY, "champion", None),
    ]
    assert rows[0][3] == START and rows[0][3].tzinfo is not None


# ---------------------------------------------------------------------- activity


async def test_active_days_and_daily_messages_end_day_exclusive(sessions):
    from db.repositories.activity import ActivityRepository

    async with sessions() as session, session.begin():
        await ActivityRepository(session, GUILD).add_messages(
            {
                (ADA, date(2026, 10, 1)): 3,
                (ADA, date(2026, 10, 2)): 1,
                (ADA, date(2026, 11, 1)): 9,  # end day: out
                (BEA, date(2026, 10, 2)): 4,
                (BEA, date(2026, 9, 30)): 7,  # before: out
            }
        )
        await ActivityRepository(session, OTHER).add_messages({(CY, date(2026, 10, 2)): 5})
    async with sessions() as session:
        repo = RecognitionRepository(session, GUILD)
        days = await repo.active_days_by_member(date(2026, 10, 1), date(2026, 11, 1))
        daily = await repo.daily_messages(date(2026, 10, 1), date(2026, 11, 1))
    assert days == {ADA: 2, BEA: 1}
    assert daily == {date(2026, 10, 1): 3, date(2026, 10, 2): 5}


# ---------------------------------------------------------------------- the month


def question(
    thread: int, opened: datetime, wait: timedelta | None, answered: bool
) -> QuestionThread:
    return QuestionThread(
        guild_id=GUILD,
        thread_id=thread,
        parent_id=9,
        asker_id=ADA,
        opened_at=opened,
        first_response_at=None if wait is None else opened + wait,
        first_responder_id=None if wait is None else BEA,
        answer_message_id=thread * 10 if answered else None,
    )


def event(
    event_id: int, status: str, ended: datetime | None, attendees: int, start: datetime = MID
) -> TrackedEvent:
    return TrackedEvent(
        guild_id=GUILD,
        event_id=event_id,
        name=f"event {event_id}",
        host_id=ADA,
        status=status,
        scheduled_start=start,
        ended_at=ended,
        attendee_count=attendees,
    )


def rsvp(event_id: int, user: int, withdrawn: bool = False) -> EventRsvp:
    return EventRsvp(
        guild_id=GUILD,
        event_id=event_id,
        user_id=user,
        created_at=START - timedelta(days=1),
        withdrawn_at=MID if withdrawn else None,
    )


def content(n: int, status: str, decided: datetime | None, author: int = ADA) -> ContentSubmission:
    return ContentSubmission(
        guild_id=GUILD,
        author_id=author,
        url=f"https://example.com/{n}",
        title=f"Piece {n}",
        kind="blog",
        status=status,
        submitted_at=START - timedelta(days=2),
        decided_at=decided,
    )


def referral(n: int, status: str, decided: datetime | None) -> Referral:
    return Referral(
        guild_id=GUILD,
        invitee_id=9000 + n,
        joined_at=START - timedelta(days=8),
        attribution="invite",
        inviter_id=ADA,
        status=status,
        decided_at=decided,
    )


async def test_month_numbers(sessions):
    from db.repositories.activity import ActivityRepository

    minutes = timedelta(minutes=1)
    await add(
        sessions,
        member(ADA, joined_at=START),
        member(BEA, joined_at=JUST_BEFORE_END),
        member(CY, joined_at=END),  # next month
        member(DEE, joined_at=START - timedelta(microseconds=1)),
        member(EVE, joined_at=MID, is_bot=True),  # bots are not new members
        member(FAY, joined_at=None),
        question(1, START, 10 * minutes, answered=True),
        question(2, MID, 30 * minutes, answered=True),
        question(3, MID, 20 * minutes, answered=False),
        question(4, MID, 90 * minutes, answered=False),
        question(5, MID, None, answered=False),
        question(6, END, 1 * minutes, answered=True),  # next month
        event(1, "completed", MID, 12),
        event(2, "completed", JUST_BEFORE_END, 3),
        event(3, "completed", END, 50),  # ended next month
        event(4, "canceled", MID, 0),
        event(5, "active", None, 7),
        event(6, "completed", START - timedelta(seconds=1), 40),
        rsvp(1, ADA),
        rsvp(1, BEA),
        rsvp(1, CY, withdrawn=True),
        rsvp(2, DEE),
        rsvp(3, ADA),
        rsvp(4, ADA),
        content(1, "approved", MID),
        content(2, "approved", START),
        content(3, "rejected", MID),
        content(4, "pending", None),
        content(5, "approved", END),
        referral(1, "credited", MID),
        referral(2, "credited", END),
        referral(3, "rejected", MID),
        referral(4, "pending", None),
    )
    async with sessions() as session, session.begin():
        await ActivityRepository(session, GUILD).add_messages(
            {
                (ADA, date(2026, 10, 1)): 3,
                (ADA, date(2026, 10, 31)): 2,
                (BEA, date(2026, 10, 31)): 4,
                (CY, date(2026, 11, 1)): 8,  # next month
                (DEE, date(2026, 9, 30)): 8,  # last month
            }
        )

    async with sessions() as session:
        numbers = await RecognitionRepository(session, GUILD).month_numbers(START, END)

    assert numbers == MonthNumbersRow(
        active_members=2,
        new_members=2,
        messages=9,
        questions_asked=5,
        questions_answered=2,
        median_first_response=20 * minutes,  # of 10, 20, 30, 90: the lower median
        events_hosted=2,
        event_attendance=15,
        event_rsvps=3,
        content_pieces=2,
        referrals=1,
    )


async def test_month_numbers_of_an_empty_month(sessions):
    async with sessions() as session:
        numbers = await RecognitionRepository(session, GUILD).month_numbers(START, END)
    assert numbers == MonthNumbersRow(0, 0, 0, 0, 0, None, 0, 0, 0, 0, 0)


async def test_median_first_response_compares_waits_not_timestamps(sessions):
    """The lower median of the waits, whatever the order of openings, replies or ids.

    The shortest wait crosses midnight and the month's end. Waits are told apart to the
    millisecond (Discord's timestamps are no finer).
    """
    minutes = timedelta(minutes=1)
    await add(
        sessions,
        question(1, END, 1 * minutes, answered=False),  # next month: out
        question(2, JUST_BEFORE_END - 2 * minutes, 5 * minutes, answered=False),
        question(3, START, 50 * minutes, answered=False),
        question(4, MID - 30 * minutes, 30 * minutes, answered=False),
        question(5, MID + 2 * minutes, 8 * minutes + timedelta(milliseconds=1), answered=False),
        question(6, MID + 1 * minutes, 8 * minutes, answered=False),
        question(7, MID, None, answered=False),  # no reply yet: not in the median
    )
    async with sessions() as session:
        numbers = await RecognitionRepository(session, GUILD).month_numbers(START, END)
    assert numbers.questions_asked == 6
    # Sorted waits 5, 8, 8.001, 30, 50 minutes: by opening, reply or id it would be 8 or 30.
    assert numbers.median_first_response == 8 * minutes + timedelta(milliseconds=1)


async def test_approved_content_in_decision_order(sessions):
    await add(
        sessions,
        content(1, "approved", MID, author=BEA),
        content(2, "approved", START),
        content(3, "rejected", MID),
        content(4, "approved", END),
    )
    async with sessions() as session:
        rows = await RecognitionRepository(session, GUILD).approved_content(START, END)
    assert rows == [
        ("Piece 2", "https://example.com/2", "blog", "content", ADA),
        ("Piece 1", "https://example.com/1", "blog", "content", BEA),
    ]


async def test_upcoming_events_are_open_and_start_in_the_window(sessions):
    soon, later = NOW + timedelta(days=2), NOW + timedelta(days=20)
    await add(
        sessions,
        event(1, "scheduled", None, 0, start=later),
        event(2, "scheduled", None, 0, start=soon),
        event(3, "active", None, 0, start=NOW),
        event(4, "canceled", NOW, 0, start=soon),
        event(5, "scheduled", None, 0, start=NOW - timedelta(hours=1)),  # never started
        event(6, "scheduled", None, 0, start=NOW + timedelta(days=31)),  # too far ahead
    )
    async with sessions() as session:
        rows = await RecognitionRepository(session, GUILD).upcoming_events(
            NOW, NOW + timedelta(days=31)
        )
    assert [(event_id, name) for event_id, name, _ in rows] == [
        (3, "event 3"),
        (2, "event 2"),
        (1, "event 1"),
    ]
    assert rows[1][2] == soon


# ---------------------------------------------------------------------- spotlights


async def test_spotlight_nominations_and_recording_a_pick_once(sessions):
    async with sessions() as session, session.begin():
        repo = SpotlightRepository(session, GUILD)
        second = await repo.nominate(BEA, FAY, "ran the workshop", MID + timedelta(hours=1))
        first = await repo.nominate(ADA, FAY, "answers everything", MID)
        await SpotlightRepository(session, OTHER).nominate(CY, FAY, "elsewhere", MID)

    async with sessions() as session, session.begin():
        repo = SpotlightRepository(session, GUILD)
        pending = await repo.pending()
        assert [(n.id, n.user_id, n.reason) for n in pending] == [
            (first, ADA, "answers everything"),
            (second, BEA, "ran the workshop"),
        ]
        assert pending[0].nominated_by == FAY and pending[0].used_period is None
        assert await repo.for_period("2026-W44") is None

        chosen = await repo.record("2026-W44", ADA, "nomination", first, NOW, reason="answers")
        assert (chosen.period, chosen.user_id, chosen.source, chosen.nomination_id) == (
            "2026-W44",
            ADA,
            "nomination",
            first,
        )
        assert (chosen.reason, chosen.created_at) == ("answers", NOW)

    async with sessions() as session, session.begin():
        repo = SpotlightRepository(session, GUILD)
        # A re-render after a crash keeps the first choice and uses no other nomination.
        again = await repo.record(
            "2026-W44", BEA, "nomination", second, NOW + timedelta(hours=1), reason="other"
        )
        assert again == chosen
        assert await repo.for_period("2026-W44") == chosen
        assert [n.id for n in await repo.pending()] == [second]

        third = await repo.record("2026-W45", CY, "contributions", None, NOW + timedelta(days=7))
        assert (third.source, third.nomination_id, third.reason) == ("contributions", None, "")
        assert await repo.spotlighted_since(NOW) == {ADA, CY}
        assert await repo.spotlighted_since(NOW + timedelta(seconds=1)) == {CY}
        assert await SpotlightRepository(session, OTHER).spotlighted_since(NOW) == set()


# ---------------------------------------------------------------------- newsletter


async def test_newsletter_subscriptions(sessions):
    async with sessions() as session, session.begin():
        repo = NewsletterRepository(session, GUILD)
        assert await repo.subscribe(BEA, NOW)
        assert await repo.subscribe(ADA, NOW)
        assert not await repo.subscribe(ADA, NOW + timedelta(days=1))
        assert await NewsletterRepository(session, OTHER).subscribe(CY, NOW)

    async with sessions() as session, session.begin():
        repo = NewsletterRepository(session, GUILD)
        assert await repo.subscribers() == [ADA, BEA]
        assert await repo.is_subscribed(ADA) and not await repo.is_subscribed(CY)
        assert await repo.unsubscribe(ADA)
        assert not await repo.unsubscribe(ADA)
        assert await repo.subscribers() == [BEA]


async def test_deliveries_are_recorded_once_per_member_and_period(sessions):
    async with sessions() as session, session.begin():
        repo = NewsletterRepository(session, GUILD)
        await repo.record_delivery("2026-10", ADA, ok=True, error=None, now=NOW)
        await repo.record_delivery("2026-10", BEA, ok=False, error="DMs closed", now=NOW)
        await repo.record_delivery("2026-09", CY, ok=True, error=None, now=NOW)

    async with sessions() as session, session.begin():
        repo = NewsletterRepository(session, GUILD)
        # Recording again (a retry after a crash between send and commit) keeps one row each.
        await repo.record_delivery("2026-10", ADA, ok=True, error=None, now=NOW)
        await repo.record_delivery("2026-10", BEA, ok=False, error="still closed", now=NOW)
        assert await repo.delivered("2026-10") == {ADA, BEA}
        assert await repo.delivery_counts("2026-10") == (1, 1)
        assert await repo.delivery_counts("2026-11") == (0, 0)

        await repo.record_delivery("2026-10", BEA, ok=True, error=None, now=NOW)
        assert await repo.delivery_counts("2026-10") == (2, 0)
        assert await NewsletterRepository(session, OTHER).delivered("2026-10") == set()


async def test_a_delivery_is_claimed_before_the_dm_and_a_claim_counts_as_sent(sessions):
    async with sessions() as session, session.begin():
        repo = NewsletterRepository(session, GUILD)
        assert await repo.claim_delivery("2026-10", ADA, now=NOW) is True
        assert await repo.claim_delivery("2026-10", ADA, now=NOW) is False, "claimed once"
        assert await repo.claim_delivery("2026-10", BEA, now=NOW) is True
        await repo.record_delivery("2026-10", BEA, ok=False, error="DMs closed", now=NOW)
        # ADA's outcome never got recorded (the store failed after the DM): never sent again.
        assert await repo.delivered("2026-10") == {ADA, BEA}
        assert await repo.delivery_counts("2026-10") == (1, 1)


# ---------------------------------------------------------------------- scheduled posts


async def test_reclaim_only_a_posted_or_skipped_period(sessions):
    async with sessions() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILD)
        posted = await posts.claim(kind="weekly", period="2026-W44", nonce="n1", now=NOW)
        assert posted is not None
        await posts.mark_posted(posted, channel_id=7, message_id=70, now=NOW)
        assert await posts.claim(kind="weekly", period="2026-W45", nonce="n2", now=NOW)
        assert await posts.record_skipped("weekly", "2026-W43", note="too old", now=NOW)

    later = NOW + timedelta(hours=1)
    async with sessions() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILD)
        again = await posts.reclaim("weekly", "2026-W44", nonce="n3", now=later)
        assert again is not None
        assert (again.state, again.nonce, again.claimed_at, again.delayed) == (
            "claimed",
            "n3",
            later,
            False,
        )
        assert again.message_id == 70  # the previous post, until the new one is recorded
        # A claim in flight (including the one just taken) is never taken twice.
        assert await posts.reclaim("weekly", "2026-W44", nonce="n4", now=later) is None
        assert await posts.reclaim("weekly", "2026-W45", nonce="n4", now=later) is None
        assert await posts.reclaim("weekly", "2026-W46", nonce="n4", now=later) is None
        assert await posts.reclaim("monthly", "2026-W44", nonce="n4", now=later) is None

        skipped = await posts.reclaim("weekly", "2026-W43", nonce="n5", now=later)
        assert skipped is not None and (skipped.state, skipped.nonce) == ("claimed", "n5")

    async with sessions() as session:
        stored = await ScheduledPostRepository(session, GUILD).get("weekly", "2026-W44")
        assert stored is not None and (stored.state, stored.nonce) == ("claimed", "n3")


async def test_record_skipped_never_overwrites_a_claim(sessions):
    async with sessions() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILD)
        assert await posts.claim(kind="monthly", period="2026-10", nonce="n1", now=NOW)
        assert not await posts.record_skipped("monthly", "2026-10", note="too old", now=NOW)
        assert await posts.record_skipped("monthly", "2026-09", note="too old", now=NOW)
        assert not await posts.record_skipped("monthly", "2026-09", note="again", now=NOW)
        claimed = await posts.get("monthly", "2026-10")
        skipped = await posts.get("monthly", "2026-09")
    assert claimed is not None and claimed.state == "claimed"
    assert skipped is not None and (skipped.state, skipped.note) == ("skipped", "too old")


async def test_latest_is_the_most_recent_claim_of_a_kind(sessions):
    async with sessions() as session, session.begin():
        posts = ScheduledPostRepository(session, GUILD)
        assert await posts.latest("weekly") is None
        await posts.claim(kind="weekly", period="2026-W45", nonce="a", now=NOW)
        await posts.record_skipped("weekly", "2026-W44", note="old", now=NOW - timedelta(days=1))
        await posts.claim(kind="monthly", period="2026-10", nonce="b", now=NOW + timedelta(days=1))
        await ScheduledPostRepository(session, OTHER).claim(
            kind="weekly", period="2026-W46", nonce="c", now=NOW + timedelta(days=2)
        )
        latest = await posts.latest("weekly")
    assert latest is not None and latest.period == "2026-W45"


# ---------------------------------------------------------------------- tier nominations


async def test_two_simultaneous_decisions_on_a_nomination_one_wins(sessions):
    async with sessions() as session, session.begin():
        nomination = await NominationRepository(session, GUILD).create(
            nominee_id=ADA, tier_key="champion", nominated_by=FAY, reason="r", now=NOW
        )
        nomination_id = nomination.id

    both_loaded = asyncio.Barrier(2)

    async def click(moderator: int, approve: bool) -> tuple[bool, str]:
        async with sessions() as session, session.begin():
            repo = NominationRepository(session, GUILD)
            row = await repo.get(nomination_id)
            assert row is not None and row.status == "pending"
            await both_loaded.wait()  # both saw it pending before either decides
            decided = await repo.decide(
                row, approve=approve, decided_by=moderator, note=None, now=NOW
            )
            return decided, row.status

    results = await asyncio.gather(click(BEA, True), click(CY, False))

    assert sorted(decided for decided, _ in results) == [False, True]
    ((_, status),) = {r for r in results if r[0]}
    # The loser's row shows the decision that stands, not its own.
    assert {s for _, s in results} == {status}
    async with sessions() as session:
        stored = await NominationRepository(session, GUILD).get(nomination_id)
    assert stored is not None and stored.status == status
    assert stored.decided_by == (BEA if status == "approved" else CY)


async def test_deciding_through_a_stale_object_does_not_overwrite(sessions):
    async with sessions() as session, session.begin():
        repo = NominationRepository(session, GUILD)
        nomination = await repo.create(
            nominee_id=ADA, tier_key="champion", nominated_by=FAY, reason="r", now=NOW
        )
    async with sessions() as session, session.begin():
        stale = await NominationRepository(session, GUILD).get(nomination.id)
        assert stale is not None
        async with sessions() as other, other.begin():
            fresh = await NominationRepository(other, GUILD).get(nomination.id)
            assert fresh is not None
            assert await NominationRepository(other, GUILD).decide(
                fresh, approve=False, decided_by=CY, note="not yet", now=NOW
            )
        assert stale.status == "pending"
        repo = NominationRepository(session, GUILD)
        assert not await repo.decide(stale, approve=True, decided_by=BEA, note=None, now=NOW)
        assert (stale.status, stale.decided_by, stale.decision_note) == ("rejected", CY, "not yet")


async def test_windows_across_the_dst_change_compare_instants(sessions):
    """25 October: 02:30 Berlin happens twice; the store compares instants, not wall times."""
    instant = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the second 02:30 in Berlin
    await record(sessions, credit(ADA, "answer", "a1", instant))
    async with sessions() as session:
        repo = RecognitionRepository(session, GUILD)
        day_start = datetime(2026, 10, 25, tzinfo=BERLIN)
        day_end = datetime(2026, 10, 26, tzinfo=BERLIN)
        assert await repo.counts_by_member_kind(day_start, day_end) == {ADA: {"answer": 1}}
        assert await repo.counts_by_member_kind(day_start, instant) == {}
