"""Sign-in links and web sessions: single use across processes, expiry, forged cookies, CSRF.

Store tests run on SQLite and PostgreSQL. The race uses two engines on one database, as the bot
and a standalone ``python -m bot web`` would: exactly one redeem of a link wins.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.services.web_sessions import SESSION_TTL, SessionSigner
from bot.services.web_sign_in import (
    SIGN_IN_TTL,
    Refusal,
    SignedIn,
    WebSignInService,
    token_hash,
)
from db.engine import create_session_factory
from db.models import WebSignInToken
from tests.conftest import engine_for
from tests.services.test_ladder_service import make_settings

ADA, GRACE = 1001, 1002
SECRET = "a test secret that is long enough"


@pytest.fixture
def service(sessions, clock) -> WebSignInService:
    return WebSignInService(sessions, make_settings(), clock)


async def test_a_link_signs_its_member_in_once(service):
    token = await service.issue(ADA)

    assert await service.redeem(token) == SignedIn(ADA)
    assert await service.redeem(token) is Refusal.USED


async def test_only_a_hash_of_the_token_is_stored(service, sessions):
    token = await service.issue(ADA)

    async with sessions() as session:
        rows = (await session.scalars(select(WebSignInToken))).all()
    assert [(row.token_hash, row.user_id) for row in rows] == [(token_hash(token), ADA)]
    assert token not in rows[0].token_hash


async def test_a_link_expires_after_ten_minutes(service, clock):
    early, late = await service.issue(ADA), await service.issue(GRACE)
    clock.advance(SIGN_IN_TTL - timedelta(seconds=1))
    assert await service.redeem(early) == SignedIn(ADA)

    clock.advance(timedelta(seconds=1))
    assert await service.redeem(late) is Refusal.EXPIRED


async def test_unknown_and_malformed_tokens_are_refused(service):
    await service.issue(ADA)
    assert await service.redeem("not-a-token") is Refusal.UNKNOWN
    assert await service.redeem("") is Refusal.UNKNOWN
    assert await service.redeem("x" * 10_000) is Refusal.UNKNOWN


async def test_each_link_is_its_own(service):
    first, second = await service.issue(ADA), await service.issue(ADA)
    assert first != second
    assert await service.redeem(second) == SignedIn(ADA)
    assert await service.redeem(first) == SignedIn(ADA)


async def test_old_expired_tokens_are_forgotten(service, sessions, clock):
    await service.issue(ADA)
    clock.advance(timedelta(days=2))
    await service.issue(GRACE)

    async with sessions() as session:
        users = (await session.scalars(select(WebSignInToken.user_id))).all()
    assert users == [GRACE]


async def test_two_processes_racing_on_one_link_let_exactly_one_in(db_url, engine, clock):
    """Two engines (two connection pools, as two processes have), many concurrent redeems."""
    settings = make_settings()
    other = engine_for(db_url)
    try:
        bot_side = WebSignInService(create_session_factory(engine), settings, clock)
        web_side = WebSignInService(create_session_factory(other), settings, clock)
        for _ in range(3):
            token = await bot_side.issue(ADA)
            results = await asyncio.gather(
                *(side.redeem(token) for side in (bot_side, web_side) * 3)
            )
            assert results.count(SignedIn(ADA)) == 1
            assert results.count(Refusal.USED) == len(results) - 1
    finally:
        await other.dispose()


def test_a_session_cookie_round_trips_and_expires(clock: FakeClock):
    signer = SessionSigner(SECRET, clock)
    session, value = signer.open(ADA)

    assert signer.read(value) == session
    assert session.user_id == ADA
    clock.advance(SESSION_TTL + timedelta(seconds=1))
    assert signer.read(value) is None


def test_a_forged_or_foreign_cookie_is_refused(clock):
    signer = SessionSigner(SECRET, clock)
    _, value = signer.open(ADA)
    payload, _, signature = value.rpartition(".")

    assert signer.read(None) is None
    assert signer.read("garbage") is None
    assert (
        signer.read(
            payload.replace(payload[0], "A" if payload[0] != "A" else "B") + "." + signature
        )
        is None
    )
    assert SessionSigner("another secret, also long", clock).read(value) is None


def test_csrf_tokens_belong_to_one_session(clock):
    signer = SessionSigner(SECRET, clock)
    mine, _ = signer.open(ADA)
    theirs, _ = signer.open(GRACE)

    token = signer.csrf_token(mine)
    assert signer.csrf_ok(mine, token)
    assert not signer.csrf_ok(theirs, token)
    assert not signer.csrf_ok(mine, None)
    assert not signer.csrf_ok(mine, "")
    assert not signer.csrf_ok(mine, token[:-1] + ("0" if token[-1] != "0" else "1"))


def test_a_short_secret_is_refused(clock):
    with pytest.raises(ValueError, match="at least 16"):
        SessionSigner("short", clock)


async def test_web_decisions_wait_in_order_until_done(sessions, clock):
    from bot.services.web_decisions import WebDecisionsService

    decisions = WebDecisionsService(sessions, make_settings(), clock)
    await decisions.record("nomination", 7, GRACE)
    clock.advance(1)
    await decisions.record("content", 3, GRACE)

    waiting = await decisions.waiting()
    assert [(d.kind, d.record_id, d.moderator_id) for d in waiting] == [
        ("nomination", 7, GRACE),
        ("content", 3, GRACE),
    ]
    assert await decisions.claim(waiting[0].id) is True
    assert await decisions.claim(waiting[0].id) is False, "claimed once: shown once"
    assert [d.record_id for d in await decisions.waiting()] == [3]
