"""Every program service, built once: what the bot, the CLI, the demo and benchmarks share.

``build_services`` is the only place a service is constructed and the only place services are
wired to each other (the ladder to contributions, nominations to the ladder, thanks to activity).
Cogs read them from ``bot.services``; a process with no Discord connection builds the same
container with :class:`~bot.services.effects.Offline` effects.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.metrics import Metrics
from bot.services.activity import ActivityService
from bot.services.adjustments import AdjustmentService
from bot.services.answers import AnswersService
from bot.services.backfill import BackfillService
from bot.services.background import Background
from bot.services.buddies import BuddiesService
from bot.services.content import ContentService
from bot.services.contributions import Contributions
from bot.services.effects import DiscordEffects, Offline
from bot.services.events import EventsService
from bot.services.feedback import FeedbackService
from bot.services.groups import GroupsService
from bot.services.health import HealthService
from bot.services.imports import ImportService
from bot.services.integrity import IntegrityService
from bot.services.ladder import LadderService
from bot.services.ladder_automation import LadderAutomation
from bot.services.members import MembersService
from bot.services.nominations import NominationService
from bot.services.nps import NpsService
from bot.services.privacy import PrivacyService
from bot.services.programs import ProgramsService
from bot.services.recognition import RecognitionService
from bot.services.referrals import ReferralService
from bot.services.stats import StatsService
from bot.services.thanks import ThanksService

#: How long closing waits for background work (announcements, surveys) before cancelling it.
CLOSE_GRACE_SECONDS = 5.0


@dataclass
class Services:
    settings: Settings
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    effects: DiscordEffects
    metrics: Metrics
    background: Background
    contributions: Contributions
    members: MembersService
    activity: ActivityService
    thanks: ThanksService
    answers: AnswersService
    backfill: BackfillService
    content: ContentService
    events: EventsService
    referrals: ReferralService
    adjustments: AdjustmentService
    groups: GroupsService
    buddies: BuddiesService
    stats: StatsService
    health: HealthService
    integrity: IntegrityService
    privacy: PrivacyService
    recognition: RecognitionService
    nps: NpsService
    ladder: LadderService
    tiers: LadderAutomation
    nominations: NominationService
    feedback: FeedbackService
    programs: ProgramsService
    imports: ImportService

    @property
    def guild_id(self) -> int:
        return self.settings.discord.guild_id

    def start(self) -> None:
        """Start the services' own loops (the activity flusher, the role queue)."""
        self.activity.start()
        self.tiers.start()

    async def close(self) -> None:
        """Finish background work, write what is buffered, stop the loops."""
        await self.background.finish(CLOSE_GRACE_SECONDS)
        await self.activity.close()
        await self.tiers.close()


def build_services(
    settings: Settings,
    clock: Clock,
    sessions: async_sessionmaker[AsyncSession],
    effects: DiscordEffects | None = None,
    metrics: Metrics | None = None,
) -> Services:
    effects = effects if effects is not None else Offline()
    metrics = metrics if metrics is not None else Metrics()
    background = Background()
    contributions = Contributions(settings, clock, metrics)
    common = (sessions, settings, clock, contributions)
    activity = ActivityService(*common)
    ladder = LadderService(*common)
    tiers = LadderAutomation(ladder, contributions, effects, background)
    metrics.watch_pending_role_changes(lambda: tiers.roles.waiting)
    recognition = RecognitionService(*common)
    answers = AnswersService(*common)
    return Services(
        settings=settings,
        clock=clock,
        sessions=sessions,
        effects=effects,
        metrics=metrics,
        background=background,
        contributions=contributions,
        members=MembersService(sessions, settings, clock),
        activity=activity,
        thanks=ThanksService(*common, recent_posts=activity),
        answers=answers,
        backfill=BackfillService(sessions, settings, clock, activity, answers, tiers, effects),
        content=ContentService(*common),
        events=EventsService(*common),
        referrals=ReferralService(*common),
        adjustments=AdjustmentService(*common),
        groups=GroupsService(*common),
        buddies=BuddiesService(*common),
        stats=StatsService(sessions, settings, clock),
        health=HealthService(*common),
        integrity=IntegrityService(*common),
        privacy=PrivacyService(sessions, settings, clock),
        recognition=recognition,
        nps=NpsService(*common, claims=recognition),
        ladder=ladder,
        tiers=tiers,
        nominations=NominationService(
            sessions, settings, clock, reevaluate=tiers.reevaluate, standing=ladder
        ),
        feedback=FeedbackService(*common),
        programs=ProgramsService(*common),
        imports=ImportService(*common, tiers),
    )
