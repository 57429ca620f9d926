"""Review decisions made where there is no Discord connection, relayed by the bot.

``python -m bot web`` decides a nomination or a submission through the same services as the
card's buttons, then records it here. The bot's process takes these, shows each decision on
its review card, tells whom it concerns and gives the role it granted, and marks it done: the
card follows the web as it follows a click, a few seconds later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.base import StoreService
from db.repositories.web_sign_in import WebDecisionRepository


@dataclass(frozen=True)
class WebDecision:
    id: int
    kind: str
    record_id: int
    moderator_id: int
    decided_at: datetime


class WebDecisionsService(StoreService):
    async def record(self, kind: str, record_id: int, moderator_id: int) -> None:
        async with self.sessions.begin() as session:
            await WebDecisionRepository(session, self.guild_id).add(
                kind=kind, record_id=record_id, moderator_id=moderator_id, now=self.clock.now()
            )

    async def waiting(self, limit: int = 50) -> list[WebDecision]:
        """The oldest decisions not yet shown in Discord."""
        async with self.sessions() as session:
            rows = await WebDecisionRepository(session, self.guild_id).waiting(limit=limit)
        return [WebDecision(r.id, r.kind, r.record_id, r.moderator_id, r.decided_at) for r in rows]

    async def claim(self, decision_id: int) -> bool:
        """Take the decision off the list before it is shown in Discord; False if another
        relay took it first (it is shown by whoever claims it, once)."""
        async with self.sessions.begin() as session:
            return await WebDecisionRepository(session, self.guild_id).remove(decision_id)
