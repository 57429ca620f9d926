"""The one retry policy: tries again with backoff, logs each failure, then raises the last."""

from __future__ import annotations

import logging

import pytest

from bot.services.retry import RetryPolicy, retried

QUICK = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.02)


async def test_work_that_fails_for_a_while_succeeds_and_each_failure_is_logged(caplog):
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError(f"busy {calls}")
        return "done"

    with caplog.at_level(logging.WARNING, logger="bot.services.retry"):
        assert await retried(flaky, what="the test work", policy=QUICK) == "done"
    assert calls == 3
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("the test work failed (attempt 1 of 3: busy 1); trying again in")


async def test_the_last_error_is_raised_once_the_attempts_are_spent():
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError(f"still down {calls}")

    with pytest.raises(TimeoutError, match="still down 3"):
        await retried(broken, what="the test work", policy=QUICK)
    assert calls == 3


async def test_a_lambda_returning_a_coroutine_is_awaited_and_retried():
    """tenacity runs a plain callable without awaiting it: ``retried`` awaits whatever it gets."""
    calls = 0

    async def flaky(value: str) -> str:
        nonlocal calls
        calls += 1
        if calls < 2:
            raise ConnectionError("busy")
        return value

    assert await retried(lambda: flaky("done"), what="a lambda", policy=QUICK) == "done"
    assert calls == 2
