"""Help questions: when they open, how fast someone else replies, and the accepted answer.

The cog hands over plain facts about threads and messages; this service decides whether a
"Mark as answer" is allowed, moves the ``answer`` credit (reversing the previous one visibly)
and keeps the time-to-first-response metric. One accepted answer per thread.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.base import Service
from bot.services.contributions import Contributions
from db.models import QuestionThread
from db.repositories.ledger import LedgerRepository
from db.repositories.questions import QuestionRepository, answer_source

NOT_HELP_THREAD = "Mark as answer only works on replies in a help forum post or help thread."
NOT_ALLOWED = "Only the person who asked or a moderator can mark the answer."
QUESTION_ITSELF = "That's the question itself: mark the reply that answered it."
BOT_MESSAGE = "Messages from bots can't be marked as the answer."
OWN_MESSAGE = "You can't accept your own answer."
ASKERS_MESSAGE = "That message is from the person who asked: mark a reply from someone who helped."
ALREADY_ACCEPTED = "That message is already the accepted answer."
CHANGED_MEANWHILE = "Someone marked another answer here just now: have a look and try again."


@dataclass(frozen=True)
class HelpThread:
    """What the cog knows about a thread in a help forum or help channel."""

    thread_id: int
    parent_id: int
    owner_id: int | None
    title: str
    created_at: datetime


@dataclass(frozen=True)
class MarkRequest:
    thread: HelpThread
    message_id: int
    author_id: int
    author_is_bot: bool
    marker_id: int
    marker_is_moderator: bool


@dataclass(frozen=True)
class Accepted:
    thread_id: int
    message_id: int
    author_id: int
    contribution_id: int
    previous_author_id: int | None = None
    previous_message_id: int | None = None


@dataclass(frozen=True)
class MarkResult:
    """Either ``refusal`` (text for the marker) or ``accepted``."""

    refusal: str | None = None
    accepted: Accepted | None = None


@dataclass(frozen=True)
class FirstResponse:
    thread_id: int
    responder_id: int
    after: timedelta


@dataclass(frozen=True)
class ResponseMetrics:
    questions: int
    responded: int
    median: timedelta | None


def refusal_for(request: MarkRequest, question: QuestionThread) -> str | None:
    """Why this mark is not allowed, or None. The asker and moderators may mark."""
    if request.marker_id != question.asker_id and not request.marker_is_moderator:
        return NOT_ALLOWED
    if request.message_id == question.thread_id:
        return QUESTION_ITSELF  # a forum post's starter message shares the thread's id
    if request.author_is_bot:
        return BOT_MESSAGE
    if request.author_id == request.marker_id:
        return OWN_MESSAGE
    if request.author_id == question.asker_id:
        return ASKERS_MESSAGE
    if request.message_id == question.answer_message_id:
        return ALREADY_ACCEPTED
    return None


def solved_tag(available: Sequence[str], wanted: Sequence[str]) -> str | None:
    """The forum tag to apply: the first configured name the forum has, in any case."""
    by_name = {name.casefold(): name for name in available}
    for name in wanted:
        if name.casefold() in by_name:
            return by_name[name.casefold()]
    return None


class _Rollback(Exception):
    def __init__(self, refusal: str) -> None:
        self.refusal = refusal


class AnswersService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        self._help_parents = frozenset(settings.channels.help_forums) | frozenset(
            settings.channels.help_channels
        )
        # The hot path (every message in a help thread) answers from memory when it can:
        # threads still waiting for a first response, by asker, and threads that have one.
        self._waiting: dict[int, int] = {}
        self._responded: set[int] = set()
        # Marks are rare: one lock makes "read the answer, then move it" atomic in-process.
        self._marking = asyncio.Lock()

    def is_help_parent(self, channel_id: int | None) -> bool:
        return channel_id in self._help_parents

    async def thread_opened(self, thread: HelpThread) -> None:
        """Record a new question (idempotent); its owner is the asker."""
        if thread.owner_id is None:
            return
        if thread.thread_id not in self._responded:
            self._waiting.setdefault(thread.thread_id, thread.owner_id)
        async with self.sessions() as session, session.begin():
            await self._open(session, thread)

    async def message_posted(
        self, thread: HelpThread, *, author_id: int, author_is_bot: bool, at: datetime
    ) -> FirstResponse | None:
        """Note the first reply by someone other than the asker (bots don't count)."""
        if thread.thread_id in self._responded or author_is_bot:
            return None
        asker = self._waiting.get(thread.thread_id)
        if asker is None:
            asker = await self._load(thread)  # unknown thread: the bot restarted since it opened
            if asker is None:
                return None
        if author_id == asker:
            return None
        async with self.sessions() as session, session.begin():
            # The row may still be on its way from thread_opened: make sure it is there.
            await self._open(session, thread)
            repo = QuestionRepository(session, self.guild_id)
            first = await repo.record_first_response(
                thread.thread_id, responder_id=author_id, at=at
            )
            question = await repo.get(thread.thread_id) if first else None
        self._waiting.pop(thread.thread_id, None)
        self._responded.add(thread.thread_id)
        if question is None:
            return None
        return FirstResponse(thread.thread_id, author_id, at - question.opened_at)

    async def mark(
        self, request: MarkRequest, *, at: datetime | None = None, quiet: bool = False
    ) -> MarkResult:
        """Accept ``request.message_id`` as the thread's answer, moving the credit if needed.

        A replayed interaction never gets here (``bot.interaction_gate`` drops it): replaying
        an older mark would move the credit back to the earlier answer. ``at`` dates the
        credit (a history backfill: when it was answered); ``quiet`` leaves the ladder to the
        caller, which evaluates everyone once at the end.
        """
        async with self._marking:
            try:
                accepted = await self._mark(request, at)
            except _Rollback as refused:
                return MarkResult(refusal=refused.refusal)
        if isinstance(accepted, str):
            return MarkResult(refusal=accepted)
        if quiet:
            return MarkResult(accepted=accepted)
        await self.contributions.changed(
            {accepted.author_id}
            | ({accepted.previous_author_id} if accepted.previous_author_id else set())
        )
        return MarkResult(accepted=accepted)

    async def response_metrics(self, since: datetime) -> ResponseMetrics:
        """Questions opened since ``since``, how many got a reply, and the median wait."""
        async with self.sessions() as session:
            questions = await QuestionRepository(session, self.guild_id).opened_since(since)
        waits = [
            q.first_response_at - q.opened_at for q in questions if q.first_response_at is not None
        ]
        median = statistics.median_low(waits) if waits else None
        return ResponseMetrics(questions=len(questions), responded=len(waits), median=median)

    async def _mark(self, request: MarkRequest, at: datetime | None) -> Accepted | str:
        thread_id, message_id = request.thread.thread_id, request.message_id
        now = at or self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = QuestionRepository(session, self.guild_id)
            question = await self._open(session, request.thread)
            if question is None:
                return NOT_HELP_THREAD
            refusal = refusal_for(request, question)
            if refusal is not None:
                return refusal
            previous_author = previous_message = None
            if question.answer_contribution_id is not None:
                ledger = LedgerRepository(session, self.guild_id)
                old = await ledger.get(question.answer_contribution_id)
                if old is not None:
                    await self.contributions.reverse(
                        session,
                        old,
                        actor_id=request.marker_id,
                        # No member named in free text: erasure could not find them here.
                        reason=f"answer moved to message {message_id}",
                    )
                    previous_author = old.user_id
                previous_message = question.answer_message_id
            earlier = await repo.answer_credits(thread_id, message_id)
            source = answer_source(thread_id, message_id)
            if earlier:
                source = f"{source}:{earlier + 1}"  # marked before, moved away, now back
            credit = self.contributions.credit(
                "answer", request.author_id, source, occurred_at=now, actor_id=request.marker_id
            )
            row = await self.contributions.record(session, credit)
            if row is None:  # the same mark, concurrently, from another process
                raise _Rollback(ALREADY_ACCEPTED)
            if not await repo.accept(
                thread_id,
                replacing=question.answer_message_id,
                message_id=message_id,
                author_id=request.author_id,
                contribution_id=row.id,
                marker_id=request.marker_id,
                at=now,
            ):
                raise _Rollback(CHANGED_MEANWHILE)
        return Accepted(
            thread_id=thread_id,
            message_id=message_id,
            author_id=request.author_id,
            contribution_id=row.id,
            previous_author_id=previous_author,
            previous_message_id=previous_message,
        )

    async def _open(self, session: AsyncSession, thread: HelpThread) -> QuestionThread | None:
        repo = QuestionRepository(session, self.guild_id)
        if thread.owner_id is not None:
            await repo.open(
                thread.thread_id,
                parent_id=thread.parent_id,
                asker_id=thread.owner_id,
                title=thread.title,
                opened_at=thread.created_at,
            )
        return await repo.get(thread.thread_id)

    async def _load(self, thread: HelpThread) -> int | None:
        """Record a thread first seen through a message; its asker while no one has replied."""
        async with self.sessions() as session, session.begin():
            question = await self._open(session, thread)
        if question is None:
            return None
        if question.first_response_at is not None:
            self._responded.add(thread.thread_id)
            return None
        self._waiting[thread.thread_id] = question.asker_id
        return question.asker_id
