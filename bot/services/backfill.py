"""History backfill: credit what the live bot would have credited from the server's history.

History comes through a :class:`History` (``bot.history.DiscordHistory`` reads it with
discord.py's HTTP layer only: ``fetch_channels``, active and archived threads, ``history`` 100
a page with ``before``), so it runs inside the bot or from the CLI with a client that never
opens the gateway. The live rules are reused, not
copied: each message is screened by the activity counter's own rules as it is read and staged;
once every channel is read, the staged messages go through a fresh counter in time order (the
cooldown runs across channels), and the active days are credited with the activity service's
own ``message_day`` credits. Help threads go through the answers service (``thread_opened``,
``message_posted``: the earliest reply by someone else is kept) and ``mark`` for an answer the
history shows (:func:`bot.core.backfill.accepted_answer`). Thanks are only ever given with
/thanks, which the live bot recorded as it happened: history adds none. Events and invites
Discord no longer lists are not invented.

Idempotent with the live bot: the window ends when the first attempt began (``until``), day
credits and questions are keyed by member-day and thread, and a member-day's message count is
raised to the backfilled count, never added to what the live bot counted (so a message both saw
is never counted twice; a day both saw shows the larger of the two counts). Resumable: a
checkpoint per channel is written in the same transaction as the page it covers. Paced: up to
READERS channels are read at once, and the reader keeps their requests together under its
global pace (``bot.history``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.activity import ActivityCounter
from bot.core.backfill import Reply, accepted_answer, snowflake_at, summary_text
from bot.services.activity import ActivityService, activity_rules
from bot.services.answers import AnswersService, HelpThread, MarkRequest, solved_tag
from bot.services.background import together
from bot.services.effects import DiscordEffects
from bot.services.ladder_automation import LadderAutomation
from db.models import BackfillChannel, BackfillRun
from db.repositories.activity import ActivityRepository
from db.repositories.backfill import BackfillRepository, Staged
from db.repositories.privacy import Erasures
from db.repositories.questions import QuestionRepository

log = logging.getLogger(__name__)

PAGE = 100
APPROVE = "✅"
#: Channels read at once. Each channel's history has a bucket of its own (5 requests per 5 s on
#: Discord), so reading one channel at a time would use a fiftieth of what the limits allow;
#: the global pace (:mod:`bot.history`) caps the sum.
READERS = 50
#: The catch-up reads from the newest message on: anything stamped up to this far past our
#: clock (Discord's clock may run ahead of ours).
HISTORY_HORIZON = timedelta(hours=1)
NO_HISTORY = "no Read Message History permission"

T = TypeVar("T")


@dataclass(frozen=True)
class PastChannel:
    """A channel or thread whose history can be read (or not), as the reader found it."""

    channel_id: int
    #: For a thread, its parent (a forum or text channel).
    parent_id: int | None
    #: For a thread, its parent's category.
    category_id: int | None
    readable: bool
    owner_id: int | None = None
    title: str = ""
    created_at: datetime | None = None
    #: Names of the forum tags the post carries.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PastMessage:
    message_id: int
    author_id: int
    author_is_bot: bool
    is_webhook: bool
    is_system: bool
    content: str
    created_at: datetime
    #: The emoji reacted with, as text ("✅").
    reactions: tuple[str, ...] = ()


class History(Protocol):
    """What the backfill reads; ``bot.history.DiscordHistory`` reads it from Discord."""

    async def channels(self, wanted: Collection[int] | None) -> list[PastChannel]:
        """Text channels and every thread (active and archived) of text channels and forums."""
        ...

    async def page(self, channel_id: int, before: int) -> list[PastMessage]:
        """Up to PAGE messages older than ``before``, newest first."""
        ...

    async def reacted(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        """Whether ``user_id`` is among those who reacted with ``emoji``."""
        ...


@dataclass
class Progress:
    """What a run has done so far; surfaces render it (one edited message, a progress bar)."""

    channels_total: int = 0
    channels_done: int = 0
    messages_read: int = 0
    problems: list[str] = field(default_factory=list)
    finished: bool = False


@dataclass(frozen=True)
class GapReport:
    """What a history catch-up did (``since`` None: nothing was stored, nothing to catch up)."""

    since: datetime | None
    messages_read: int
    member_days: int
    held_posts: int


@dataclass(frozen=True)
class BackfillReport:
    progress: Progress
    members: int
    active_days: int
    questions: int
    answers: int
    #: Tier key -> members newly promoted into it by the closing evaluation.
    promoted: dict[str, int]
    dry_run: bool
    summary: str


OnProgress = Callable[[Progress], Awaitable[None]]


class BackfillService:
    """One per process; ``run`` is the whole backfill and may be cancelled at any await."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        activity: ActivityService,
        answers: AnswersService,
        tiers: LadderAutomation,
        effects: DiscordEffects,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.activity = activity
        self.answers = answers
        self.tiers = tiers
        self.effects = effects
        self.guild_id = settings.discord.guild_id
        self.progress = Progress()
        self._lock = asyncio.Lock()
        #: Channels are read concurrently, but the backfill writes one transaction at a time:
        #: SQLite has one writer, and the live bot's writes must get their turn.
        self._writes = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._lock.locked()

    async def run(
        self,
        history: History,
        *,
        span: timedelta,
        channel_ids: Collection[int] | None = None,
        dry_run: bool = False,
        announce: bool = True,
        on_progress: OnProgress | None = None,
    ) -> BackfillReport:
        """Read, credit, then evaluate the ladder once and post one summary.

        ``dry_run`` writes nothing (the counts are kept in memory); ``announce=False`` credits
        but leaves the ladder and the posts alone (a what-if on a scratch copy of the store).
        """
        async with self._lock:
            self.progress = progress = Progress()
            now = self.clock.now()
            staged: list[Staged] = []
            done: dict[int, BackfillChannel] = {}
            since, until = now - span, now
            if not dry_run:
                run, done = await _unbroken(self._begin(since, until, now))
                since, until, span = run.since, run.until, run.until - run.since
            async with self.sessions() as session:
                erased = await Erasures.load(session, self.guild_id)
            channels = await history.channels(channel_ids)
            progress.channels_total = len(channels)
            tally = [0, 0]  # questions, answers credited

            async def one(channel: PastChannel) -> None:
                mark = done.get(channel.channel_id)
                if mark is not None and mark.done:
                    progress.messages_read += mark.messages_read
                    if mark.problem:
                        progress.problems.append(f"<#{channel.channel_id}>: {mark.problem}")
                elif not channel.readable:
                    progress.problems.append(f"<#{channel.channel_id}>: {NO_HISTORY}")
                    if not dry_run:
                        await self._checkpoint(
                            channel.channel_id, None, [], done=True, problem=NO_HISTORY
                        )
                else:
                    cursor = mark.message_id if mark is not None else None
                    q, a = await self._read(
                        history,
                        channel,
                        since=since,
                        cursor=cursor or snowflake_at(until),
                        dry_run=dry_run,
                        staged=staged,
                        erased=erased,
                    )
                    tally[0] += q
                    tally[1] += a
                progress.channels_done += 1
                if on_progress is not None:
                    await on_progress(progress)

            await _each(channels, one, readers=READERS)
            questions, answers = tally
            if not dry_run:
                # What the live bot counted before ``until`` is in the store before the raise
                # to the backfilled counts (a count is raised, never added to).
                await _unbroken(self.activity.flush())
            members, days = await self._count(staged, until, dry_run=dry_run)
            promoted: dict[str, int] = {}
            summary = ""
            if not dry_run and announce:
                promoted = await self._quiet_ladder()
                summary = summary_text(
                    span, promoted, [(t.key, t.name) for t in reversed(self.settings.tiers)]
                )
                await self._announce(summary, progress, members, days, questions, answers)
            if not dry_run:
                await _unbroken(self._finish())
            progress.finished = True
            if on_progress is not None:
                await on_progress(progress)
            return BackfillReport(
                progress, members, days, questions, answers, promoted, dry_run, summary
            )

    async def fill_gap(self, history: History) -> GapReport:
        """After a start, a restart or a takeover: count what was said while no process was
        listening, from the start of the last day with a stored message up to now.

        The live counter holds members' posts meanwhile (``ActivityService.hold``, set before
        the gateway connects). Each day read is recounted whole from history, and its stored
        count raised to it (a count is raised, never added to, so what the previous process
        stored is not counted twice); then the held posts written since are counted on top,
        continuing the catch-up's cooldowns. Only activity is caught up: a question thread
        opened while no process listened is credited when it is next answered live.
        """
        async with self._lock:
            try:
                return await self._fill_gap(history)
            finally:
                self.activity.release()  # on failure too: live counting must not stay held

    async def _fill_gap(self, history: History) -> GapReport:
        rules = activity_rules(self.settings)
        async with self.sessions() as session:
            last_day = await ActivityRepository(session, self.guild_id).last_day()
            erased = await Erasures.load(session, self.guild_id)
        if last_day is None:  # nothing stored yet: a new server's history is /backfill's
            return GapReport(None, 0, 0, 0)
        since = datetime.combine(last_day, time.min, tzinfo=rules.timezone)
        now = self.clock.now()
        staged: dict[int, Staged] = {}
        read = [0]
        screen = ActivityCounter(rules)

        async def one(channel: PastChannel) -> None:
            # From the newest message on: what history and the held live posts both hold is
            # told apart by message id, not by a moment (Discord's clock is not ours).
            cursor = snowflake_at(now + HISTORY_HORIZON)
            while True:
                page = await history.page(channel.channel_id, cursor)
                for m in page:
                    if m.created_at < since or m.author_is_bot or m.is_webhook or m.is_system:
                        continue
                    if erased.erased_after(m.author_id, m.created_at):
                        continue
                    read[0] += 1
                    if (
                        screen.screen(
                            channel.channel_id, channel.parent_id, channel.category_id, m.content
                        )
                        is None
                    ):
                        staged[m.message_id] = (m.message_id, m.author_id, m.created_at)
                if len(page) < PAGE or page[-1].created_at < since:
                    return
                cursor = page[-1].message_id

        channels = [c for c in await history.channels(None) if c.readable]
        await _each(channels, one, readers=READERS)
        held = self.activity.take_held()
        for post in held:
            refused = screen.screen(
                post.channel_id, post.parent_channel_id, post.category_id, post.content
            )
            if refused is None and post.created_at >= since:
                staged.setdefault(post.message_id, post.message_id_author_time())
        counter = ActivityCounter(rules)
        for message_id, author_id, at in sorted(staged.values(), key=lambda s: (s[2], s[0])):
            counter.count_screened(message_id, author_id, at)
        members: set[int] = set()
        days = await self._write_counts(counter.drain().increments, self.clock.now(), members)
        self.activity.release(counter)
        if members:
            await self.activity.contributions.changed(frozenset(members))
        log.info(
            "history catch-up: %d message(s) read in %d channel(s) since %s, %d member-day(s) "
            "recounted, %d live post(s) held meanwhile",
            read[0],
            len(channels),
            last_day,
            days,
            len(held),
        )
        return GapReport(since, read[0], days, len(held))

    # --- reading -------------------------------------------------------------------------------

    def _question(self, channel: PastChannel, erased: Erasures) -> HelpThread | None:
        """The channel as a question, if it is a thread in a help forum or help channel (and
        its asker did not have their data erased since)."""
        if channel.parent_id is None or not self.answers.is_help_parent(channel.parent_id):
            return None
        if channel.owner_id is None or channel.created_at is None:
            return None
        if erased.erased_after(channel.owner_id, channel.created_at):
            return None
        return HelpThread(
            thread_id=channel.channel_id,
            parent_id=channel.parent_id,
            owner_id=channel.owner_id,
            title=channel.title,
            created_at=channel.created_at,
        )

    async def _read(
        self,
        history: History,
        channel: PastChannel,
        *,
        since: datetime,
        cursor: int,
        dry_run: bool,
        staged: list[Staged],
        erased: Erasures,
    ) -> tuple[int, int]:
        """Read one channel newest first; returns (questions, answers) credited.

        What members wrote before they had their data erased is passed over, as if deleted:
        Discord keeps their messages, but erased stays erased.
        """
        counter = self.activity.counter
        question = self._question(channel, erased)
        held: list[PastMessage] = []  # a question is decided once its thread is fully read
        while True:
            page = await history.page(channel.channel_id, cursor)
            fresh = [
                m
                for m in page
                if m.created_at >= since and not erased.erased_after(m.author_id, m.created_at)
            ]
            batch: list[Staged] = []
            for m in fresh:
                if m.author_is_bot or m.is_webhook or m.is_system:
                    continue
                refused = counter.screen(
                    channel.channel_id, channel.parent_id, channel.category_id, m.content
                )
                if refused is None:
                    batch.append((m.message_id, m.author_id, m.created_at))
            last = len(page) < PAGE or page[-1].created_at < since
            self.progress.messages_read += len(fresh)
            if question is not None:
                held.extend(fresh)
            if dry_run:
                staged.extend(batch)
            elif question is None:
                oldest = page[-1].message_id if page else None
                await self._checkpoint(
                    channel.channel_id, oldest, batch, done=last, read=len(fresh)
                )
            else:  # the checkpoint waits for the thread's end: resuming reads it whole
                await self._checkpoint(channel.channel_id, None, batch, done=False)
            if last:
                break
            cursor = page[-1].message_id
        if question is None:
            return 0, 0
        async with self._writes:
            result = await self._answer(history, channel, question, held, dry_run=dry_run)
        if not dry_run:
            await self._checkpoint(channel.channel_id, None, [], done=True, read=len(held))
        return result

    async def _answer(
        self,
        history: History,
        channel: PastChannel,
        question: HelpThread,
        messages: list[PastMessage],
        *,
        dry_run: bool,
    ) -> tuple[int, int]:
        asker = question.owner_id
        assert asker is not None
        ordered = sorted(messages, key=lambda m: m.message_id)
        replies = [
            Reply(
                m.message_id,
                m.author_id,
                m.author_is_bot,
                APPROVE in m.reactions
                and await history.reacted(channel.channel_id, m.message_id, APPROVE, asker),
            )
            for m in ordered
            if m.message_id != channel.channel_id  # a forum post's starter is the question
        ]
        solved = solved_tag(channel.tags, self.settings.answers.solved_tags) is not None
        answer = accepted_answer(asker_id=asker, solved=solved, replies=replies)
        if dry_run:
            return 1, int(answer is not None)
        return await _unbroken(self._record(question, ordered, answer))

    async def _record(
        self, question: HelpThread, ordered: list[PastMessage], answer: Reply | None
    ) -> tuple[int, int]:
        """The question, its replies and the answer history shows, through the answers
        service."""
        asker = question.owner_id
        assert asker is not None
        await self.answers.thread_opened(question)
        for m in ordered:
            await self.answers.message_posted(
                question, author_id=m.author_id, author_is_bot=m.author_is_bot, at=m.created_at
            )
        if answer is None:
            return 1, 0
        async with self.sessions() as session:
            recorded = await QuestionRepository(session, self.guild_id).get(question.thread_id)
        if recorded is None or recorded.answer_message_id is not None:
            return 1, 0  # the live bot's record stands
        result = await self.answers.mark(
            MarkRequest(
                thread=question,
                message_id=answer.message_id,
                author_id=answer.author_id,
                author_is_bot=answer.author_is_bot,
                marker_id=asker,
                marker_is_moderator=False,
            ),
            at=next(m.created_at for m in ordered if m.message_id == answer.message_id),
            quiet=True,
        )
        return 1, int(result.accepted is not None)

    # --- writing -------------------------------------------------------------------------------
    # Every write runs to its end through ``_unbroken``: a cancelled backfill (/backfill cancel)
    # stops after the transaction it is in, never inside it.

    async def _begin(
        self, since: datetime, until: datetime, now: datetime
    ) -> tuple[BackfillRun, dict[int, BackfillChannel]]:
        async with self.sessions() as session, session.begin():
            repo = BackfillRepository(session, self.guild_id)
            run = await repo.begin(since=since, until=until, now=now)
            return run, await repo.checkpoints()

    async def _finish(self) -> None:
        async with self.sessions() as session, session.begin():
            await BackfillRepository(session, self.guild_id).finish(self.clock.now())

    async def _checkpoint(
        self,
        channel_id: int,
        oldest: int | None,
        batch: list[Staged],
        *,
        done: bool,
        read: int = 0,
        problem: str | None = None,
    ) -> None:
        async with self._writes:
            await _unbroken(self._stage(channel_id, oldest, batch, done, read, problem))

    async def _stage(
        self,
        channel_id: int,
        oldest: int | None,
        batch: list[Staged],
        done: bool,
        read: int,
        problem: str | None,
    ) -> None:
        async with self.sessions() as session, session.begin():
            repo = BackfillRepository(session, self.guild_id)
            await repo.stage(batch)
            await repo.advance(channel_id, oldest=oldest, read=read, done=done, problem=problem)

    async def _count(
        self, staged: list[Staged], until: datetime, *, dry_run: bool
    ) -> tuple[int, int]:
        """The cooldown in time order across channels, then rollups and day credits.

        Written a day at a time: once the messages move past a day, its counts are final, so
        memory holds one day's counts rather than the whole history's (a million messages make
        about as many member-days). Each day's write is idempotent (counts are raised, credits
        keyed), so a crash between days loses nothing a rerun does not redo.
        """
        rules = activity_rules(self.settings)
        counter = ActivityCounter(rules)
        if dry_run:
            for mid, uid, at in sorted(staged, key=lambda s: (s[2], s[0])):
                counter.count_screened(mid, uid, at)
            counts = counter.drain().increments
            return len({uid for uid, _ in counts}), len(counts)
        members: set[int] = set()
        days = 0
        current: date | None = None
        last: Staged | None = None
        while True:
            async with self.sessions() as session:
                page = await BackfillRepository(session, self.guild_id).staged_page(last)
            if not page:
                break
            for mid, uid, at in page:
                day = at.astimezone(rules.timezone).date()
                if day != current and current is not None:
                    days += await self._write_counts(counter.drain().increments, until, members)
                current = day
                counter.count_screened(mid, uid, at)
            last = page[-1]
        days += await self._write_counts(counter.drain().increments, until, members)
        return len(members), days

    async def _write_counts(
        self, counts: dict[tuple[int, date], int], until: datetime, members: set[int]
    ) -> int:
        if not counts:
            return 0
        await _unbroken(self._raise(counts, until))
        members.update(uid for uid, _ in counts)
        return len(counts)

    async def _raise(self, counts: dict[tuple[int, date], int], until: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await BackfillRepository(session, self.guild_id).raise_rollups(counts)
            await self.activity.credit_days(session, counts.keys(), until)

    async def _quiet_ladder(self) -> dict[str, int]:
        """Everyone evaluated once, quietly (the summary post stands for each promotion)."""
        return await self.tiers.place_quietly()

    async def _announce(
        self,
        summary: str,
        progress: Progress,
        members: int,
        days: int,
        questions: int,
        answers: int,
    ) -> None:
        announcements = self.settings.channels.announcements
        if announcements:
            await self.effects.post(announcements, summary)
        problems = "".join(f"\n- {p}" for p in progress.problems)
        await self.effects.mod_log(
            f"**Backfill:** read {progress.messages_read} message(s) in "
            f"{progress.channels_done} channel(s): {days} active day(s) for {members} member(s), "
            f"{questions} question thread(s), {answers} accepted answer(s) from history. "
            f"{summary}" + (f"\nNot read:{problems}" if problems else "")
        )


async def _unbroken(work: Coroutine[Any, Any, T]) -> T:
    """``work`` run to its end though the caller is cancelled meanwhile; the cancellation is
    then raised. A transaction cut short by a cancellation left its SQLite connection holding
    the write lock: after /backfill cancel every write, the live bot's too, failed with
    "database is locked"."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():  # the work itself was cancelled (the loop is closing)
                raise
            cancelled = True
            continue
        if cancelled:
            raise asyncio.CancelledError
        return result


async def _each(
    items: list[PastChannel], work: Callable[[PastChannel], Awaitable[None]], *, readers: int
) -> None:
    """``work`` on every item, ``readers`` at a time; the first failure cancels the rest."""
    queue = list(reversed(items))

    async def reader() -> None:
        while queue:
            await work(queue.pop())

    await together([reader() for _ in range(max(1, min(readers, len(items))))])
