"""The ladder on a real store: bulk stats, decisions applied and audited, moderator actions."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings, parse_config
from bot.errors import UserFacingError
from bot.services import ladder as ladder_service
from bot.services.contributions import Contributions
from bot.services.ladder import LadderService
from bot.services.retry import RetryPolicy
from bot.services.role_sync import RoleChangePlan, RoleSyncQueue, desired_roles, plan_roles
from db import migrate
from db.engine import (
    create_engine,
    create_session_factory,
    create_what_if_engine,
    dialect_of,
    side_by_side,
    what_if,
)
from db.models import Nomination, TierChange, TierState
from db.repositories.activity import ActivityRepository
from db.repositories.ladder import LadderRepository
from db.repositories.members import MemberRepository
from tests.conftest import engine_for
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, LINUS, GONE, BOT = 1001, 1002, 1003, 1004, 1005
ROLES = {"helper": 9001, "mentor": 9002, "guide": 9003}

#: Small numbers: helper needs 20 points and 2 answers in 30 days, 2 active weeks; mentor 60
#: points in 60 days and a nomination; guide one seat.
TIERS = [
    {
        "key": "helper",
        "name": "Helper",
        "role_id": ROLES["helper"],
        "window_days": 30,
        "min_points": 20,
        "min_counts": {"answer": 2},
        "min_active_weeks": 2,
    },
    {
        "key": "mentor",
        "name": "Mentor",
        "role_id": ROLES["mentor"],
        "window_days": 60,
        "min_points": 60,
        "nomination_required": True,
    },
    {
        "key": "guide",
        "name": "Guide",
        "role_id": ROLES["guide"],
        "window_days": 60,
        "min_points": 100,
        "seats": 1,
    },
]


def make_settings(**ladder: Any) -> Settings:
    config = minimal_config(guild_id=GUILD, tiers=TIERS, ladder=ladder)
    return parse_config(config, env={"DISCORD_TOKEN": "x"}).settings


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def service(sessions, settings, clock) -> LadderService:
    return LadderService(sessions, settings, clock, Contributions(settings, clock))


_sources = itertools.count(1)


async def seed_members(sessions, clock, joined_days_ago: int = 100) -> None:
    now = clock.now()
    joined = now - timedelta(days=joined_days_ago)
    async with sessions() as session, session.begin():
        repo = MemberRepository(session, GUILD)
        for user_id in (ADA, GRACE, LINUS, GONE):
            await repo.seen(
                user_id, display_name=str(user_id), is_bot=False, now=now, joined_at=joined
            )
        await repo.seen(BOT, display_name="bot", is_bot=True, now=now, joined_at=joined)
        await repo.left(GONE, now=now)


async def give(
    service: LadderService,
    user_id: int,
    kind: str,
    times: int = 1,
    *,
    days_ago: float = 0,
    points: int | None = None,
) -> list[Any]:
    rows = []
    at = service.clock.now() - timedelta(days=days_ago)
    credits = service.contributions
    async with service.sessions() as session, session.begin():
        for _ in range(times):
            credit = credits.credit(
                kind, user_id, f"t:{next(_sources)}", occurred_at=at, points=points
            )
            rows.append(await credits.record(session, credit))
    return rows


async def active_on(sessions, user_id: int, days: list[date], messages: int = 2) -> None:
    async with sessions() as session, session.begin():
        await ActivityRepository(session, GUILD).add_messages(
            {(user_id, day): messages for day in days}
        )


def weeks_back(clock, weeks: int) -> list[date]:
    today = clock.now().date()
    return [today - timedelta(days=7 * i) for i in range(weeks)]


async def helper_material(service: LadderService, sessions, clock, user_id: int) -> None:
    await give(service, user_id, "answer", 2)  # 20 points
    await active_on(sessions, user_id, weeks_back(clock, 2))


async def refusal(awaitable: Any) -> str:
    """The text of the UserFacingError that ``awaitable`` raises."""
    with pytest.raises(UserFacingError) as caught:
        await awaitable
    return str(caught.value)


async def state(sessions, user_id: int) -> TierState | None:
    async with sessions() as session:
        return await session.get(TierState, (GUILD, user_id))


async def audit(sessions, user_id: int) -> list[TierChange]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(TierChange).where(TierChange.user_id == user_id).order_by(TierChange.id)
            )
        )


# --------------------------------------------------------------------------- stats


async def test_stats_count_each_window_and_net_out_reversals(service, sessions, clock):
    await seed_members(sessions, clock)
    [old_answer] = await give(service, ADA, "answer", days_ago=45)  # in 60 days, not in 30
    await give(service, ADA, "answer", 2, days_ago=3)
    await give(service, ADA, "content", days_ago=1)
    await give(service, ADA, "answer", points=-4, days_ago=1)  # a correction: points, no count
    [reversed_answer] = await give(service, ADA, "thanks_received", days_ago=2)
    async with sessions() as session, session.begin():
        await service.contributions.reverse(session, reversed_answer, actor_id=1, reason="dup")
        # Reversing the old answer today must not dent the 30-day window.
        await service.contributions.reverse(session, old_answer, actor_id=1, reason="spam")
    await give(service, GRACE, "answer", days_ago=100)  # outside every window

    stats = await service.stats_for(None)

    assert set(stats) == {ADA, GRACE, LINUS}, "present humans only"
    ada = stats[ADA]
    assert ada.joined_at == clock.now() - timedelta(days=100)
    assert ada.windows[30].points == 10 + 10 + 10 - 4
    # Counts are kept for the kinds some tier requires (here answers): net of the correction.
    assert dict(ada.windows[30].counts) == {"answer": 2}
    assert ada.windows[60].points == 26
    # ... and only in the windows of the tiers that require them: no 60-day tier counts any
    # kind, so the database sums none there.
    assert dict(ada.windows[60].counts) == {}
    assert stats[GRACE].windows == {} and stats[LINUS].windows == {}
    assert await service.stats_for([ADA]) == {ADA: ada}, "one member, the same numbers"
    assert await service.stats_for([GONE, BOT]) == {}


async def test_active_weeks_are_calendar_weeks_with_a_counted_message(service, sessions, clock):
    await seed_members(sessions, clock)
    monday = clock.now().date()  # the fixture clock is a Monday
    assert monday.weekday() == 0
    await active_on(sessions, ADA, [monday - timedelta(days=7), monday - timedelta(days=1)])
    await active_on(sessions, ADA, [monday])
    await active_on(sessions, ADA, [monday - timedelta(days=20)], messages=0)  # uncounted
    await active_on(sessions, ADA, [monday - timedelta(days=50)])  # only in the 60-day window
    await active_on(sessions, GRACE, [monday - timedelta(days=6), monday - timedelta(days=5)])

    stats = await service.stats_for(None)

    assert stats[ADA].windows[30].active_weeks == 2
    assert stats[ADA].windows[60].active_weeks == 3
    assert stats[ADA].windows[30].points == 0
    assert stats[GRACE].windows[30].active_weeks == 1


#: The one-member read's aggregates (``db.repositories.ladder_member``): one row each.
ONE_ROW = {"credits", "reversals", "weeks", "givers", "nominated"}


async def test_one_member_is_read_through_indexes(tmp_path, clock):
    """Evaluating one member after a contribution never scans the guild (SQLite's plan).

    Traced at the driver: the member's read is one call into it, past SQLAlchemy's events."""
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}", pool_size=1, max_overflow=0
    )
    await migrate.upgrade(engine)
    statements: list[str] = []

    def record(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    settings = make_settings()
    service = LadderService(
        create_session_factory(engine), settings, clock, Contributions(settings, clock)
    )
    try:
        await seed_members(service.sessions, clock)
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.set_trace_callback(record)
        await service.plan([ADA])
        await driver.set_trace_callback(None)
        plans = []
        async with engine.connect() as conn:
            for statement in statements:
                rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")
                plans.append(" | ".join(str(row[-1]) for row in rows))
    finally:
        await engine.dispose()
    # One statement reads the member's numbers, state and nominations; the seats are counted
    # when a seat could be taken.
    assert 1 <= len(plans) <= 2, plans
    assert statements[0].startswith("SELECT members.joined_at"), statements
    for plan in plans:
        for step in plan.split(" | "):
            # The only scans are of the member's one-row aggregates (credits, weeks...).
            assert not step.startswith("SCAN") or step.split()[1] in ONE_ROW, plan
            if step.startswith("SEARCH") and "rowid=?" not in step:
                # Per member, except two small sets: seat holders and approved nominations.
                per_member = "user_id=?" in step
                assert per_member or "tier_states" in step or "nominations" in step, plan


# --------------------------------------------------------------------------- decisions


async def test_a_promotion_is_applied_audited_and_replay_safe(service, sessions, clock):
    await seed_members(sessions, clock)
    await helper_material(service, sessions, clock, ADA)
    await give(service, GRACE, "answer", 5)  # points and answers, but one active week only
    await active_on(sessions, GRACE, weeks_back(clock, 1))

    planned = {p.user_id: p.decision for p in await service.plan()}
    assert planned[ADA].action == "promote" and planned[GRACE].action == "keep"
    assert await state(sessions, ADA) is None, "plan writes nothing"

    [change] = await service.evaluate({ADA, GRACE})

    assert (change.user_id, change.action, change.from_tier, change.to_tier) == (
        ADA,
        "promote",
        None,
        "helper",
    )
    assert change.actor_id is None and change.public
    assert change.reasons[0] == "Promoted to Helper: every criterion is met."
    row = await state(sessions, ADA)
    assert row.tier_key == "helper" and row.tier_since == clock.now()
    [entry] = await audit(sessions, ADA)
    assert (entry.from_tier, entry.to_tier, entry.actor_id) == (None, "helper", None)
    assert entry.reason == " ".join(change.reasons)
    assert await state(sessions, GRACE) is None, "nothing to store for a member off the ladder"

    assert await service.evaluate({ADA}) == [], "evaluated again: nothing changes"
    assert len(await audit(sessions, ADA)) == 1
    assert await service.seats_taken() == {"helper": 1}


async def test_an_approved_nomination_makes_a_promotion_possible_and_is_marked_applied(
    service, sessions, clock
):
    await seed_members(sessions, clock)
    await helper_material(service, sessions, clock, ADA)
    await give(service, ADA, "content", 4)  # 60 points in 60 days
    [change] = await service.evaluate({ADA})
    assert change.to_tier == "helper", "mentor needs a nomination"

    async with sessions() as session, session.begin():
        nomination = Nomination(
            guild_id=GUILD,
            nominee_id=ADA,
            tier_key="mentor",
            nominated_by=7,
            reason="Mentors newcomers",
            status="approved",
            created_at=clock.now(),
            decided_by=8,
            decided_at=clock.now(),
        )
        session.add(nomination)
    [change] = await service.evaluate({ADA})

    assert (change.from_tier, change.to_tier) == ("helper", "mentor")
    async with sessions() as session:
        applied = await session.get(Nomination, nomination.id)
    assert applied.applied_at == clock.now()


async def test_a_seat_goes_to_the_strongest_claim_and_no_more(service, sessions, clock):
    await seed_members(sessions, clock)
    for user_id, extra in ((ADA, 9), (GRACE, 10)):
        await helper_material(service, sessions, clock, user_id)
        await give(service, user_id, "content", extra)

    report = await service.sweep()

    moves = {c.user_id: c.to_tier for c in report.changes}
    assert moves == {GRACE: "guide", ADA: "helper"}, "one Guide seat: grace has more points"
    assert report.evaluated == 3 and report.count("promote") == 2
    assert await service.seats_taken() == {"guide": 1, "helper": 1}
    assert (await service.sweep()).changes == ()


async def test_below_the_mark_warns_once_then_demotes_after_the_grace_period(
    service, sessions, clock
):
    await seed_members(sessions, clock)
    await helper_material(service, sessions, clock, ADA)
    await service.evaluate({ADA})

    clock.advance(timedelta(days=31))  # the credits leave the 30-day window
    assert (await service.sweep()).changes == ()
    row = await state(sessions, ADA)
    assert row.below_since == clock.now() and row.tier_key == "helper"

    clock.advance(timedelta(days=23))  # 7 days before the demotion
    [warning] = (await service.sweep()).changes
    assert warning.action == "warn" and warning.from_tier == warning.to_tier == "helper"
    assert warning.demotion_due_at == row.below_since + timedelta(days=30)
    assert (await state(sessions, ADA)).at_risk_notified_at == clock.now()
    assert (await service.sweep()).changes == (), "warned once"

    clock.advance(timedelta(days=7))
    [demotion] = (await service.sweep()).changes
    assert (demotion.action, demotion.from_tier, demotion.to_tier) == ("demote", "helper", None)
    row = await state(sessions, ADA)
    assert row.tier_key is None and row.below_since is None
    assert [e.to_tier for e in await audit(sessions, ADA)] == ["helper", None]


async def test_recovering_above_the_mark_stops_the_grace_clock(service, sessions, clock):
    await seed_members(sessions, clock)
    await helper_material(service, sessions, clock, ADA)
    await service.evaluate({ADA})
    clock.advance(timedelta(days=31))
    await service.sweep()
    assert (await state(sessions, ADA)).below_since is not None

    await helper_material(service, sessions, clock, ADA)
    assert await service.evaluate({ADA}) == []
    assert (await state(sessions, ADA)).below_since is None


@pytest.mark.parametrize("later", [0, 1], ids=["same-instant", "a-second-later"])
async def test_a_decision_is_not_applied_over_a_change_made_meanwhile(
    service, sessions, clock, later
):
    """Two writes can carry one timestamp (a clock's resolution, a frozen test clock), so what
    planning saw is compared whole, not by ``updated_at``."""
    await seed_members(sessions, clock)
    await helper_material(service, sessions, clock, ADA)
    async with sessions() as session, session.begin():
        session.add(TierState(guild_id=GUILD, user_id=ADA, pinned=False, updated_at=clock.now()))
    planned, snapshot = await service._plan({ADA})
    clock.advance(later)
    await service.pin(ADA, actor_id=7)  # a moderator, between planning and applying

    assert await service._apply(planned, snapshot) == []
    assert (await state(sessions, ADA)).tier_key is None


async def test_evaluations_run_one_at_a_time(service, sessions, clock):
    """The composition root builds one ladder service per store; every feature shares it."""
    await seed_members(sessions, clock)
    await helper_material(service, sessions, clock, ADA)
    results = await asyncio.gather(service.evaluate({ADA}), service.evaluate({ADA}))
    assert sorted(len(r) for r in results) == [0, 1], "promoted once, not twice"
    assert len(await audit(sessions, ADA)) == 1


async def test_an_opted_out_member_is_not_public(service, sessions, clock):
    await seed_members(sessions, clock)
    await helper_material(service, sessions, clock, ADA)
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE members SET recognition_opt_out = :yes WHERE user_id = :id"),
            {"yes": True, "id": ADA},
        )
    [change] = await service.evaluate({ADA})
    assert not change.public


async def test_no_tiers_means_nothing_to_decide(sessions, clock):
    settings = parse_config(minimal_config(guild_id=GUILD), env={"DISCORD_TOKEN": "x"}).settings
    service = LadderService(sessions, settings, clock, Contributions(settings, clock))
    await seed_members(sessions, clock)
    assert await service.plan() == [] and (await service.sweep()).changes == ()


# --------------------------------------------------------------------------- moderators


async def test_set_pin_unpin_and_leave_are_on_the_record(service, sessions, clock):
    await seed_members(sessions, clock)
    change = await service.set_tier(ADA, "mentor", reason="Runs the mentoring circle", actor_id=7)
    assert (change.action, change.from_tier, change.to_tier, change.actor_id) == (
        "promote",
        None,
        "mentor",
        7,
    )
    assert (
        await refusal(service.set_tier(ADA, "mentor", reason="again", actor_id=7, name="ada"))
        == "ada already holds Mentor."
    )

    pinned = await service.pin(ADA, actor_id=7)
    assert pinned.pinned and pinned.tier_key == "mentor"
    assert await refusal(service.pin(ADA, actor_id=7, name="ada")) == "ada is already pinned."
    clock.advance(timedelta(days=120))
    assert (await service.sweep()).changes == (), "pinned: no automatic change"

    unpinned = await service.unpin(ADA, actor_id=8)
    assert not unpinned.pinned
    assert await refusal(service.unpin(ADA, actor_id=8, name="ada")) == "ada isn't pinned."

    leave = await service.grant_leave(ADA, 30, actor_id=8)
    assert leave.leave_until == clock.now() + timedelta(days=30)
    assert (await refusal(service.grant_leave(ADA, 400, actor_id=8))).startswith(
        "A leave lasts 0 to 365 days"
    )
    assert (await service.grant_leave(ADA, 0, actor_id=8)).leave_until is None

    down = await service.set_tier(ADA, None, reason="Stepped back", actor_id=7)
    assert (down.action, down.to_tier) == ("demote", None)

    history = await service.history(ADA)
    assert [(h.from_tier, h.to_tier, h.actor_id) for h in history] == [
        (None, "mentor", 7),
        ("mentor", "mentor", 7),
        ("mentor", "mentor", 8),
        ("mentor", "mentor", 8),
        ("mentor", "mentor", 8),
        ("mentor", None, 7),
    ]
    assert [h.reason for h in history][1:5] == [
        "Pinned at Mentor: automatic changes are paused.",
        "Unpinned: automatic tier rules apply again.",
        f"Leave of absence until {(clock.now() + timedelta(days=30)):%Y-%m-%d}: no demotion "
        "meanwhile.",
        "Leave of absence ended.",
    ]


def test_tiers_are_named_by_key_or_name_and_unknown_ones_are_refused(service):
    assert service.resolve_tier(" Mentor ") == "mentor"
    assert service.resolve_tier("guide") == "guide"
    assert service.resolve_tier("None") is None
    with pytest.raises(UserFacingError) as refused:
        service.resolve_tier("legend")
    assert str(refused.value) == (
        "There is no tier called 'legend'. Tiers: Helper, Mentor, Guide, or none."
    )


async def test_missing_names_what_a_member_still_needs(service, sessions, clock):
    await seed_members(sessions, clock)
    await give(service, ADA, "answer", 1)
    assert await service.missing(ADA, "helper") == (
        "10/20 points ✗",
        "1/2 accepted answers ✗",
        "0/2 active weeks ✗",
    )
    assert await service.missing(ADA, "mentor") == (
        "10/60 points ✗",
        "needs an approved nomination ✗",
    )


# --------------------------------------------------------------------------- roles


def test_desired_roles_replace_or_stack():
    replace, stack = make_settings(), make_settings(stack_roles=True)
    assert desired_roles("mentor", replace) == {ROLES["mentor"]}
    assert desired_roles("mentor", stack) == {ROLES["helper"], ROLES["mentor"]}
    assert desired_roles(None, stack) == frozenset()
    assert desired_roles("retired", stack) == frozenset(), "a tier removed from the config"

    plan = plan_roles(ADA, "guide", [ROLES["helper"], 42], replace)
    assert plan == RoleChangePlan(ADA, add=frozenset({ROLES["guide"]}), remove={ROLES["helper"]})
    assert plan_roles(ADA, "helper", [ROLES["helper"], 42], replace).empty, "other roles stay"


async def test_the_role_queue_paces_reconciles_and_alerts_once_per_role():
    edits: list[tuple[int, int, bool]] = []
    alerts: list[int] = []
    refuse = {ROLES["guide"]}
    plans = {
        ADA: RoleChangePlan(ADA, frozenset({ROLES["guide"]}), frozenset({ROLES["helper"]})),
        GRACE: RoleChangePlan(GRACE, frozenset({ROLES["guide"]}), frozenset()),
        LINUS: RoleChangePlan(LINUS, frozenset({ROLES["helper"]}), frozenset()),
    }

    async def edit(user_id: int, role_id: int, add: bool) -> Any:
        edits.append((user_id, role_id, add))
        return "forbidden" if role_id in refuse else "done"

    async def resolve(user_id: int) -> RoleChangePlan | None:
        return plans.get(user_id)

    async def alert(role_id: int) -> None:
        alerts.append(role_id)

    async def stuck(user_ids: frozenset[int]) -> None:
        raise AssertionError(f"no edit failed, yet {user_ids} reported stuck")

    queue = RoleSyncQueue(edit=edit, resolve=resolve, alert=alert, stuck=stuck, per_second=1000)
    queue.start()
    try:
        assert queue.enqueue([ADA, GRACE, ADA, LINUS, BOT]) == 4, "each member once"
        await queue.drained()
        assert edits == [
            (ADA, ROLES["guide"], True),
            (LINUS, ROLES["helper"], True),
        ], "a refused role is not tried again in the pass; ada keeps helper meanwhile"
        assert alerts == [ROLES["guide"]]
        assert queue.pending == {ROLES["guide"]: {ADA, GRACE}}

        queue.retry_refused()  # the next sweep: still refused, but no second alert
        queue.enqueue([GRACE])
        await queue.drained()
        assert alerts == [ROLES["guide"]] and edits[-1] == (GRACE, ROLES["guide"], True)

        refuse.clear()  # a moderator moved the bot's role
        queue.retry_refused()
        queue.enqueue([ADA, GRACE])
        await queue.drained()
        assert edits[-3:] == [
            (ADA, ROLES["guide"], True),
            (ADA, ROLES["helper"], False),
            (GRACE, ROLES["guide"], True),
        ], "the new role first, then the old one"
        assert queue.pending == {} and queue.alerted == frozenset()
    finally:
        await queue.stop()


async def test_failed_edits_are_retried_with_backoff_and_reported_once():
    """503s (or 429s outlasting discord.py's retries) for two members during a mass change."""
    failing = {ADA: 4, GRACE: 1}
    edits: list[tuple[int, int, bool, str]] = []
    reports: list[frozenset[int]] = []
    plans = {
        user: RoleChangePlan(user, frozenset({ROLES["helper"]}), frozenset())
        for user in (ADA, GRACE, LINUS)
    }

    async def edit(user_id: int, role_id: int, add: bool) -> Any:
        outcome = "done"
        if failing.get(user_id, 0) > 0:
            failing[user_id] -= 1
            outcome = "failed"
        edits.append((user_id, role_id, add, outcome))
        if outcome == "done":
            plans.pop(user_id, None)
        return outcome

    async def resolve(user_id: int) -> RoleChangePlan | None:
        return plans.get(user_id)

    async def alert(role_id: int) -> None:
        raise AssertionError("nothing was refused")

    async def stuck(user_ids: frozenset[int]) -> None:
        reports.append(user_ids)

    retry = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.04)
    queue = RoleSyncQueue(
        edit=edit, resolve=resolve, alert=alert, stuck=stuck, per_second=1000, retry=retry
    )
    queue.start()
    try:
        queue.enqueue([ADA, GRACE, LINUS])

        async def all_through() -> bool:
            await queue.drained()
            return not plans and not queue.retrying

        deadline = asyncio.get_running_loop().time() + 5
        while not await all_through():
            assert asyncio.get_running_loop().time() < deadline, (edits, queue.failures)
            await asyncio.sleep(0.01)
    finally:
        await queue.stop()
    outcomes = [(user, outcome) for user, _, _, outcome in edits]
    assert outcomes.count((ADA, "failed")) == 4 and outcomes.count((ADA, "done")) == 1
    assert outcomes.count((GRACE, "failed")) == 1 and outcomes.count((GRACE, "done")) == 1
    assert outcomes.count((LINUS, "done")) == 1
    # One alert, when ada's third try failed: she was the one still waiting.
    assert reports == [frozenset({ADA})]
    assert queue.failures == {}


async def test_members_who_left_hold_no_seat(service, sessions, clock):
    await seed_members(sessions, clock)
    await service.set_tier(GONE, "guide", reason="before leaving", actor_id=7)
    await service.set_tier(ADA, "helper", reason="x", actor_id=7)
    assert await service.seats_taken() == {"helper": 1}
    async with sessions() as session, session.begin():
        await session.execute(text("UPDATE members SET left_at = NULL"))
        await session.execute(
            update(TierState).where(TierState.user_id == ADA).values(tier_key="guide")
        )
    assert await service.seats_taken() == {"guide": 2}


async def test_only_the_seated_tiers_holders_are_counted_for_a_seat(service, sessions, clock):
    """Through ``(guild_id, tier_key)``: the count reads the seated tier's few holders, not
    every holder of every tier."""
    await seed_members(sessions, clock)
    await service.set_tier(ADA, "helper", reason="x", actor_id=7)
    await service.set_tier(GRACE, "guide", reason="x", actor_id=7)
    async with sessions() as session:
        repo = LadderRepository(session, GUILD)
        assert await repo.seats_taken(["guide"]) == {"guide": 1}
        assert await repo.seats_taken() == {"helper": 1, "guide": 1}
        if session.get_bind().dialect.name == "sqlite":
            found: list[tuple[str, Any]] = []
            engine = session.get_bind()

            def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
                found.append((sql, params))

            event.listen(engine, "before_cursor_execute", record)
            try:
                await repo.seats_taken(["guide"])
            finally:
                event.remove(engine, "before_cursor_execute", record)
            [(sql, params)] = found
            connection = await session.connection()
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            steps = " | ".join(str(row[-1]) for row in plan)
            assert "ix_tier_states_guild_tier (guild_id=? AND tier_key=?)" in steps, steps


#: A tier anyone might meet without contributing (active weeks only): the sweep cannot ask
#: the database for the members who could move, and reads everyone.
NO_LEDGER_MINIMUM = [
    {
        "key": "regular",
        "name": "Regular",
        "role_id": 9004,
        "window_days": 30,
        "min_points": 0,
        "min_active_weeks": 3,
    },
    *TIERS,
]


@pytest.mark.parametrize(
    ("tiers", "seed"),
    [(TIERS, 5), (TIERS, 6), (TIERS, 7), (NO_LEDGER_MINIMUM, 5)],
    ids=["ledger-minimums-5", "ledger-minimums-6", "ledger-minimums-7", "a-tier-without"],
)
async def test_the_sweep_skips_only_members_whose_decision_is_to_keep_them(
    sessions, clock, tiers, seed
):
    """The sweep reads only members with a state or whose credits meet some tier's minimums,
    and skips members off the ladder meeting no tier's numbers: on random ledgers (penalties,
    reversals of credits and of penalties, holders slipping, members who left) it decides
    exactly what a full evaluation of everyone decides."""
    config = minimal_config(guild_id=GUILD, tiers=tiers, ladder={})
    settings = parse_config(config, env={"DISCORD_TOKEN": "x"}).settings
    service = LadderService(sessions, settings, clock, Contributions(settings, clock))
    rng = random.Random(seed)
    users = list(range(2000, 2060))
    lifted = users[-1]  # a penalty taken back lifts her to helper: her credits alone don't
    settled = users[-2]  # a helper meeting every helper number and no higher tier's
    now = clock.now()
    async with sessions() as session, session.begin():
        repo = MemberRepository(session, GUILD)
        for user in users:
            joined = now - timedelta(days=rng.randrange(400))
            await repo.seen(user, display_name="m", is_bot=False, now=now, joined_at=joined)
        for user in users[8:11]:
            await repo.left(user, now=now)
    for user in users[:8]:  # a few already on the ladder, some of them slipping
        tier = rng.choice(["helper", "mentor", "guide"])
        await service.set_tier(user, tier, reason="x", actor_id=7)
    clock.advance(timedelta(days=40))
    await service.set_tier(settled, "helper", reason="x", actor_id=7)
    for user in users[:-2]:
        for row in await give(
            service, user, "answer", rng.randrange(5), days_ago=rng.randrange(40)
        ):
            if rng.random() < 0.2:  # a credit taken back
                async with sessions() as session, session.begin():
                    await service.contributions.reverse(session, row, actor_id=7, reason="no")
        await give(service, user, "content", rng.randrange(8), days_ago=rng.randrange(70))
        for row in await give(
            service, user, "content", rng.randrange(2), days_ago=rng.randrange(30), points=-15
        ):
            if rng.random() < 0.5:
                async with sessions() as session, session.begin():
                    await service.contributions.reverse(session, row, actor_id=7, reason="no")
        await active_on(sessions, user, rng.sample(weeks_back(clock, 8), rng.randrange(5)))
    await give(service, lifted, "answer", 2, days_ago=3)
    [penalty] = await give(service, lifted, "content", days_ago=2, points=-15)
    async with sessions() as session, session.begin():
        await service.contributions.reverse(session, penalty, actor_id=7, reason="no")
    await active_on(sessions, lifted, weeks_back(clock, 3))
    await give(service, settled, "answer", 2, days_ago=1)
    await active_on(sessions, settled, weeks_back(clock, 3))

    full = {p.user_id: p.decision for p in await service.plan()}
    planned, snapshot = await service._plan(None)
    shortcut = {p.user_id: p.decision for p in planned}

    assert len(full) == snapshot.present == len(users) - 3
    assert 0 < len(shortcut) < len(full), "some members are skipped, some evaluated"
    assert {d.action for d in full.values()} >= {"promote", "keep"}, "the data exercises both"
    assert any(d.below_since for d in full.values()), "and members slipping below the mark"
    assert full[lifted].action == "promote"
    assert full[settled].action == "keep" and settled not in shortcut, "a settled holder"
    for user, decision in full.items():
        if user in shortcut:
            assert shortcut[user] == decision
        else:
            assert decision.action == "keep" and decision.below_since is None, decision
    if tiers is TIERS:
        assert len(snapshot.members) < len(full), "the database left out who can't move"


async def test_one_member_reads_decide_what_the_bulk_reads_decide(sessions, clock):
    """Evaluating a few members (one compiled statement each) and evaluating everyone (the
    bulk queries) read the same numbers: on random ledgers with reversals, peer credits,
    activity, nominations, holders slipping and members who left, the same decisions."""
    tiers = [dict(TIERS[0], min_distinct_members=2), *TIERS[1:]]
    config = minimal_config(guild_id=GUILD, tiers=tiers, ladder={})
    settings = parse_config(config, env={"DISCORD_TOKEN": "x"}).settings
    service = LadderService(sessions, settings, clock, Contributions(settings, clock))
    rng = random.Random(11)
    users = list(range(3000, 3040))
    now = clock.now()
    async with sessions() as session, session.begin():
        repo = MemberRepository(session, GUILD)
        for user in users:
            joined = now - timedelta(days=rng.randrange(400))
            await repo.seen(user, display_name="m", is_bot=False, now=now, joined_at=joined)
        await repo.left(users[-1], now=now)
        for user in users[:12]:
            status = rng.choice(["approved", "approved", "pending", "rejected"])
            tier = rng.choice(["helper", "mentor", "retired"])
            session.add(
                Nomination(
                    guild_id=GUILD,
                    nominee_id=user,
                    tier_key=tier,
                    nominated_by=7,
                    reason="r",
                    status=status,
                    created_at=now,
                )
            )
    for user in users[:6]:
        await service.set_tier(user, rng.choice(["helper", "mentor"]), reason="x", actor_id=7)
    clock.advance(timedelta(days=35))
    for user in users:
        for row in await give(
            service, user, "answer", rng.randrange(4), days_ago=rng.randrange(70)
        ):
            if rng.random() < 0.3:
                async with sessions() as session, session.begin():
                    await service.contributions.reverse(session, row, actor_id=7, reason="no")
        for _ in range(rng.randrange(1, 6)):
            giver = rng.choice(users)
            async with sessions() as session, session.begin():
                credit = service.contributions.credit(
                    "thanks_received",
                    user,
                    f"t:{next(_sources)}",
                    occurred_at=clock.now() - timedelta(days=rng.randrange(35)),
                    actor_id=giver,
                )
                await service.contributions.record(session, credit)
        await give(service, user, "content", rng.randrange(6), days_ago=rng.randrange(70))
        await active_on(sessions, user, rng.sample(weeks_back(clock, 9), rng.randrange(6)))

    everyone = {p.user_id: p.decision for p in await service.plan()}
    one_by_one = {}
    for user in [*users, 999]:  # and someone who never joined
        one_by_one.update({p.user_id: p.decision for p in await service.plan([user])})

    assert len(everyone) == len(users) - 1, "present members only"
    actions = {d.action for d in everyone.values()}
    assert actions >= {"promote", "keep"}, "the data exercises both"
    assert any(d.below_since for d in everyone.values()), "and holders slipping"
    assert one_by_one == everyone


async def test_a_sweep_reads_in_parts_side_by_side_and_alone_on_one_connection(
    engine, db_url, sessions, settings, clock
):
    """On an engine the sweep reads the guild in parts, one session each; inside a what-if
    (every session on one connection, which can't run two statements at once) in one part,
    seeing what the what-if wrote."""
    assert side_by_side(sessions)
    async with engine.connect() as connection:
        assert not side_by_side(async_sessionmaker(bind=connection))
    on_engine = LadderService(sessions, settings, clock, Contributions(settings, clock))
    assert on_engine._readers == min(os.cpu_count() or 1, 4)
    scratch = engine_for(db_url, factory=create_what_if_engine)
    try:
        async with what_if(scratch) as inside:
            service = LadderService(inside, settings, clock, Contributions(settings, clock))
            assert service._readers == 1
            await seed_members(inside, clock)
            await helper_material(service, inside, clock, ADA)
            report = await service.sweep()
            assert [(c.user_id, c.action) for c in report.changes] == [(ADA, "promote")]
    finally:
        await scratch.dispose()
    async with sessions() as session:
        assert await session.get(TierState, (GUILD, ADA)) is None, "rolled back"


async def test_members_are_split_into_parts_of_about_equal_size(sessions, clock):
    async with sessions() as session:
        assert await LadderRepository(session, GUILD).member_splits(2) == [], "no members"
    await seed_members(sessions, clock)  # five members, one of them a bot
    async with sessions() as session:
        repo = LadderRepository(session, GUILD)
        assert await repo.member_splits(2) == [LINUS]  # [ADA, GRACE], [LINUS, GONE, BOT]
        assert await repo.member_splits(4) == [GRACE, LINUS, GONE]
        assert await repo.member_splits(8) == [], "fewer members than parts: one part"


async def test_a_credit_taken_back_does_not_make_the_sweep_read_a_member_in_full(sessions, clock):
    """Taking back a credit only lowers a member's numbers: one whose credits alone meet no
    tier stays out of the sweep's read. A penalty taken back can lift: she is read in full."""
    config = minimal_config(guild_id=GUILD, tiers=TIERS, ladder={})
    settings = parse_config(config, env={"DISCORD_TOKEN": "x"}).settings
    service = LadderService(sessions, settings, clock, Contributions(settings, clock))
    lowered, lifted = 3001, 3002
    now = clock.now()
    async with sessions() as session, session.begin():
        repo = MemberRepository(session, GUILD)
        for user in (lowered, lifted):
            await repo.seen(
                user, display_name="m", is_bot=False, now=now, joined_at=now - timedelta(days=90)
            )
    [credit] = await give(service, lowered, "answer", days_ago=2)
    await give(service, lifted, "answer", 2, days_ago=3)
    [penalty] = await give(service, lifted, "content", days_ago=2, points=-15)
    async with sessions() as session, session.begin():
        for row in (credit, penalty):
            await service.contributions.reverse(session, row, actor_id=7, reason="no")
    for user in (lowered, lifted):
        await active_on(sessions, user, weeks_back(clock, 3))

    planned, snapshot = await service._plan(None)

    assert lifted in snapshot.members, "a penalty taken back raises points: read in full"
    assert lowered not in snapshot.members, "a credit taken back can't lift anyone"
    assert [(p.user_id, p.decision.action) for p in planned] == [(lifted, "promote")]


async def test_a_sweep_writes_its_batches_side_by_side_on_postgresql_only(
    sessions, settings, clock, monkeypatch
):
    """PostgreSQL locks only the rows a batch writes: the batches go side by side. SQLite has
    one writer: one batch at a time. Either way every promotion is written once."""
    monkeypatch.setattr(ladder_service, "APPLY_BATCH", 2)
    service = LadderService(sessions, settings, clock, Contributions(settings, clock))
    postgresql = dialect_of(sessions) == "postgresql"
    assert service._writers == (service._readers if postgresql else 1)
    users = list(range(4001, 4008))
    now = clock.now()
    async with sessions() as session, session.begin():
        repo = MemberRepository(session, GUILD)
        for user in users:
            await repo.seen(
                user, display_name="m", is_bot=False, now=now, joined_at=now - timedelta(days=90)
            )
    for user in users:
        await helper_material(service, sessions, clock, user)
    running = most = started = 0
    batches = -(-len(users) // 2)
    together = asyncio.Event()
    write = service._write

    async def counted(*args: Any) -> Any:
        """A batch's write waits until as many batches write as may (or all have started)."""
        nonlocal running, most, started
        running += 1
        started += 1
        most = max(most, running)
        if running >= service._writers or started == batches:
            together.set()
        try:
            await asyncio.wait_for(together.wait(), 10)
            return await write(*args)
        finally:
            running -= 1

    monkeypatch.setattr(service, "_write", counted)
    report = await service.sweep()
    assert [(c.user_id, c.action, c.to_tier) for c in report.changes] == [
        (user, "promote", "helper") for user in users
    ]
    assert most == service._writers
    async with sessions() as session:
        audit = await session.scalars(
            select(TierChange.user_id).where(TierChange.guild_id == GUILD)
        )
        assert sorted(audit) == users
        states = await session.scalars(
            select(TierState.user_id).where(TierState.tier_key == "helper")
        )
        assert sorted(states) == users
