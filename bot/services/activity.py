"""Message activity: decided per message in memory, written as daily rollups in batches.

``observe`` runs on every guild message and never touches the database: the counter in
:mod:`bot.core.activity` decides and buffers, and a flusher writes everything buffered every
``activity.flush_interval_seconds`` in one transaction: the ``activity_days`` rollups and the
day's ``message_day`` ledger credit, plus, every ``PRESENCE_WRITE_SECONDS`` (10 s),
``channel_presence`` (who last posted where, for /thanks; read from memory first). A day is
credited once its first counted message is past the uncount window
(``uncount_deleted_within_seconds``), so posting and quickly deleting earns nothing.

Durability: a graceful shutdown (SIGTERM, Ctrl-C) stops the flusher and writes what is left,
including presence and the credits still waiting out the window. A crash (kill -9, power loss)
loses at most the last flush interval of *passive* counts (0.5 s by default) and the last
10 s plus a flush interval of presence (a /thanks right after the restart may miss a post from
just before the crash); Discord does not resend those messages. A day's credit still waiting
out the window is not lost: its rollup was written, and ``recover`` (run when the flusher
starts) credits active days without a credit. Acknowledged actions such as /thanks are written
synchronously before the member sees the answer: a crash never loses one.

A failed write rolls back, puts the batch back and is retried on the next flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.activity import (
    ActivityCounter,
    ActivityRules,
    MessageFacts,
    RollupBatch,
    RollupKey,
    Verdict,
)
from bot.services.contributions import Contributions
from db.engine import bound_dialect
from db.repositories.activity import ActivityRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.presence import PresenceRepository

log = logging.getLogger(__name__)

_OTHER_GUILD = Verdict(False, "other server")
_HELD = Verdict(False, "held for the history catch-up")
#: /thanks asks "posted here in the last N hours", so a stored presence may lag the latest post
#: by this much: a chatty member's row is rewritten every few minutes, not on every flush.
PRESENCE_PRECISION = timedelta(minutes=5)
#: Presence is keyed by one integer per (channel, member), ``channel << 64 | member``: a dict
#: of integers and times is one CPython's garbage collector never walks, where tuple keys made
#: the buffer of 40,000 pairs part of every full collection (bench/ingest.py).
Pair = int
_PAIR = 1 << 64


def _pair(channel_id: int, user_id: int) -> Pair:
    return channel_id * _PAIR + user_id


#: Presence is written at most this often, not with every flush: ``last_post`` reads the buffer
#: first, so only a crash can lose it (then "posted here recently" misses this much at most).
PRESENCE_WRITE_SECONDS = 10.0
#: At start-up, active days this far back whose credit a crash lost are credited.
RECOVER_DAYS = 7
#: While writes keep failing, repeat the warning at most this often.
_FAILURE_LOG_EVERY = 60.0


def activity_rules(settings: Settings) -> ActivityRules:
    activity = settings.activity
    return ActivityRules(
        cooldown_seconds=activity.cooldown_seconds,
        min_length=activity.min_length,
        ignored_channels=frozenset(activity.ignored_channels),
        ignored_categories=frozenset(activity.ignored_categories),
        uncount_deleted_within_seconds=activity.uncount_deleted_within_seconds,
        timezone=settings.schedule.tz,
    )


def day_source(user_id: int, day: date) -> str:
    """The ledger source of a member's active day: one ``message_day`` credit per day."""
    return f"day:{user_id}:{day.isoformat()}"


class _PendingDay(NamedTuple):
    #: When the day's first counted message can no longer be taken back.
    due: datetime
    #: Messages counted for the day since it became pending, minus those taken back.
    net: int


class HeldPost(NamedTuple):
    message_id: int
    author_id: int
    channel_id: int
    parent_channel_id: int | None
    category_id: int | None
    created_at: datetime
    content: str

    def message_id_author_time(self) -> tuple[int, int, datetime]:
        return self.message_id, self.author_id, self.created_at


@dataclass(frozen=True)
class FlushResult:
    #: Member-days whose rollup grew, messages taken back, presence rows written.
    member_days: int = 0
    uncounted: int = 0
    presence: int = 0
    #: Members who got a new ``message_day`` credit.
    credited: frozenset[int] = frozenset()
    #: The write failed; everything was put back for the next flush.
    failed: bool = False


