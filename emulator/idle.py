"""The idle barrier: wait until nothing more happens unless a test acts.

A test that checks that something did *not* happen (no second DM, a replayed event recorded
once) must first know that everything already set in motion has run its course. A fixed sleep
passes vacuously when the bot is slow; :func:`wait_idle` waits for the real condition:

* the emulator: no gateway frame queued or being written, no REST request being answered;
* a discord.py client (optional): it has read every dispatch sent to its gateway session,
  none of the tasks discord.py runs handlers in is still running (:data:`HANDLER_TASKS`), and
  it holds back no request for a rate limit to reset;
* anything else the caller names (``busy``), e.g. the bot's own background tasks;

all quiet, with no new request or gateway frame, for ``quiet`` seconds in a row. One look is
not enough: a handler can send a request whose answer dispatches an event that starts another
handler. Past ``timeout`` it raises ``TimeoutError`` naming what was still busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Emulator

#: Name prefixes of the tasks discord.py 2.x runs handlers in: event listeners, application
#: commands, buttons and selects, modals.
HANDLER_TASKS = (
    "discord.py: on_",
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
)

#: How often the barrier looks, in seconds.
POLL_SECONDS = 0.005

Busy = Callable[[], Iterable[str]]


def emulator_busy(emu: Emulator) -> list[str]:
    """What the emulator is still doing: frames to write, requests to answer (empty: idle)."""
    requests = [f"REST {r.method} {r.path} in flight" for r in emu.rest.in_flight]
    return emu.gateway.unsent() + requests


def client_busy(emu: Emulator, client: Any) -> list[str]:
    """What a discord.py client (one shard, or an AutoShardedClient's every shard) connected
    to ``emu`` still has to do."""
    reasons = []
    for name, ws in _websockets(client):
        if ws is None or not ws.open:
            reasons.append(f"{name} is not connected to the gateway")
            continue
        session = emu.gateway.sessions.get(ws.session_id)
        if session is None:
            reasons.append(f"{name}'s gateway session is unknown: it has to identify again")
        elif (ws.sequence or 0) < session.seq:
            reasons.append(f"{name} has read dispatches up to {ws.sequence} of {session.seq}")
    reasons += rate_limit_waits(client)
    current = asyncio.current_task()
    reasons += sorted(
        f"task {task.get_name()!r} running"
        for task in asyncio.all_tasks()
        if task is not current and not task.done() and task.get_name().startswith(HANDLER_TASKS)
    )
    return reasons


def _websockets(client: Any) -> list[tuple[str, Any]]:
    """(name, websocket) per shard the client runs; an AutoShardedClient has one per shard."""
    shards = getattr(client, "shards", None)
    if not isinstance(shards, dict):
        return [("the client", getattr(client, "ws", None))]
    wanted = client.shard_ids if client.shard_ids is not None else range(client.shard_count or 1)
    return [(f"shard {i}", shards[i]._parent.ws if i in shards else None) for i in wanted]


def rate_limit_waits(client: Any) -> list[str]:
    """Requests discord.py holds back until a bucket (or the global limit) resets."""
    http = getattr(client, "http", None)
    if http is None:
        return []
    reasons = [
        f"discord.py waits for rate-limit bucket {key}"
        for key, bucket in list(getattr(http, "_buckets", {}).items())
        if bucket._pending_requests or bucket._sleeping.locked()
    ]
    global_over = getattr(http, "_global_over", None)
    if global_over is not None and not global_over.is_set():
        reasons.append("discord.py waits out the global rate limit")
    return reasons


async def wait_idle(
    emu: Emulator,
    client: Any = None,
    *,
    busy: Busy | None = None,
    quiet: float = 0.05,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> None:
    """Return once the emulator, ``client`` and ``busy`` have been idle for ``quiet`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    calm_since: float | None = None
    calm_marker: tuple[int, int] | None = None
    while True:
        reasons = emulator_busy(emu)
        if client is not None:
            reasons += client_busy(emu, client)
        if busy is not None:
            reasons += busy()
        # Anything sent or received since the last look means it was not quiet in between.
        marker = (len(emu.request_log), len(emu.gateway_log))
        now = loop.time()
        if reasons:
            calm_since = calm_marker = None
        elif calm_since is None or marker != calm_marker:
            calm_since, calm_marker = now, marker
        elif now - calm_since >= quiet:
            return
        if now >= deadline:
            doing = "; ".join(reasons) or "requests and gateway frames kept coming"
            raise TimeoutError(f"not idle within {timeout}s: {doing}")
        await asyncio.sleep(POLL_SECONDS)
