"""Members, events and referrals services on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Settings, parse_config
from bot.core.referrals import InviteState
from bot.errors import UserFacingError
from bot.services.contributions import Contributions
from bot.services.events import EventInfo, EventsService, VoicePresence
from bot.services.members import MemberInfo, MembersService
from bot.services.referrals import InviteSnapshot, ReferralService
from db.models import Contribution, Member, VoiceSession
from db.repositories.activity import ActivityRepository
from db.repositories.members import BATCH_SIZE, MemberRepository, SeenMember
from tests.helpers import minimal_config

GUILD = 111111111111111111
VOICE = 900
ADA, GRACE, LINUS, MARGARET, BOT = 1001, 1002, 1003, 1004, 1999
JOINED = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return parse_config(minimal_config(guild_id=GUILD), env={"DISCORD_TOKEN": "x"}).settings


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def ledger(sessions, kind: str) -> dict[int, list[str]]:
    async with sessions() as session:
        rows = await session.scalars(select(Contribution).where(Contribution.kind == kind))
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row.user_id, []).append(row.source_id)
        return found


# ------------------------------------------------------------------ members
async def test_member_sync_batches_upserts_and_marks_the_absent_as_left(sessions, settings, clock):
    service = MembersService(sessions, settings, clock)
    everyone = [MemberInfo(10_000 + i, f"m{i}", False, JOINED) for i in range(BATCH_SIZE * 2 + 7)]
    assert (await service.sync(everyone)).present == len(everyone)
    assert await count(sessions, Member, Member.left_at.is_(None)) == len(everyone)

    clock.advance(timedelta(hours=1))
    result = await service.sync(
        [MemberInfo(m.user_id, m.display_name, False) for m in everyone[5:]]
    )
    assert result.marked_left == 5
    assert await count(sessions, Member, Member.left_at.is_not(None)) == 5
    async with sessions() as session:
        kept = await session.get(Member, (GUILD, everyone[6].user_id))
    assert kept is not None and kept.joined_at == JOINED, "an unknown joined_at keeps the old one"
    assert kept.first_seen_at == clock.now() - timedelta(hours=1)


async def test_a_resync_writes_only_what_changed_and_ends_as_a_full_rewrite_would(
    sessions, settings, clock
):
    service = MembersService(sessions, settings, clock)
    ada, grace, linus, margaret = (
        MemberInfo(ADA, "ada", False, JOINED),
        MemberInfo(GRACE, "grace", False, JOINED),
        MemberInfo(LINUS, "linus", False, JOINED),
        MemberInfo(MARGARET, "margaret", False, JOINED),
    )
    await service.sync([ada, grace, linus, margaret])
    await service.left(LINUS)
    clock.advance(timedelta(hours=1))
    later = JOINED + timedelta(days=3)
    now_here = [
        ada,  # unchanged
        MemberInfo(GRACE, "grace hopper", False, None),  # renamed; joined_at unknown
        MemberInfo(LINUS, "linus", False, later),  # came back
        MemberInfo(BOT, "a bot", True, later),  # new
        MemberInfo(10_000, "x" * 150, False, None),  # new, name clipped to 100
    ]  # margaret left
    async with sessions() as session:
        changed, gone = await MemberRepository(session, GUILD).differing(
            [SeenMember(m.user_id, m.display_name, m.is_bot, m.joined_at) for m in now_here]
        )
    assert [m.user_id for m in changed] == [GRACE, LINUS, BOT, 10_000]
    assert gone == {MARGARET}

    result = await service.sync(now_here)
    assert (result.present, result.marked_left) == (5, 1)
    async with sessions() as session:
        rows = {
            m.user_id: (m.display_name, m.is_bot, m.joined_at, m.left_at, m.first_seen_at)
            for m in await session.scalars(select(Member))
        }
    start, now = clock.now() - timedelta(hours=1), clock.now()
    assert rows == {
        ADA: ("ada", False, JOINED, None, start),
        GRACE: ("grace hopper", False, JOINED, None, start),
        LINUS: ("linus", False, later, None, start),
        MARGARET: ("margaret", False, JOINED, now, start),
        BOT: ("a bot", True, later, None, now),
        10_000: ("x" * 100, False, None, None, now),
    }
    async with sessions() as session:
        assert await MemberRepository(session, GUILD).differing(
            [SeenMember(m.user_id, m.display_name, m.is_bot, m.joined_at) for m in now_here]
        ) == ([], set())


async def test_joins_say_whether_the_member_was_here_before(sessions, settings, clock):
    service = MembersService(sessions, settings, clock)
    ada = MemberInfo(ADA, "ada", False, JOINED)
    assert await service.joined(ada) == "new"
    assert await service.joined(ada) == "present"
    await service.left(ADA)
    assert await service.joined(ada) == "rejoin"


# ------------------------------------------------------------------- events
def info(status: str = "scheduled", *, event_id: int = 55, channel: int | None = VOICE):
    return EventInfo(event_id, "Call", channel, ADA, status, JOINED)  # type: ignore[arg-type]


def here(*users: int, parked: frozenset[int] = frozenset()):
    return lambda: [VoicePresence(u, VOICE, u in parked) for u in users]


def events_service(sessions, settings, clock) -> EventsService:
    return EventsService(sessions, settings, clock, Contributions(settings, clock))


async def test_a_mute_flip_splits_the_session_and_settlement_counts_only_unparked_time(
    sessions, settings, clock
):
    service = events_service(sessions, settings, clock)
    await service.event_changed(info("active"), here())
    for user in (GRACE, LINUS, MARGARET):
        await service.voice_changed(VoicePresence(user, VOICE, False), at=clock.now())
    clock.advance(timedelta(minutes=6))
    await service.voice_changed(VoicePresence(MARGARET, VOICE, True), at=clock.now())
    await service.voice_changed(VoicePresence(MARGARET, VOICE, True), at=clock.now())  # replay
    clock.advance(timedelta(minutes=6))
    assert await count(sessions, VoiceSession, VoiceSession.user_id == MARGARET) == 2

    settlement = await service.event_changed(
        info("completed"), here(GRACE, LINUS, MARGARET, parked=frozenset({MARGARET}))
    )
    assert settlement is not None and settlement.attendees == (GRACE, LINUS)
    assert not settlement.host_credited
    assert await count(sessions, VoiceSession, VoiceSession.ended_at.is_(None)) == 0
    assert await service.settle(55) is None
    assert set(await ledger(sessions, "event_attended")) == {GRACE, LINUS}


async def test_an_active_event_gone_after_downtime_is_settled_and_a_scheduled_one_canceled(
    sessions, settings, clock
):
    service = events_service(sessions, settings, clock)
    in_voice = here(GRACE, LINUS, MARGARET)
    await service.event_changed(info("active", event_id=1), in_voice)
    await service.event_changed(info("scheduled", event_id=2, channel=None), in_voice)
    clock.advance(timedelta(minutes=15))
    [settlement] = await service.sync(list, {}, here())  # Discord lists no events now
    assert settlement.event_id == 1 and settlement.host_credited, settlement
    assert set(await ledger(sessions, "event_hosted")) == {ADA}
    with pytest.raises(UserFacingError, match="was canceled"):
        await service.set_host(2, GRACE)
    with pytest.raises(UserFacingError, match="already been settled"):
        await service.set_host(1, GRACE)


async def test_event_search_escapes_wildcards(sessions, settings, clock):
    service = events_service(sessions, settings, clock)
    await service.event_changed(EventInfo(1, "100% fun", None, ADA, "scheduled", JOINED), here())
    await service.event_changed(EventInfo(2, "Q_A night", None, ADA, "scheduled", JOINED), here())
    assert [e.event_id for e in await service.find("100%", open_only=True)] == [1]
    assert [e.event_id for e in await service.find("q_a", open_only=False)] == [2]
    assert await service.find("0%f", open_only=True) == [], "% is text, not a wildcard"


# ---------------------------------------------------------------- referrals
def invites(**uses: int) -> InviteSnapshot:
    owners = {"ada1": ADA, "bot1": BOT}
    return InviteSnapshot({c: InviteState(c, owners[c], n, 0) for c, n in uses.items()})


async def test_a_referral_is_credited_once_after_the_newcomer_stays(sessions, settings, clock):
    members = MembersService(sessions, settings, clock)
    service = ReferralService(sessions, settings, clock, Contributions(settings, clock))
    service.start(invites(ada1=0, bot1=0))

    async def used_ada() -> InviteSnapshot:
        return invites(ada1=1, bot1=0)

    async def used_bot() -> InviteSnapshot:
        return invites(ada1=1, bot1=1)

    await members.joined(MemberInfo(BOT, "helper-bot", True))
    for user, fetch in ((GRACE, used_ada), (LINUS, used_bot)):
        await members.joined(MemberInfo(user, str(user), False))
        outcome = await service.record_join(user, is_rejoin=False, is_bot=False, fetch=fetch)
        assert outcome is not None and outcome.status == "pending"
    async with sessions() as session, session.begin():
        day = clock.now().date() + timedelta(days=1)
        await ActivityRepository(session, GUILD).add_messages({(GRACE, day): 1, (LINUS, day): 1})

    clock.advance(timedelta(days=8))
    decided = {o.invitee_id: o for o in await service.settle_pending()}
    assert decided[GRACE].status == "credited"
    assert (decided[LINUS].status, decided[LINUS].reason) == (
        "rejected",
        "the invite was made by a bot",
    )
    assert await service.settle_pending() == []
    assert list(await ledger(sessions, "referral")) == [ADA]


async def test_a_failed_invite_fetch_records_an_unknown_join(sessions, settings, clock):
    service = ReferralService(sessions, settings, clock, Contributions(settings, clock))

    async def refused() -> None:
        return None

    off = await service.record_join(GRACE, is_rejoin=False, is_bot=False, fetch=refused)
    assert off is None, "nothing is recorded before tracking starts"
    service.start(invites(ada1=0))

    outcome = await service.record_join(GRACE, is_rejoin=False, is_bot=False, fetch=refused)
    assert outcome is not None
    assert (outcome.attribution, outcome.status) == ("unknown", "rejected")
