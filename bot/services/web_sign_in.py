"""Single-use sign-in links for the web dashboard: issued by ``/dashboard``, redeemed once.

The web may run in another process than the bot (``python -m bot web``), so the token lives in
the database, not in memory; only its SHA-256 is stored. Redeeming is one conditional UPDATE
(unused and unexpired), and the row count says who won: two tabs, two processes or a replayed
request racing on one link let exactly one of them in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.services.base import StoreService
from db.repositories.web_sign_in import WebSignInRepository

log = logging.getLogger(__name__)

#: How long a link from ``/dashboard`` signs its member in.
SIGN_IN_TTL = timedelta(minutes=10)
#: Expired tokens are deleted once they are this old (kept a while to say "expired", not "unknown").
FORGET_AFTER = timedelta(days=1)
#: Longer than any token ``issue`` makes; anything else is refused before the database is asked.
MAX_TOKEN_LENGTH = 128


class Refusal(StrEnum):
    """Why a sign-in link did not sign anyone in, each with the member-facing explanation."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"

    @property
    def message(self) -> str:
        return {
            Refusal.UNKNOWN: "This sign-in link is not valid. Check that it was copied whole.",
            Refusal.USED: "This sign-in link was already used: each link signs in once.",
            Refusal.EXPIRED: "This sign-in link has expired: links are valid for 10 minutes.",
        }[self]


@dataclass(frozen=True)
class SignedIn:
    user_id: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebSignInService(StoreService):
    async def issue(self, user_id: int) -> str:
        """A new token for the member, valid ``SIGN_IN_TTL``; old expired tokens are dropped."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            repo = WebSignInRepository(session, self.guild_id)
            await repo.forget_before(now - FORGET_AFTER)
            await repo.add(
                token_hash=token_hash(token), user_id=user_id, now=now, expires_at=now + SIGN_IN_TTL
            )
        return token

    async def redeem(self, token: str) -> SignedIn | Refusal:
        """Use the token: the member it signs in, or why it doesn't (unknown, used, expired)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return Refusal.UNKNOWN
        digest = token_hash(token)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            repo = WebSignInRepository(session, self.guild_id)
            won = await repo.claim(digest, now=now)
            row = await repo.get(digest)
        if row is None:
            return Refusal.UNKNOWN
        if won:
            return SignedIn(row.user_id)
        if row.used_at is not None:
            return Refusal.USED
        return Refusal.EXPIRED
