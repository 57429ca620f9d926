"""A member's data: the export they can ask for, the erasure they can ask for, and retention.

The rules of what is deleted and what is anonymised live with the registry in
``db.repositories.privacy``; this runs them, one member per transaction, and turns the export
into the JSON document members download.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.services.base import StoreService
from db.repositories.privacy import ABOUT, FORMER_MEMBER, Erasure, PrivacyRepository
from db.repositories.tiers import TierRepository

log = logging.getLogger(__name__)

EXPORT_FORMAT = "flywheel-member-export/1"


@dataclass(frozen=True)
class Purge:
    erased: tuple[Erasure, ...] = ()

    @property
    def members(self) -> int:
        return len(self.erased)


def encode(document: dict[str, Any]) -> bytes:
    """The export as the file members get (readable: indented, non-ASCII kept)."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


class PrivacyService(StoreService):
    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the member, as one JSON-ready document."""
        async with self.sessions() as session:
            tables = await PrivacyRepository(session, self.guild_id).export(user_id)
        return {
            "format": EXPORT_FORMAT,
            "guild_id": str(self.guild_id),
            "user_id": str(user_id),
            "exported_at": self.clock.now().isoformat(),
            "former_member_id": str(FORMER_MEMBER),
            "about": {name: ABOUT[name] for name in tables},
            "rows": sum(len(rows) for rows in tables.values()),
            "tables": tables,
        }

    async def tier_of(self, user_id: int) -> str | None:
        """The member's tier key, for the warning that erasure takes it away."""
        async with self.sessions() as session:
            state = await TierRepository(session, self.guild_id).state(user_id)
        return None if state is None else state.tier_key

    async def erase(self, user_id: int, *, names: Sequence[str] = ()) -> Erasure:
        """Delete or anonymise everything about the member, in one transaction.

        ``names`` (username, global and server names) are redacted from text others keep.
        The log line says what was done, never whose data it was.
        """
        async with self.sessions.begin() as session:
            erasure = await PrivacyRepository(session, self.guild_id).erase(
                user_id, now=self.clock.now(), names=names
            )
        log.info(
            "privacy: erased a member's data at their request (%s rows deleted, %s anonymised, "
            "member row %s)",
            sum(erasure.deleted.values()),
            sum(erasure.anonymised.values()),
            erasure.member_row,
        )
        return erasure

    async def purge_departed(self) -> Purge:
        """Retention: erase members who left more than ``privacy.retention_days`` ago.

        0 keeps everything. Each member is erased in a transaction of its own, so a failure
        leaves the others done and the rest for the next run.
        """
        days = self.settings.privacy.retention_days
        if days <= 0:
            return Purge()
        cutoff = self.clock.now() - timedelta(days=days)
        async with self.sessions() as session:
            departed = await PrivacyRepository(session, self.guild_id).departed_before(cutoff)
        erased: list[Erasure] = []
        for user_id in departed:
            async with self.sessions.begin() as session:
                repo = PrivacyRepository(session, self.guild_id)
                if not await repo.left_before(user_id, cutoff):
                    continue  # came back since the list was read
                erased.append(await repo.erase(user_id, now=self.clock.now()))
        if erased:
            log.info(
                "privacy: retention purged the data of %s member(s) who left more than %s days ago",
                len(erased),
                days,
            )
        return Purge(tuple(erased))
