"""Background work that is tracked: failures are logged, shutdown waits for it, then cancels.

One instance per program (the bot's ``spawn`` is this), so every feature's fire-and-continue
work (announcing a promotion, sending a survey) is finished or cancelled at shutdown and never
fails silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Collection
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Awaitable[None], *, name: str) -> asyncio.Task[None]:
        """Run ``work`` in the background; an error is logged with ``name``."""
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    @property
    def pending(self) -> frozenset[asyncio.Task[None]]:
        return frozenset(task for task in self._tasks if not task.done())

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background task %s failed", task.get_name(), exc_info=error)

    async def finish(self, grace: float) -> None:
        """Let running work finish for ``grace`` seconds, then cancel what is left."""
        await finish_or_cancel(self.pending, grace)


async def finish_or_cancel(tasks: Collection[asyncio.Task[Any]], grace: float) -> None:
    """Wait up to ``grace`` seconds for ``tasks``, then cancel the rest and let them unwind."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late, timeout=grace)


async def together(work: Collection[Awaitable[T]]) -> list[T]:
    """Run ``work`` side by side; their results in order.

    Unlike a bare ``asyncio.gather``, the first failure (or a cancellation) cancels the rest
    and waits for them to unwind before it is raised: none is left running, on a session or a
    channel its caller has given up on.
    """
    tasks = [asyncio.ensure_future(each) for each in work]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
