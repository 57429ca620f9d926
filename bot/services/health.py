"""The program health report's data side: which months and weeks, and their numbers.

The report covers the last complete calendar month in the guild's timezone and the month
before it (``bot.core.periods.monthly_period``), the eight complete weeks before the current
one, and promotion cohorts six months old. ``bot.core.health`` judges and renders; this service
only gathers, from a few grouped queries per period.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.feedback import FeedbackFigures, ItemFacts, Status
from bot.core.feedback import figures as feedback_figures
from bot.core.health import (
    CSV_HEADER,
    Cohort,
    GroupActivity,
    HealthInputs,
    HealthReport,
    MonthFigures,
    NpsRound,
    Target,
    Targets,
    TierName,
    WeekFigures,
    compose_health,
    csv_rows,
)
from bot.core.nps import nps_result
from bot.core.periods import Period, days_label, iso_week_key, monthly_period
from bot.services.base import Service
from bot.services.contributions import Contributions
from bot.services.shared_copy import SharedCopies
from db.repositories.feedback import FeedbackRepository
from db.repositories.health import HealthRepository
from db.repositories.recognition import RecognitionRepository

#: Complete weeks in the engagement trend.
WEEKS = 8
#: Promotion cohorts shown (each measured six months after its promotions).
COHORTS = 6
COHORT_AGE_MONTHS = 6
REFERRAL_RETENTION_DAYS = 30


class HealthService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        self._copies: SharedCopies[None, HealthReport] = SharedCopies(
            clock, lambda _key: self._report(), "health report"
        )

    async def report(self, *, max_age: float = 0.0) -> HealthReport:
        """The health report for the last complete month, compared with the month before.

        ``max_age`` (seconds): a report computed that long ago will do, shared by everyone who
        asks meanwhile (the web's staff page: over millions of ledger rows the report takes
        seconds). 0 (``/program health``, the export): computed now.
        """
        if max_age <= 0:
            return await self._report()
        return await self._copies.get(None, max_age)

    async def _report(self) -> HealthReport:
        tz = self.settings.schedule.tz
        now = self.clock.now().astimezone(tz)
        months = [monthly_period(now, tz)]
        while len(months) < COHORTS + COHORT_AGE_MONTHS:
            months.append(monthly_period(months[-1].start, tz))
        current, previous = months[0], months[1]
        program = self.settings.program
        slipping_days = timedelta(days=program.slipping_days)
        async with self.sessions() as session:
            health = HealthRepository(
                session, self.guild_id, chat_kinds=self.settings.kinds.chat_keys()
            )
            ladder = RecognitionRepository(session, self.guild_id)

            # Who held which tier at each month boundary (the previous month ends where the
            # current one starts).
            tiers = {
                m: await health.tiers_at(m) for m in (previous.start, current.start, current.end)
            }
            active = await health.active_members([_days(previous), _days(current)])
            contributing = await health.contributors(
                [(previous.start, previous.end), (current.start, current.end)]
            )

            cohorts: list[Cohort] = []
            for measured, promoted_in in zip(months, months[COHORT_AGE_MONTHS:], strict=False):
                promoted = {
                    user
                    for user, old, new, _ in await ladder.tier_changes(
                        promoted_in.start, promoted_in.end
                    )
                    if self._is_promotion(old, new)
                }
                still = await health.active_among(promoted, measured.start, measured.end)
                cohorts.append(
                    Cohort(
                        promoted_in.key,
                        promoted_in.label,
                        measured.label,
                        len(promoted),
                        len(still),
                    )
                )

            figures = []
            for index, month in enumerate((current, previous)):
                at_start, at_end = tiers[month.start], tiers[month.end]
                content = await health.content_by_author(month.start, month.end)
                referrals = await health.referral_retention(
                    month.start, month.end, now=now, days=REFERRAL_RETENTION_DAYS
                )
                questions = await health.questions(month.start, month.end)
                figures.append(
                    MonthFigures(
                        key=month.key,
                        label=month.label,
                        tier_members=len(at_end),
                        tier_member_content=sum(content.get(user, 0) for user in at_end),
                        referrals_credited=referrals.credited,
                        referrals_measured=referrals.measured,
                        referrals_retained=referrals.retained,
                        active_members=active[1 - index],
                        contributors=contributing[1 - index],
                        questions_asked=questions.asked,
                        questions_answered=questions.answered,
                        median_first_response=questions.median_first_response,
                        new_contributors=await health.new_contributors(month.start, month.end),
                        slipping=len(await health.slipping(month.end, silent=slipping_days)),
                        tier_moves=Counter(
                            (at_start.get(user), at_end.get(user))
                            for user in at_start.keys() | at_end.keys()
                        ),
                        cohort=cohorts[index] if index < len(cohorts) else None,
                    )
                )

            weeks = _weeks(now.date())
            week_active = await health.active_members(
                [(start, start + timedelta(days=7)) for start in weeks]
            )
            week_contributing = await health.contributors(
                [
                    (_midnight(start, tz), _midnight(start + timedelta(days=7), tz))
                    for start in weeks
                ]
            )
            rounds = [
                NpsRound(
                    survey.period,
                    len(survey.scores),
                    _score(survey.scores, self.settings.nps.min_responses),
                )
                for survey in await health.nps_rounds(2)
            ]
            slipping_now = await health.slipping(now, silent=slipping_days)
            groups = await health.groups(current.start, current.end)
            feedback = (
                await self._feedback(session, current) if self.settings.feedback.enabled else None
            )

        inputs = HealthInputs(
            current=figures[0],
            previous=figures[1],
            weeks=[
                WeekFigures(
                    iso_week_key(start),
                    days_label(start, start + timedelta(days=6)),
                    week_active[i],
                    week_contributing[i],
                )
                for i, start in enumerate(weeks)
            ],
            cohorts=cohorts,
            nps=rounds[0] if rounds else None,
            nps_previous=rounds[1] if len(rounds) > 1 else None,
            tiers=[TierName(t.key, t.name) for t in self.settings.tiers],
            targets=Targets(
                content_per_member=Target(
                    program.content_per_member_min, program.content_per_member_max
                ),
                nps=Target(program.nps_target),
                retention=Target(program.retention_target_percent, unit="%"),
                slipping_days=program.slipping_days,
                nps_min_responses=self.settings.nps.min_responses,
            ),
            slipping_now=slipping_now,
            groups=[
                GroupActivity(g.name, g.kind, g.region, g.members, g.events, g.last_activity_at)
                for g in groups
            ],
            feedback=feedback,
        )
        return compose_health(inputs)

    async def _feedback(self, session: AsyncSession, month: Period) -> FeedbackFigures:
        repo = FeedbackRepository(session, self.guild_id)
        facts = [
            ItemFacts(row.created_at, row.first_staff_status_at, Status(row.status), row.shipped_at)
            for row in await repo.all_items()
        ]
        voters = await repo.voter_tiers(month.start, month.end)
        return feedback_figures(facts, voters, start=month.start, end=month.end)

    async def export(self) -> tuple[HealthReport, str, str]:
        """The report, its numbers as CSV text, and a file name for them.

        The text starts with a byte-order mark so that spreadsheet programs read it as UTF-8.
        """
        report = await self.report()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        writer.writerows(csv_rows(report))
        return report, "\ufeff" + buffer.getvalue(), f"program-health-{report.period_key}.csv"

    def _is_promotion(self, old: str | None, new: str | None) -> bool:
        keys = self.settings.tier_keys
        if new is None or new not in keys:
            return False
        return old not in keys or keys.index(old) < keys.index(new)


def _score(scores: Sequence[int], min_responses: int) -> int | None:
    result = nps_result(scores, min_responses=min_responses)
    return None if result is None else int(result.score)


def _days(period: Period) -> tuple[date, date]:
    """A monthly period's local days: its window is local midnight to local midnight."""
    return period.start.date(), period.end.date()


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _weeks(today: date) -> list[date]:
    """Mondays of the ``WEEKS`` complete weeks before this one, oldest first."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=WEEKS - i) for i in range(WEEKS)]
