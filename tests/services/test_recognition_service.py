"""RecognitionService on a real store (SQLite and PostgreSQL): claims, catch-up start, spotlights,
newsletter subscriptions and deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import Settings, parse_config
from bot.core.periods import weekly_period
from bot.errors import UserFacingError
from bot.services.contributions import Contributions
from bot.services.recognition import RecognitionService
from db.models import Member, TierState
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, LINUS = 1001, 1002, 1003
TIERS = [{"key": "champion", "name": "Champion", "role_id": 601, "min_points": 50}]


def settings() -> Settings:
    return parse_config(minimal_config(guild_id=GUILD, tiers=TIERS), require_token=False).settings


@pytest.fixture
def service(sessions, clock) -> RecognitionService:
    s = settings()
    return RecognitionService(sessions, s, clock, Contributions(s, clock))


async def test_a_period_is_claimed_once_and_refused_while_in_flight(service) -> None:
    first = await service.claim("weekly", "2026-W48")
    assert first.outcome == "claimed" and first.claim is not None
    assert len(first.claim.nonce) <= 25, "fits Discord's nonce field"
    assert (await service.claim("weekly", "2026-W48")).outcome == "in_flight"
    assert (await service.claim("weekly", "2026-W48", force=True)).outcome == "in_flight"

    await service.mark_posted(first.claim, channel_id=5, message_id=6)
    posted = await service.claim("weekly", "2026-W48")
    assert (posted.outcome, posted.channel_id, posted.message_id) == ("posted", 5, 6)
    assert (await service.claim("weekly", "2026-W49")).outcome == "claimed", "periods are separate"
    assert (await service.claim("newsletter", "2026-W48")).outcome == "claimed", "kinds too"


async def test_force_reclaims_a_posted_period_with_a_new_nonce(service) -> None:
    first = (await service.claim("weekly", "2026-W48")).claim
    assert first is not None
    await service.mark_posted(first, channel_id=5, message_id=6)
    again = await service.claim("weekly", "2026-W48", force=True)
    assert again.outcome == "claimed" and again.claim is not None
    assert again.claim.nonce != first.nonce
    # The old claim can no longer mark the period: only the current nonce counts.
    await service.mark_posted(first, channel_id=5, message_id=99)
    record = await service.post_record("weekly", "2026-W48")
    assert record is not None and record.state == "claimed"


async def test_a_released_or_skipped_period_can_be_claimed_again_without_force(service) -> None:
    claim = (await service.claim("weekly", "2026-W48")).claim
    assert claim is not None
    await service.release(claim, note="failed: 403 Forbidden")
    record = await service.post_record("weekly", "2026-W48")
    assert record is not None and (record.state, record.note) == (
        "skipped",
        "failed: 403 Forbidden",
    )
    assert (await service.claim("weekly", "2026-W48", delayed=True)).outcome == "claimed"
    assert await service.record_skipped("weekly", "2026-W47", note="missed") is True
    assert await service.record_skipped("weekly", "2026-W47", note="missed") is False
    assert (await service.claim("weekly", "2026-W47")).outcome == "claimed"


async def test_unfinished_claims_are_listed_for_recovery(service) -> None:
    done = (await service.claim("weekly", "2026-W47")).claim
    open_ = (await service.claim("weekly", "2026-W48")).claim
    assert done is not None and open_ is not None
    await service.mark_posted(done, channel_id=5, message_id=6)
    assert [c.period for c in await service.unfinished()] == ["2026-W48"]


async def test_due_since_starts_at_the_first_run_then_follows_the_last_claim(
    service, clock
) -> None:
    installed = clock.now()
    assert await service.due_since("weekly") == installed
    clock.advance(timedelta(days=3))
    assert await service.due_since("weekly") == installed, "remembered, not re-read"
    await service.claim("weekly", "2026-W49")
    assert await service.due_since("weekly") == clock.now()


async def _members(sessions, clock, *rows: tuple[int, bool, bool]) -> None:
    async with sessions.begin() as session:
        for user_id, opted_out, left in rows:
            session.add(
                Member(
                    guild_id=GUILD,
                    user_id=user_id,
                    display_name=str(user_id),
                    first_seen_at=clock.now(),
                    recognition_opt_out=opted_out,
                    left_at=clock.now() if left else None,
                )
            )


async def test_weekly_spotlight_is_recorded_once_and_reused(service, sessions, clock) -> None:
    await _members(sessions, clock, (ADA, False, False), (GRACE, False, False))
    await service.nominate_spotlight(GRACE, by=ADA, reason="  Wrote   the guide ")
    period = weekly_period(clock.now() + timedelta(days=1), settings().schedule.tz)
    preview = await service.weekly(period, record_spotlight=False)
    assert preview.spotlight is not None and preview.spotlight.user_id == GRACE
    assert preview.spotlight.reason == "Wrote the guide"
    posted = await service.weekly(period, record_spotlight=True)
    assert posted.spotlight == preview.spotlight
    # The nomination is used up, but the period's spotlight stays the same on a re-render.
    again = await service.weekly(period, record_spotlight=True)
    assert again.spotlight == posted.spotlight


async def test_spotlight_nominations_are_validated(service, sessions, clock) -> None:
    await _members(sessions, clock, (ADA, False, False), (LINUS, True, False))
    with pytest.raises(UserFacingError, match="Say why"):
        await service.nominate_spotlight(ADA, by=GRACE, reason="   ")
    with pytest.raises(UserFacingError, match="under 300"):
        await service.nominate_spotlight(ADA, by=GRACE, reason="x" * 301)
    with pytest.raises(UserFacingError, match="opted out"):
        await service.nominate_spotlight(LINUS, by=GRACE, reason="great")
    await service.nominate_spotlight(ADA, by=GRACE, reason="great")
    with pytest.raises(UserFacingError, match="already has"):
        await service.nominate_spotlight(ADA, by=GRACE, reason="again")


async def test_newsletter_dms_only_for_subscribed_tier_members_once_each(
    service, sessions, clock
) -> None:
    async with sessions.begin() as session:
        for user_id in (ADA, GRACE):
            session.add(
                TierState(
                    guild_id=GUILD,
                    user_id=user_id,
                    tier_key="champion",
                    tier_since=clock.now(),
                    updated_at=clock.now(),
                )
            )
    with pytest.raises(UserFacingError, match="tier members"):
        await service.subscribe(LINUS)
    assert await service.subscribe(ADA) is True
    assert await service.subscribe(ADA) is False
    assert await service.subscribe(GRACE) is True
    assert sorted(await service.recipients("2026-11")) == [ADA, GRACE]
    await service.record_delivery("2026-11", ADA, ok=True)
    await service.record_delivery("2026-11", GRACE, ok=False, error="DMs closed")
    assert await service.recipients("2026-11") == [], "a failure is not retried"
    assert await service.delivery_counts("2026-11") == (1, 1)
    assert await service.unsubscribe(GRACE) is True
    assert await service.recipients("2026-12") == [ADA]
