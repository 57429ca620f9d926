"""Discord's REST rate limits, on by default: per-route buckets, shared buckets, the global cap.

Discord does not publish its per-route numbers; it sends them in headers and asks clients to
read them, never to hard-code them. The table below is what Discord has been observed to
send for the routes Flywheel uses (and a strict default for the rest), so the bot meets the
same pressure it meets in production:

* every response of a limited route carries ``X-RateLimit-Limit/Remaining/Reset/Reset-After``
  and ``X-RateLimit-Bucket``; routes of one :class:`Limit` share a bucket (one hash, one count),
  as message sends and edits do on Discord;
* a bucket is counted per *major parameter* (channel, guild, or webhook id and token);
* a ``shared`` limit sits on top of a route's bucket without a bucket of its own: sends to DM
  channels count in their channel's bucket and in one limit across all of the bot's DMs, which
  no header announces; over it, the 429 has ``X-RateLimit-Scope: shared`` and the route's
  headers (a client can't foresee it, so Discord doesn't hold it against the bot);
* at most :attr:`RateLimits.global_per_second` requests a second per bot, interaction callbacks
  and interaction-token webhooks excepted (Discord exempts interaction endpoints);
* over a limit: 429 with ``retry_after``, ``global`` and ``X-RateLimit-Scope`` (``user``,
  ``shared`` or ``global``); the request is not carried out;
* 10,000 invalid requests (401, 403, 429 but ``shared``) in 10 minutes: Cloudflare's ban, a
  plain-text 429 without ``Via`` for every request until the window has room again.

Tests that need speed raise limits explicitly: ``Emulator(rate_limits=RateLimits().raised(10))``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

#: The invalid-request limit's window (Discord: 10,000 per 10 minutes, then a Cloudflare ban).
INVALID_WINDOW_SECONDS = 600.0
#: Path parameters that scope a bucket, as Discord (and discord.py) define them.
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token")


@dataclass(frozen=True)
class Limit:
    """``requests`` per ``per`` seconds for the routes of one bucket."""

    name: str
    requests: int
    per: float
    #: Routes as ``"METHOD /template"`` (templates as the emulator's router names them).
    routes: tuple[str, ...] = ()
    #: ``"user"``: counted per major parameter; ``"shared"``: one count for a shared resource.
    scope: str = "user"


def bucket_hash(bucket: str) -> str:
    """A stable opaque id, like Discord's ``X-RateLimit-Bucket``."""
    return hashlib.sha1(bucket.encode()).hexdigest()[:32]


REACTION_ROUTES = (
    "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
    "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
    "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
    "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
    "DELETE /channels/{channel_id}/messages/{message_id}/reactions",
)

WEBHOOK_ROUTES = (
    "POST /webhooks/{webhook_id}/{webhook_token}",
    "GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
)

#: Reading a channel's history, one page of up to 100 messages a request.
HISTORY_ROUTE = "GET /channels/{channel_id}/messages"

#: Exempt from the global limit: Discord does not count interaction endpoints against it.
INTERACTION_ROUTES = ("POST /interactions/{interaction_id}/{interaction_token}/callback",)

#: What Discord has been observed to send for the routes Flywheel uses.
DISCORD_LIMITS: tuple[Limit, ...] = (
    Limit(
        "message send",
        5,
        5.0,
        (
            "POST /channels/{channel_id}/messages",
            "PATCH /channels/{channel_id}/messages/{message_id}",
        ),
    ),
    Limit(
        "direct message send",
        5,
        5.0,
        (
            "POST /channels/{channel_id}/messages",
            "PATCH /channels/{channel_id}/messages/{message_id}",
        ),
        scope="shared",
    ),
    Limit("message delete", 5, 1.0, ("DELETE /channels/{channel_id}/messages/{message_id}",)),
    # History pages: 5 / 5 s per channel, as history fetchers have observed (a page a second).
    Limit("message history", 5, 5.0, (HISTORY_ROUTE,)),
    Limit("reaction", 1, 0.25, REACTION_ROUTES),
    Limit(
        "member role",
        10,
        10.0,
        (
            "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
            "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
        ),
    ),
    Limit("member edit", 10, 10.0, ("PATCH /guilds/{guild_id}/members/{user_id}",)),
    Limit("open direct message", 10, 10.0, ("POST /users/@me/channels",)),
    Limit("interaction webhook", 5, 2.0, WEBHOOK_ROUTES),
)

#: Every other route: its own bucket per major parameter (no route is unlimited).
DEFAULT_LIMIT = Limit("default", 10, 10.0)


@dataclass(frozen=True)
class RateLimits:
    """The limits one emulator enforces; :meth:`raised` for tests that need speed."""

    limits: tuple[Limit, ...] = DISCORD_LIMITS
    default: Limit = DEFAULT_LIMIT
    global_per_second: int = 50
    #: Invalid requests (401, 403, and 429 but ``shared``) in 10 minutes before Cloudflare
    #: bans the client's address for the rest of the 10 minutes.
    invalid_per_10_minutes: int = 10_000
    enabled: bool = True

    def raised(self, factor: float) -> RateLimits:
        """The same buckets allowing ``factor`` times as many requests in the same window."""

        def more(limit: Limit) -> Limit:
            return replace(limit, requests=max(1, math.ceil(limit.requests * factor)))

        return replace(
            self,
            limits=tuple(more(limit) for limit in self.limits),
            default=more(self.default),
            global_per_second=max(1, math.ceil(self.global_per_second * factor)),
        )

    @classmethod
    def off(cls) -> RateLimits:
        """No limits at all: only for tests of something else that must not wait a second."""
        return cls(enabled=False)

    def limit_for(self, route: str) -> Limit:
        """The bucket of ``"METHOD /template"`` (the one its headers describe)."""
        for limit in self.limits:
            if route in limit.routes and limit.scope != "shared":
                return limit
        return self.default

    def shared_for(self, route: str) -> Limit | None:
        """The shared limit on top of the route's bucket, for a request to a DM channel."""
        for limit in self.limits:
            if route in limit.routes and limit.scope == "shared":
                return limit
        return None


