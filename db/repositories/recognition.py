"""Read-only numbers behind the weekly post, the quarterly awards and the monthly newsletter.

Everything is grouped in the database. Windows are ``[start, end)``. Counts and points are net
of reversals exactly as in :mod:`db.repositories.stats` (a reversal counts in the window it was
recorded in), so a post never disagrees with ``/profile``. Who may be *named* is the caller's
business: these queries return hidden members too and :meth:`hidden_members` says who they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, distinct, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ActivityDay,
    ContentSubmission,
    Contribution,
    EventRsvp,
    Member,
    QuestionThread,
    Referral,
    TierChange,
    TrackedEvent,
)
from db.repositories.events import OPEN_STATUSES
from db.repositories.stats import _count as net_count

#: Bound parameters per ``IN (...)`` list: well under SQLite's and asyncpg's limits.
_CHUNK = 500


@dataclass(frozen=True)
class MonthNumbersRow:
    """A month in numbers, field for field what ``bot.core.newsletter.MonthNumbers`` holds."""

    active_members: int
    new_members: int
    messages: int
    questions_asked: int
    questions_answered: int
    median_first_response: timedelta | None
    events_hosted: int
    event_attendance: int
    event_rsvps: int
    content_pieces: int
    referrals: int


class RecognitionRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    def _ledger_window(self, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
        return [
            Contribution.guild_id == self.guild_id,
            Contribution.occurred_at >= start,
            Contribution.occurred_at < end,
        ]

    # ------------------------------------------------------------------ ledger
    async def counts_by_member_kind(
        self, start: datetime, end: datetime, kinds: Sequence[str] | None = None
    ) -> dict[int, dict[str, int]]:
        """Member -> kind -> net count in the window; only positive counts are kept."""
        count = net_count()
        stmt = (
            select(Contribution.user_id, Contribution.kind, count)
            .where(*self._ledger_window(start, end))
            .group_by(Contribution.user_id, Contribution.kind)
            .having(count > 0)
        )
        if kinds is not None:
            stmt = stmt.where(Contribution.kind.in_(list(kinds)))
        result: dict[int, dict[str, int]] = {}
        for user_id, kind, total in (await self.session.execute(stmt)).all():
            result.setdefault(int(user_id), {})[kind] = int(total)
        return result

    async def points_by_member_kind(
        self, start: datetime, end: datetime
    ) -> dict[int, dict[str, int]]:
        """Member -> kind -> net points in the window; only positive totals are kept."""
        points = func.sum(Contribution.points)
        stmt = (
            select(Contribution.user_id, Contribution.kind, points)
            .where(*self._ledger_window(start, end))
            .group_by(Contribution.user_id, Contribution.kind)
            .having(points > 0)
        )
        result: dict[int, dict[str, int]] = {}
        for user_id, kind, total in (await self.session.execute(stmt)).all():
            result.setdefault(int(user_id), {})[kind] = int(total)
        return result

    async def points_by_member(
        self, start: datetime, end: datetime, *, limit: int | None = None
    ) -> list[tuple[int, int]]:
        """(member, net points) with points > 0, best first, ties by lowest id.

        Hidden members are included: a caller that names the top five asks for a few more
        than five and drops the hidden ones itself.
        """
        points = func.sum(Contribution.points).label("points")
        stmt = (
            select(Contribution.user_id, points)
            .where(*self._ledger_window(start, end))
            .group_by(Contribution.user_id)
            .having(func.sum(Contribution.points) > 0)
            .order_by(points.desc(), Contribution.user_id)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [(int(user), int(total)) for user, total in (await self.session.execute(stmt)).all()]

    # ------------------------------------------------------------------ members
    async def hidden_members(self) -> set[int]:
        """Members who opted out of public recognition or left: never named anywhere."""
        rows = await self.session.scalars(
            select(Member.user_id).where(
                Member.guild_id == self.guild_id,
                or_(Member.recognition_opt_out == true(), Member.left_at.is_not(None)),
            )
        )
        return {int(user) for user in rows}

    async def display_names(self, user_ids: Iterable[int]) -> dict[int, str]:
        """Stored display names of the members known to the store (unknown ids are absent)."""
        wanted = sorted(set(user_ids))
        names: dict[int, str] = {}
        for offset in range(0, len(wanted), _CHUNK):
            chunk = wanted[offset : offset + _CHUNK]
            rows = await self.session.execute(
                select(Member.user_id, Member.display_name).where(
                    Member.guild_id == self.guild_id, Member.user_id.in_(chunk)
                )
            )
            names.update((int(user), name) for user, name in rows.all())
        return names

    async def tier_changes(
        self, start: datetime, end: datetime
    ) -> list[tuple[int, str | None, str | None, datetime]]:
        """(member, from tier, to tier, when) in the window, oldest first.

        Audit notes that keep the tier (a pin, a leave of absence) are not changes and are
        left out; which changes are promotions is for the caller, who knows the ladder.
        """
        rows = await self.session.execute(
            select(
                TierChange.user_id, TierChange.from_tier, TierChange.to_tier, TierChange.created_at
            )
            .where(
                TierChange.guild_id == self.guild_id,
                TierChange.created_at >= start,
                TierChange.created_at < end,
                TierChange.from_tier.is_distinct_from(TierChange.to_tier),
            )
            .order_by(TierChange.created_at, TierChange.id)
        )
        return [(int(user), old, new, at) for user, old, new, at in rows.all()]

    # ------------------------------------------------------------------ activity
    async def active_days_by_member(self, start_day: date, end_day: date) -> dict[int, int]:
        """Member -> days with at least one counted message in ``[start_day, end_day)``."""
        rows = await self.session.execute(
            select(ActivityDay.user_id, func.count())
            .where(
                ActivityDay.guild_id == self.guild_id,
                ActivityDay.day >= start_day,
                ActivityDay.day < end_day,
                ActivityDay.messages > 0,
            )
            .group_by(ActivityDay.user_id)
        )
        return {int(user): int(days) for user, days in rows.all()}

    async def daily_messages(self, start_day: date, end_day: date) -> dict[date, int]:
        """Day -> counted messages in ``[start_day, end_day)``; days without any are absent."""
        total = func.sum(ActivityDay.messages)
        rows = await self.session.execute(
            select(ActivityDay.day, total)
            .where(
                ActivityDay.guild_id == self.guild_id,
                ActivityDay.day >= start_day,
                ActivityDay.day < end_day,
            )
            .group_by(ActivityDay.day)
            .having(total > 0)
        )
        return {day: int(messages) for day, messages in rows.all()}

    # ------------------------------------------------------------------ the month
    async def month_numbers(self, start: datetime, end: datetime) -> MonthNumbersRow:
        """The newsletter's "month in numbers" for ``[start, end)``.

        Activity is kept per local day, so the message figures cover the days from
        ``start.date()`` to ``end.date()`` as given: pass the window in the guild's timezone
        (as ``Period`` does), not converted to UTC. The median wait for a first reply is the
        lower median, as in ``/stats``.
        """
        active, messages = await self._activity(start.date(), end.date())
        asked, answered, median = await self.questions(start, end)
        hosted, attendance, rsvps = await self._events(start, end)
        new_members = await self._scalar(
            select(func.count()).where(
                Member.guild_id == self.guild_id,
                Member.is_bot == false(),
                Member.joined_at >= start,
                Member.joined_at < end,
            )
        )
        content = await self._scalar(
            select(func.count()).where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.status == "approved",
                ContentSubmission.decided_at >= start,
                ContentSubmission.decided_at < end,
            )
        )
        referrals = await self._scalar(
            select(func.count()).where(
                Referral.guild_id == self.guild_id,
                Referral.status == "credited",
                Referral.decided_at >= start,
                Referral.decided_at < end,
            )
        )
        return MonthNumbersRow(
            active_members=active,
            new_members=new_members,
            messages=messages,
            questions_asked=asked,
            questions_answered=answered,
            median_first_response=median,
            events_hosted=hosted,
            event_attendance=attendance,
            event_rsvps=rsvps,
            content_pieces=content,
            referrals=referrals,
        )

    async def _scalar(self, stmt: Select[int]) -> int:
        return int(await self.session.scalar(stmt) or 0)

    async def _activity(self, start_day: date, end_day: date) -> tuple[int, int]:
        row = (
            await self.session.execute(
                select(
                    func.count(distinct(case((ActivityDay.messages > 0, ActivityDay.user_id)))),
                    func.coalesce(func.sum(ActivityDay.messages), 0),
                ).where(
                    ActivityDay.guild_id == self.guild_id,
                    ActivityDay.day >= start_day,
                    ActivityDay.day < end_day,
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def questions(self, start: datetime, end: datetime) -> tuple[int, int, timedelta | None]:
        """Questions opened in the window, how many got an answer, the median first reply.

        The median is picked in the database (sorted, one row fetched at the middle offset):
        a busy forum opens tens of thousands of threads a month, too many to fetch.
        """
        window = (
            QuestionThread.guild_id == self.guild_id,
            QuestionThread.opened_at >= start,
            QuestionThread.opened_at < end,
        )
        asked, answered, replied = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count(QuestionThread.answer_message_id),
                    func.count(QuestionThread.first_response_at),
                ).where(*window)
            )
        ).one()
        median = None
        if replied:
            middle = (
                await self.session.execute(
                    select(QuestionThread.opened_at, QuestionThread.first_response_at)
                    .where(*window, QuestionThread.first_response_at.is_not(None))
                    .order_by(self._first_reply_wait(), QuestionThread.thread_id)
                    .offset((int(replied) - 1) // 2)  # the lower median, as in /stats
                    .limit(1)
                )
            ).one_or_none()
            if middle is not None and middle[1] is not None:
                median = middle[1] - middle[0]
        return int(asked), int(answered), median

    def _first_reply_wait(self) -> ColumnElement[Any]:
        """Sortable wait for the first reply. SQLite keeps timestamps as text, so subtracting
        them there would subtract the leading years: compare Julian days instead (exact to the
        millisecond, as fine as Discord's timestamps are)."""
        if self.session.get_bind().dialect.name == "sqlite":
            return func.julianday(QuestionThread.first_response_at) - func.julianday(
                QuestionThread.opened_at
            )
        return QuestionThread.first_response_at - QuestionThread.opened_at

    async def _events(self, start: datetime, end: datetime) -> tuple[int, int, int]:
        """Events completed in the window: how many, attendees, RSVPs still standing."""
        completed = and_(
            TrackedEvent.guild_id == self.guild_id,
            TrackedEvent.status == "completed",
            TrackedEvent.ended_at >= start,
            TrackedEvent.ended_at < end,
        )
        hosted, attendance = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(TrackedEvent.attendee_count), 0)).where(
                    completed
                )
            )
        ).one()
        # IN (events) rather than a join: without statistics SQLite would walk every RSVP.
        rsvps = await self._scalar(
            select(func.count()).where(
                EventRsvp.guild_id == self.guild_id,
                EventRsvp.event_id.in_(select(TrackedEvent.event_id).where(completed)),
                EventRsvp.withdrawn_at.is_(None),
            )
        )
        return int(hosted), int(attendance), rsvps

    async def approved_content(
        self, start: datetime, end: datetime
    ) -> list[tuple[str, str, str, str, int]]:
        """(title, url, kind, credit kind, author) of submissions approved in the window, in
        decision order: /share's content and the evidence of a server's review-credited kinds."""
        rows = await self.session.execute(
            select(
                ContentSubmission.title,
                ContentSubmission.url,
                ContentSubmission.kind,
                ContentSubmission.credit_kind,
                ContentSubmission.author_id,
            )
            .where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.status == "approved",
                ContentSubmission.decided_at >= start,
                ContentSubmission.decided_at < end,
            )
            .order_by(ContentSubmission.decided_at, ContentSubmission.id)
        )
        return [
            (title, url, kind, credit_kind, int(author))
            for title, url, kind, credit_kind, author in rows.all()
        ]

    async def upcoming_events(
        self, now: datetime, until: datetime
    ) -> list[tuple[int, str, datetime]]:
        """(event, name, start) of open events starting in ``[now, until)``, soonest first.

        Canceled and completed events are not upcoming; neither is a "scheduled" event whose
        start has passed (Discord never started it).
        """
        rows = await self.session.execute(
            select(TrackedEvent.event_id, TrackedEvent.name, TrackedEvent.scheduled_start)
            .where(
                TrackedEvent.guild_id == self.guild_id,
                TrackedEvent.status.in_(OPEN_STATUSES),
                TrackedEvent.scheduled_start >= now,
                TrackedEvent.scheduled_start < until,
            )
            .order_by(TrackedEvent.scheduled_start, TrackedEvent.event_id)
        )
        return [(int(event), name, starts) for event, name, starts in rows.all()]
