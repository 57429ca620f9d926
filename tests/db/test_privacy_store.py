"""Export and erasure of one member on SQLite and PostgreSQL: every table, others untouched.

``seed`` puts the member (VAL) in every column of every table that can name a member, next to
other members' rows. The registry test fails when a model gains a member column that
``db.repositories.privacy.MEMBER_COLUMNS`` doesn't list; the seeding test fails when a listed
table has no seeded row, so a new table can't slip past the erasure tests either.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import BigInteger, String, Text, select

from db.base import Base
from db.models import (
    ActivityDay,
    BackfillMessage,
    BetaProgram,
    BetaReport,
    BetaTester,
    BuddyPair,
    BuddyVolunteer,
    ChannelPresence,
    ContentSubmission,
    Contribution,
    EventRsvp,
    FeedbackChange,
    FeedbackItem,
    FeedbackNotice,
    FeedbackVote,
    GroupEvent,
    GroupMember,
    Member,
    NewsletterDelivery,
    NewsletterSubscription,
    Nomination,
    NpsResponse,
    QuestionThread,
    Referral,
    ResearchCall,
    ResearchVolunteer,
    Spotlight,
    SpotlightNomination,
    SurveyInvite,
    Thanks,
    TierChange,
    TierState,
    TrackedEvent,
    UserGroup,
    VoiceSession,
    WebReviewDecision,
    WebSignInToken,
)
from db.repositories.privacy import (
    FORMER_MEMBER,
    MEMBER_COLUMNS,
    MEMBER_TEXT,
    NOT_MEMBER_COLUMNS,
    NOT_MEMBER_TEXT,
    PENDING_REJECTED_REASON,
    REDACTED,
    PrivacyRepository,
    Treatment,
    redactor,
    table,
)
from db.repositories.stats import StatsRepository

GUILD, OTHER_GUILD = 111111111111111111, 222222222222222222
VAL, ADA, BEA, CY = 1001, 1002, 1003, 1004
CHANNEL, THREAD, EVENT_V, EVENT_A = 5001, 5002, 5003, 5004
ROLE_G1, ROLE_G2 = 7001, 7002
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
DAY = date(2026, 11, 20)


def ledger(
    id: int, user: int, kind: str, points: int, *, actor: int | None = None, reverses=None
) -> Contribution:
    return Contribution(
        id=id,
        guild_id=GUILD,
        user_id=user,
        kind=kind,
        points=points,
        source_id=f"{kind}:{id}",
        occurred_at=NOW - timedelta(days=id % 5),
        recorded_at=NOW,
        actor_id=actor,
        reverses_id=reverses,
    )


async def seed(sessions, guild: int = GUILD) -> None:
    """VAL in every member column of every table, among other members' rows."""
    async with sessions() as session, session.begin():
        if guild != GUILD:  # another server: only a trace of VAL, which must survive
            session.add(Member(guild_id=guild, user_id=VAL, display_name="Val", first_seen_at=NOW))
            session.add(ActivityDay(guild_id=guild, user_id=VAL, day=DAY, messages=3))
            return
        for user, name in ((VAL, "Val"), (ADA, "Ada"), (BEA, "Bea"), (CY, "Cy")):
            session.add(
                Member(
                    guild_id=GUILD,
                    user_id=user,
                    display_name=name,
                    first_seen_at=NOW - timedelta(days=90),
                    joined_at=NOW - timedelta(days=90),
                )
            )
        session.add_all(
            [
                ledger(1, VAL, "answer", 10),
                ledger(2, VAL, "content", 5),
                ledger(3, VAL, "content", -5, actor=ADA, reverses=2),
                ledger(4, ADA, "thanks_received", 2, actor=VAL),  # a thanks VAL gave
                ledger(5, ADA, "manual", 7, actor=VAL),  # VAL as a moderator
                ledger(6, BEA, "referral", 15),  # VAL was the invitee
                ledger(7, ADA, "mentoring", 20),  # VAL was the newcomer
                ledger(8, VAL, "thanks_received", 2, actor=ADA),
                ledger(9, ADA, "answer", 10),
                ledger(10, CY, "event_hosted", 12),
                ledger(11, VAL, "referral", 15),  # BEA joined through VAL's invite
                ledger(12, ADA, "answer", -10, actor=VAL, reverses=9),  # VAL reversed it
                ledger(13, BEA, "answer", 10),
            ]
        )
        await session.flush()
        session.add_all(
            [
                ActivityDay(guild_id=GUILD, user_id=VAL, day=DAY, messages=4),
                ActivityDay(guild_id=GUILD, user_id=ADA, day=DAY, messages=2),
                TierState(guild_id=GUILD, user_id=VAL, tier_key="champion", updated_at=NOW),
                TierState(guild_id=GUILD, user_id=ADA, tier_key="champion", updated_at=NOW),
                TierChange(
                    id=1, guild_id=GUILD, user_id=VAL, to_tier="champion", reason="met",
                    created_at=NOW,
                ),
                TierChange(
                    id=2, guild_id=GUILD, user_id=ADA, to_tier="champion", reason="by hand",
                    actor_id=VAL, created_at=NOW,
                ),
                Nomination(
                    id=1, guild_id=GUILD, nominee_id=VAL, tier_key="champion", nominated_by=ADA,
                    reason="helps", status="pending", created_at=NOW,
                ),
                Nomination(
                    id=2, guild_id=GUILD, nominee_id=ADA, tier_key="champion", nominated_by=VAL,
                    reason="kind", status="approved", created_at=NOW, decided_by=VAL,
                    decided_at=NOW,
                ),
                QuestionThread(
                    guild_id=GUILD, thread_id=THREAD, parent_id=CHANNEL, asker_id=VAL,
                    title="How?", opened_at=NOW, first_responder_id=ADA, answer_author_id=ADA,
                    answer_contribution_id=9, answered_by=VAL,
                ),
                QuestionThread(
                    guild_id=GUILD, thread_id=THREAD + 1, parent_id=CHANNEL, asker_id=ADA,
                    title="Why?", opened_at=NOW, first_responder_id=VAL, answer_author_id=VAL,
                    answer_contribution_id=1, answered_by=ADA,
                ),
                Thanks(
                    id=1, guild_id=GUILD, giver_id=VAL, receiver_id=ADA, channel_id=CHANNEL,
                    reason="great help", day=DAY, created_at=NOW, contribution_id=4,
                ),
                Thanks(
                    id=2, guild_id=GUILD, giver_id=ADA, receiver_id=VAL, channel_id=CHANNEL,
                    day=DAY, created_at=NOW, contribution_id=8,
                ),
                ChannelPresence(
                    guild_id=GUILD, channel_id=CHANNEL, user_id=VAL, last_message_at=NOW
                ),
                ChannelPresence(
                    guild_id=GUILD, channel_id=CHANNEL, user_id=ADA, last_message_at=NOW
                ),
                ContentSubmission(
                    id=1, guild_id=GUILD, author_id=VAL, url="https://v.example/post",
                    title="Val's post", kind="blog", status="approved", submitted_at=NOW,
                    decided_by=ADA, decided_at=NOW, contribution_id=2,
                ),
                ContentSubmission(
                    id=2, guild_id=GUILD, author_id=ADA, url="https://a.example/post",
                    title="Ada's post", kind="blog", status="pending", submitted_at=NOW,
                    decided_by=VAL,
                ),
                TrackedEvent(
                    guild_id=GUILD, event_id=EVENT_V, name="Val's meetup", creator_id=VAL,
                    host_id=VAL, status="scheduled", scheduled_start=NOW + timedelta(days=2),
                ),
                TrackedEvent(
                    guild_id=GUILD, event_id=EVENT_A, name="Ada's meetup", creator_id=ADA,
                    host_id=CY, status="completed", scheduled_start=NOW, attendee_count=2,
                ),
                EventRsvp(guild_id=GUILD, event_id=EVENT_A, user_id=VAL, created_at=NOW),
                EventRsvp(guild_id=GUILD, event_id=EVENT_A, user_id=ADA, created_at=NOW),
                VoiceSession(
                    id=1, guild_id=GUILD, channel_id=CHANNEL, user_id=VAL, started_at=NOW
                ),
                VoiceSession(
                    id=2, guild_id=GUILD, channel_id=CHANNEL, user_id=ADA, started_at=NOW
                ),
                Referral(
                    id=1, guild_id=GUILD, invitee_id=VAL, joined_at=NOW - timedelta(days=90),
                    attribution="invite", invite_code="bea1", inviter_id=BEA, status="credited",
                    contribution_id=6,
                ),
                Referral(
                    id=2, guild_id=GUILD, invitee_id=BEA, joined_at=NOW - timedelta(days=60),
                    attribution="invite", invite_code="val1", inviter_id=VAL, status="credited",
                    contribution_id=11,
                ),
                Referral(
                    id=3, guild_id=GUILD, invitee_id=CY, joined_at=NOW - timedelta(days=1),
                    attribution="invite", invite_code="val1", inviter_id=VAL, status="pending",
                ),
                SpotlightNomination(
                    id=1, guild_id=GUILD, user_id=VAL, nominated_by=ADA, reason="star",
                    created_at=NOW, used_period="2026-W40",
                ),
                SpotlightNomination(
                    id=2, guild_id=GUILD, user_id=ADA, nominated_by=VAL, reason="star too",
                    created_at=NOW,
                ),
                NewsletterSubscription(guild_id=GUILD, user_id=VAL, subscribed_at=NOW),
                NewsletterSubscription(guild_id=GUILD, user_id=ADA, subscribed_at=NOW),
                NewsletterDelivery(
                    guild_id=GUILD, period="2026-10", user_id=VAL, state="sent", at=NOW
                ),
                NewsletterDelivery(
                    guild_id=GUILD, period="2026-10", user_id=ADA, state="sent", at=NOW
                ),
                NpsResponse(
                    guild_id=GUILD, period="2026-Q4", user_id=VAL, score=9, comment="love it",
                    answered_at=NOW, updated_at=NOW,
                ),
                NpsResponse(
                    guild_id=GUILD, period="2026-Q4", user_id=ADA, score=7, answered_at=NOW,
                    updated_at=NOW,
                ),
                SurveyInvite(guild_id=GUILD, period="2026-Q4", user_id=VAL, state="sent", at=NOW),
                SurveyInvite(guild_id=GUILD, period="2026-Q4", user_id=ADA, state="sent", at=NOW),
                BuddyVolunteer(guild_id=GUILD, user_id=VAL, opted_in_at=NOW),
                BuddyVolunteer(guild_id=GUILD, user_id=ADA, opted_in_at=NOW),
                BuddyPair(
                    id=1, guild_id=GUILD, newcomer_id=VAL, buddy_id=ADA,
                    assigned_at=NOW - timedelta(days=90), credited_at=NOW - timedelta(days=60),
                ),
                BuddyPair(
                    id=2, guild_id=GUILD, newcomer_id=CY, buddy_id=VAL,
                    assigned_at=NOW - timedelta(days=1),
                ),
                UserGroup(
                    id=1, guild_id=GUILD, name="Val's group", name_key="val's group",
                    kind="local", role_id=ROLE_G1,
                    created_by=VAL, created_at=NOW,
                ),
                UserGroup(
                    id=2, guild_id=GUILD, name="Ada's group", name_key="ada's group",
                    kind="virtual", role_id=ROLE_G2,
                    created_by=ADA, created_at=NOW,
                ),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                Spotlight(
                    guild_id=GUILD, period="2026-W40", user_id=VAL, source="nomination",
                    nomination_id=1, reason="star", created_at=NOW,
                ),
                Spotlight(
                    guild_id=GUILD, period="2026-W41", user_id=ADA, source="contributions",
                    created_at=NOW,
                ),
                GroupMember(group_id=1, user_id=VAL, guild_id=GUILD, part="leader", joined_at=NOW),
                GroupMember(group_id=1, user_id=ADA, guild_id=GUILD, part="member", joined_at=NOW),
                GroupMember(group_id=2, user_id=VAL, guild_id=GUILD, part="member", joined_at=NOW),
                GroupMember(group_id=2, user_id=ADA, guild_id=GUILD, part="leader", joined_at=NOW),
                GroupEvent(guild_id=GUILD, event_id=EVENT_A, group_id=1, credited_by=VAL, at=NOW),
                FeedbackItem(
                    id=1, guild_id=GUILD, author_id=VAL, title="Val wants dark mode",
                    problem="Too bright", wanted="A dark theme", area="General", status="planned",
                    created_at=NOW,
                ),
                FeedbackItem(
                    id=2, guild_id=GUILD, author_id=ADA, title="Export", problem="No export",
                    wanted="CSV", area="General", status="open", created_at=NOW,
                ),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                FeedbackVote(guild_id=GUILD, item_id=2, user_id=VAL, voted_at=NOW),
                FeedbackVote(guild_id=GUILD, item_id=1, user_id=ADA, voted_at=NOW),
                FeedbackChange(
                    id=1, guild_id=GUILD, item_id=2, status="planned", note="Soon",
                    actor_id=VAL, at=NOW,
                ),
                FeedbackChange(
                    id=2, guild_id=GUILD, item_id=1, status="planned", note="Yes",
                    actor_id=ADA, at=NOW,
                ),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                FeedbackNotice(guild_id=GUILD, change_id=2, user_id=VAL, state="sent", at=NOW),
                FeedbackNotice(guild_id=GUILD, change_id=1, user_id=ADA, state="sent", at=NOW),
                BetaProgram(
                    id=1, guild_id=GUILD, name="Val's beta", status="open", created_by=VAL,
                    created_at=NOW,
                ),
                BetaProgram(
                    id=2, guild_id=GUILD, name="Ada's beta", status="open", created_by=ADA,
                    created_at=NOW,
                ),
                ResearchCall(
                    id=1, guild_id=GUILD, title="Val's interviews", details="Talk to Val",
                    created_by=VAL, created_at=NOW,
                ),
                ResearchCall(
                    id=2, guild_id=GUILD, title="Onboarding", details="30 minutes",
                    created_by=ADA, created_at=NOW,
                ),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                BetaTester(guild_id=GUILD, program_id=2, user_id=VAL, joined_at=NOW),
                BetaTester(guild_id=GUILD, program_id=1, user_id=ADA, joined_at=NOW),
                BetaReport(
                    guild_id=GUILD, program_id=2, user_id=VAL, text="Crashes", status="approved",
                    created_at=NOW, decided_by=ADA, decided_at=NOW,
                ),
                BetaReport(
                    guild_id=GUILD, program_id=1, user_id=ADA, text="Val's beta is slow",
                    status="approved", created_at=NOW, decided_by=VAL, decided_at=NOW,
                ),
                ResearchVolunteer(
                    guild_id=GUILD, call_id=2, user_id=VAL, volunteered_at=NOW, picked_by=ADA,
                    picked_at=NOW,
                ),
                ResearchVolunteer(
                    guild_id=GUILD, call_id=1, user_id=ADA, volunteered_at=NOW, picked_by=VAL,
                    picked_at=NOW,
                ),
                BackfillMessage(guild_id=GUILD, message_id=901, user_id=VAL, created_at=NOW),
                WebSignInToken(
                    guild_id=GUILD, token_hash="a" * 64, user_id=VAL, created_at=NOW,
                    expires_at=NOW, used_at=None,
                ),
                WebReviewDecision(
                    guild_id=GUILD, kind="nomination", record_id=1, moderator_id=VAL,
                    decided_at=NOW,
                ),
                WebReviewDecision(
                    guild_id=GUILD, kind="nomination", record_id=2, moderator_id=ADA,
                    decided_at=NOW,
                ),
                WebSignInToken(
                    guild_id=GUILD, token_hash="b" * 64, user_id=ADA, created_at=NOW,
                    expires_at=NOW, used_at=NOW,
                ),
            ]
        )  # fmt: skip


