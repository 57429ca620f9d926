"""What every service over the store is given, in one place."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.contributions import Contributions


class StoreService:
    """The store, the settings and the injected clock, for one guild."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock

    @property
    def guild_id(self) -> int:
        return self.settings.discord.guild_id


class Service(StoreService):
    """A service that credits contributions: the store, settings and clock, and the ledger."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        super().__init__(sessions, settings, clock)
        self.contributions = contributions
