"""Read-only numbers behind the program health report, grouped in the database.

Windows are ``[start, end)``. Activity is kept per local day, so windows over it are given as
local dates, or as aware datetimes in the guild's timezone (whose ``.date()`` is the local day),
as :class:`bot.core.periods.Period` gives them. Contribution counts are net of reversals as in
:mod:`db.repositories.stats`. A *contributor* is a member credited for more than chatting: any
ledger kind that counts as contributing (:attr:`bot.core.kinds.Kind.contributing`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    ActivityDay,
    ContentSubmission,
    Contribution,
    GroupEvent,
    GroupMember,
    Member,
    NpsResponse,
    Referral,
    TierChange,
    TierState,
    UserGroup,
)
from db.repositories.recognition import RecognitionRepository

#: Bound parameters per ``IN (...)`` list: well under SQLite's and asyncpg's limits.
_CHUNK = 500


@dataclass(frozen=True)
class ReferralRetention:
    credited: int
    measured: int
    """Credited referrals whose invitee joined at least ``days`` before ``now``."""
    retained: int
    """Of the measured ones, invitees with no departure recorded within ``days`` of joining."""


@dataclass(frozen=True)
class QuestionFigures:
    asked: int
    answered: int
    median_first_response: timedelta | None


@dataclass(frozen=True)
class NpsScores:
    period: str
    scores: tuple[int, ...]


@dataclass(frozen=True)
class GroupRow:
    name: str
    kind: str
    region: str | None
    members: int
    events: int
    last_activity_at: datetime | None


def _net_one() -> ColumnElement[int]:
    """+1 for a credit, −1 for a reversal of one: summed, a count net of reversals."""
    return case(
        (and_(Contribution.reverses_id.is_(None), Contribution.points > 0), 1),
        (and_(Contribution.reverses_id.is_not(None), Contribution.points < 0), -1),
        else_=0,
    )


def _credit() -> ColumnElement[bool]:
    """A row that credits something (not a reversal, not a penalty)."""
    return and_(Contribution.reverses_id.is_(None), Contribution.points > 0)


def _local_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The local days ``[start.date(), end's day)`` a window covers; ``end`` at midnight is out."""
    last = (end - timedelta(microseconds=1)).date()
    return start.date(), last + timedelta(days=1)


