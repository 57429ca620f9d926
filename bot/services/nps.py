"""Ambassador NPS surveys: who gets asked, claims on each quarter's survey, answers, the report.

A survey is keyed by the quarter it is sent in ("2026-Q4") and takes answers until that quarter
ends. Sending is claimed in ``scheduled_posts`` (kind ``nps``) before any DM goes out, so the
scheduler, a catch-up after downtime and a moderator's ``/nps send`` can never send one quarter
twice; each invite is recorded in ``survey_invites`` and never retried. Claims and "due since"
are the recognition rhythm's own (``RecognitionService``), reused rather than copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.nps import (
    SurveyReport,
    closes_on,
    is_open,
    period_from_key,
    survey_period,
    survey_report,
)
from bot.core.periods import Period
from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.contributions import Contributions
from bot.services.member_input import optional
from bot.services.recognition import Claim, ClaimResult, RecognitionService
from db.repositories.nps import NpsRepository
from db.repositories.scheduled_posts import ScheduledPostRepository

#: The ``scheduled_posts.kind`` of a quarter's survey.
NPS_KIND: Final = "nps"
COMMENT_MAX: Final = 1000


@dataclass(frozen=True)
class Answered:
    period: Period
    score: int
    previous: int | None


class NpsService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
        *,
        claims: RecognitionService,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        #: Once-per-period claims: the survey is claimed like a recognition post.
        self.claims = claims

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.schedule.tz

    @property
    def min_responses(self) -> int:
        return self.settings.nps.min_responses

    # ------------------------------------------------------------------ periods
    def current(self) -> Period:
        """The survey of the quarter we are in."""
        return survey_period(self.clock.now(), self.tz)

    def named(self, key: str) -> Period:
        """The survey a moderator named, or a clear refusal."""
        period = period_from_key(key, self.tz)
        if period is None:
            raise UserFacingError(f"Name a quarter like {self.current().key} (got '{key[:20]}').")
        return period

    def open_period(self, key: str) -> Period:
        """The survey a button or form belongs to, if it still takes answers."""
        period = period_from_key(key, self.tz)
        if period is None:
            raise UserFacingError("This survey button is no longer valid.")
        if not is_open(period, self.clock.now()):
            raise UserFacingError(
                f"The {period.label} survey closed at {closes_on(period)}, so answers can't be "
                "changed any more. Thank you! The next survey comes next quarter."
            )
        return period

    # ------------------------------------------------------------------ claims
    async def claim(self, period: Period, *, delayed: bool = False) -> ClaimResult:
        return await self.claims.claim(NPS_KIND, period.key, delayed=delayed)

    async def due_since(self) -> datetime:
        return await self.claims.due_since(NPS_KIND)

    async def record_skipped(self, period: Period, *, note: str) -> bool:
        return await self.claims.record_skipped(NPS_KIND, period.key, note=note)

    async def finish(self, claim: Claim, *, channel_id: int, message_id: int) -> None:
        """Every invite is out: the claim becomes "posted" (with the mod-log summary's ids)."""
        await self.claims.mark_posted(claim, channel_id=channel_id, message_id=message_id)

    async def release(self, claim: Claim, *, note: str) -> None:
        await self.claims.release(claim, note=note)

    async def unfinished(self) -> list[Claim]:
        """Surveys a restart interrupted while their DMs were going out."""
        return [claim for claim in await self.claims.unfinished() if claim.kind == NPS_KIND]

    async def sent_at(self, period: Period) -> datetime | None:
        """When this quarter's survey was sent (None if it never was)."""
        record = await self.claims.post_record(NPS_KIND, period.key)
        return None if record is None or record.state != "posted" else record.posted_at

    async def latest(self) -> Period | None:
        """The most recent survey started here (what ``/nps results`` shows by default)."""
        async with self.sessions() as session:
            post = await ScheduledPostRepository(session, self.guild_id).latest(NPS_KIND)
        return None if post is None else period_from_key(post.period, self.tz)

    # ------------------------------------------------------------------ invites
    async def recipients(self, period: Period) -> list[int]:
        """Present tier members not yet invited (reached or not) to this survey."""
        async with self.sessions() as session:
            repo = NpsRepository(session, self.guild_id)
            done = await repo.invited(period.key)
            return [user for user in await repo.tier_members() if user not in done]

    async def claim_invite(self, period: Period, user_id: int) -> bool:
        """Before the DM: False if the member was already asked (or is being asked)."""
        async with self.sessions.begin() as session:
            return await NpsRepository(session, self.guild_id).claim_invite(
                period.key, user_id, now=self.clock.now()
            )

    async def record_invite(self, period: Period, user_id: int, *, ok: bool) -> None:
        async with self.sessions.begin() as session:
            await NpsRepository(session, self.guild_id).record_invite(
                period.key, user_id, ok=ok, now=self.clock.now()
            )

    async def invite_counts(self, period: Period) -> tuple[int, int]:
        async with self.sessions() as session:
            return await NpsRepository(session, self.guild_id).invite_counts(period.key)

    # ------------------------------------------------------------------ answers
    async def answer(self, key: str, user_id: int, score: int) -> Answered:
        """Record (or change) the member's score while the survey is open."""
        if not 0 <= score <= 10:
            raise UserFacingError("Pick a number from 0 to 10.")
        period = self.open_period(key)
        async with self.sessions.begin() as session:
            repo = NpsRepository(session, self.guild_id)
            before = await repo.response(period.key, user_id)
            previous = None if before is None else before.score
            await repo.answer(period.key, user_id, score, now=self.clock.now())
        return Answered(period, score, previous)

    async def comment_for(self, key: str, user_id: int) -> tuple[Period, str]:
        """The member's current comment, to prefill the form; they must have answered first."""
        period = self.open_period(key)
        async with self.sessions() as session:
            row = await NpsRepository(session, self.guild_id).response(period.key, user_id)
        if row is None:
            raise UserFacingError("Pick a number from 0 to 10 first, then add your comment.")
        return period, row.comment or ""

    async def comment(self, key: str, user_id: int, text: str) -> tuple[Period, bool]:
        """Save (or, when blank, remove) the comment; True when one is now kept."""
        period = self.open_period(key)
        cleaned = optional(text, what="comment", high=COMMENT_MAX)
        async with self.sessions.begin() as session:
            saved = await NpsRepository(session, self.guild_id).set_comment(
                period.key, user_id, cleaned, now=self.clock.now()
            )
        if not saved:
            raise UserFacingError("Pick a number from 0 to 10 first, then add your comment.")
        return period, bool(cleaned)

    # ------------------------------------------------------------------ the report
    async def report(self, period: Period) -> SurveyReport:
        async with self.sessions() as session:
            repo = NpsRepository(session, self.guild_id)
            scores = await repo.scores(period.key)
            comments = await repo.comments(period.key)
            sent, failed = await repo.invite_counts(period.key)
        return survey_report(
            period,
            scores=scores,
            comments=comments,
            invited=sent,
            unreachable=failed,
            min_responses=self.min_responses,
            now=self.clock.now(),
        )