@dataclass
class Window:
    """One bucket's count in its current window (Discord's windows start at the first use)."""

    limit: int
    per: float
    used: int = 0
    resets_at: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """The answer to one request: allowed, or 429 for ``retry_after`` seconds."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    scope: str = "user"

    @property
    def is_global(self) -> bool:
        return self.scope == "global"

    def body(self) -> dict[str, object]:
        """Discord's 429 body (the spec's ``RatelimitedResponse``)."""
        shared = self.scope == "shared"
        return {
            "message": f"{'The resource is' if shared else 'You are'} being rate limited.",
            "retry_after": round(self.retry_after, 3),
            "global": self.is_global,
            "code": 0,
        }


@dataclass
class Limiter:
    """Counts requests per bucket and answers each with headers or a 429.

    ``monotonic`` measures windows; ``wall`` stamps ``X-RateLimit-Reset`` (epoch seconds).
    """

    limits: RateLimits = field(default_factory=RateLimits)
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    windows: dict[tuple[str, str], Window] = field(default_factory=dict)
    global_window: Window | None = None
    #: Every 429 served: ``(route, scope, retry_after)``.
    served_429: list[tuple[str, str, float]] = field(default_factory=list)
    #: When each invalid request was answered (the last 10 minutes' worth).
    invalid_at: deque[float] = field(default_factory=deque)

    def note_status(self, status: int, scope: str | None = None) -> None:
        """Count an answer towards the invalid-request limit (see :meth:`banned`)."""
        if status in (401, 403) or (status == 429 and scope != "shared"):
            self.invalid_at.append(self.monotonic())

    def banned(self) -> bool:
        """Whether Cloudflare would refuse this client now (too many invalid requests)."""
        if not self.limits.enabled:
            return False
        horizon = self.monotonic() - INVALID_WINDOW_SECONDS
        while self.invalid_at and self.invalid_at[0] < horizon:
            self.invalid_at.popleft()
        return len(self.invalid_at) >= self.limits.invalid_per_10_minutes

    def check(self, route: str, params: dict[str, str], *, dm: bool = False) -> Verdict:
        """Count one request to ``route`` (``"METHOD /template"``) with its path ``params``."""
        if not self.limits.enabled or route in INTERACTION_ROUTES:
            return Verdict(True, {})
        now = self.monotonic()
        if route not in WEBHOOK_ROUTES:
            over = self._count_global(now)
            if over is not None:
                self.served_429.append((route, "global", over))
                return Verdict(False, self._global_headers(over), over, "global")
        limit = self.limits.limit_for(route)
        # The default limit is one bucket per route; a named limit is shared by its routes.
        bucket = limit.name if limit.routes else f"{limit.name} {route}"
        window = self._window(limit, bucket, params, now)
        if window.used >= window.limit:
            return self._limited(route, window.resets_at - now, bucket, window, now, limit.scope)
        shared = self.limits.shared_for(route) if dm else None
        if shared is not None:
            pool = self._window(shared, shared.name, {}, now)
            if pool.used >= pool.limit:
                return self._limited(route, pool.resets_at - now, bucket, window, now, "shared")
            pool.used += 1
        window.used += 1
        return Verdict(True, self._headers(bucket, window, now))

    def _limited(
        self, route: str, retry_after: float, bucket: str, window: Window, now: float, scope: str
    ) -> Verdict:
        """A 429: the route's bucket headers, with how long to wait and whose limit it is."""
        self.served_429.append((route, scope, retry_after))
        headers = self._headers(bucket, window, now)
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        headers["X-RateLimit-Scope"] = scope
        return Verdict(False, headers, retry_after, scope)

    def _count_global(self, now: float) -> float | None:
        """Seconds until the global window reopens if this request is one too many."""
        window = self.global_window
        if window is None or now >= window.resets_at:
            window = self.global_window = Window(
                self.limits.global_per_second, 1.0, resets_at=now + 1.0
            )
        if window.used >= window.limit:
            return window.resets_at - now
        window.used += 1
        return None

    def _window(self, limit: Limit, bucket: str, params: dict[str, str], now: float) -> Window:
        if limit.scope == "shared":
            scope_key = "*"
        else:
            scope_key = "+".join(params[p] for p in MAJOR_PARAMETERS if p in params)
        key = (bucket, scope_key)
        window = self.windows.get(key)
        if window is None or now >= window.resets_at:
            window = Window(limit.requests, limit.per, resets_at=now + limit.per)
            self.windows[key] = window
        return window

    def _headers(self, bucket: str, window: Window, now: float) -> dict[str, str]:
        reset_after = max(0.0, window.resets_at - now)
        return {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(max(0, window.limit - window.used)),
            "X-RateLimit-Reset": f"{self.wall() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(bucket),
        }

    def _global_headers(self, retry_after: float) -> dict[str, str]:
        return {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
        }
