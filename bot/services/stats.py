"""What /profile and /leaderboard show: contribution totals per period, active days, tier.

Periods are rolling: the last 7 days, the last 30 days, and all time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.base import StoreService
from bot.services.shared_copy import SharedCopies
from db.repositories.stats import Standing, StatsRepository, Totals
from db.repositories.tiers import TierRepository

Period = Literal["week", "month", "all"]
PERIODS: tuple[Period, ...] = get_args(Period)
PERIOD_DAYS: dict[Period, int | None] = {"week": 7, "month": 30, "all": None}
PAGE_SIZE = 10
#: How much of a leaderboard a cached copy keeps: a hundred pages of the web's 50.
CACHED_STANDINGS = 5_000

_BoardKey = tuple[Period, str | None, bool]


@dataclass(frozen=True)
class Profile:
    user_id: int
    totals: dict[Period, dict[str, Totals]]
    """Per period, per kind (kinds without any contribution are left out)."""
    active_days: dict[Period, int]
    tier_key: str | None
    tier_name: str | None
    tier_since: datetime | None
    #: The server's kinds in table order (``Settings.kinds``): the order fields are shown in.
    kind_order: tuple[str, ...] = ()

    def points(self, period: Period) -> int:
        return sum(t.points for t in self.totals[period].values())

    @property
    def kinds(self) -> list[str]:
        """Kinds the member has ever been credited for, in table order; kinds the table no
        longer has (a ``[[kinds]]`` entry removed) follow, so no credit goes unshown."""
        had = self.totals["all"]
        known = [kind for kind in self.kind_order if kind in had]
        return known + sorted(set(had) - set(known))


@dataclass(frozen=True)
class Row:
    rank: int
    user_id: int
    points: int
    count: int


@dataclass(frozen=True)
class LeaderboardPage:
    period: Period
    kind: str | None
    page: int
    rows: list[Row]
    has_more: bool


class StatsService(StoreService):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
    ) -> None:
        super().__init__(sessions, settings, clock)
        self._boards = SharedCopies(clock, self._compute, "leaderboard")

    def since(self, period: Period) -> datetime | None:
        days = PERIOD_DAYS[period]
        return None if days is None else self.clock.now() - timedelta(days=days)

    async def profile(self, user_id: int) -> Profile:
        today = self.clock.now().astimezone(self.settings.schedule.tz).date()
        async with self.sessions() as session:
            stats = StatsRepository(session, self.guild_id)
            totals: dict[Period, dict[str, Totals]] = {}
            active: dict[Period, int] = {}
            for period in PERIODS:
                totals[period] = await stats.totals_by_kind(user_id, since=self.since(period))
                days = PERIOD_DAYS[period]
                # "The last 7 days" of activity are today and the 6 days before, local time.
                first_day = None if days is None else today - timedelta(days=days - 1)
                active[period] = await stats.active_days(user_id, since=first_day)
            state = await TierRepository(session, self.guild_id).state(user_id)
        tier_key = state.tier_key if state is not None else None
        return Profile(
            user_id=user_id,
            totals=totals,
            active_days=active,
            tier_key=tier_key,
            tier_name=self._tier_name(tier_key),
            tier_since=state.tier_since if state is not None and tier_key else None,
            kind_order=self.settings.kinds.keys(),
        )

    async def leaderboard(
        self,
        period: Period,
        kind: str | None,
        page: int,
        *,
        is_present: Callable[[int], bool] = lambda _user_id: True,
        page_size: int = PAGE_SIZE,
        known_only: bool = False,
        max_age: float = 0.0,
    ) -> LeaderboardPage:
        """Page ``page`` (from 0) of ``page_size`` members by points; ``is_present`` drops
        members who left; ``known_only`` drops members the members table never saw (for a
        caller without the server's member list: after the start-up sync they are not here).

        The database groups, orders and pages; rows are read from the top in batches so that
        members filtered out here (departures the member table does not know yet) leave no
        gaps. Opted-out members are filtered in the query.

        ``max_age`` (seconds): the top of the board may come from a copy computed that long
        ago, for pages many people load at once (the web): over millions of ledger rows the
        grouping takes seconds, and a copy past its age is served while a fresh one is
        computed in the background. 0 (``/leaderboard``): always computed now.
        """
        if kind is not None and self.settings.kinds.find(kind) is None:
            raise ValueError(f"unknown contribution kind {kind!r}")
        page = max(page, 0)
        start, end = page * page_size, (page + 1) * page_size
        batch = end + 1
        top = await self._boards.get((period, kind, known_only), max_age) if max_age > 0 else None
        rows: list[Row] = []
        rank = offset = 0
        has_more = False
        async with self.sessions() as session:
            stats = StatsRepository(session, self.guild_id)
            while not has_more:
                hidden: set[int] = set()
                if top is not None and (offset + batch <= len(top) or len(top) < CACHED_STANDINGS):
                    standings = top[offset : offset + batch]
                    # The copy may predate an opt-out or a departure: asked again, now.
                    hidden = await stats.hidden(
                        [s.user_id for s in standings], known_only=known_only
                    )
                else:  # past what the copy keeps: a deep page is computed now
                    standings = await stats.leaderboard(
                        since=self.since(period),
                        kind=kind,
                        limit=batch,
                        offset=offset,
                        known_only=known_only,
                    )
                for standing in standings:
                    if standing.user_id in hidden or not is_present(standing.user_id):
                        continue
                    if rank == end:
                        has_more = True
                        break
                    rank += 1
                    if rank > start:
                        rows.append(Row(rank, standing.user_id, standing.points, standing.count))
                if len(standings) < batch:
                    break
                offset += batch
        return LeaderboardPage(period, kind, page, rows, has_more)

    async def _compute(self, key: _BoardKey) -> list[Standing]:
        period, kind, known_only = key
        async with self.sessions() as session:
            return await StatsRepository(session, self.guild_id).leaderboard(
                since=self.since(period),
                kind=kind,
                limit=CACHED_STANDINGS,
                known_only=known_only,
            )

    def _tier_name(self, key: str | None) -> str | None:
        if key is None:
            return None
        try:
            return self.settings.tier(key).name
        except KeyError:
            return key  # a tier since removed from the config