def member_columns(name: str) -> list[str]:
    return list(MEMBER_COLUMNS[name])


async def rows_naming(sessions, user_id: int, guild: int = GUILD) -> dict[str, int]:
    """How many rows of each table name ``user_id`` in any member column."""
    found: dict[str, int] = {}
    async with sessions() as session:
        for name, columns in MEMBER_COLUMNS.items():
            t = table(name)
            for column in columns:
                count = len(
                    (
                        await session.execute(
                            select(t).where(t.c.guild_id == guild, t.c[column] == user_id)
                        )
                    ).all()
                )
                if count:
                    found[f"{name}.{column}"] = count
    return found


async def everyone_elses_totals(sessions) -> tuple[dict[int, dict], list]:
    async with sessions() as session:
        stats = StatsRepository(session, GUILD)
        totals = {user: await stats.totals_by_kind(user) for user in (ADA, BEA, CY)}
        board = await stats.leaderboard(since=None, kind=None, limit=100)
    return totals, [s for s in board if s.user_id != VAL]


def test_every_member_column_in_the_models_is_in_the_registry():
    """A new table (or column) holding a member must say what erasure does with it."""
    unclassified = []
    for name, t in Base.metadata.tables.items():
        for column in t.columns:
            id_like = column.name.endswith(("_id", "_by")) or isinstance(column.type, BigInteger)
            if not id_like or column.name in NOT_MEMBER_COLUMNS:
                continue
            if column.name not in MEMBER_COLUMNS.get(name, {}):
                unclassified.append(f"{name}.{column.name}")
    assert unclassified == [], (
        "add these to db.repositories.privacy.MEMBER_COLUMNS (or NOT_MEMBER_COLUMNS if they "
        f"never hold a member): {unclassified}"
    )
    for name, columns in MEMBER_COLUMNS.items():
        assert name in Base.metadata.tables
        for column in columns:
            assert column in table(name).c, f"{name}.{column}"
            assert column not in NOT_MEMBER_COLUMNS