class HealthRepository:
    def __init__(
        self, session: AsyncSession, guild_id: int, *, chat_kinds: Collection[str]
    ) -> None:
        #: Kinds credited for chatting (active days): not contributions to the program's health.
        self.chat_kinds = tuple(chat_kinds)
        self.session = session
        self.guild_id = guild_id

    # ------------------------------------------------------------------ the ladder
    async def tiers_at(self, moment: datetime) -> dict[int, str]:
        """Member -> tier key held just before ``moment``: from the latest audit row before it,
        else (no audit row yet) from the member's current state if they reached it before."""
        latest = (
            select(func.max(TierChange.id).label("id"))
            .where(TierChange.guild_id == self.guild_id, TierChange.created_at < moment)
            .group_by(TierChange.user_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(TierChange.user_id, TierChange.to_tier)
            .join(latest, TierChange.id == latest.c.id)
            .where(TierChange.to_tier.is_not(None))
        )
        tiers = {int(user): str(tier) for user, tier in rows.all()}
        audited = exists().where(
            TierChange.guild_id == self.guild_id,
            TierChange.user_id == TierState.user_id,
            TierChange.created_at < moment,
        )
        unaudited = await self.session.execute(
            select(TierState.user_id, TierState.tier_key).where(
                TierState.guild_id == self.guild_id,
                TierState.tier_key.is_not(None),
                TierState.tier_since < moment,
                ~audited,
            )
        )
        tiers.update((int(user), str(tier)) for user, tier in unaudited.all())
        return tiers

    async def content_by_author(self, start: datetime, end: datetime) -> dict[int, int]:
        """Author -> content pieces approved in the window."""
        rows = await self.session.execute(
            select(ContentSubmission.author_id, func.count())
            .where(
                ContentSubmission.guild_id == self.guild_id,
                ContentSubmission.status == "approved",
                ContentSubmission.decided_at >= start,
                ContentSubmission.decided_at < end,
            )
            .group_by(ContentSubmission.author_id)
        )
        return {int(author): int(pieces) for author, pieces in rows.all()}

    # ------------------------------------------------------------------ referrals
    async def referral_retention(
        self, start: datetime, end: datetime, *, now: datetime, days: int = 30
    ) -> ReferralRetention:
        """Referrals credited in the window, and whether their invitees stayed ``days`` days.

        Fetched per referral (a month's referrals are few): "``days`` after joining" is date
        arithmetic SQLite and PostgreSQL spell differently.
        """
        rows = await self.session.execute(
            select(Referral.joined_at, Member.left_at)
            .outerjoin(
                Member,
                and_(Member.guild_id == Referral.guild_id, Member.user_id == Referral.invitee_id),
            )
            .where(
                Referral.guild_id == self.guild_id,
                Referral.status == "credited",
                Referral.decided_at >= start,
                Referral.decided_at < end,
            )
        )
        span = timedelta(days=days)
        credited = measured = retained = 0
        for joined_at, left_at in rows.all():
            credited += 1
            if joined_at + span > now:
                continue
            measured += 1
            if left_at is None or left_at < joined_at or left_at >= joined_at + span:
                retained += 1  # a departure before this join belongs to an earlier stay
        return ReferralRetention(credited, measured, retained)

    # ------------------------------------------------------------------ engagement
    async def active_members(self, windows: Sequence[tuple[date, date]]) -> list[int]:
        """Distinct members with a counted message in each window of local days, in one query."""
        if not windows:
            return []
        columns = [
            func.count(
                distinct(
                    case(
                        (
                            and_(
                                ActivityDay.day >= first,
                                ActivityDay.day < stop,
                                ActivityDay.messages > 0,
                            ),
                            ActivityDay.user_id,
                        )
                    )
                )
            )
            for first, stop in windows
        ]
        row = (
            await self.session.execute(
                select(*columns).where(
                    ActivityDay.guild_id == self.guild_id,
                    ActivityDay.day >= min(first for first, _ in windows),
                    ActivityDay.day < max(stop for _, stop in windows),
                )
            )
        ).one()
        return [int(value) for value in row]

    async def contributors(self, windows: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """Distinct contributors (net count > 0 of a non-chat kind) in each of ``windows``.

        The windows must not overlap. One pass over the ledger: each row is put in its window's
        bucket, members are grouped per bucket, then counted.
        """
        if not windows:
            return []
        bucket = case(
            *[
                (and_(Contribution.occurred_at >= start, Contribution.occurred_at < end), index)
                for index, (start, end) in enumerate(windows)
            ],
            else_=-1,
        )
        rows = (
            select(
                Contribution.user_id.label("user_id"),
                bucket.label("bucket"),
                _net_one().label("net"),
            )
            .where(
                Contribution.guild_id == self.guild_id,
                Contribution.kind.not_in(self.chat_kinds),
                Contribution.occurred_at >= min(start for start, _ in windows),
                Contribution.occurred_at < max(end for _, end in windows),
            )
            .subquery()
        )
        members = (
            select(rows.c.user_id, rows.c.bucket)
            .group_by(rows.c.user_id, rows.c.bucket)
            .having(func.sum(rows.c.net) > 0)
            .subquery()
        )
        counted = await self.session.execute(
            select(members.c.bucket, func.count()).group_by(members.c.bucket)
        )
        totals = dict.fromkeys(range(len(windows)), 0)
        for index, count in counted.all():
            if int(index) in totals:
                totals[int(index)] = int(count)
        return [totals[index] for index in range(len(windows))]

    async def new_contributors(self, start: datetime, end: datetime) -> int:
        """Members whose first contribution (of a non-chat kind) ever falls in the window."""
        earlier = aliased(Contribution)
        before = exists().where(
            earlier.guild_id == self.guild_id,
            earlier.user_id == Contribution.user_id,
            earlier.occurred_at < start,
            earlier.kind.not_in(self.chat_kinds),
            earlier.reverses_id.is_(None),
            earlier.points > 0,
        )
        return int(
            await self.session.scalar(
                select(func.count(distinct(Contribution.user_id))).where(
                    Contribution.guild_id == self.guild_id,
                    Contribution.occurred_at >= start,
                    Contribution.occurred_at < end,
                    Contribution.kind.not_in(self.chat_kinds),
                    _credit(),
                    ~before,
                )
            )
            or 0
        )

    async def slipping(
        self, as_of: datetime, *, silent: timedelta, lookback: timedelta = timedelta(days=30)
    ) -> list[int]:
        """Contributors in the ``lookback`` before the last ``silent`` stretch who were silent
        through it (no counted message, no credit of any kind), still members at ``as_of``.

        ``as_of`` in the guild's timezone: its local days bound the messages looked at.
        """
        silent_from = as_of - silent
        first_day, stop_day = _local_days(silent_from, as_of)
        recent = aliased(Contribution)
        spoke = exists().where(
            ActivityDay.guild_id == self.guild_id,
            ActivityDay.user_id == Contribution.user_id,
            ActivityDay.day >= first_day,
            ActivityDay.day < stop_day,
            ActivityDay.messages > 0,
        )
        credited = exists().where(
            recent.guild_id == self.guild_id,
            recent.user_id == Contribution.user_id,
            recent.occurred_at >= silent_from,
            recent.occurred_at < as_of,
            recent.points > 0,
        )
        left = exists().where(
            Member.guild_id == self.guild_id,
            Member.user_id == Contribution.user_id,
            Member.left_at.is_not(None),
            Member.left_at <= as_of,
        )
        rows = await self.session.scalars(
            select(Contribution.user_id)
            .distinct()
            .where(
                Contribution.guild_id == self.guild_id,
                Contribution.occurred_at >= silent_from - lookback,
                Contribution.occurred_at < silent_from,
                Contribution.kind.not_in(self.chat_kinds),
                _credit(),
                ~spoke,
                ~credited,
                ~left,
            )
            .order_by(Contribution.user_id)
        )
        return [int(user) for user in rows]

    async def active_among(
        self, user_ids: Iterable[int], start: datetime, end: datetime
    ) -> set[int]:
        """Of ``user_ids``, those with a counted message or a credit of any kind in the window."""
        wanted = sorted(set(user_ids))
        first_day, stop_day = _local_days(start, end)
        active: set[int] = set()
        for offset in range(0, len(wanted), _CHUNK):
            chunk = wanted[offset : offset + _CHUNK]
            spoke = await self.session.scalars(
                select(ActivityDay.user_id)
                .distinct()
                .where(
                    ActivityDay.guild_id == self.guild_id,
                    ActivityDay.user_id.in_(chunk),
                    ActivityDay.day >= first_day,
                    ActivityDay.day < stop_day,
                    ActivityDay.messages > 0,
                )
            )
            active.update(int(user) for user in spoke)
            credited = await self.session.scalars(
                select(Contribution.user_id)
                .distinct()
                .where(
                    Contribution.guild_id == self.guild_id,
                    Contribution.user_id.in_(chunk),
                    Contribution.occurred_at >= start,
                    Contribution.occurred_at < end,
                    _credit(),
                )
            )
            active.update(int(user) for user in credited)
        return active

    # ------------------------------------------------------------------ help questions
    async def questions(self, start: datetime, end: datetime) -> QuestionFigures:
        """Questions opened in the window, how many got an accepted answer, the median wait for
        a first reply: the same figures as the newsletter's, from the same query."""
        asked, answered, median = await RecognitionRepository(
            self.session, self.guild_id
        ).questions(start, end)
        return QuestionFigures(asked, answered, median)

    # ------------------------------------------------------------------ NPS
    async def nps_rounds(self, limit: int = 2) -> list[NpsScores]:
        """The latest ``limit`` surveys with answers (by their latest answer), newest first.

        Scores only: who answered what never leaves this method.
        """
        latest = func.max(NpsResponse.answered_at)
        periods = [
            str(period)
            for period in await self.session.scalars(
                select(NpsResponse.period)
                .where(NpsResponse.guild_id == self.guild_id)
                .group_by(NpsResponse.period)
                .order_by(latest.desc(), NpsResponse.period.desc())
                .limit(limit)
            )
        ]
        if not periods:
            return []
        rows = await self.session.execute(
            select(NpsResponse.period, NpsResponse.score).where(
                NpsResponse.guild_id == self.guild_id, NpsResponse.period.in_(periods)
            )
        )
        scores: dict[str, list[int]] = {period: [] for period in periods}
        for period, score in rows.all():
            scores[str(period)].append(int(score))
        return [NpsScores(period, tuple(sorted(scores[period]))) for period in periods]

    # ------------------------------------------------------------------ user groups
    async def groups(self, start: datetime, end: datetime) -> list[GroupRow]:
        """Every user group with its member count, events credited in the window, and when it
        was last active (the later of its recorded activity and its latest credited event)."""
        members = (
            select(GroupMember.group_id, func.count().label("members"))
            .where(GroupMember.guild_id == self.guild_id)
            .group_by(GroupMember.group_id)
            .subquery()
        )
        in_window = and_(GroupEvent.at >= start, GroupEvent.at < end)
        events = (
            select(
                GroupEvent.group_id,
                func.sum(case((in_window, 1), else_=0)).label("events"),
                func.max(GroupEvent.at).label("last_event"),
            )
            .where(GroupEvent.guild_id == self.guild_id)
            .group_by(GroupEvent.group_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                UserGroup.name,
                UserGroup.kind,
                UserGroup.region,
                func.coalesce(members.c.members, 0),
                func.coalesce(events.c.events, 0),
                UserGroup.last_activity_at,
                events.c.last_event,
            )
            .outerjoin(members, members.c.group_id == UserGroup.id)
            .outerjoin(events, events.c.group_id == UserGroup.id)
            .where(UserGroup.guild_id == self.guild_id)
            .order_by(UserGroup.name)
        )
        result = []
        for name, kind, region, count, held, recorded, last_event in rows.all():
            moments = [m for m in (recorded, _aware(last_event)) if m is not None]
            result.append(
                GroupRow(name, kind, region, int(count), int(held), max(moments, default=None))
            )
        return result


def _aware(value: Any) -> datetime | None:
    """``max()`` over a timestamp in a subquery may come back without its column type on
    SQLite (a naive UTC string or datetime): give it its UTC zone back."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "GroupRow",
    "HealthRepository",
    "NpsScores",
    "QuestionFigures",
    "ReferralRetention",
]
