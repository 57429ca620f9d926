"""History backfill: credit what the live bot would have credited from the server's history.

Reads through discord.py's HTTP layer only (``guild.fetch_channels``, ``active_threads``,
``archived_threads``, ``history`` 100 a page with ``before``), so it runs inside the bot or
from the CLI with a client that never opens the gateway. The live rules are reused, not
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
checkpoint per channel is written in the same transaction as the page it covers. Paced: one
request at a time, and a pause when discord.py's bucket for the channel's history says few
requests remain, leaving the live bot its share.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import discord
from discord.http import Route
from discord.utils import time_snowflake
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.activity import ActivityCounter
from bot.core.backfill import Reply, accepted_answer, summary_text
from bot.services.activity import ActivityService, activity_rules
from bot.services.answers import AnswersService, HelpThread, MarkRequest, solved_tag
from bot.services.effects import DiscordEffects
from bot.services.ladder_automation import LadderAutomation
from db.repositories.backfill import BackfillRepository, Staged
from db.repositories.questions import QuestionRepository

log = logging.getLogger(__name__)

PAGE = 100
APPROVE = "✅"
#: Pause when a bucket has this share of its requests left (or fewer): the live bot shares it.
HEADROOM = 0.25
#: Requests per second the backfill allows itself: half of Discord's global 50, the rest is
#: the live bot's (discord.py only learns of the global limit from a 429).
GLOBAL_SHARE = 25.0
NO_HISTORY = "no Read Message History permission"


@dataclass
class Progress:
    """What a run has done so far; surfaces render it (one edited message, a progress bar)."""

    channels_total: int = 0
    channels_done: int = 0
    messages_read: int = 0
    problems: list[str] = field(default_factory=list)
    finished: bool = False


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


@dataclass(frozen=True)
class _Channel:
    channel: Any  # TextChannel, ForumChannel or Thread
    parent_id: int | None
    category_id: int | None
    help: bool
    readable: bool
    solved: bool = False


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
        self._last_request = 0.0

    @property
    def running(self) -> bool:
        return self._lock.locked()

    async def run(
        self,
        guild: discord.Guild,
        me: discord.Member,
        *,
        span: timedelta,
        channel_ids: Iterable[int] | None = None,
        dry_run: bool = False,
        on_progress: OnProgress | None = None,
    ) -> BackfillReport:
        async with self._lock:
            self.progress = progress = Progress()
            now = self.clock.now()
            staged: list[Staged] = []
            if dry_run:
                since, until, done = now - span, now, {}
            else:
                async with self.sessions() as session, session.begin():
                    repo = BackfillRepository(session, self.guild_id)
                    run = await repo.begin(since=now - span, until=now, now=now)
                    since, until, span = run.since, run.until, run.until - run.since
                    done = await repo.checkpoints()
            channels = await self._channels(guild, me, channel_ids)
            progress.channels_total = len(channels)
            questions = answers = 0
            for item in channels:
                mark = done.get(item.channel.id)
                if mark is not None and mark.done:
                    progress.channels_done += 1
                    progress.messages_read += mark.messages_read
                    continue
                if not item.readable:
                    progress.problems.append(f"<#{item.channel.id}>: {NO_HISTORY}")
                    if not dry_run:
                        await self._checkpoint(
                            item.channel.id, None, [], done=True, problem=NO_HISTORY
                        )
                    progress.channels_done += 1
                    continue
                cursor = mark.message_id if mark is not None and mark.message_id else None
                q, a = await self._read(
                    item, since=since, until=until, cursor=cursor, dry_run=dry_run, staged=staged
                )
                questions, answers = questions + q, answers + a
                progress.channels_done += 1
                if on_progress is not None:
                    await on_progress(progress)
            members, days = await self._count(staged, until, dry_run=dry_run)
            promoted: dict[str, int] = {}
            summary = ""
            if not dry_run:
                promoted = await self._quiet_ladder()
                summary = summary_text(
                    span, promoted, [(t.key, t.name) for t in reversed(self.settings.tiers)]
                )
                async with self.sessions() as session, session.begin():
                    await BackfillRepository(session, self.guild_id).finish(self.clock.now())
                await self._announce(summary, progress, members, days, questions, answers)
            progress.finished = True
            if on_progress is not None:
                await on_progress(progress)
            return BackfillReport(
                progress, members, days, questions, answers, promoted, dry_run, summary
            )

    # --- channels ------------------------------------------------------------------------------

    async def _channels(
        self, guild: discord.Guild, me: discord.Member, wanted: Iterable[int] | None
    ) -> list[_Channel]:
        """Text channels, forums and every thread the server still lists, oldest first."""
        wanted_ids = None if wanted is None else frozenset(wanted)
        help_ids = frozenset(self.settings.channels.help_forums) | frozenset(
            self.settings.channels.help_channels
        )
        parents: dict[int, Any] = {}
        out: list[_Channel] = []
        for channel in sorted(await guild.fetch_channels(), key=lambda c: c.id):
            if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
                continue
            if wanted_ids is not None and channel.id not in wanted_ids:
                continue
            parents[channel.id] = channel
            if isinstance(channel, discord.TextChannel):
                readable = channel.permissions_for(me).read_message_history
                out.append(_Channel(channel, None, channel.category_id, False, readable))
        threads: dict[int, discord.Thread] = {
            t.id: t for t in await guild.active_threads() if t.parent_id in parents
        }
        for parent in parents.values():
            if not parent.permissions_for(me).read_message_history:
                continue  # reported when its own history is read
            await self._space()
            async for thread in parent.archived_threads(limit=None):
                threads.setdefault(thread.id, thread)
        for thread in sorted(threads.values(), key=lambda t: t.id):
            parent = parents[thread.parent_id]
            solved = False
            if isinstance(parent, discord.ForumChannel):
                name = solved_tag(
                    [t.name for t in parent.available_tags], self.settings.answers.solved_tags
                )
                tag = next((t.id for t in parent.available_tags if t.name == name), None)
                # thread.applied_tags looks the forum up in a cache an HTTP-only client lacks.
                solved = tag is not None and tag in getattr(thread, "_applied_tags", ())
            readable = parent.permissions_for(me).read_message_history
            out.append(
                _Channel(
                    thread, parent.id, parent.category_id, parent.id in help_ids, readable, solved
                )
            )
        return out

    # --- reading -------------------------------------------------------------------------------

    async def _read(
        self,
        item: _Channel,
        *,
        since: datetime,
        until: datetime,
        cursor: int | None,
        dry_run: bool,
        staged: list[Staged],
    ) -> tuple[int, int]:
        """Read one channel newest first; returns (questions, answers) credited."""
        channel = item.channel
        counter = self.activity.counter
        before = discord.Object(cursor or time_snowflake(until))
        held: list[discord.Message] = []  # a help thread is decided once fully read
        while True:
            await self._pace(channel)
            page = [m async for m in channel.history(limit=PAGE, before=before)]
            fresh = [m for m in page if m.created_at >= since]
            batch: list[Staged] = []
            for message in fresh:
                if message.author.bot or message.webhook_id is not None or message.is_system():
                    continue
                verdict = counter.screen(
                    channel.id, item.parent_id, item.category_id, message.content
                )
                if verdict is None:
                    batch.append((message.id, message.author.id, message.created_at))
            last = len(page) < PAGE or len(fresh) < len(page)
            self.progress.messages_read += len(fresh)
            if item.help:
                held.extend(fresh)
            if dry_run:
                staged.extend(batch)
            elif not item.help or last:
                await self._checkpoint(
                    channel.id,
                    page[-1].id if page else None,
                    batch,
                    done=last and not item.help,
                    read=len(fresh),
                )
            else:
                staged_help = batch  # written with the thread's end, below
                await self._stage_only(staged_help)
            if last:
                break
            before = discord.Object(page[-1].id)
        if not item.help or not isinstance(channel, discord.Thread):
            return 0, 0
        result = await self._question(item, held, dry_run=dry_run)
        if not dry_run:
            await self._checkpoint(channel.id, None, [], done=True)
        return result

    async def _space(self) -> None:
        """At most GLOBAL_SHARE requests a second, one at a time."""
        loop = asyncio.get_running_loop()
        wait = self._last_request + 1 / GLOBAL_SHARE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_request = loop.time()

    async def _pace(self, channel: Any) -> None:
        """Wait for the history bucket to refill when little of it is left (discord.py already
        waits out a 429 and an empty bucket; this leaves room for the live bot)."""
        await self._space()
        http = getattr(getattr(channel, "_state", None), "http", None)
        if http is None:
            return
        route = Route("GET", "/channels/{channel_id}/messages", channel_id=channel.id)
        bucket_hash = getattr(http, "_bucket_hashes", {}).get(route.key, route.key)
        limit = getattr(http, "_buckets", {}).get(f"{bucket_hash}:{route.major_parameters}")
        if limit is None or limit.limit <= 1 or limit.remaining > limit.limit * HEADROOM:
            return
        wait = (
            limit.reset_after
            if limit.expires is None
            else limit.expires - asyncio.get_running_loop().time()
        )
        if wait > 0:
            await asyncio.sleep(wait)

    async def _question(
        self, item: _Channel, messages: list[discord.Message], *, dry_run: bool
    ) -> tuple[int, int]:
        thread = item.channel
        facts = HelpThread(
            thread_id=thread.id,
            parent_id=thread.parent_id,
            owner_id=thread.owner_id,
            title=thread.name,
            created_at=thread.created_at or discord.utils.snowflake_time(thread.id),
        )
        if facts.owner_id is None:
            return 0, 0
        ordered = sorted(messages, key=lambda m: m.id)
        replies = [
            Reply(
                m.id,
                m.author.id,
                m.author.bot,
                await self._approved_by(m, facts.owner_id),
            )
            for m in ordered
            if m.id != thread.id
        ]
        answer = accepted_answer(asker_id=facts.owner_id, solved=item.solved, replies=replies)
        if dry_run:
            return 1, int(answer is not None)
        await self.answers.thread_opened(facts)
        for m in ordered:
            await self.answers.message_posted(
                facts, author_id=m.author.id, author_is_bot=m.author.bot, at=m.created_at
            )
        if answer is None:
            return 1, 0
        async with self.sessions() as session:
            question = await QuestionRepository(session, self.guild_id).get(thread.id)
        if question is None or question.answer_message_id is not None:
            return 1, 0  # the live bot's record stands
        at = next(m.created_at for m in ordered if m.id == answer.message_id)
        result = await self.answers.mark(
            MarkRequest(
                thread=facts,
                message_id=answer.message_id,
                author_id=answer.author_id,
                author_is_bot=answer.author_is_bot,
                marker_id=facts.owner_id,
                marker_is_moderator=False,
            ),
            at=at,
            quiet=True,
        )
        return 1, int(result.accepted is not None)

    async def _approved_by(self, message: discord.Message, user_id: int) -> bool:
        for reaction in message.reactions:
            if str(reaction.emoji) == APPROVE:
                await self._space()
                async for user in reaction.users(limit=None):
                    if user.id == user_id:
                        return True
        return False

    # --- writing -------------------------------------------------------------------------------

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
        async with self.sessions() as session, session.begin():
            repo = BackfillRepository(session, self.guild_id)
            await repo.stage(batch)
            await repo.advance(channel_id, oldest=oldest, read=read, done=done, problem=problem)

    async def _stage_only(self, batch: list[Staged]) -> None:
        async with self.sessions() as session, session.begin():
            await BackfillRepository(session, self.guild_id).stage(batch)

    async def _count(
        self, staged: list[Staged], until: datetime, *, dry_run: bool
    ) -> tuple[int, int]:
        """The cooldown in time order across channels, then rollups and day credits."""
        counter = ActivityCounter(activity_rules(self.settings))
        if dry_run:
            for mid, uid, at in sorted(staged, key=lambda s: (s[2], s[0])):
                counter.count_screened(mid, uid, at)
            counts = counter.drain().increments
            return len({uid for uid, _ in counts}), len(counts)
        async with self.sessions() as session:
            async for mid, uid, at in BackfillRepository(session, self.guild_id).staged_in_order():
                counter.count_screened(mid, uid, at)
        counts = counter.drain().increments
        async with self.sessions() as session, session.begin():
            await BackfillRepository(session, self.guild_id).raise_rollups(counts)
            await self.activity.credit_days(session, counts.keys(), until)
        return len({uid for uid, _ in counts}), len(counts)

    async def _quiet_ladder(self) -> dict[str, int]:
        """Everyone evaluated once; roles through the paced queue, no announcement or DM each."""
        if not self.settings.tiers:
            return {}
        report = await self.tiers.ladder.sweep()
        moved = [c.user_id for c in report.changes if c.action in ("promote", "demote")]
        self.tiers.roles.enqueue(moved)
        return dict(
            Counter(c.to_tier for c in report.changes if c.action == "promote" and c.to_tier)
        )

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