async def test_the_seed_names_the_member_in_every_registered_column(sessions):
    await seed(sessions)
    found = await rows_naming(sessions, VAL)
    expected = {f"{name}.{column}" for name, cols in MEMBER_COLUMNS.items() for column in cols}
    assert set(found) == expected


async def test_export_lists_every_row_naming_the_member_as_json(sessions):
    await seed(sessions)
    await seed(sessions, OTHER_GUILD)
    async with sessions() as session:
        export = await PrivacyRepository(session, GUILD).export(VAL)
    assert list(export) == list(MEMBER_COLUMNS)
    for name, rows in export.items():
        assert rows, f"no {name} rows exported"
        for row in rows:
            assert str(VAL) in {str(row[c]) for c in MEMBER_COLUMNS[name]}, (name, row)
            assert row["guild_id"] == str(GUILD)
    parsed = json.loads(json.dumps(export))
    assert [r["user_id"] for r in parsed["members"]] == [str(VAL)]
    assert parsed["members"][0]["display_name"] == "Val"
    assert parsed["members"][0]["joined_at"] == (NOW - timedelta(days=90)).isoformat()
    assert sorted(r["id"] for r in parsed["contributions"]) == sorted(
        str(i) for i in (1, 2, 3, 4, 5, 8, 11, 12)
    )
    assert parsed["activity_days"] == [
        {"guild_id": str(GUILD), "user_id": str(VAL), "day": "2026-11-20", "messages": 4}
    ]
    assert {(r["giver_id"], r["receiver_id"]) for r in parsed["thanks"]} == {
        (str(VAL), str(ADA)),
        (str(ADA), str(VAL)),
    }
    assert parsed["nps_responses"][0]["score"] == 9
    assert [r["user_id"] for r in parsed["nps_responses"]] == [str(VAL)]  # nobody else's answer
    assert len(parsed["referrals"]) == 3
    assert {r["group_id"] for r in parsed["group_members"]} == {"1", "2"}


