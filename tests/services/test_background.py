"""Work run side by side: results in order, and the first failure leaves nothing running."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.background import together


async def test_results_come_in_the_order_of_the_work():
    async def after(delay: float, value: int) -> int:
        await asyncio.sleep(delay)
        return value

    assert await together([after(0.03, 1), after(0.0, 2), after(0.01, 3)]) == [1, 2, 3]


async def test_the_first_failure_cancels_the_rest_and_waits_for_them():
    unwound: list[str] = []
    started = asyncio.Event()

    async def slow(name: str) -> None:
        try:
            started.set()
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0.01)  # a session closing, say
            unwound.append(name)

    async def failing() -> None:
        await started.wait()
        raise OSError("disk I/O error")

    with pytest.raises(OSError, match="disk I/O error"):
        await together([slow("a"), failing(), slow("b")])
    assert sorted(unwound) == ["a", "b"], "both had unwound when the failure was raised"


async def test_a_cancelled_caller_cancels_the_work():
    unwound: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            unwound.append("done")

    caller = asyncio.create_task(together([slow(), slow()]))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert unwound == ["done", "done"]
