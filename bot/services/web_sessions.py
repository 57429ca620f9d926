"""Signed web session cookies and the CSRF tokens bound to them.

A session is a signed value (itsdangerous, what Flask's sessions use) holding the member's id,
a random session id and when it was opened; nothing about rights is in it, so staff rights are
looked up on every request and a demoted moderator loses access at once. The age is checked
against the injected clock rather than itsdangerous's own timestamps. A CSRF token is an HMAC
of the session id: valid for that session only, and nothing to store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from bot.clock import Clock

#: A session lasts this long after sign-in; then ``/dashboard`` gives a new link.
SESSION_TTL = timedelta(hours=12)
_SALT = "flywheel-web-session"
_CSRF = b"flywheel-web-csrf:"


@dataclass(frozen=True)
class WebSession:
    user_id: int
    session_id: str
    opened_at: datetime


class SessionSigner:
    """Makes and reads session cookie values, and the session's CSRF tokens."""

    def __init__(self, secret: str | bytes, clock: Clock, *, ttl: timedelta = SESSION_TTL) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("the web session secret must be at least 16 characters")
        self._serializer = URLSafeSerializer(key, salt=_SALT)
        self._key = hashlib.sha256(_CSRF + key).digest()
        self.clock = clock
        self.ttl = ttl

    def open(self, user_id: int) -> tuple[WebSession, str]:
        """A new session for the member and the cookie value that carries it."""
        session = WebSession(user_id, secrets.token_urlsafe(16), self.clock.now())
        value = self._serializer.dumps(
            {"u": str(user_id), "s": session.session_id, "t": int(session.opened_at.timestamp())}
        )
        return session, value

    def read(self, value: str | None) -> WebSession | None:
        """The session in a cookie value, or None if it is missing, forged or too old."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value)
            user_id, session_id, opened = int(data["u"]), str(data["s"]), int(data["t"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        now = self.clock.now()
        opened_at = datetime.fromtimestamp(opened, tz=now.tzinfo)
        if not (now - self.ttl <= opened_at <= now + timedelta(minutes=1)):
            return None
        return WebSession(user_id, session_id, opened_at)

    def csrf_token(self, session: WebSession) -> str:
        return hmac.new(self._key, session.session_id.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: WebSession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), str(token))
