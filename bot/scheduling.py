"""Scheduled work in one registry, run one way.

Every recurring thing the bot does is an entry here, declared by the feature that owns it:

* :class:`Recurring`: work at set local times (the ladder's daily sweep, data retention, buddy
  settlement). Each run works out from the store and the clock what to do, so a late or
  repeated wake-up is harmless.
* :class:`OncePerPeriod`: something that goes out once per period (the weekly recognition, the
  newsletter, a ritual, the NPS survey). The period is claimed in ``scheduled_posts`` before
  anything is sent; a crash leaves the claim for :meth:`Schedule.recover` to finish; after
  downtime only the latest due period within the catch-up grace goes out, older ones are
  recorded as skipped (and the entry's ``skipped`` hook tells moderators).

APScheduler only wakes entries up at their local times (``schedule.timezone``). :class:`Schedule`
is the one place jobs are registered, so it is also the one place that decides which process
runs them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.core.periods import Cadence, Period, catch_up
from bot.metrics import Metrics
from bot.services.background import Background
from bot.services.recognition import Claim, ClaimResult, RecognitionService
from bot.services.retry import RetryPolicy, retried

log = logging.getLogger(__name__)

#: A wake-up held up this long (the loop busy, a slow start) still runs; later, catch-up decides.
DEFAULT_MISFIRE_GRACE_SECONDS = 3600

Deliver = Callable[[Period, Claim, bool], Awaitable[None]]
"""Send a claimed period (``True``: finishing after a restart); mark it posted or release it."""


def daily(at: time) -> dict[str, int]:
    """Cron fields for once a day at ``at`` (local time)."""
    return {"hour": at.hour, "minute": at.minute}


def _same(period: Period) -> Period:
    return period


def _always_open(period: Period, now: datetime) -> bool:
    return True


@dataclass(frozen=True)
class Recurring:
    """Work at set local times: ``cron`` fields (APScheduler's) or ``every`` a fixed interval."""

    key: str
    run: Callable[[], Awaitable[object]]
    cron: Mapping[str, Any] | None = None
    every: timedelta | None = None
    misfire_grace_seconds: int = DEFAULT_MISFIRE_GRACE_SECONDS

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every is None):
            raise ValueError(f"{self.key}: give exactly one of cron and every")


@dataclass(frozen=True)
class OncePerPeriod:
    """One post (or survey) per period, claimed before it is sent and never sent twice.

    ``period_at`` maps a due occurrence to the period the post is about (the NPS survey asks
    about the quarter it is sent in); ``period_from_key`` reads a stored claim's period back for
    recovery; ``is_open`` says whether a period can still go out at all. ``in_background`` runs
    ``deliver`` as tracked background work (a survey's paced DMs take minutes).
    """

    kind: str
    title: str
    period_kind: str
    cadence: Cadence
    cron: Mapping[str, Any]
    grace: timedelta
    deliver: Deliver
    period_from_key: Callable[[str], Period | None]
    period_at: Callable[[Period], Period] = _same
    is_open: Callable[[Period, datetime], bool] = _always_open
    skipped: Callable[[Period, datetime], Awaitable[None]] | None = None
    in_background: bool = False
    misfire_grace_seconds: int = DEFAULT_MISFIRE_GRACE_SECONDS


