"""Run the real bot in-process against the local emulator (for tests and the demo).

The bot is built by the same composition root as ``run``; only the endpoints, the clock and
the store differ.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from bot.app import App, build
from bot.clock import Clock
from bot.config import Config


@contextlib.asynccontextmanager
async def running_bot(
    config: Config,
    *,
    clock: Clock,
    extensions: Sequence[str] | None = None,
    ready_timeout: float = 15.0,
    freeze_heap_when_ready: bool = False,
    catch_up_history: bool = False,
) -> AsyncIterator[App]:
    """Start the bot, wait until it is connected, synced and preflighted, then yield it.

    The emulator sends every guild at once, so the bot need not wait Discord's usual two
    seconds for more guilds to stream in after READY. ``freeze_heap_when_ready`` is for a
    process that runs nothing else, as ``python -m bot run`` does (the ingestion benchmark).
    """
    assert config.token is not None, "running_bot needs a config loaded with a token"
    app = await build(
        config,
        clock=clock,
        extensions=extensions,
        guild_ready_timeout=0.1,
        freeze_heap_when_ready=freeze_heap_when_ready,
        catch_up_history=catch_up_history,
    )
    try:
        await app.start_web()
    except BaseException:
        await app.close()
        raise
    runner = asyncio.create_task(app.bot.start(config.token.get_secret_value()))
    ready = asyncio.create_task(app.bot.flywheel_ready.wait())
    try:
        done, _ = await asyncio.wait(
            {runner, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if runner in done:
            runner.result()  # raises the start-up error
            raise RuntimeError("the bot stopped before it was ready")
        if ready not in done:
            raise TimeoutError(f"the bot was not ready within {ready_timeout} seconds")
        yield app
    finally:
        ready.cancel()
        await app.close()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
