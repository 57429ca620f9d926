"""The weekly integrity note: members who credit each other, found in the ledger."""

from __future__ import annotations

from datetime import timedelta

from bot.core.integrity import note, reciprocal_pairs, rings
from bot.services.base import Service
from db.repositories.ledger import LedgerRepository

#: The note looks back this far: one week, whenever it runs.
LOOKBACK = timedelta(days=7)


class IntegrityService(Service):
    async def weekly_note(self) -> str | None:
        """The mod-log note on the last 7 days, or None when there is nothing to look at."""
        now = self.clock.now()
        async with self.sessions() as session:
            edges = await LedgerRepository(session, self.guild_id).peer_edges(
                kinds=self.settings.kinds.peer_keys(), since=now - LOOKBACK
            )
        threshold = self.settings.integrity.reciprocal_threshold
        tz = self.settings.schedule.tz
        start, end = (now - LOOKBACK).astimezone(tz), now.astimezone(tz)
        week = f"{start:%d %b} – {end:%d %b %Y}"
        return note(
            reciprocal_pairs(edges, threshold),
            rings(edges, threshold),
            week=week,
            threshold=threshold,
        )