async def test_erasure_leaves_no_trace_and_keeps_everyone_elses_totals(sessions):
    await seed(sessions)
    await seed(sessions, OTHER_GUILD)
    totals_before, board_before = await everyone_elses_totals(sessions)
    async with sessions() as session, session.begin():
        erasure = await PrivacyRepository(session, GUILD).erase(VAL, now=NOW)

    assert await rows_naming(sessions, VAL) == {"members.user_id": 1}
    assert await rows_naming(sessions, VAL, OTHER_GUILD) == {
        "members.user_id": 1,
        "activity_days.user_id": 1,
    }
    assert await everyone_elses_totals(sessions) == (totals_before, board_before)
    assert erasure.member_row == "tombstone"
    assert erasure.had_tier == "champion"
    assert erasure.led_groups == ["Val's group"]
    assert sorted(erasure.group_role_ids) == [ROLE_G1, ROLE_G2]
    assert erasure.deleted["contributions"] == 5
    assert erasure.anonymised["thanks"] == 2

    async with sessions() as session:
        tomb = await session.get(Member, (GUILD, VAL))
        assert tomb is not None
        assert (tomb.display_name, tomb.joined_at, tomb.left_at) == ("", None, None)
        gave = await session.get(Thanks, 1)
        assert (gave.giver_id, gave.receiver_id, gave.contribution_id) == (FORMER_MEMBER, ADA, 4)
        got = await session.get(Thanks, 2)
        assert (got.giver_id, got.receiver_id, got.contribution_id) == (ADA, FORMER_MEMBER, None)
        thanked = await session.get(Contribution, 4)
        assert (thanked.user_id, thanked.points, thanked.actor_id) == (ADA, 2, FORMER_MEMBER)
        reversal = await session.get(Contribution, 12)
        assert (reversal.reverses_id, reversal.actor_id) == (9, FORMER_MEMBER)
        invited = await session.get(Referral, 1)
        assert (invited.invitee_id, invited.inviter_id, invited.status) == (-1, BEA, "credited")
        assert invited.contribution_id == 6
        by_val = await session.get(Referral, 2)
        assert (by_val.inviter_id, by_val.invite_code, by_val.contribution_id) == (
            FORMER_MEMBER,
            None,
            None,
        )
        pending = await session.get(Referral, 3)
        assert (pending.status, pending.reason, pending.inviter_id) == (
            "rejected",
            PENDING_REJECTED_REASON,
            FORMER_MEMBER,
        )
        mentored = await session.get(BuddyPair, 1)
        assert (mentored.newcomer_id, mentored.buddy_id, mentored.ended_at) == (-1, ADA, None)
        open_pair = await session.get(BuddyPair, 2)
        assert (open_pair.buddy_id, open_pair.ended_at) == (FORMER_MEMBER, NOW)
        event = await session.get(TrackedEvent, (GUILD, EVENT_V))
        assert (event.creator_id, event.host_id) == (None, None)
        group = await session.get(UserGroup, 1)
        assert group.created_by == FORMER_MEMBER
        members = (
            await session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == 1))
        ).all()
        assert members == [ADA]
        asked = await session.get(QuestionThread, (GUILD, THREAD))
        assert (asked.asker_id, asked.answer_author_id, asked.answer_contribution_id) == (
            FORMER_MEMBER,
            ADA,
            9,
        )
        answered = await session.get(QuestionThread, (GUILD, THREAD + 1))
        assert (answered.answer_author_id, answered.answer_contribution_id) == (
            FORMER_MEMBER,
            None,
        )
        content = await session.get(ContentSubmission, 2)
        assert (content.author_id, content.decided_by) == (ADA, FORMER_MEMBER)
        assert await session.get(ContentSubmission, 1) is None
        spot = await session.get(Spotlight, (GUILD, "2026-W41"))
        assert spot.user_id == ADA
        assert (await session.get(SpotlightNomination, 2)).nominated_by == FORMER_MEMBER


