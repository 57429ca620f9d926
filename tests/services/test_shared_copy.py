"""One computation for every reader at once; stale copies served while a fresh one is made."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.services.shared_copy import STALE_LIMIT, SharedCopies


class Counting:
    """A computation that takes a while and says which run produced each value."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, key: str) -> str:
        self.runs += 1
        run = self.runs
        await self.release.wait()
        if key == "broken":
            raise RuntimeError("the store is down")
        return f"{key}#{run}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 5, tzinfo=UTC))


async def test_readers_at_once_share_one_computation(clock) -> None:
    compute = Counting()
    compute.release.clear()
    copies = SharedCopies(clock, compute, "board")
    readers = [asyncio.create_task(copies.get("week", 60)) for _ in range(20)]
    await asyncio.sleep(0)
    compute.release.set()
    assert set(await asyncio.gather(*readers)) == {"week#1"} and compute.runs == 1
    assert await copies.get("month", 60) == "month#2", "each key its own copy"


async def test_a_stale_copy_is_served_while_the_fresh_one_is_computed(clock) -> None:
    compute = Counting()
    copies = SharedCopies(clock, compute, "board")
    assert await copies.get("week", 60) == "week#1"
    clock.advance(30)
    assert await copies.get("week", 60) == "week#1" and compute.runs == 1
    clock.advance(31)
    compute.release.clear()
    assert await copies.get("week", 60) == "week#1", "stale, served at once"
    compute.release.set()
    await asyncio.sleep(0.01)
    assert await copies.get("week", 60) == "week#2" and compute.runs == 2


async def test_a_copy_far_past_its_age_is_waited_for(clock) -> None:
    compute = Counting()
    copies = SharedCopies(clock, compute, "board")
    await copies.get("week", 60)
    clock.advance(60 * STALE_LIMIT + 1)
    assert await copies.get("week", 60) == "week#2"


async def test_a_failed_computation_reaches_its_readers_and_the_next_one_tries_again(
    clock, caplog
) -> None:
    compute = Counting()
    copies = SharedCopies(clock, compute, "board")
    with pytest.raises(RuntimeError, match="the store is down"):
        await copies.get("broken", 60)
    assert "board broken could not be computed" in caplog.text
    with pytest.raises(RuntimeError):
        await copies.get("broken", 60)
    assert compute.runs == 2