@dataclass
class Schedule:
    """The registry of scheduled work, and the once-per-period machinery they share."""

    scheduler: AsyncIOScheduler
    claims: RecognitionService
    clock: Clock
    tz: ZoneInfo
    background: Background
    recurring: dict[str, Recurring] = field(default_factory=dict)
    periodic: dict[str, OncePerPeriod] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Set once the start-up catch-up is done (tests and the demo wait for it).
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    #: Tells moderators (the mod log) when the catch-up finally fails.
    alert: Callable[[str], Awaitable[object]] | None = None
    #: The start-up catch-up is retried: a busy store at start-up must not skip a post.
    catch_up_retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: Counts posts made on time, made late (caught up) and skipped.
    metrics: Metrics = field(default_factory=Metrics)

    def start(self) -> None:
        self.scheduler.start()

    def pause(self) -> None:
        """No more wake-ups: shutting down, work already running is finished (or cancelled)
        as tracked background work before the store closes."""
        if self.scheduler.running:
            self.scheduler.pause()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    # ------------------------------------------------------------------ the registry
    def add(self, entry: Recurring | OncePerPeriod) -> None:
        """Register ``entry`` (replacing one with the same key) and its wake-up job."""
        if isinstance(entry, Recurring):
            self.recurring[entry.key] = entry
            trigger: Any = (
                CronTrigger(timezone=self.tz, **entry.cron)
                if entry.cron is not None
                else IntervalTrigger(seconds=entry.every.total_seconds())  # type: ignore[union-attr]
            )
            self._job(entry.key, entry.run, trigger, entry.misfire_grace_seconds)
        else:
            self.periodic[entry.kind] = entry
            trigger = CronTrigger(timezone=self.tz, **entry.cron)
            self._job(entry.kind, self.run_due, trigger, entry.misfire_grace_seconds, entry.kind)

    def remove(self, key: str) -> None:
        self.recurring.pop(key, None)
        self.periodic.pop(key, None)
        if self.scheduler.get_job(key) is not None:
            self.scheduler.remove_job(key)

    def _job(self, key: str, func: Any, trigger: Any, grace: int, *args: Any) -> None:
        self.scheduler.add_job(
            self._tracked,
            trigger,
            args=[key, func, *args],
            id=key,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace,
        )

    async def _tracked(self, key: str, func: Any, *args: Any) -> None:
        """Run a wake-up's work as tracked background work, and wait for it.

        APScheduler's shutdown cancels the jobs it runs without waiting for them: a post cut
        off mid-way, on a store closing under it. Tracked, shutdown lets it finish first (and
        the error, if any, is logged once, by the background).
        """
        await asyncio.wait({self.background.spawn(func(*args), name=f"schedule: {key}")})

    # ------------------------------------------------------------------ once per period
    async def run_due(self, kind: str) -> None:
        """Send ``kind`` if a period is due now; record (and report) any missed beyond the grace."""
        entry = self.periodic.get(kind)
        if entry is None:
            return
        async with self._lock:
            now = self.clock.now()
            plan = catch_up(
                entry.period_kind,
                entry.cadence,
                now=now,
                tz=self.tz,
                grace=entry.grace,
                since=await self.claims.due_since(kind),
            )
            for missed in plan.skip:
                await self._skip(entry, entry.period_at(missed), missed.scheduled_at)
            if plan.post is None:
                return
            period = entry.period_at(plan.post)
            if not entry.is_open(period, now):
                await self._skip(entry, period, plan.post.scheduled_at)
                return
            result = await self.claims.claim(kind, period.key, delayed=plan.delayed)
        if result.claim is not None:
            self.metrics.scheduled(kind, "late" if plan.delayed else "made")
            await self._deliver(entry, period, result.claim, recovering=False)

    async def send_now(self, kind: str, period: Period, *, force: bool = False) -> ClaimResult:
        """A moderator's send: claimed like a scheduled one (a posted period only with force)."""
        entry = self.periodic[kind]
        async with self._lock:
            result = await self.claims.claim(kind, period.key, force=force)
        if result.claim is not None:
            await self._deliver(entry, period, result.claim, recovering=False)
        return result

    async def _deliver(
        self, entry: OncePerPeriod, period: Period, claim: Claim, *, recovering: bool
    ) -> None:
        if entry.in_background:
            self.background.spawn(
                entry.deliver(period, claim, recovering), name=f"{entry.kind}-{period.key}"
            )
        else:
            await entry.deliver(period, claim, recovering)

    async def _skip(self, entry: OncePerPeriod, period: Period, due: datetime) -> None:
        when = f"{due:%Y-%m-%d %H:%M %Z}"
        note = f"missed: due {when} while the bot was offline, beyond the catch-up window"
        if not await self.claims.record_skipped(entry.kind, period.key, note=note):
            return
        self.metrics.scheduled(entry.kind, "skipped")
        log.warning(
            "schedule: skipped the %s for %s (%s): it was due %s, longer ago than the catch-up "
            "window allows (schedule.catch_up_grace_days)",
            entry.title,
            period.key,
            period.label,
            when,
        )
        if entry.skipped is not None:
            await entry.skipped(period, due)

    async def recover(self) -> None:
        """Finish what a crash interrupted; release claims nothing can finish any more."""
        for claim in await self.claims.unfinished():
            entry = self.periodic.get(claim.kind)
            period = None if entry is None else entry.period_from_key(claim.period)
            if entry is None or period is None:
                await self.claims.release(claim, note="no longer configured")
                log.warning(
                    "schedule: dropped an unfinished %s for %s: it is no longer in the config",
                    claim.kind,
                    claim.period,
                )
                continue
            if not entry.is_open(period, self.clock.now()):
                await self.claims.release(claim, note="closed before it was finished")
                continue
            log.info("schedule: finishing the %s for %s after a restart", entry.title, period.key)
            await self._deliver(entry, period, claim, recovering=True)

    async def catch_up(self) -> None:
        """At start-up: finish interrupted work, then send whatever fell due while offline.

        Retried with backoff: the next wake-up may be past the catch-up window, so a failure
        here (the store busy at start-up) would otherwise skip a post without a word.
        """
        try:
            await retried(
                self._catch_up_once, what="the start-up catch-up", policy=self.catch_up_retry
            )
        except Exception as exc:
            log.exception("schedule: the start-up catch-up failed after every retry")
            if self.alert is not None:
                await self.alert(
                    "⚠️ I couldn't catch up on scheduled posts after starting "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}), even after "
                    f"{self.catch_up_retry.attempts} tries. Posts that fell due while I was "
                    "offline may be missing.\nFix: check that the database is reachable and "
                    "not locked by another program, then restart me, or send what is missing "
                    "with `/recognition send` and `/nps send`."
                )
        finally:
            self.caught_up.set()

    async def _catch_up_once(self) -> None:
        await self.recover()
        for kind in list(self.periodic):
            await self.run_due(kind)