async def test_erasing_twice_changes_nothing_more(sessions):
    await seed(sessions)
    async with sessions() as session, session.begin():
        await PrivacyRepository(session, GUILD).erase(VAL, now=NOW)
    async with sessions() as session, session.begin():
        again = await PrivacyRepository(session, GUILD).erase(VAL, now=NOW)
    assert (again.rows, again.member_row) == (0, "tombstone")


async def test_a_departed_member_is_deleted_and_sentinels_never_collide(sessions):
    """Two erased invitees who joined at the same instant, two erased newcomers: no clash."""
    await seed(sessions)
    async with sessions() as session, session.begin():
        for user in (VAL, CY):
            (await session.get(Member, (GUILD, user))).left_at = NOW - timedelta(days=40)
        session.add(
            Referral(
                id=4, guild_id=GUILD, invitee_id=CY, joined_at=NOW - timedelta(days=90),
                attribution="vanity", status="rejected",
            )
        )  # fmt: skip
    async with sessions() as session, session.begin():
        repo = PrivacyRepository(session, GUILD)
        assert await repo.departed_before(NOW - timedelta(days=30)) == [VAL, CY]
        assert await repo.departed_before(NOW - timedelta(days=50)) == []
        assert await repo.left_before(VAL, NOW - timedelta(days=30))
        assert not await repo.left_before(ADA, NOW - timedelta(days=30))
        for user in (VAL, CY):
            assert (await repo.erase(user, now=NOW)).member_row == "deleted"
    async with sessions() as session:
        assert await session.get(Member, (GUILD, VAL)) is None
        invitees = (await session.scalars(select(Referral.invitee_id).order_by(Referral.id))).all()
        assert invitees == [-1, BEA, -3, -4]
        newcomers = (
            await session.scalars(select(BuddyPair.newcomer_id).order_by(BuddyPair.id))
        ).all()
        assert newcomers == [-1, -2]
    assert await rows_naming(sessions, VAL) == {}
    assert await rows_naming(sessions, CY) == {}


