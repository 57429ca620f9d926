"""Buddies: volunteers opt in, newcomers get one on joining, buddies earn `mentoring` credit.

The choice and the settling rules are pure (``bot.core.buddies``); this runs them over the
store. Assignments are serialised by a lock, so two newcomers arriving together can't both
push one volunteer past ``buddies.max_active``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.buddies import NoteThrottle, Pairing, Volunteer, choose_buddy, settle
from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.contributions import Contributions
from db.repositories.buddies import BuddyRepository, PairRow
from db.repositories.ladder import LadderRepository

NOT_A_TIER_MEMBER = (
    "Buddies are tier members (Champions and up): once you reach a tier, you can volunteer "
    "with /buddy optin."
)
BUDDIES_OFF = "Buddies aren't enabled in this community (buddies.enabled in the config)."
#: Moderators hear that a newcomer got no buddy at most this often (with a count).
UNPAIRED_NOTE_EVERY = timedelta(hours=24)


def source_id(pair_id: int) -> str:
    """The ledger source of a pairing's `mentoring` credit: one credit per pairing."""
    return f"buddy:{pair_id}"


@dataclass(frozen=True)
class Assignment:
    pair: PairRow | None
    """The newcomer's pairing; None when no volunteer was available."""
    new: bool
    """False for a newcomer who already had a buddy (a replayed join)."""
    volunteers: int = 0
    """How many volunteers could have been asked (for the "nobody available" note)."""


@dataclass
class SettleReport:
    credited: list[PairRow] = field(default_factory=list)
    ended_left: list[PairRow] = field(default_factory=list)
    ended_quiet: list[PairRow] = field(default_factory=list)


class BuddiesService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        self._assigning = asyncio.Lock()
        self._unpaired_notes = NoteThrottle(UNPAIRED_NOTE_EVERY)

    @property
    def enabled(self) -> bool:
        return self.settings.buddies.enabled

    async def opt_in(self, user_id: int) -> bool:
        """Volunteer as a buddy (tier members only); False if already volunteering."""
        async with self.sessions.begin() as session:
            tier = (await LadderRepository(session, self.guild_id).tier_keys([user_id])).get(
                user_id
            )
            if tier is None:
                raise UserFacingError(NOT_A_TIER_MEMBER)
            return await BuddyRepository(session, self.guild_id).opt_in(
                user_id, now=self.clock.now()
            )

    async def opt_out(self, user_id: int) -> tuple[bool, int]:
        """Stop getting newcomers; returns (was volunteering, newcomers still paired with you)."""
        async with self.sessions.begin() as session:
            repo = BuddyRepository(session, self.guild_id)
            return await repo.opt_out(user_id), await repo.active_count(user_id)

    async def assign(self, newcomer_id: int) -> Assignment:
        """Give a newcomer the least-loaded available volunteer, recorded before it returns."""
        async with self._assigning, self.sessions.begin() as session:
            repo = BuddyRepository(session, self.guild_id)
            existing = await repo.pair_of(newcomer_id)
            if existing is not None:
                return Assignment(existing, new=False)
            rows = await repo.available_volunteers()
            buddy = choose_buddy(
                [Volunteer(r.user_id, r.active, r.last_assigned_at) for r in rows],
                max_active=self.settings.buddies.max_active,
                exclude={newcomer_id},
            )
            if buddy is None:
                return Assignment(None, new=False, volunteers=len(rows))
            pair = await repo.create_pair(newcomer_id, buddy, now=self.clock.now())
            return Assignment(pair, new=True, volunteers=len(rows))

    def unpaired(self) -> int | None:
        """A newcomer got no buddy: how many to tell moderators about now, or None to hold back.

        In memory: a restart may send one note early, never lose a pairing.
        """
        return self._unpaired_notes.note(self.clock.now())

    async def set_thread(self, pair_id: int, thread_id: int) -> None:
        async with self.sessions.begin() as session:
            await BuddyRepository(session, self.guild_id).set_thread(pair_id, thread_id)

    async def settle(self) -> SettleReport:
        """The daily pass: credit buddies whose newcomer stayed active, end the others.

        Each pairing is closed by a conditional update in the same transaction as its credit,
        so a pass that runs twice (or overlaps a restart) credits a pairing once.
        """
        now = self.clock.now()
        credit_after = timedelta(days=self.settings.buddies.credit_after_days)
        tz = self.settings.schedule.tz
        report = SettleReport()
        async with self.sessions.begin() as session:
            repo = BuddyRepository(session, self.guild_id)
            for row in await repo.open_pairs():
                pair = row.pair
                outcome = settle(
                    Pairing(
                        pair.id,
                        pair.buddy_id,
                        pair.newcomer_id,
                        pair.assigned_at,
                        row.newcomer_present,
                        row.last_active_day,
                    ),
                    now=now,
                    credit_after=credit_after,
                    tz=tz,
                )
                if outcome == "credit" and await repo.mark_credited(pair.id, now=now):
                    credit = self.contributions.credit(
                        "mentoring",
                        pair.buddy_id,
                        source_id(pair.id),
                        occurred_at=now,
                        # The pairing (source) names the newcomer, in a column erasure handles.
                        reason="buddy of a newcomer",
                    )
                    await self.contributions.record(session, credit)
                    report.credited.append(pair)
                elif outcome in ("end_left", "end_quiet") and await repo.mark_ended(
                    pair.id, now=now
                ):
                    (report.ended_left if outcome == "end_left" else report.ended_quiet).append(
                        pair
                    )
        await self.contributions.changed(p.buddy_id for p in report.credited)
        return report
