"""A sliding-window limit on attempts per key (sign-in tries per client address).

Pure and in memory: time comes in as monotonic seconds from the caller's injected clock. Keys
whose window has emptied are dropped as they are met, and the number of keys is capped, so a
flood of addresses cannot grow it without bound (the oldest key is forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict, deque


class AttemptLimiter:
    def __init__(self, limit: int, window_seconds: float, *, max_keys: int = 10_000) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("an attempt limit needs a positive limit and window")
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def attempt(self, key: str, now: float) -> float | None:
        """Count an attempt: None if allowed, else seconds until the next one would be."""
        times = self._attempts.get(key)
        if times is None:
            times = deque()
            self._attempts[key] = times
            while len(self._attempts) > self.max_keys:
                self._attempts.popitem(last=False)
        else:
            self._attempts.move_to_end(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return times[0] + self.window - now
        times.append(now)
        return None
