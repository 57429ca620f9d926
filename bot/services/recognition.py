"""The recognition rhythm's data side: numbers for each post, claims, spotlights, subscriptions.

``bot.core.recognition`` and ``bot.core.newsletter`` compose; this service feeds them from the
store in a few grouped queries and keeps the records that make every post happen at most once
per period: a post is *claimed* in ``scheduled_posts`` before it is sent, and a claim left
unfinished by a crash is resolved by looking for its nonce in the channel, never by re-sending
blindly.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.newsletter import (
    ContentLink,
    MonthNumbers,
    Newsletter,
    NewsletterInputs,
    ShippedRequest,
    UpcomingEvent,
    compose_newsletter,
)
from bot.core.periods import Period
from bot.core.recognition import (
    AwardsDigest,
    AwardsInputs,
    Spotlight,
    SpotlightNomination,
    TierArrival,
    WeeklyDigest,
    WeeklyInputs,
    compose_awards,
    compose_weekly,
)
from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.content import KIND_CONTENT
from db.models import ScheduledPost
from db.repositories.feedback import FeedbackRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.newsletter import NewsletterRepository
from db.repositories.recognition import RecognitionRepository
from db.repositories.scheduled_posts import ScheduledPostRepository
from db.repositories.spotlights import SpotlightRepository
from db.repositories.tiers import TierRepository

#: Discord nonces are at most 25 characters; ours are short, random and unique per claim.
NONCE_BYTES = 8
REASON_MAX = 300
RHYTHM_SINCE_PREFIX = "rhythm_since:"

ClaimOutcome = Literal["claimed", "posted", "in_flight", "skipped"]


@dataclass(frozen=True)
class Claim:
    """A post this process may now send, under ``nonce``."""

    post_id: int
    kind: str
    period: str
    nonce: str
    delayed: bool
    claimed_at: datetime


@dataclass(frozen=True)
class ClaimResult:
    outcome: ClaimOutcome
    claim: Claim | None = None
    message_id: int | None = None
    channel_id: int | None = None


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def _claim_of(post: ScheduledPost) -> Claim:
    return Claim(post.id, post.kind, post.period, post.nonce, post.delayed, post.claimed_at)


class RecognitionService(Service):
    # ------------------------------------------------------------------ claims
    async def claim(
        self, kind: str, period: str, *, delayed: bool = False, force: bool = False
    ) -> ClaimResult:
        """Claim ``(kind, period)`` before sending; say why not when it can't be claimed.

        A skipped period (missed beyond the grace window, or a send that failed) can be claimed
        again by anyone; a posted one only with ``force``; one being posted never.
        """
        now = self.clock.now()
        async with self.sessions.begin() as session:
            posts = ScheduledPostRepository(session, self.guild_id)
            post = await posts.claim(
                kind=kind, period=period, nonce=new_nonce(), now=now, delayed=delayed
            )
            if post is not None:
                return ClaimResult("claimed", _claim_of(post))
            existing = await posts.get(kind, period)
            if existing is None:  # claimed and released in between: let the caller retry
                return ClaimResult("in_flight")
            if existing.state == "claimed":
                return ClaimResult("in_flight")
            if existing.state == "posted" and not force:
                return ClaimResult("posted", None, existing.message_id, existing.channel_id)
            again = await posts.reclaim(kind, period, nonce=new_nonce(), now=now)
            if again is None:
                return ClaimResult("in_flight")
            again.delayed = delayed
            return ClaimResult("claimed", _claim_of(again))

    async def mark_posted(self, claim: Claim, *, channel_id: int, message_id: int) -> None:
        async with self.sessions.begin() as session:
            posts = ScheduledPostRepository(session, self.guild_id)
            post = await posts.get(claim.kind, claim.period)
            if post is not None and post.nonce == claim.nonce:
                await posts.mark_posted(
                    post, channel_id=channel_id, message_id=message_id, now=self.clock.now()
                )

    async def release(self, claim: Claim, *, note: str) -> None:
        """A send that failed before anything was posted: record why, free the period."""
        async with self.sessions.begin() as session:
            posts = ScheduledPostRepository(session, self.guild_id)
            post = await posts.get(claim.kind, claim.period)
            if post is not None and post.nonce == claim.nonce and post.state == "claimed":
                await posts.mark_skipped(post, note=note)

    async def record_skipped(self, kind: str, period: str, *, note: str) -> bool:
        async with self.sessions.begin() as session:
            posts = ScheduledPostRepository(session, self.guild_id)
            return await posts.record_skipped(kind, period, note=note, now=self.clock.now())

    async def unfinished(self) -> list[Claim]:
        async with self.sessions() as session:
            posts = await ScheduledPostRepository(session, self.guild_id).unfinished()
            return [_claim_of(post) for post in posts]

    async def due_since(self, kind: str) -> datetime:
        """Occurrences after this moment may be due: the last claim, or when the rhythm began.

        The first start records when ``kind`` began here, so installing the bot (or adding a
        ritual) never posts a backlog of periods from before it existed.
        """
        key = f"{RHYTHM_SINCE_PREFIX}{kind}"
        async with self.sessions.begin() as session:
            settings = GuildSettingsRepository(session, self.guild_id)
            stored = await settings.get(key)
            if stored is None:
                began = self.clock.now()
                await settings.set(key, began.isoformat(), now=began)
            else:
                began = datetime.fromisoformat(stored)
            post = await ScheduledPostRepository(session, self.guild_id).latest(kind)
        return began if post is None else max(began, post.claimed_at)

    async def post_record(self, kind: str, period: str) -> ScheduledPost | None:
        async with self.sessions() as session:
            return await ScheduledPostRepository(session, self.guild_id).get(kind, period)

    # ------------------------------------------------------------------ shared numbers
    def _arrivals(
        self, changes: Sequence[tuple[int, str | None, str | None, datetime]]
    ) -> list[TierArrival]:
        """Moves *up* into a tier; tiers no longer in the config are left out."""
        keys = self.settings.tier_keys
        arrivals: list[TierArrival] = []
        for user_id, from_tier, to_tier, at in changes:
            if to_tier is None or to_tier not in keys:
                continue
            if from_tier in keys and keys.index(from_tier) >= keys.index(to_tier):
                continue
            arrivals.append(TierArrival(user_id, self.settings.tier(to_tier).name, at))
        return arrivals

    # ------------------------------------------------------------------ weekly recognition
    async def weekly(self, period: Period, *, record_spotlight: bool) -> WeeklyDigest:
        """The week's digest; with ``record_spotlight`` the spotlight is kept for this period."""
        rec = self.settings.recognition
        async with self.sessions.begin() as session:
            stats = RecognitionRepository(session, self.guild_id)
            spotlights = SpotlightRepository(session, self.guild_id)
            recorded = await spotlights.for_period(period.key)
            lookback = period.end - timedelta(weeks=rec.spotlight_lookback_weeks)
            cooldown = period.end - timedelta(weeks=rec.spotlight_cooldown_weeks)
            inputs = WeeklyInputs(
                period=period,
                counts=await stats.counts_by_member_kind(
                    period.start, period.end, [kind.key for kind in self.settings.kinds.weekly()]
                ),
                hidden=frozenset(await stats.hidden_members()),
                arrivals=self._arrivals(await stats.tier_changes(period.start, period.end)),
                nominations=[
                    SpotlightNomination(n.id, n.user_id, n.reason, n.nominated_by, n.created_at)
                    for n in await spotlights.pending()
                ],
                candidates=dict(await stats.points_by_member(lookback, period.end, limit=50)),
                recently_spotlighted=frozenset(
                    await spotlights.spotlighted_since(cooldown)
                    if rec.spotlight_cooldown_weeks
                    else set()
                ),
                kinds=self.settings.kinds,
                recorded_spotlight=(
                    None
                    if recorded is None
                    else Spotlight(
                        recorded.user_id,
                        recorded.reason,
                        recorded.source,
                        recorded.nomination_id,
                    )
                ),
                top_n=rec.top_per_category,
                spotlight_min_points=rec.spotlight_min_points,
                spotlight_lookback_days=rec.spotlight_lookback_weeks * 7,
            )
            digest = compose_weekly(inputs)
            if record_spotlight and recorded is None and digest.spotlight is not None:
                chosen = digest.spotlight
                await spotlights.record(
                    period.key,
                    chosen.user_id,
                    chosen.source,
                    chosen.nomination_id,
                    self.clock.now(),
                    reason=chosen.reason,
                )
            return digest

    async def nominate_spotlight(self, user_id: int, *, by: int, reason: str) -> int:
        reason = " ".join(reason.split())
        if not reason:
            raise UserFacingError("Say why: the reason is shown in the spotlight.")
        if len(reason) > REASON_MAX:
            raise UserFacingError(f"Keep the reason under {REASON_MAX} characters.")
        async with self.sessions.begin() as session:
            stats = RecognitionRepository(session, self.guild_id)
            if user_id in await stats.hidden_members():
                raise UserFacingError(
                    "That member opted out of public recognition (or left), so they can't be "
                    "spotlighted."
                )
            spotlights = SpotlightRepository(session, self.guild_id)
            if any(n.user_id == user_id for n in await spotlights.pending()):
                raise UserFacingError("That member already has a spotlight nomination waiting.")
            return await spotlights.nominate(user_id, by, reason, self.clock.now())

    # ------------------------------------------------------------------ quarterly awards
    async def awards(self, period: Period) -> AwardsDigest:
        async with self.sessions() as session:
            stats = RecognitionRepository(session, self.guild_id)
            inputs = AwardsInputs(
                period=period,
                counts=await stats.counts_by_member_kind(
                    period.start, period.end, [kind.key for kind in self.settings.kinds.awarded()]
                ),
                points=await stats.points_by_member_kind(period.start, period.end),
                hidden=frozenset(await stats.hidden_members()),
                active_days=await stats.active_days_by_member(
                    self._local_day(period.start), self._local_day(period.end)
                ),
                kinds=self.settings.kinds,
            )
        return compose_awards(inputs)

    # ------------------------------------------------------------------ newsletter
    def _what(self, kind: str, credit_kind: str) -> str:
        """/share's kind of content ("video"), or the noun of the server's own kind ("talk")."""
        if credit_kind == KIND_CONTENT:
            return kind
        row = self.settings.kinds.find(credit_kind)
        return row.one if row is not None else credit_kind

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.settings.schedule.tz).date()

    def _previous_month_start(self, period: Period) -> datetime:
        tz = self.settings.schedule.tz
        first = self._local_day(period.start)
        previous = (first - timedelta(days=1)).replace(day=1)
        return datetime.combine(previous, time(0, 0), tzinfo=tz)

    async def newsletter(self, period: Period) -> Newsletter:
        news = self.settings.newsletter
        now = self.clock.now()
        async with self.sessions() as session:
            stats = RecognitionRepository(session, self.guild_id)
            this_month = await stats.month_numbers(period.start, period.end)
            previous = await stats.month_numbers(self._previous_month_start(period), period.start)
            inputs = NewsletterInputs(
                period=period,
                numbers=MonthNumbers(**vars(this_month)),
                previous=MonthNumbers(**vars(previous)),
                content=[
                    ContentLink(title, url, self._what(kind, credit_kind), author)
                    for title, url, kind, credit_kind, author in await stats.approved_content(
                        period.start, period.end
                    )
                ],
                arrivals=self._arrivals(await stats.tier_changes(period.start, period.end)),
                top=await stats.points_by_member(
                    period.start, period.end, limit=news.top_contributors * 4
                ),
                hidden=frozenset(await stats.hidden_members()),
                upcoming=[
                    UpcomingEvent(event_id, name, starts_at)
                    for event_id, name, starts_at in await stats.upcoming_events(
                        now, now + timedelta(days=news.upcoming_days)
                    )
                ],
                daily_messages=await stats.daily_messages(
                    self._local_day(period.start), self._local_day(period.end)
                ),
                top_n=news.top_contributors,
                shipped=await self._shipped(session, period),
            )
        return compose_newsletter(inputs)

    async def _shipped(self, session: AsyncSession, period: Period) -> list[ShippedRequest]:
        feedback = FeedbackRepository(session, self.guild_id)
        return [
            ShippedRequest(row.title, row.author_id, await feedback.votes(row.id), row.thread_id)
            for row in await feedback.shipped_between(period.start, period.end)
        ]

    # ------------------------------------------------------------------ subscriptions
    async def subscribe(self, user_id: int) -> bool:
        """True if newly subscribed. Only tier members get the newsletter by DM."""
        if not self.settings.newsletter.dm_subscribers:
            raise UserFacingError(
                "Newsletter DMs are turned off here; the newsletter is posted in "
                f"<#{self.settings.channels.newsletter}>."
            )
        async with self.sessions.begin() as session:
            state = await TierRepository(session, self.guild_id).state(user_id)
            if state is None or state.tier_key is None:
                raise UserFacingError(
                    "The newsletter DM is for members on the ladder (tier members). Everyone can "
                    f"read it in <#{self.settings.channels.newsletter}>."
                )
            return await NewsletterRepository(session, self.guild_id).subscribe(
                user_id, self.clock.now()
            )

    async def unsubscribe(self, user_id: int) -> bool:
        async with self.sessions.begin() as session:
            return await NewsletterRepository(session, self.guild_id).unsubscribe(user_id)

    async def recipients(self, period: str) -> list[int]:
        """Subscribers still on a tier who have not been sent (or failed) this period's issue."""
        async with self.sessions() as session:
            letters = NewsletterRepository(session, self.guild_id)
            tiers = TierRepository(session, self.guild_id)
            done = await letters.delivered(period)
            wanted: list[int] = []
            for user_id in await letters.subscribers():
                if user_id in done:
                    continue
                state = await tiers.state(user_id)
                if state is not None and state.tier_key is not None:
                    wanted.append(user_id)
            return wanted

    async def claim_delivery(self, period: str, user_id: int) -> bool:
        """Before the DM: False if the member already got (or is getting) this issue."""
        async with self.sessions.begin() as session:
            return await NewsletterRepository(session, self.guild_id).claim_delivery(
                period, user_id, now=self.clock.now()
            )

    async def record_delivery(
        self, period: str, user_id: int, *, ok: bool, error: str | None = None
    ) -> None:
        async with self.sessions.begin() as session:
            await NewsletterRepository(session, self.guild_id).record_delivery(
                period, user_id, ok=ok, error=error, now=self.clock.now()
            )

    async def delivery_counts(self, period: str) -> tuple[int, int]:
        async with self.sessions() as session:
            return await NewsletterRepository(session, self.guild_id).delivery_counts(period)
