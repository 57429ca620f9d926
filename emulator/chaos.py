"""Gateway chaos: reconnects and resumes at random points, without a test asking.

Discord drops connections, asks clients to reconnect (op 7), invalidates sessions that may be
resumed (op 9, ``d: true``) and requests heartbeats (op 1) whenever it likes. A bot that only
ever saw a perfect connection has never proved it survives them, so with chaos on the emulator
does all of these at random moments (seeded, so a failing seed replays the same choices).
Every one of them is resumable: the client resumes and gets each missed dispatch replayed, so
a correct bot does everything exactly once.

Turn it on with ``Emulator(chaos=Chaos(seed=7))``; the e2e suite reads
``FLYWHEEL_EMULATOR_CHAOS=<seed>`` (see ``tests/e2e/conftest.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .gateway import Gateway, GatewaySession

log = logging.getLogger(__name__)

#: What chaos does, each as likely as the others.
MOVES = ("drop", "reconnect", "resumable_invalid_session", "heartbeat_request")


@dataclass
class Chaos:
    """``seed`` picks the moves and waits; a move every ``mean_interval`` seconds on average."""

    seed: int
    mean_interval: float = 1.0
    #: Moves made so far, by name (tests check that chaos did happen).
    made: Counter[str] = field(default_factory=Counter)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self, gateway: Gateway) -> None:
        self._task = asyncio.create_task(self._run(gateway), name="emulator-gateway-chaos")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, gateway: Gateway) -> None:
        rng = random.Random(self.seed)
        while True:
            await asyncio.sleep(rng.expovariate(1 / self.mean_interval))
            live = sorted(
                (s for s in gateway.sessions.values() if s.connected), key=lambda s: s.session_id
            )
            if not live:
                continue
            session, move = rng.choice(live), rng.choice(MOVES)
            self.made[move] += 1
            log.debug("emulator chaos: %s on session %s", move, session.session_id)
            self._make(gateway, session, move)

    @staticmethod
    def _make(gateway: Gateway, session: GatewaySession, move: str) -> None:
        if move == "drop":
            gateway.drop(session, 4000)  # "Unknown error": resumable
        elif move == "reconnect":
            gateway.reconnect(session)
        elif move == "resumable_invalid_session":
            gateway.invalid_session(session, resumable=True)
        else:
            gateway.request_heartbeat(session)