async def test_an_unknown_member_erases_to_nothing(sessions):
    async with sessions() as session, session.begin():
        erasure = await PrivacyRepository(session, GUILD).erase(VAL, now=NOW)
        export = await PrivacyRepository(session, GUILD).export(VAL)
    assert (erasure.rows, erasure.member_row) == (0, "absent")
    assert all(rows == [] for rows in export.values())


def test_treatments_are_all_used():
    used = {how for cols in MEMBER_COLUMNS.values() for how in cols.values()}
    assert used == set(Treatment)


def test_every_text_column_says_whether_it_can_name_a_member():
    """A new free-text column must say whether erasure redacts a member's name in it."""
    listed = {f"{name}.{column}" for name, columns in MEMBER_TEXT.items() for column in columns}
    unclassified = []
    for name, t in Base.metadata.tables.items():
        for column in t.columns:
            free = isinstance(column.type, Text) or (
                isinstance(column.type, String) and (column.type.length or 0) >= 100
            )
            key = f"{name}.{column.name}"
            if free and key not in listed and key not in NOT_MEMBER_TEXT:
                unclassified.append(key)
    assert unclassified == [], f"add to MEMBER_TEXT or NOT_MEMBER_TEXT: {unclassified}"
    assert not listed & set(NOT_MEMBER_TEXT)
    for key in [*listed, *NOT_MEMBER_TEXT]:
        name, column = key.split(".")
        assert column in table(name).c, key


