"""Crediting contributions with the configured points, and telling whoever needs to know.

Feature services record credits inside their own transaction (``record``/``reverse``), then
call ``changed`` after commit so listeners (the tier ladder re-evaluates a member right after
a contribution lands) see committed data.

Credit one member gives another (a peer kind: thanks, an accepted answer) is capped per pair:
past ``[integrity] pair_credits_per_week`` in any 7 days it is still recorded, visibly, with 0
points, so two members trading thanks can't carry each other up the ladder.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.metrics import Metrics
from db.models import Contribution
from db.repositories.ledger import Credit, LedgerRepository

log = logging.getLogger(__name__)

#: The reason of a peer credit past the pair cap (no member is named in it).
PAIR_CAPPED = "0 points: the same member already gave {cap} counted credits in 7 days"

Listener = Callable[[int, frozenset[int]], Awaitable[None]]
"""Called with (guild_id, user ids whose contributions changed) after a commit."""


class Contributions:
    def __init__(self, settings: Settings, clock: Clock, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.clock = clock
        #: Counts what is recorded (``flywheel_contributions_credited``); its own when not given.
        self.metrics = metrics if metrics is not None else Metrics()
        self._listeners: list[Listener] = []

    @property
    def guild_id(self) -> int:
        return self.settings.discord.guild_id

    def credit(
        self,
        kind: str,
        user_id: int,
        source_id: str,
        *,
        occurred_at: datetime | None = None,
        actor_id: int | None = None,
        reason: str | None = None,
        points: int | None = None,
    ) -> Credit:
        """A credit of ``kind`` worth the configured points (or ``points`` for adjustments)."""
        if self.settings.kinds.find(kind) is None:
            raise ValueError(f"unknown contribution kind {kind!r}")
        return Credit(
            user_id=user_id,
            kind=kind,
            points=self.settings.points_for(kind) if points is None else points,
            source_id=source_id,
            occurred_at=occurred_at or self.clock.now(),
            actor_id=actor_id,
            reason=reason,
        )

    async def record(self, session: AsyncSession, credit: Credit) -> Contribution | None:
        """Record in the caller's transaction; None if this source was already credited."""
        ledger = LedgerRepository(session, self.guild_id)
        row = await ledger.record(await self._capped(ledger, credit), now=self.clock.now())
        if row is not None:
            self.metrics.credited(row.kind)
        return row

    async def _capped(self, ledger: LedgerRepository, credit: Credit) -> Credit:
        """The credit, or the same with 0 points past the pair cap (see the module docstring)."""
        cap = self.settings.integrity.pair_credits_per_week
        giver = credit.actor_id
        if (
            cap == 0
            or giver is None
            or giver == credit.user_id
            or credit.points <= 0
            or credit.kind not in self.settings.kinds.peer_keys()
        ):
            return credit
        given = await ledger.peer_credits_between(
            giver_id=giver,
            receiver_id=credit.user_id,
            kinds=self.settings.kinds.peer_keys(),
            since=credit.occurred_at - timedelta(days=7),
        )
        if given < cap:
            return credit
        note = PAIR_CAPPED.format(cap=cap)
        return replace(
            credit, points=0, reason=f"{note}: {credit.reason}" if credit.reason else note
        )

    async def record_many(self, session: AsyncSession, credits: Sequence[Credit]) -> list[Credit]:
        """Record many in one statement (the caller's transaction); returns the new ones.

        For credits no member gives another (activity, attendance): peer kinds go through
        :meth:`record`, where the pair cap applies.
        """
        if any(
            credit.kind in self.settings.kinds.peer_keys() and credit.actor_id for credit in credits
        ):
            raise ValueError("peer credits are recorded one by one (the pair cap applies)")
        recorded = await LedgerRepository(session, self.guild_id).record_many(
            credits, now=self.clock.now()
        )
        for kind, count in Counter(credit.kind for credit in recorded).items():
            self.metrics.credited(kind, count)
        return recorded

    async def reverse(
        self, session: AsyncSession, original: Contribution, *, actor_id: int | None, reason: str
    ) -> Contribution | None:
        """Cancel ``original`` with a visible negative row; None if already reversed."""
        return await LedgerRepository(session, self.guild_id).reverse(
            original, now=self.clock.now(), actor_id=actor_id, reason=reason
        )

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def changed(self, user_ids: Iterable[int]) -> None:
        """Tell listeners, after commit, whose contributions changed. Failures are logged."""
        users = frozenset(user_ids)
        if not users:
            return
        for listener in self._listeners:
            try:
                await listener(self.guild_id, users)
            except Exception:
                log.exception("contribution listener %r failed for %s", listener, sorted(users))
