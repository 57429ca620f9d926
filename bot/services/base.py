"""What every contribution-crediting service is given, in one place."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.contributions import Contributions


class Service:
    """The store, the settings, the injected clock and the ledger, for one guild."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.contributions = contributions

    @property
    def guild_id(self) -> int:
        return self.settings.discord.guild_id
