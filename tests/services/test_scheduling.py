"""The schedule registry on a real store: claim once, catch up, skip, recover, remove.

Entries are real ``OncePerPeriod``/``Recurring`` declarations; ``deliver`` records what it was
asked to send and marks the claim posted, as every real entry does.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import WeeklyAt, parse_config
from bot.core.periods import Period, next_occurrence
from bot.core.rhythm import Rhythm, period_for_key
from bot.scheduling import OncePerPeriod, Recurring, Schedule, daily
from bot.services.background import Background
from bot.services.contributions import Contributions
from bot.services.recognition import Claim, RecognitionService
from bot.services.retry import RetryPolicy
from db.faults import StoreFaults
from tests.helpers import minimal_config

UTC = ZoneInfo("UTC")
WEEKLY = WeeklyAt(0, dt.time(10, 0))


@pytest.fixture
def claims(sessions, clock) -> RecognitionService:
    settings = parse_config(minimal_config(), env={"DISCORD_TOKEN": "x"}).settings
    return RecognitionService(sessions, settings, clock, Contributions(settings, clock))


@pytest.fixture
def schedule(claims, clock) -> Schedule:
    return Schedule(AsyncIOScheduler(timezone=UTC), claims, clock, UTC, Background())


class Sent:
    """A deliver step that posts by marking the claim, and remembers what it sent."""

    def __init__(self, claims: RecognitionService) -> None:
        self.claims = claims
        self.periods: list[tuple[str, bool]] = []
        self.skipped: list[str] = []

    async def deliver(self, period: Period, claim: Claim, recovering: bool) -> None:
        self.periods.append((period.key, recovering))
        await self.claims.mark_posted(claim, channel_id=1, message_id=2)

    async def skip(self, period: Period, due: dt.datetime) -> None:
        self.skipped.append(period.key)


def weekly_entry(sent: Sent, *, grace_days: int = 3) -> OncePerPeriod:
    rhythm = Rhythm("weekly", "weekly", WEEKLY, timedelta(days=grace_days), 1, "weekly post")
    return OncePerPeriod(
        kind="weekly",
        title="weekly post",
        period_kind="weekly",
        cadence=WEEKLY,
        cron={"day_of_week": "mon", "hour": 10, "minute": 0},
        grace=timedelta(days=grace_days),
        deliver=sent.deliver,
        period_from_key=lambda key: period_for_key(rhythm, key, UTC),
        skipped=sent.skip,
    )


async def test_a_due_period_is_sent_once_however_often_it_wakes(schedule, claims, clock):
    sent = Sent(claims)
    schedule.add(weekly_entry(sent))
    await schedule.run_due("weekly")  # first start: the rhythm begins now, nothing is due
    clock.set(next_occurrence(WEEKLY, clock.now(), UTC) + timedelta(minutes=1))
    await schedule.run_due("weekly")
    await schedule.run_due("weekly")
    await schedule.catch_up()
    assert len(sent.periods) == 1 and sent.periods[0][1] is False
    assert schedule.caught_up.is_set()


async def test_a_busy_store_at_start_up_is_retried_and_the_post_still_goes_out(
    schedule, claims, clock, engine
):
    sent = Sent(claims)
    schedule.add(weekly_entry(sent))
    await schedule.run_due("weekly")
    clock.set(next_occurrence(WEEKLY, clock.now(), UTC) + timedelta(minutes=1))
    schedule.catch_up_retry = RetryPolicy(attempts=4, first_wait=0.01, max_wait=0.02)
    faults = StoreFaults.attach(engine)
    busy = faults.fail(match=r"FROM scheduled_posts", times=2)
    try:
        await schedule.catch_up()
    finally:
        faults.detach()
    assert busy.hits == 2
    assert len(sent.periods) == 1 and schedule.caught_up.is_set()


async def test_a_catch_up_that_keeps_failing_tells_moderators_how_to_fix_it(
    schedule, claims, clock, engine
):
    alerts: list[str] = []

    async def alert(text: str) -> None:
        alerts.append(text)

    sent = Sent(claims)
    schedule.add(weekly_entry(sent))
    await schedule.run_due("weekly")
    clock.set(next_occurrence(WEEKLY, clock.now(), UTC) + timedelta(minutes=1))
    schedule.alert = alert
    schedule.catch_up_retry = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.02)
    faults = StoreFaults.attach(engine)
    faults.fail(match=r"FROM scheduled_posts", times=None)
    try:
        await schedule.catch_up()
    finally:
        faults.detach()
    assert sent.periods == [] and schedule.caught_up.is_set()
    [text] = alerts
    assert "couldn't catch up on scheduled posts" in text and "after 3 tries" in text
    assert "database is locked" in text and "Fix:" in text and "/recognition send" in text
    # Once the store is back, the next wake-up sends what is due.
    await schedule.run_due("weekly")
    assert len(sent.periods) == 1


async def test_missed_beyond_the_grace_is_skipped_and_reported(schedule, claims, clock):
    sent = Sent(claims)
    schedule.add(weekly_entry(sent, grace_days=1))
    await schedule.run_due("weekly")
    clock.set(next_occurrence(WEEKLY, clock.now(), UTC) + timedelta(days=3))
    await schedule.run_due("weekly")
    assert sent.periods == [] and len(sent.skipped) == 1
    record = await claims.post_record("weekly", sent.skipped[0])
    assert record is not None and record.state == "skipped"
    await schedule.run_due("weekly")
    assert len(sent.skipped) == 1, "a skip is recorded (and reported) once"


async def test_posts_made_late_and_skipped_are_counted(schedule, claims, clock):
    sent = Sent(claims)
    schedule.add(weekly_entry(sent, grace_days=3))
    await schedule.run_due("weekly")
    clock.set(next_occurrence(WEEKLY, clock.now(), UTC) + timedelta(minutes=1))
    await schedule.run_due("weekly")  # on time
    clock.set(next_occurrence(WEEKLY, clock.now(), UTC) + timedelta(days=2))
    await schedule.run_due("weekly")  # caught up two days late
    clock.set(next_occurrence(WEEKLY, clock.now(), UTC) + timedelta(days=6))
    await schedule.run_due("weekly")  # beyond the grace: skipped
    await schedule.run_due("weekly")  # a skip is counted once

    def counted(outcome: str) -> float | None:
        return schedule.metrics.registry.get_sample_value(
            "flywheel_scheduled_posts_total", {"kind": "weekly", "outcome": outcome}
        )

    assert len(sent.periods) == 2 and len(sent.skipped) == 1
    assert (counted("made"), counted("late"), counted("skipped")) == (1, 1, 1)


async def test_recovery_finishes_with_the_owning_entry_and_drops_unknown_kinds(
    schedule, claims, clock
):
    sent = Sent(claims)
    schedule.add(weekly_entry(sent))
    period_key = f"{clock.now():%G-W%V}"
    mine = await claims.claim("weekly", period_key)
    orphan = await claims.claim("ritual:gone", "2026-11-23")
    assert mine.claim is not None and orphan.claim is not None

    await schedule.recover()

    assert sent.periods == [(period_key, True)]
    dropped = await claims.post_record("ritual:gone", "2026-11-23")
    assert dropped is not None and dropped.state == "skipped"
    assert "no longer configured" in (dropped.note or "")


async def test_a_closed_period_is_released_not_finished(schedule, claims):
    sent = Sent(claims)
    closed = OncePerPeriod(
        **{**weekly_entry(sent).__dict__, "kind": "survey", "is_open": lambda p, now: False}
    )
    schedule.add(closed)
    claimed = await claims.claim("survey", "2026-W40")
    assert claimed.claim is not None
    await schedule.recover()
    assert sent.periods == []
    record = await claims.post_record("survey", "2026-W40")
    assert record is not None and record.state == "skipped"


async def test_a_moderators_send_is_claimed_like_a_scheduled_one(schedule, claims, clock):
    sent = Sent(claims)
    entry = weekly_entry(sent)
    schedule.add(entry)
    period = entry.period_from_key(f"{clock.now():%G-W%V}")
    assert period is not None
    first = await schedule.send_now("weekly", period)
    again = await schedule.send_now("weekly", period)
    forced = await schedule.send_now("weekly", period, force=True)
    assert first.claim is not None and again.claim is None and again.outcome == "posted"
    assert forced.claim is not None and len(sent.periods) == 2


async def test_jobs_wake_at_the_configured_local_times_and_are_removed(schedule, clock):
    async def nothing() -> None:
        return None

    berlin = ZoneInfo("Europe/Berlin")
    schedule.tz = berlin
    schedule.add(Recurring("daily", nothing, cron=daily(dt.time(3, 30))))
    schedule.add(Recurring("hourly", nothing, every=timedelta(hours=1)))
    fire = schedule.scheduler.get_job("daily").trigger.get_next_fire_time(None, clock.now())
    assert fire.astimezone(berlin).time() == dt.time(3, 30)
    assert schedule.scheduler.get_job("hourly") is not None
    schedule.remove("daily")
    assert schedule.scheduler.get_job("daily") is None and "daily" not in schedule.recurring


def test_a_recurring_job_needs_exactly_one_rhythm():
    async def nothing() -> None:
        return None

    with pytest.raises(ValueError, match="exactly one"):
        Recurring("both", nothing, cron=daily(dt.time(1, 0)), every=timedelta(hours=1))
    with pytest.raises(ValueError, match="exactly one"):
        Recurring("neither", nothing)
