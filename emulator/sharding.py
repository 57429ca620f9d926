"""Discord's sharding limits: session starts, identify concurrency, guilds per shard.

From Discord's gateway documentation (topics/gateway, "Identifying", "Rate Limiting",
"Sharding", "Session Start Limit Object"):

- a shard carries at most 2,500 guilds; an IDENTIFY whose shard would carry more is closed
  with 4011 (Sharding required);
- ``shard_id = (guild_id >> 22) % num_shards``; DMs only go to shard 0;
- an app may IDENTIFY ``max_concurrency`` times per 5 seconds per rate-limit key
  (``shard_id % max_concurrency``); beyond that "the Gateway will respond with an Invalid
  Session (opcode 9)";
- 1,000 IDENTIFY calls per 24 hours (RESUME not counted); "upon hitting this limit, all active
  sessions for the app will be terminated, the bot token will be reset".

The clock is the event loop's (plus :meth:`SessionStarts.advance`, so a test can pass the
24-hour reset without waiting).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass, field

#: Discord: "Each shard can only support a maximum of 2500 guilds".
MAX_GUILDS_PER_SHARD = 2500
#: Discord recommends one shard per this many guilds in GET /gateway/bot's ``shards``.
GUILDS_PER_RECOMMENDED_SHARD = 1000
#: Discord: "limited to 1000 IDENTIFY calls to the websocket in a 24-hour period".
SESSION_START_TOTAL = 1000
SESSION_START_PERIOD_SECONDS = 24 * 60 * 60.0
#: Discord: max_concurrency is "the number of identify requests allowed per 5 seconds".
IDENTIFY_WINDOW_SECONDS = 5.0


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's sharding formula."""
    return (guild_id >> 22) % shard_count


def recommended_shards(guild_count: int) -> int:
    return max(1, math.ceil(guild_count / GUILDS_PER_RECOMMENDED_SHARD))


@dataclass
class SessionStarts:
    """The app's session start budget and identify buckets (one per rate-limit key)."""

    total: int = SESSION_START_TOTAL
    max_concurrency: int = 1
    period: float = SESSION_START_PERIOD_SECONDS
    identify_window: float = IDENTIFY_WINDOW_SECONDS
    used: int = 0
    #: When the current period ends (None: no IDENTIFY yet in a period).
    resets_at: float | None = None
    offset: float = 0.0
    #: When each rate-limit key last let an IDENTIFY through (within the window).
    buckets: dict[int, deque[float]] = field(default_factory=dict)

    def now(self) -> float:
        return asyncio.get_running_loop().time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move this budget's clock forward (a test passes ``reset_after`` without waiting)."""
        self.offset += seconds

    def _roll(self) -> float:
        now = self.now()
        if self.resets_at is not None and now >= self.resets_at:
            self.used, self.resets_at = 0, None
        return now

    @property
    def remaining(self) -> int:
        self._roll()
        return max(0, self.total - self.used)

    @property
    def reset_after_ms(self) -> int:
        now = self._roll()
        left = self.period if self.resets_at is None else self.resets_at - now
        return max(0, math.ceil(left * 1000))

    def as_payload(self) -> dict[str, int]:
        """The ``session_start_limit`` object of GET /gateway/bot."""
        return {
            "total": self.total,
            "remaining": self.remaining,
            "reset_after": self.reset_after_ms,
            "max_concurrency": self.max_concurrency,
        }

    def start(self) -> bool:
        """Count one IDENTIFY; False if the budget was already spent."""
        now = self._roll()
        if self.used >= self.total:
            return False
        if self.resets_at is None:
            self.resets_at = now + self.period
        self.used += 1
        return True

    def try_identify(self, shard_id: int) -> bool:
        """Take the shard's rate-limit key for 5 seconds; False if another IDENTIFY holds it.

        Keys are ``shard_id % max_concurrency``: up to ``max_concurrency`` shards (one per key)
        may identify at once, then each key waits out the window.
        """
        now = self.now()
        bucket = self.buckets.setdefault(shard_id % self.max_concurrency, deque())
        while bucket and bucket[0] <= now - self.identify_window:
            bucket.popleft()
        if bucket:
            return False
        bucket.append(now)
        return True
