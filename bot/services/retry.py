"""Retrying work that failed for a passing reason (a busy store, Discord's 5xx), with backoff.

One policy type for the whole program, on tenacity: the start-up catch-up, a post's record
after the store refused it, queued role changes. Each caller decides what to tell moderators
when the last attempt fails; this only waits and tries again, logging each failure.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all, waiting ``first_wait`` seconds, doubling up to ``max_wait``."""

    attempts: int = 5
    first_wait: float = 1.0
    max_wait: float = 60.0


async def retried(
    work: Callable[[], Awaitable[T]], *, what: str, policy: RetryPolicy = RetryPolicy()
) -> T:
    """Run ``work`` until it succeeds or ``policy`` gives up; then its last error is raised."""

    def logged(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "%s failed (attempt %d of %d: %s); trying again in %.1f s",
            what,
            state.attempt_number,
            policy.attempts,
            error,
            wait,
        )

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.first_wait, max=policy.max_wait),
        before_sleep=logged,
        reraise=True,
    )

    async def attempt() -> T:
        # tenacity awaits only what it recognises as a coroutine function: a lambda returning
        # a coroutine would be "run" without being awaited.
        return await work()

    return await retrying(attempt)