def test_the_redactor_finds_mentions_ids_and_names_in_any_case():
    redact = redactor(1234, ["valentina", "Val Kyrie", ""])
    text = "<@1234> and <@!1234> (id 1234, not 91234) aka VALENTINA, val kyrie; Valley stays"
    assert redact(text) == (
        f"{REDACTED} and {REDACTED} (id {REDACTED}, not 91234) aka {REDACTED}, {REDACTED}; "
        "Valley stays"
    )


async def test_erasure_redacts_the_member_in_text_others_keep_and_clears_her_titles(sessions):
    await seed(sessions)
    async with sessions() as session, session.begin():
        session.add_all(
            [
                Thanks(
                    id=9, guild_id=GUILD, giver_id=ADA, receiver_id=BEA, channel_id=5,
                    reason=f"like <@{VAL}> said",
                    day=DAY, created_at=NOW,
                ),
                TierChange(
                    id=3, guild_id=GUILD, user_id=ADA, to_tier="champion", actor_id=BEA,
                    reason="VALENTINA vouched for her", created_at=NOW,
                ),
            ]
        )  # fmt: skip
    async with sessions() as session, session.begin():
        await PrivacyRepository(session, GUILD).erase(VAL, now=NOW, names=["valentina"])
    async with sessions() as session:
        texts = []
        for name, columns in MEMBER_TEXT.items():
            t = table(name)
            for column in columns:
                texts += [
                    str(v) for v in await session.scalars(select(t.c[column])) if v is not None
                ]
        titles = {q.thread_id: q.title for q in await session.scalars(select(QuestionThread))}
    everything = "\n".join(texts)
    for trace in (str(VAL), "valentina", "Val"):
        assert trace.casefold() not in everything.casefold(), trace
    assert f"like {REDACTED} said" in everything
    assert f"{REDACTED} vouched for her" in everything
    assert "" in titles.values(), "her own question's title is cleared"
    assert "Why?" in titles.values(), "others' titles stay"
