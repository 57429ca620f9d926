"""Store faults: a slow or failing statement, on both databases, without blocking the loop."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from db.faults import StoreFaults
from db.models import Member


async def test_a_slow_statement_waits_without_blocking_the_event_loop(engine, sessions):
    faults = StoreFaults.attach(engine)
    faults.slow(0.4, match=r"FROM members")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    loop = asyncio.get_running_loop()
    beat = asyncio.create_task(ticker())
    try:
        started = loop.time()
        async with sessions() as session:
            assert list(await session.scalars(select(Member))) == []
        took = loop.time() - started
    finally:
        beat.cancel()
        faults.detach()
    assert took >= 0.4
    # The loop kept running while the statement waited: about 20 ticks, never none.
    assert ticks >= 10
    assert faults.rules == []


async def test_a_failure_raises_the_drivers_error_as_often_as_asked(engine, sessions):
    faults = StoreFaults.attach(engine)
    rule = faults.fail(match=r"FROM members", times=2)
    try:
        for _ in range(2):
            with pytest.raises(OperationalError, match="database is locked"):
                async with sessions() as session:
                    await session.scalars(select(Member))
        async with sessions() as session:
            assert list(await session.scalars(select(Member))) == []
    finally:
        faults.detach()
    assert rule.hits == 2 and rule.times == 0


async def test_rules_add_up_and_other_statements_pass(engine, sessions):
    faults = StoreFaults.attach(engine)
    faults.slow(0.1, match=r"FROM members")
    faults.fail(match=r"FROM members", times=1, after=0.1)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        with pytest.raises(OperationalError):
            async with sessions() as session:
                await session.scalars(select(Member))
        assert loop.time() - started >= 0.2
        async with sessions() as session:
            await session.execute(select(1))
    finally:
        faults.detach()


async def test_skip_lets_the_first_matches_through(engine, sessions):
    faults = StoreFaults.attach(engine)
    rule = faults.fail(match=r"FROM members", skip=2)
    try:
        for _ in range(2):
            async with sessions() as session:
                await session.scalars(select(Member))
        with pytest.raises(OperationalError):
            async with sessions() as session:
                await session.scalars(select(Member))
        async with sessions() as session:
            await session.scalars(select(Member))
    finally:
        faults.detach()
    assert rule.hits == 1
