"""Single-use sign-in tokens for the web dashboard, stored as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WebReviewDecision, WebSignInToken


class WebSignInRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def add(
        self, *, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        self.session.add(
            WebSignInToken(
                guild_id=self.guild_id,
                token_hash=token_hash,
                user_id=user_id,
                created_at=now,
                expires_at=expires_at,
                used_at=None,
            )
        )
        await self.session.flush()

    async def claim(self, token_hash: str, *, now: datetime) -> bool:
        """Mark the token used if it is unused and unexpired; True only for the one caller
        whose UPDATE changed the row (the database decides, across processes)."""
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(WebSignInToken)
            .where(
                WebSignInToken.guild_id == self.guild_id,
                WebSignInToken.token_hash == token_hash,
                WebSignInToken.used_at.is_(None),
                WebSignInToken.expires_at > now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def get(self, token_hash: str) -> WebSignInToken | None:
        return await self.session.scalar(
            select(WebSignInToken).where(
                WebSignInToken.guild_id == self.guild_id,
                WebSignInToken.token_hash == token_hash,
            )
        )

    async def forget_before(self, cutoff: datetime) -> int:
        """Delete tokens that expired before ``cutoff``: past any use, no reason to keep."""
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            delete(WebSignInToken).where(
                WebSignInToken.guild_id == self.guild_id,
                WebSignInToken.expires_at < cutoff,
            )
        )
        return int(result.rowcount)


class WebDecisionRepository:
    """Review decisions made on a standalone web process, waiting for the bot."""

    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    async def add(self, *, kind: str, record_id: int, moderator_id: int, now: datetime) -> None:
        self.session.add(
            WebReviewDecision(
                guild_id=self.guild_id,
                kind=kind,
                record_id=record_id,
                moderator_id=moderator_id,
                decided_at=now,
            )
        )
        await self.session.flush()

    async def waiting(self, *, limit: int) -> list[WebReviewDecision]:
        rows = await self.session.scalars(
            select(WebReviewDecision)
            .where(WebReviewDecision.guild_id == self.guild_id)
            .order_by(WebReviewDecision.id)
            .limit(limit)
        )
        return list(rows)

    async def remove(self, decision_id: int) -> bool:
        """Delete the row; True if this call deleted it."""
        result = await self.session.execute(
            delete(WebReviewDecision).where(
                WebReviewDecision.guild_id == self.guild_id, WebReviewDecision.id == decision_id
            )
        )
        return bool(getattr(result, "rowcount", 0))
