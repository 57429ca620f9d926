"""Repositories: one per aggregate, each taking a session and never committing."""

from db.repositories.activity import ActivityRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.members import MemberRepository
from db.repositories.newsletter import NewsletterRepository
from db.repositories.nominations import DuplicateNominationError, NominationRepository
from db.repositories.recognition import MonthNumbersRow, RecognitionRepository
from db.repositories.scheduled_posts import ScheduledPostRepository
from db.repositories.spotlights import SpotlightNominationRow, SpotlightRepository, SpotlightRow
from db.repositories.tiers import TierRepository

__all__ = [
    "ActivityRepository",
    "DuplicateNominationError",
    "GuildSettingsRepository",
    "LedgerRepository",
    "MemberRepository",
    "MonthNumbersRow",
    "NewsletterRepository",
    "NominationRepository",
    "RecognitionRepository",
    "ScheduledPostRepository",
    "SpotlightNominationRow",
    "SpotlightRepository",
    "SpotlightRow",
    "TierRepository",
]