class ActivityService:
    """One per bot: the counter, the presence buffer and the flusher that writes both."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
        *,
        remembered_messages: int = 50_000,
        presence_write_seconds: float = PRESENCE_WRITE_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.contributions = contributions
        self.guild_id = settings.discord.guild_id
        self.counter = ActivityCounter(
            activity_rules(settings), remembered_messages=remembered_messages
        )
        self._tz: ZoneInfo = settings.schedule.tz
        #: (channel, member) -> latest post seen since the last flush.
        self._presence: dict[Pair, datetime] = {}
        #: The presence being written right now, still consulted by ``last_post``.
        self._writing: dict[Pair, datetime] = {}
        #: What the database holds for pairs written within the last PRESENCE_PRECISION.
        self._stored: dict[Pair, datetime] = {}
        self._stored_pruned: datetime | None = None
        self._presence_every = presence_write_seconds
        #: ``clock.monotonic()`` of the last presence write; None: due at the next flush.
        self._presence_written: float | None = None
        #: Member-days already credited (or found credited), so a flush skips them.
        self._credited: set[RollupKey] = set()
        #: Member-days counted but not yet credited: a day is credited once its messages can
        #: no longer be taken back, so posting and deleting earns nothing.
        self._pending_days: dict[RollupKey, _PendingDay] = {}
        self._settle_after = timedelta(seconds=settings.activity.uncount_deleted_within_seconds)
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._failing_since: float | None = None
        self._last_failure_log = 0.0
        #: Members' posts kept aside while a history catch-up recounts their days (``hold``).
        self._held: list[HeldPost] | None = None

    # --- hot path: no awaits -------------------------------------------------------------------

    def observe(self, facts: MessageFacts) -> Verdict:
        """Count a message (or not) and note that its author posted in its channel."""
        if facts.guild_id != self.guild_id:
            return _OTHER_GUILD
        if facts.author_is_bot or facts.is_webhook or facts.is_system:
            return self.counter.observe(facts)
        return self.observe_post(
            facts.message_id,
            facts.author_id,
            facts.channel_id,
            facts.parent_channel_id,
            facts.category_id,
            facts.created_at,
            facts.content,
        )

    def observe_post(
        self,
        message_id: int,
        author_id: int,
        channel_id: int,
        parent_channel_id: int | None,
        category_id: int | None,
        created_at: datetime,
        content: str,
    ) -> Verdict:
        """``observe`` for a member's own post in this server, from plain values (the hot path)."""
        self._posted(channel_id, parent_channel_id, author_id, created_at)
        if self._held is not None:
            self._held.append(
                HeldPost(
                    message_id,
                    author_id,
                    channel_id,
                    parent_channel_id,
                    category_id,
                    created_at,
                    content,
                )
            )
            return _HELD
        return self.counter.observe_post(
            message_id,
            author_id,
            channel_id,
            parent_channel_id,
            category_id,
            created_at,
            content,
        )

    def hold(self) -> None:
        """Keep members' posts aside, uncounted, until :meth:`release`.

        A catch-up from history (``BackfillService.fill_gap``) recounts the days since the
        last stored message and writes each day's count as history shows it; a live post
        counted meanwhile would be added on top of a day the catch-up then raises, or be
        counted twice. The catch-up counts the held posts with history's (``take_held``).
        """
        if self._held is None:
            self._held = []

    @property
    def holding(self) -> bool:
        """Whether members' posts are held for a history catch-up."""
        return self._held is not None

    def take_held(self) -> list[HeldPost]:
        """The posts held so far (still holding): the catch-up counts them with history's,
        told apart from history's by message id."""
        if self._held is None:
            return []
        held, self._held = self._held, []
        return held

    def release(self, earlier: ActivityCounter | None = None) -> int:
        """Stop holding: count the posts held since :meth:`take_held`, continuing
        ``earlier``'s count (its cooldowns, and the messages it saw, which are not counted
        again); returns how many were held."""
        held, self._held = self._held or [], None
        if earlier is not None:
            self.counter.continue_from(earlier)
        for post in held:
            self.counter.observe_post(*post)
        return len(held)

    def deleted(self, message_id: int) -> bool:
        """A message was deleted; True if it had counted and was taken back."""
        return self.counter.deleted(message_id, deleted_at=self.clock.now())

    def _posted(
        self, channel_id: int, parent_channel_id: int | None, user_id: int, at: datetime
    ) -> None:
        """Presence is "posted here recently", counted or not; a thread post also counts for
        its parent, so a thanks in either place finds it."""
        self._touch(_pair(channel_id, user_id), at)
        if parent_channel_id is not None:
            self._touch(_pair(parent_channel_id, user_id), at)

    def _touch(self, key: Pair, at: datetime) -> None:
        previous = self._presence.get(key)
        if previous is None or at > previous:
            self._presence[key] = at

    # --- reads ---------------------------------------------------------------------------------

    async def last_post(self, channel_ids: Collection[int], user_id: int) -> datetime | None:
        """The member's latest post in any of ``channel_ids``: buffered first, then stored.

        A stored time may be up to PRESENCE_PRECISION older than the latest post.
        """
        buffered = [
            at
            for pending in (self._presence, self._writing)
            for channel_id in channel_ids
            if (at := pending.get(_pair(channel_id, user_id))) is not None
        ]
        if buffered:
            return max(buffered)  # newer than anything already written
        async with self.sessions() as session:
            return await PresenceRepository(session, self.guild_id).last_post(channel_ids, user_id)

    # --- writing -------------------------------------------------------------------------------

    def start(self) -> None:
        """Compile the flush's batch writes, start the periodic flusher (idempotent)."""
        dialect = bound_dialect(self.sessions)
        if dialect is not None:
            ActivityRepository.prepare(dialect)
            PresenceRepository.prepare(dialect)
        if self._flusher is None or self._flusher.done():
            self._stopping.clear()
            self._flusher = asyncio.create_task(self._run(), name="activity-flusher")

    async def close(self) -> None:
        """Stop the flusher and write everything observed so far. Safe to call twice."""
        self._stopping.set()
        task, self._flusher = self._flusher, None
        if task is not None:
            await task
        await self.flush(final=True)

    async def recover(self) -> frozenset[int]:
        """Credit the active days whose credit a crash lost; returns the members credited.

        A day's rollup is written within a flush interval, but its ``message_day`` credit
        waits out the uncount window in memory. After a crash the rollup still says the
        member was active that day, so the credit is given at start-up (deletions made while
        the bot was away can't be seen anyway). Days older than RECOVER_DAYS are left alone.
        """
        now = self.clock.now()
        since = now.astimezone(self._tz).date() - timedelta(days=RECOVER_DAYS)
        async with self._lock:
            async with self.sessions() as session, session.begin():
                days = await ActivityRepository(session, self.guild_id).member_days_since(since)
                credited = await LedgerRepository(session, self.guild_id).source_ids(
                    "message_day", since=datetime.combine(since, time.min, tzinfo=self._tz)
                )
                lost = [key for key in days if day_source(*key) not in credited]
                new = await self.credit_days(session, lost, now) if lost else []
            self._remember_credited(days, now)
        users = frozenset(user_id for user_id, _ in new)
        if users:
            log.warning(
                "activity: credited %d active day(s) whose credit was lost when the bot "
                "stopped without shutting down",
                len(new),
            )
            await self.contributions.changed(users)
        return users

    async def _run(self) -> None:
        try:
            await self.recover()
        except Exception:  # the store may be briefly unavailable: the next start tries again
            log.exception("activity: could not check for day credits lost in a crash")
        interval = self.settings.activity.flush_interval_seconds
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
            if self._stopping.is_set():
                return  # ``close`` writes the rest
            try:
                await self.flush()
            except Exception:  # flush logs its own failures; this keeps the loop alive
                log.exception("activity: unexpected error in the flusher")

    async def flush(self, *, final: bool = False) -> FlushResult:
        """Write everything buffered in one transaction; on failure, keep it for next time.

        Presence goes in only every ``presence_write_seconds`` (and when ``final``): a busy
        server touches a row per new channel-and-member pair, and writing those in fewer,
        larger batches keeps the flush light while messages pour in. ``final`` (shutdown) also
        credits days still inside the uncount window, since their deletions would no longer be
        seen anyway.
        """
        async with self._lock:
            now = self.clock.now()
            batch = self.counter.drain()
            pending = self._pending_after(batch, now)
            settled = [k for k, day in pending.items() if final or day.due <= now]
            with_presence = bool(self._presence) and (final or self._presence_due())
            if batch.empty and not settled and not with_presence:
                return FlushResult()
            presence: dict[Pair, datetime] = {}
            if with_presence:
                presence, self._presence = self._presence, {}
            self._writing = presence
            stale = self._stale_presence(presence)
            try:
                with self.contributions.metrics.activity_flush_seconds.time():
                    credited = await self._write(batch, settled, stale, now)
            except BaseException as exc:
                self.counter.requeue(batch)
                self._merge_presence(presence)
                if not isinstance(exc, Exception):
                    raise
                self._log_failure(exc, len(batch.increments) + len(batch.decrements))
                return FlushResult(failed=True)
            finally:
                self._writing = {}
            self._recovered()
            if with_presence:
                self._presence_written = self.clock.monotonic()
            self._remember_stored(stale)
            for key in settled:
                del pending[key]
            self._pending_days = pending
            self._remember_credited(settled, now)
        users = frozenset(user_id for user_id, _ in credited)
        await self.contributions.changed(users)
        return FlushResult(
            member_days=len(batch.increments),
            uncounted=len(batch.decrements),
            presence=len(stale),
            credited=users,
        )

    async def _write(
        self,
        batch: RollupBatch,
        settled: list[RollupKey],
        stale: dict[Pair, datetime],
        now: datetime,
    ) -> list[RollupKey]:
        """One flush's transaction: rollups, settled day credits, presence."""
        async with self.sessions() as session, session.begin():
            rollups = ActivityRepository(session, self.guild_id)
            await rollups.add_messages(batch.increments)
            for user_id, day in batch.decrements:
                await rollups.remove_message(user_id, day)
            credited = await self.credit_days(session, settled, now)
            await PresenceRepository(session, self.guild_id).record(
                {divmod(key, _PAIR): at for key, at in stale.items()}
            )
        return credited

    def _pending_after(self, batch: RollupBatch, now: datetime) -> dict[RollupKey, _PendingDay]:
        """The days awaiting their credit once ``batch`` is written (a copy: it may fail)."""
        pending = dict(self._pending_days)
        due = now + self._settle_after
        for key, amount in batch.increments.items():
            if key in self._credited:
                continue
            day = pending.get(key)
            pending[key] = (
                _PendingDay(due, amount) if day is None else day._replace(net=day.net + amount)
            )
        for key in batch.decrements:
            day = pending.get(key)
            if day is None:
                continue
            if day.net <= 1:  # all taken back: a later message starts the wait afresh
                del pending[key]
            else:
                pending[key] = day._replace(net=day.net - 1)
        return pending

    async def credit_days(
        self, session: AsyncSession, keys: Iterable[RollupKey], now: datetime
    ) -> list[RollupKey]:
        """One ``message_day`` credit per settled member-day; the ledger ignores repeats.

        One statement per flush, and only once a day per member (``_credited`` remembers the
        rest), so the cost follows active members, not messages.
        """
        keys = list(keys)
        credits = [
            self.contributions.credit(
                "message_day",
                user_id,
                day_source(user_id, day),
                occurred_at=self._within_day(day, now),
            )
            for user_id, day in keys
        ]
        new = {c.source_id for c in await self.contributions.record_many(session, credits)}
        return [key for key, c in zip(keys, credits, strict=True) if c.source_id in new]

    def _within_day(self, day: date, now: datetime) -> datetime:
        """``now``, moved into ``day`` if a retry or a skewed clock put it outside."""
        start = datetime.combine(day, time.min, tzinfo=self._tz)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=self._tz)
        if now < start:
            return start
        if now >= end:
            return end - timedelta(microseconds=1)
        return now

    def _remember_credited(self, keys: Iterable[RollupKey], now: datetime) -> None:
        self._credited.update(keys)
        # Only today and yesterday can still get messages (late events, time zones).
        oldest = now.astimezone(self._tz).date() - timedelta(days=1)
        if any(day < oldest for _, day in self._credited):
            self._credited = {key for key in self._credited if key[1] >= oldest}

    def _presence_due(self) -> bool:
        last = self._presence_written
        return last is None or self.clock.monotonic() - last >= self._presence_every

    def _stale_presence(self, presence: dict[Pair, datetime]) -> dict[Pair, datetime]:
        """The posts the database doesn't know about to within PRESENCE_PRECISION."""
        stored = self._stored
        return {
            key: at
            for key, at in presence.items()
            if (known := stored.get(key)) is None or at - known >= PRESENCE_PRECISION
        }

    def _remember_stored(self, written: dict[Pair, datetime]) -> None:
        if not written:
            return
        self._stored.update(written)
        newest = max(written.values())
        if self._stored_pruned is None or newest - self._stored_pruned >= PRESENCE_PRECISION:
            # A pair older than the precision is rewritten on its next post anyway.
            horizon = newest - PRESENCE_PRECISION
            self._stored = {key: at for key, at in self._stored.items() if at > horizon}
            self._stored_pruned = newest

    def _merge_presence(self, presence: dict[Pair, datetime]) -> None:
        for key, at in presence.items():
            self._touch(key, at)

    def _log_failure(self, exc: Exception, rows: int) -> None:
        now = self.clock.monotonic()
        if self._failing_since is None:
            self._failing_since = now
            self._last_failure_log = now
            log.error(
                "activity: could not write %d rollup change(s); will retry", rows, exc_info=exc
            )
        elif now - self._last_failure_log >= _FAILURE_LOG_EVERY:
            self._last_failure_log = now
            log.warning(
                "activity: writes failing for %.0f s (%s); %d increment(s) waiting",
                now - self._failing_since,
                exc,
                self.counter.pending,
            )

    def _recovered(self) -> None:
        if self._failing_since is not None:
            log.warning("activity: writes work again; the buffered counts were written")
            self._failing_since = None
