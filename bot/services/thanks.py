"""``/thanks``: check the rules against stored counts, then record the thanks and its credit.

An acknowledged action: the thanks row and the ``thanks_received`` credit are committed in one
transaction before the member sees the answer, so a crash cannot lose a thanks the bot showed.
The ledger source is the interaction id, so a replayed interaction cannot credit twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.thanks import (
    Refusal,
    ThanksRequest,
    ThanksRules,
    check_thanks,
    clean_reason,
    thanks_day,
)
from bot.services.base import Service
from bot.services.contributions import Contributions
from db.repositories.presence import PresenceRepository
from db.repositories.thanks import ThanksRepository


class RecentPosts(Protocol):
    async def last_post(self, channel_ids: Collection[int], user_id: int) -> datetime | None:
        """The member's latest post in any of ``channel_ids``."""
        ...


class StoredPosts:
    """Presence as written to the database, for when activity tracking isn't loaded."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], guild_id: int) -> None:
        self.sessions = sessions
        self.guild_id = guild_id

    async def last_post(self, channel_ids: Collection[int], user_id: int) -> datetime | None:
        async with self.sessions() as session:
            return await PresenceRepository(session, self.guild_id).last_post(channel_ids, user_id)


@dataclass(frozen=True)
class GiveThanks:
    interaction_id: int
    giver_id: int
    receiver_id: int
    receiver_is_bot: bool
    receiver_in_guild: bool
    #: Where /thanks was used.
    channel_id: int
    #: For a thread, its parent: a post in either counts as "posted here".
    parent_channel_id: int | None
    reason: str | None


@dataclass(frozen=True)
class ThanksGiven:
    thanks_id: int
    giver_id: int
    receiver_id: int
    reason: str | None
    points: int


@dataclass(frozen=True)
class ThanksRefused:
    refusal: Refusal


@dataclass(frozen=True)
class AlreadyHandled:
    """This interaction was already recorded (a replayed event): nothing new happened."""


ThanksOutcome = ThanksGiven | ThanksRefused | AlreadyHandled


class _Duplicate(Exception):
    """Rolls back a thanks whose interaction was already credited."""


def thanks_rules(settings: Settings) -> ThanksRules:
    t = settings.thanks
    return ThanksRules(
        per_pair_per_day=t.per_pair_per_day,
        daily_cap=t.daily_cap,
        recent_post_hours=t.recent_post_hours,
        reason_max_length=t.reason_max_length,
    )


class ThanksService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
        *,
        recent_posts: RecentPosts | None = None,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        #: Who posted where: the activity service sees posts not yet written; else the store.
        self.posts = recent_posts or StoredPosts(sessions, settings.discord.guild_id)
        self.rules = thanks_rules(settings)
        # Count-then-insert must not interleave, or two quick thanks could pass one cap.
        self._lock = asyncio.Lock()

    async def give(self, request: GiveThanks) -> ThanksOutcome:
        """Record the thanks, or say why not. A replayed interaction changes nothing: the
        gate drops it in this process, and the ledger's source (the interaction id) refuses
        it after a restart."""
        channels = [request.channel_id]
        if request.parent_channel_id is not None:
            channels.append(request.parent_channel_id)
        last_post = await self.posts.last_post(channels, request.receiver_id)
        reason = clean_reason(request.reason)
        async with self._lock:
            now = self.clock.now()
            day = thanks_day(now, self.settings.schedule.tz)
            try:
                async with self.sessions() as session, session.begin():
                    thanks = ThanksRepository(session, self.guild_id)
                    given = await thanks.given_on(
                        day, giver_id=request.giver_id, receiver_id=request.receiver_id
                    )
                    refusal = check_thanks(
                        ThanksRequest(
                            giver_id=request.giver_id,
                            receiver_id=request.receiver_id,
                            receiver_is_bot=request.receiver_is_bot,
                            receiver_in_guild=request.receiver_in_guild,
                            reason=reason,
                            now=now,
                            given_today_by_giver=given.by_giver,
                            given_today_to_receiver=given.to_receiver,
                            receiver_last_post_here=last_post,
                        ),
                        self.rules,
                    )
                    if refusal is not None:
                        return ThanksRefused(refusal)
                    row = await thanks.add(
                        giver_id=request.giver_id,
                        receiver_id=request.receiver_id,
                        channel_id=request.channel_id,
                        reason=reason,
                        day=day,
                        created_at=now,
                    )
                    contribution = await self.contributions.record(
                        session,
                        self.contributions.credit(
                            "thanks_received",
                            request.receiver_id,
                            f"thanks:{request.interaction_id}",
                            occurred_at=now,
                            actor_id=request.giver_id,
                            reason=reason,
                        ),
                    )
                    if contribution is None:
                        raise _Duplicate
                    await thanks.link_contribution(row, contribution.id)
            except _Duplicate:
                return AlreadyHandled()
        await self.contributions.changed({request.receiver_id})
        return ThanksGiven(
            thanks_id=row.id,
            giver_id=request.giver_id,
            receiver_id=request.receiver_id,
            reason=reason,
            points=contribution.points,
        )
