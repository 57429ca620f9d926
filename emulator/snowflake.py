"""Snowflake ids and Discord-style timestamps.

Ids must be real snowflakes (timestamp in the high bits) because discord.py derives
``created_at`` from them and the gateway routes guilds to shards by ``id >> 22``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Monotonic snowflake source (one per emulator, so ids never collide)."""

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        self._worker = worker_id & 0x1F
        self._process = process_id & 0x1F
        self._last_ms = 0
        self._increment = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            if ms <= self._last_ms:
                ms = self._last_ms
                self._increment += 1
                if self._increment > 0xFFF:
                    ms += 1
                    self._increment = 0
            else:
                self._increment = 0
            self._last_ms = ms
            return (ms << 22) | (self._worker << 17) | (self._process << 12) | self._increment

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id whose shard is ``shard_id`` of ``shard_count`` (``(id >> 22) % count``).

        Moves the timestamp at most ``shard_count - 1`` ms ahead; later ids stay monotonic.
        """
        if shard_count < 1 or not 0 <= shard_id < shard_count:
            raise ValueError(f"no shard {shard_id} of {shard_count}")
        with self._lock:
            ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms + 1)
            ms += (shard_id - ms) % shard_count
            self._last_ms, self._increment = ms, 0
            return (ms << 22) | (self._worker << 17) | (self._process << 12)


def snowflake_time(snowflake: int) -> dt.datetime:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def time_snowflake(when: dt.datetime, *, high: bool = False) -> int:
    """Smallest (or largest) snowflake for a moment; used for before/after filters."""
    ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) + ((1 << 22) - 1 if high else 0)


def iso(when: dt.datetime) -> str:
    """Discord's timestamp format: ISO-8601 with microseconds and +00:00."""
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def now_iso() -> str:
    return iso(now())


def parse_iso(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed
