"""A computed result many readers share: computed once at a time, served until it is too old.

For pages many people load at once over data that takes seconds to compute (the web's
leaderboard and health pages over millions of ledger rows): one computation serves every
reader that asks while it runs; a copy past its age is still served while a fresh one is
computed in the background, unless it is far past it, when the reader waits for the fresh one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.clock import Clock

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: A copy older than this many times the asked ``max_age`` is not served while a fresh one is
#: computed: the reader waits for it instead.
STALE_LIMIT = 10


@dataclass
class _Copy(Generic[V]):
    value: V
    computed_at: float


class SharedCopies(Generic[K, V]):
    """One shared copy per key, computed by ``compute(key)``; times from ``clock.monotonic``."""

    def __init__(
        self,
        clock: Clock,
        compute: Callable[[K], Awaitable[V]],
        what: str,
        *,
        stale_limit: float = STALE_LIMIT,
    ) -> None:
        """``stale_limit``: how many times ``max_age`` a copy may be served while a fresh one
        is computed; 1 never serves a copy past its age (what must not lag, like rights)."""
        self.clock = clock
        self.compute = compute
        self.what = what
        self.stale_limit = stale_limit
        self._copies: dict[K, _Copy[V]] = {}
        self._computing: dict[K, asyncio.Task[_Copy[V]]] = {}

    async def get(self, key: K, max_age: float) -> V:
        copy = self._copies.get(key)
        age = None if copy is None else self.clock.monotonic() - copy.computed_at
        if copy is not None and age is not None and age <= max_age:
            return copy.value
        task = self._computing.get(key)
        if task is None:
            task = asyncio.create_task(self._compute(key))
            self._computing[key] = task
            task.add_done_callback(lambda done: self._computed(key, done))
        if copy is not None and age is not None and age <= max_age * self.stale_limit:
            return copy.value  # the fresh copy replaces it when done
        return (await asyncio.shield(task)).value

    def _computed(self, key: K, done: asyncio.Task[_Copy[V]]) -> None:
        self._computing.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved here (and logged in _compute) if no reader awaited it

    async def _compute(self, key: K) -> _Copy[V]:
        try:
            value = await self.compute(key)
        except Exception:
            log.exception("%s %s could not be computed", self.what, key)
            raise
        copy = self._copies[key] = _Copy(value, self.clock.monotonic())
        return copy
