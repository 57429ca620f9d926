"""End-to-end fixtures: the local emulator, a sample community, and the real bot against it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from functools import partial

import pytest

from bot.app import App
from bot.client import all_extensions
from bot.clock import FakeClock
from bot.config import Config, parse_config
from bot.demo.community import (
    EMULATOR_TOKEN,
    SampleCommunity,
    build_sample_community,
    community_config,
)
from bot.emulated import running_bot
from bot.interaction_gate import InteractionGate
from emulator import Chaos, Emulator

pytestmark = pytest.mark.e2e

#: A cog that exists only in tests, to drive every kind of interaction through the real tree.
PROBE_EXTENSION = "tests.e2e.probe_cog"


#: ``FLYWHEEL_EMULATOR_CHAOS=<seed>`` runs every e2e test with the gateway's chaos on: drops,
#: op 7, resumable op 9 and op 1 at random moments (``emulator.chaos``).
CHAOS_ENV = "FLYWHEEL_EMULATOR_CHAOS"


def chaos_from_env() -> Chaos | None:
    seed = os.environ.get(CHAOS_ENV, "").strip()
    return Chaos(seed=int(seed)) if seed else None


#: ``FLYWHEEL_DEFER_EVERY_ANSWER=1`` runs every e2e test as if the store were slower than any
#: patience (as on CI's busy machine, now and then): the interaction gate defers for every
#: handler that awaits anything before it answers, and a look-up before a form gives up at
#: once. A test must read each answer where a deferral puts it (``wait_answer``).
DEFER_ENV = "FLYWHEEL_DEFER_EVERY_ANSWER"


async def _gives_up_at_once(work: Awaitable[object], *, within: float = 0.0) -> None:
    """``if_quick`` with a store slower than its patience: the form opens without waiting."""
    late = asyncio.ensure_future(work)
    late.add_done_callback(lambda task: task.cancelled() or task.exception())


@pytest.fixture(autouse=True)
def gate_patience(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked ``store_pace`` checks what a store answering in time (or late by so much)
    gives, a refusal before a form for one: it keeps the store's pace."""
    if os.environ.get(DEFER_ENV, "").strip() and not request.node.get_closest_marker("store_pace"):
        monkeypatch.setattr("bot.client.InteractionGate", partial(InteractionGate, ack_after=0.0))
        for module in ("bot.review_card", "cogs.nps"):
            monkeypatch.setattr(f"{module}.if_quick", _gives_up_at_once)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Checks requests and responses against Discord's spec, with Discord's rate limits on; a
    test whose bot sent an off-spec request, or overran a bucket whose headers it had read,
    fails at teardown even if the bot swallowed the 400 or retried the 429."""
    # A bot restarted within Discord's 5-second identify window is refused once and waits it
    # out; many tests restart the bot, so theirs is short. tests/emulator/test_sharding.py
    # and the fail-over drill keep Discord's own.
    emu = Emulator(
        bot_token=EMULATOR_TOKEN,
        bot_name="Flywheel",
        check_responses=True,
        chaos=chaos_from_env(),
        identify_window=0.2,
    )
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    violations = "\n".join(str(v) for v in emu.spec_violations)
    assert not violations, f"off Discord's spec:\n{violations}"
    # Shared-scope 429s (the DM bucket) cannot be foreseen from headers; Discord does not
    # count them against a bot. Any other 429 means the bot ignored what it was told.
    overrun = [hit for hit in emu.limiter.served_429 if hit[1] != "shared"]
    assert not overrun, f"rate limits overrun: {overrun}"


@pytest.fixture
def clock() -> FakeClock:
    """Starts at the real time: the emulator stamps messages with real snowflake times."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def bot_role_position() -> int:
    return 10


@pytest.fixture
def community(emulator: Emulator, bot_role_position: int) -> SampleCommunity:
    return build_sample_community(emulator, member_count=6, bot_role_position=bot_role_position)


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'flywheel.db'}"


@pytest.fixture
def bot_config(emulator: Emulator, community: SampleCommunity, database_url: str) -> Config:
    return parse_config(
        community_config(community, emulator, database_url=database_url),
        env={"DISCORD_TOKEN": EMULATOR_TOKEN},
    )


@pytest.fixture
async def flywheel(bot_config: Config, clock) -> AsyncIterator[App]:
    async with running_bot(
        bot_config, clock=clock, extensions=[*all_extensions(), PROBE_EXTENSION]
    ) as app:
        yield app
