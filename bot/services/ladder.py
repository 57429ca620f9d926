"""The ambassador ladder as the bot runs it: numbers from the store, decisions applied and audited.

``bot.core.ladder`` decides; this service feeds it every member's numbers in a few bulk queries,
writes what it decided (``tier_states``, an audit row in ``tier_changes``, the nomination that
made a promotion possible) and returns plain :class:`Change` records for the cog to announce.

``tier_states`` is the desired truth: Discord roles follow it (``bot.services.role_sync``), so a
role edit that Discord refuses never loses a decision. Automatic and moderator changes are
serialised per store, and a member whose state changed between planning and applying is left
for the next evaluation rather than overwritten.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.ladder import (
    Decision,
    LadderRules,
    MemberState,
    MemberStats,
    TierRule,
    WindowStats,
    evaluate,
    progress,
    required_windows,
)
from bot.errors import UserFacingError
from bot.services.background import together
from bot.services.base import Service
from bot.services.contributions import Contributions
from db.engine import dialect_of, reading, side_by_side
from db.models import TierChange, TierState
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.ladder import (
    GraceClock,
    LadderRepository,
    PresentMember,
    StateRow,
    TierMove,
    Totals,
    counted_kinds,
)
from db.repositories.ladder_member import MemberQuery
from db.repositories.ledger import LedgerRepository
from db.repositories.tiers import TierRepository

#: ``guild_settings`` key of the time the daily sweep last finished.
LAST_SWEEP_KEY = "ladder_sweep_at"

ChangeAction = Literal["promote", "demote", "warn"]

#: Members written per transaction when a sweep applies its decisions.
APPLY_BATCH = 500
#: Decisions taken between two yields to the event loop during a sweep.
YIELD_EVERY = 1000
#: Up to this many members, an evaluation reads member by member with the compiled
#: :class:`MemberQuery` (one statement each); more are read with the bulk queries.
ONE_BY_ONE = 16
#: At most this many sessions read a sweep's numbers side by side.
READERS = 4
#: The longest leave of absence a moderator can grant at once, in days.
MAX_LEAVE_DAYS = 365

NOT_PINNED = "{name} isn't pinned."
ALREADY_PINNED = "{name} is already pinned."


@dataclass(frozen=True)
class Planned:
    """What the ladder would do for one member (nothing is written)."""

    user_id: int
    decision: Decision


@dataclass(frozen=True)
class Change:
    """Something that happened to a member's standing and needs telling.

    ``promote``/``demote`` moved the tier (``actor_id`` None = automatic); ``warn`` is the
    at-risk notice (``demotion_due_at`` says when). ``public`` is False for members who opted
    out of public recognition.
    """

    user_id: int
    from_tier: str | None
    to_tier: str | None
    action: ChangeAction
    reasons: tuple[str, ...]
    actor_id: int | None
    demotion_due_at: datetime | None = None
    public: bool = True


@dataclass(frozen=True)
class SweepReport:
    evaluated: int
    changes: tuple[Change, ...]

    def count(self, action: ChangeAction) -> int:
        return sum(1 for change in self.changes if change.action == action)


@dataclass(frozen=True)
class Standing:
    """A member's ladder flags after a moderator's pin, unpin or leave."""

    user_id: int
    tier_key: str | None
    pinned: bool
    leave_until: datetime | None


@dataclass(frozen=True)
class _Numbers:
    """One bulk read: present members, their window totals and active weeks."""

    now: datetime
    members: dict[int, PresentMember]
    totals: Totals
    weeks: dict[int, dict[int, int]]
    #: ``{user_id: {window_days: different peer givers}}``, read only if a tier asks.
    givers: dict[int, dict[int, int]] = field(default_factory=dict)

    def stats(self, user_id: int) -> MemberStats:
        totals = self.totals.of(user_id)
        weeks = self.weeks.get(user_id, {})
        givers = self.givers.get(user_id, {})
        by_window: dict[int, WindowStats] = {}
        for window in self.totals.windows:
            total, active = totals.get(window), weeks.get(window, 0)
            if total is not None or active:
                by_window[window] = WindowStats(
                    points=total.points if total is not None else 0,
                    counts=total.counts if total is not None else {},
                    active_weeks=active,
                    distinct_members=givers.get(window, 0),
                )
        member = self.members.get(user_id)
        return MemberStats(user_id, member.joined_at if member else None, by_window)

    def tenure_days(self, user_id: int) -> int:
        """Days since the member joined, as ``bot.core.ladder`` counts them."""
        joined = self.members[user_id].joined_at
        return max((self.now - joined).days, 0) if joined is not None else 0


@dataclass(frozen=True)
class _Snapshot:
    """What planning saw, so applying can tell what changed meanwhile."""

    members: dict[int, PresentMember]
    states: dict[int, MemberState]
    #: The ``tier_states`` row each planned member had (None: no row yet). Compared whole:
    #: two writes can carry one ``updated_at``.
    rows: dict[int, StateRow | None]
    #: Members with an approved nomination (marked applied when it promotes them).
    nominated: frozenset[int]
    #: Members present in the server (a sweep reads the numbers of those it could change).
    present: int


@dataclass(frozen=True)
class _Minimums:
    """A tier's contribution minimums as ``(position in a totals row, required)`` pairs."""

    tier: TierRule
    needs: tuple[tuple[int, int], ...]


def _writes(item: Planned, snapshot: _Snapshot) -> bool:
    """Whether a decision changes anything stored: a keep may start or stop the grace clock."""
    decision = item.decision
    if decision.action != "keep":
        return True
    if snapshot.rows[item.user_id] is None:
        return False  # off the ladder and staying off: nothing to store
    return snapshot.states[item.user_id].below_since != decision.below_since


def _state_of(row: StateRow | None, nominations: Collection[str]) -> MemberState:
    if row is None:
        return MemberState(approved_nominations=frozenset(nominations))
    return MemberState(
        tier_key=row.tier_key,
        tier_since=row.tier_since,
        pinned=row.pinned,
        leave_until=row.leave_until,
        below_since=row.below_since,
        at_risk_notified_at=row.at_risk_notified_at,
        approved_nominations=frozenset(nominations),
    )


class LadderService(Service):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        contributions: Contributions,
    ) -> None:
        super().__init__(sessions, settings, clock, contributions)
        self.tiers: tuple[TierRule, ...] = tuple(
            TierRule.of(t, settings.kinds) for t in settings.tiers
        )
        self.rules = LadderRules.of(settings.ladder)
        self._rank = {tier.key: index for index, tier in enumerate(self.tiers)}
        self._tenure_matters = any(tier.min_tenure_days for tier in self.tiers)
        #: The one-member read, built on first use for the store's dialect.
        self._member_queries: dict[str, MemberQuery] = {}
        #: Sessions a sweep reads with side by side (one per CPU, at most READERS).
        self._readers = min(os.cpu_count() or 1, READERS) if side_by_side(sessions) else 1
        #: Sessions a sweep writes its batches with side by side: SQLite has one writer at a
        #: time (a second would wait on the lock, or fail to upgrade its read), PostgreSQL
        #: locks only the rows a batch writes.
        self._writers = self._readers if dialect_of(sessions) == "postgresql" else 1
        #: Decisions and moderator actions are serialised: the composition root builds one
        #: ladder service per store, which every feature shares.
        self._lock = asyncio.Lock()

    def rank(self, tier_key: str | None) -> int:
        """Position on the ladder (0 = lowest); -1 for no tier or one no longer configured."""
        return self._rank.get(tier_key, -1) if tier_key is not None else -1

    # ------------------------------------------------------------------ reading
    async def stats_for(self, user_ids: Collection[int] | None) -> dict[int, MemberStats]:
        """Numbers of present members (all of them for ``None``) over every tier window."""
        async with self.sessions() as session:
            numbers = await self._numbers(LadderRepository(session, self.guild_id), user_ids)
        return {uid: numbers.stats(uid) for uid in numbers.members}

    async def _numbers(self, repo: LadderRepository, user_ids: Collection[int] | None) -> _Numbers:
        """One bulk read of every window's totals and active weeks (a few queries in all)."""
        now = self.clock.now()
        members = await repo.present_members(user_ids)
        starts, _ = self._windows(now)
        kinds = self._counted_kinds()
        scope = None if user_ids is None else list(members)
        if scope == []:
            return _Numbers(now, members, Totals(tuple(starts), counted_kinds(kinds)), {})
        totals = await repo.window_totals(starts, kinds, scope)
        weeks, givers = await self._weeks_and_givers(repo, now, scope)
        return _Numbers(now, members, totals, weeks, givers)

    def _windows(self, now: datetime) -> tuple[dict[int, datetime], dict[int, date]]:
        """Each tier window's start (``{days: moment}``, shortest first) and its first day in
        the server's time zone (active weeks count from it)."""
        starts = {w: now - timedelta(days=w) for w in sorted(required_windows(self.tiers))}
        tz = self.settings.schedule.tz
        return starts, {w: start.astimezone(tz).date() for w, start in starts.items()}

    def _counted_kinds(self) -> dict[int, set[str]]:
        """Per tier window (``{days: kinds}``), the kinds some tier counts there."""
        counted: dict[int, set[str]] = {w: set() for w in sorted(required_windows(self.tiers))}
        for tier in self.tiers:
            counted[tier.window_days].update(k for k, n in tier.min_counts.items() if n > 0)
        return counted

    async def _weeks_and_givers(
        self, repo: LadderRepository, now: datetime, scope: list[int] | None
    ) -> tuple[dict[int, dict[int, int]], dict[int, dict[int, int]]]:
        """Active weeks, and peer givers where a tier asks, of ``scope`` (everyone: None)."""
        starts, first_days = self._windows(now)
        weeks = await repo.active_weeks(first_days, scope)
        asked = {t.window_days: starts[t.window_days] for t in self.tiers if t.min_distinct_members}
        givers = (
            await repo.distinct_givers(asked, self.settings.kinds.peer_keys(), scope)
            if asked
            else {}
        )
        return weeks, givers

    async def _sweep_numbers(
        self, repo: LadderRepository
    ) -> tuple[_Numbers, dict[int, StateRow], int] | None:
        """A sweep's read: the numbers of the members it could change, their states, and how
        many members are present.

        Only a member with a state or whose contribution numbers meet some tier can be
        promoted, warned or demoted (:meth:`_reach`). The database keeps, of 100,000 members,
        the ones whose credits alone meet some tier's minimums (a superset: reversals only
        lower counts); members with a state or a reversal are read in full beside them.
        None when some tier asks for no contribution number: anyone might meet it, so the
        sweep reads everyone.
        """
        now = self.clock.now()
        starts, _ = self._windows(now)
        kinds = self._counted_kinds()
        minimums = [m.needs for m in self._columns(Totals(tuple(starts), counted_kinds(kinds)))]
        if not all(minimums):
            return None
        rows = await repo.states(None)
        totals, reversals = await self._reaching(repo, starts, kinds, minimums)
        totals.add([row for row in reversals if row[0] in totals.rows], reversal=True)
        # Taking back a credit only lowers numbers; taking back a penalty raises points.
        # Members with such a reversal are read in full, like the holders of a state.
        points = range(1, 1 + len(totals.windows) * totals.width, totals.width)
        lifted = {row[0] for row in reversals if any(row[i] > 0 for i in points)}
        rest = (set(rows) | lifted) - set(totals.rows)
        if rest:
            totals.rows.update((await repo.window_totals(starts, kinds, rest)).rows)
        candidates = sorted(set(totals.rows) | set(rows))
        numbers = _Numbers(now, {}, totals, {})
        # Their weeks and givers, read through the per-member indexes, side by side too.
        size = -(-len(candidates) // self._readers)
        parts = [candidates[i : i + size] for i in range(0, len(candidates), size or 1)]
        for members, weeks, givers in await together([self._candidates(now, ids) for ids in parts]):
            numbers.members.update(members)
            numbers.weeks.update(weeks)
            numbers.givers.update(givers)
        return numbers, rows, await repo.count_present()

    async def _candidates(
        self, now: datetime, user_ids: list[int]
    ) -> tuple[dict[int, PresentMember], dict[int, dict[int, int]], dict[int, dict[int, int]]]:
        """Which of ``user_ids`` are present, and their active weeks and peer givers."""
        async with self.sessions() as session:
            repo = LadderRepository(session, self.guild_id)
            members = await repo.present_members(user_ids)
            return members, *await self._weeks_and_givers(repo, now, list(members))

    async def record_sweep(self) -> None:
        """Remember that the daily sweep finished now (``/healthz`` reports it)."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            await GuildSettingsRepository(session, self.guild_id).set(
                LAST_SWEEP_KEY, now.isoformat(), now=now
            )

    async def last_sweep_at(self) -> datetime | None:
        """When the daily sweep last finished (in any process on this store); None: never."""
        async with self.sessions() as session:
            value = await GuildSettingsRepository(session, self.guild_id).get(LAST_SWEEP_KEY)
        return None if value is None else datetime.fromisoformat(value)

    async def credited_since(self, since: datetime) -> set[int]:
        """Members credited after ``since``: an import, a backfill or a web decision while the
        bot was away, or the bot itself since its last sweep."""
        async with self.sessions() as session:
            return await LedgerRepository(session, self.guild_id).members_recorded_since(since)

    async def seats_taken(self) -> dict[str, int]:
        """Members holding each tier now (members who left the server hold no seat)."""
        async with self.sessions() as session:
            return await LadderRepository(session, self.guild_id).seats_taken()

    async def history(self, user_id: int) -> list[TierChange]:
        """Every change of the member's tier (and pin/leave notes), oldest first."""
        async with self.sessions() as session:
            return await TierRepository(session, self.guild_id).history(user_id)

    async def desired_tiers(self, user_ids: Sequence[int] | None = None) -> dict[int, str | None]:
        """The tier each member should hold, for members the ladder manages (has a state)."""
        async with self.sessions() as session:
            repo = LadderRepository(session, self.guild_id)
            if user_ids is None:
                return await repo.all_tier_keys()
            return await repo.tier_keys(user_ids)

    async def missing(self, user_id: int, tier_key: str) -> tuple[str, ...]:
        """What ``user_id`` still misses for ``tier_key`` ("40/50 points ✗"), nothing if met."""
        rank = self.rank(tier_key)
        if rank < 0:
            return ()
        async with self.sessions() as session:
            repo = LadderRepository(session, self.guild_id)
            numbers = await self._numbers(repo, [user_id])
            nominations = (await repo.approved_nominations([user_id])).get(user_id, set())
            seats = await repo.seats_taken(self._seated())
        stats = numbers.stats(user_id)
        # Progress toward a tier is measured from the tier right below it.
        below = self.tiers[rank - 1].key if rank > 0 else None
        state = MemberState(tier_key=below, approved_nominations=frozenset(nominations))
        outlook = progress(stats, state, self.tiers, self.rules, now=numbers.now, seats_taken=seats)
        return tuple(c.describe() for c in outlook.criteria if not c.met)

    # ------------------------------------------------------------------ deciding
    async def plan(self, user_ids: Collection[int] | None = None) -> list[Planned]:
        """What the ladder would decide for these members (all present ones for None), unapplied.

        Every member gets a full decision with its reasons (for previews); a sweep skips
        members who are off the ladder and meet no tier's numbers, whose decision is "keep".
        """
        planned, _ = await self._plan(user_ids, everyone=True)
        return planned

    async def _plan(
        self, user_ids: Collection[int] | None, *, everyone: bool = False
    ) -> tuple[list[Planned], _Snapshot]:
        if not self.tiers:
            return [], _Snapshot({}, {}, {}, frozenset(), 0)
        rows: Mapping[int, StateRow]
        nominations: Mapping[int, Collection[str]]
        if user_ids is not None and len(user_ids) <= ONE_BY_ONE:
            # After a contribution: no session at all unless a seat count is needed (opening
            # and closing one cost a task and several turns of the event loop).
            numbers, rows, nominations = await self._read_few(user_ids)
            present = len(numbers.members)
            scope: list[int] | None = list(numbers.members)
        else:
            numbers, rows, nominations, present, scope = await self._read_many(user_ids, everyone)
        members = numbers.members
        if scope == []:
            return [], _Snapshot(members, {}, {}, frozenset(), present)
        columns = self._columns(numbers.totals)
        reach = {uid: self._reach(numbers, uid, columns) for uid in members}
        candidates = [
            uid
            for uid in members
            if everyone
            or ((uid in rows or reach[uid]) and not self._settled(rows.get(uid), reach[uid]))
        ]
        seated = self._seated()
        count_seats = bool(seated) and (everyone or self._seats_matter(rows, reach))
        seats = await self._seats_taken(seated) if count_seats else {}
        states = {uid: _state_of(rows.get(uid), nominations.get(uid, ())) for uid in candidates}
        seen = {uid: rows.get(uid) for uid in candidates}
        stats = {uid: numbers.stats(uid) for uid in candidates}

        def order(uid: int) -> tuple[int, int, int]:
            # Holders first (they keep their seats), then the strongest claim to a free seat.
            best = max((w.points for w in stats[uid].windows.values()), default=0)
            return (-self.rank(states[uid].tier_key), -best, uid)

        planned: list[Planned] = []
        for done, uid in enumerate(sorted(candidates, key=order), start=1):
            if done % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a big sweep must not hold up gateway events
            decision = evaluate(
                stats[uid], states[uid], self.tiers, self.rules, now=numbers.now, seats_taken=seats
            )
            if decision.action in ("promote", "demote") and decision.to_tier != decision.from_tier:
                if decision.from_tier is not None:
                    seats[decision.from_tier] = seats.get(decision.from_tier, 0) - 1
                if decision.to_tier is not None:
                    seats[decision.to_tier] = seats.get(decision.to_tier, 0) + 1
            planned.append(Planned(uid, decision))
        nominated = frozenset(nominations)
        return planned, _Snapshot(members, states, seen, nominated, present)

    async def _read_many(
        self, user_ids: Collection[int] | None, everyone: bool
    ) -> tuple[
        _Numbers, Mapping[int, StateRow], Mapping[int, Collection[str]], int, list[int] | None
    ]:
        """The numbers, states and nominations of many members (all for None; for a sweep,
        only those it could change), how many are present, and the scope read (None: all)."""
        async with self.sessions() as session:
            repo = LadderRepository(session, self.guild_id)
            swept = None
            if user_ids is None and not everyone:
                swept = await self._sweep_numbers(repo)
            if swept is not None:
                numbers, rows, present = swept
                scope: list[int] | None = list(numbers.members)
            else:
                numbers = await self._numbers(repo, user_ids)
                present = len(numbers.members)
                scope = None if user_ids is None else list(numbers.members)
                rows = await repo.states(scope) if scope != [] else {}
            needs_nomination = scope != [] and any(t.nomination_required for t in self.tiers)
            nominations = await repo.approved_nominations(scope) if needs_nomination else {}
        return numbers, rows, nominations, present, scope

    async def _seats_taken(self, tier_keys: Collection[str]) -> dict[str, int]:
        async with self.sessions() as session:
            return await LadderRepository(session, self.guild_id).seats_taken(tier_keys)

    def _member_query(self, dialect: Dialect) -> MemberQuery:
        """The one-member read for these tiers (built once: only the binds change)."""
        query = self._member_queries.get(dialect.name)
        if query is None:
            needs_nomination = any(t.nomination_required for t in self.tiers)
            query = self._member_queries[dialect.name] = MemberQuery.build(
                dialect=dialect,
                kinds=self._counted_kinds(),
                giver_windows={t.window_days for t in self.tiers if t.min_distinct_members},
                peer_kinds=self.settings.kinds.peer_keys(),
                nomination_keys=[t.key for t in self.tiers] if needs_nomination else [],
            )
        return query

    async def _read_few(
        self, user_ids: Collection[int]
    ) -> tuple[_Numbers, dict[int, StateRow], dict[int, Collection[str]]]:
        """What :meth:`_numbers`, the states and the nominations read, one statement a member,
        on a connection with no transaction to roll back (:func:`db.engine.reading`)."""
        async with reading(self.sessions) as connection:
            return await self._read_each(connection, user_ids)

    async def _read_each(
        self, connection: AsyncConnection, user_ids: Collection[int]
    ) -> tuple[_Numbers, dict[int, StateRow], dict[int, Collection[str]]]:
        now = self.clock.now()
        query = self._member_query(connection.dialect)
        tz = self.settings.schedule.tz
        starts = {w: now - timedelta(days=w) for w in query.windows}
        first_days = {w: start.astimezone(tz).date() for w, start in starts.items()}
        totals = Totals(query.windows, query.kinds)
        members: dict[int, PresentMember] = {}
        weeks: dict[int, dict[int, int]] = {}
        givers: dict[int, dict[int, int]] = {}
        rows: dict[int, StateRow] = {}
        nominations: dict[int, Collection[str]] = {}
        for uid in sorted(set(user_ids)):
            read = await query.read(
                connection, self.guild_id, uid, since=starts, first_days=first_days, totals=totals
            )
            if read is None:
                continue
            members[uid] = read.member
            weeks[uid], givers[uid] = read.weeks, read.givers
            if read.state is not None:
                rows[uid] = read.state
            if read.nominations:
                nominations[uid] = read.nominations
        return _Numbers(now, members, totals, weeks, givers), rows, nominations

    async def _reaching(
        self,
        repo: LadderRepository,
        starts: Mapping[int, datetime],
        kinds: Mapping[int, Collection[str]],
        minimums: Sequence[Sequence[tuple[int, int]]],
    ) -> tuple[Totals, list[Any]]:
        """:meth:`LadderRepository.totals_reaching` and the guild's reversals.

        The guild is cut into one part per reader, read side by side: the ``GROUP BY`` over
        every ledger row of the windows is most of a sweep, and the database runs each part
        on a CPU of its own. The reversals, which depend on none of it, are read meanwhile
        on ``repo``'s own connection.
        """
        if self._readers < 2:
            return (
                await repo.totals_reaching(starts, kinds, minimums),
                await repo.reversals(starts, kinds),
            )
        splits = await repo.member_splits(self._readers)
        bounds = list(zip([None, *splits], [*splits, None], strict=True))

        async def part(users: tuple[int | None, int | None]) -> Totals:
            async with self.sessions() as session:
                part = LadderRepository(session, self.guild_id)
                return await part.totals_reaching(starts, kinds, minimums, users)

        parts: list[Awaitable[Any]] = [part(users) for users in bounds]
        *reads, reversals = await together([*parts, repo.reversals(starts, kinds)])
        totals = Totals(tuple(starts), counted_kinds(kinds))
        for read in reads:
            totals.rows.update(read.rows)
        return totals, reversals

    def _columns(self, totals: Totals) -> list[_Minimums]:
        """Each tier's minimums against a member's totals row: the row positions of its
        window's points and counted kinds (worked out once per evaluation, not per member)."""
        width, kinds = totals.width, totals.kinds
        compiled = []
        for tier in self.tiers:
            base = totals.windows.index(tier.window_days) * width
            needs = [(base, tier.min_points)] if tier.min_points > 0 else []
            needs += [
                (base + 1 + kinds.index(kind), required)
                for kind, required in tier.min_counts.items()
                if required > 0
            ]
            compiled.append(_Minimums(tier, tuple(needs)))
        return compiled

    def _reach(
        self, numbers: _Numbers, user_id: int, compiled: Sequence[_Minimums]
    ) -> frozenset[str]:
        """Tiers whose contribution numbers and tenure the member meets.

        Only a member who meets some tier's numbers can be promoted, and only a member with
        a state can be warned or demoted: everyone else is kept as they are without asking
        ``bot.core.ladder`` (a sweep of 100,000 members mostly meets such members). Nomination
        and seats are left out: they only ever stop a promotion. The same minimums as
        ``bot.core.ladder.meets_numbers``, read straight from the totals row.
        """
        row = numbers.totals.rows.get(user_id)
        met = []
        for minimums in compiled:
            tier = minimums.tier
            if minimums.needs and (
                row is None or any(row[i] < required for i, required in minimums.needs)
            ):
                continue
            window = tier.window_days
            weeks = numbers.weeks.get(user_id, {}).get(window, 0)
            if tier.min_active_weeks > 0 and weeks < tier.min_active_weeks:
                continue
            givers = numbers.givers.get(user_id, {}).get(window, 0)
            if tier.min_distinct_members > 0 and givers < tier.min_distinct_members:
                continue
            if tier.min_tenure_days > 0 and numbers.tenure_days(user_id) < tier.min_tenure_days:
                continue
            met.append(tier.key)
        return frozenset(met)

    def _settled(self, row: StateRow | None, reach: frozenset[str]) -> bool:
        """Whether a holder's decision can only be to keep them, with nothing to write: no
        grace clock running, every number of their tier met and no higher tier's. A sweep
        mostly meets such holders (9,400 of them at 100,000 members) and leaves them be."""
        if row is None or row.below_since is not None or row.tier_key not in reach:
            return False
        held = self.rank(row.tier_key)
        return not any(self.rank(key) > held for key in reach)

    def _seated(self) -> list[str]:
        """The tiers with a seat limit: the only ones whose holders are ever counted here."""
        return [tier.key for tier in self.tiers if tier.seats is not None]

    def _seats_matter(
        self, rows: Mapping[int, StateRow], reach: Mapping[int, frozenset[str]]
    ) -> bool:
        """Whether anyone could take a seat: counting the seats is skipped otherwise."""
        seated = [tier for tier in self.tiers if tier.seats is not None]
        for uid, tiers in reach.items():
            row = rows.get(uid)
            held = self.rank(row.tier_key if row is not None else None)
            if any(t.key in tiers and self.rank(t.key) > held for t in seated):
                return True
        return False

    async def evaluate(self, user_ids: Collection[int]) -> list[Change]:
        """Re-evaluate some members now (after a contribution) and apply what changed."""
        ids = set(user_ids)
        if not ids:
            return []
        async with self._lock:
            planned, snapshot = await self._plan(ids)
            return await self._apply(planned, snapshot)

    async def sweep(self) -> SweepReport:
        """The daily pass over every present member: promotions, warnings, demotions."""
        async with self._lock:
            planned, snapshot = await self._plan(None)
            changes = await self._apply(planned, snapshot)
        return SweepReport(evaluated=snapshot.present, changes=tuple(changes))

    async def _apply(self, planned: Sequence[Planned], snapshot: _Snapshot) -> list[Change]:
        """Write the decisions that change something, in batches; returns what to announce.

        A member whose state changed after planning (a moderator, another instance) is left
        alone: the next evaluation decides with fresh numbers.
        """
        now = self.clock.now()
        todo = [p for p in planned if _writes(p, snapshot)]
        writers = asyncio.Semaphore(self._writers)

        async def apply(batch: Sequence[Planned]) -> list[Change]:
            async with writers, self.sessions() as session, session.begin():
                ladder = LadderRepository(session, self.guild_id)
                current = await ladder.states([p.user_id for p in batch], lock=True)
                fresh = [p for p in batch if current.get(p.user_id) == snapshot.rows[p.user_id]]
                return await self._write(ladder, fresh, snapshot, now)

        batches = [todo[start : start + APPLY_BATCH] for start in range(0, len(todo), APPLY_BATCH)]
        written = await together([apply(batch) for batch in batches])
        return [change for changes in written for change in changes]

    async def _write(
        self,
        ladder: LadderRepository,
        batch: Sequence[Planned],
        snapshot: _Snapshot,
        now: datetime,
    ) -> list[Change]:
        moves: list[TierMove] = []
        clocks: list[GraceClock] = []
        changes: list[Change] = []
        for item in batch:
            decision, uid = item.decision, item.user_id
            action: ChangeAction
            if decision.action == "promote" or decision.action == "demote":
                action = decision.action
                reason = " ".join(decision.reasons)
                moves.append(TierMove(uid, decision.from_tier, decision.to_tier, reason))
            elif decision.action == "warn":
                action = "warn"
                clocks.append(GraceClock(uid, decision.below_since, notified_at=now))
            else:
                clocks.append(GraceClock(uid, decision.below_since))
                continue
            member = snapshot.members.get(uid)
            changes.append(
                Change(
                    uid,
                    decision.from_tier,
                    decision.to_tier,
                    action,
                    decision.reasons,
                    actor_id=None,
                    demotion_due_at=decision.demotion_due_at,
                    public=member is None or not member.recognition_opt_out,
                )
            )
        await ladder.move_tiers(moves, actor_id=None, now=now)
        await ladder.set_grace_clocks(clocks, now=now)
        for move in moves:
            if move.user_id in snapshot.nominated and self.rank(move.to_tier) > self.rank(
                move.from_tier
            ):
                await self._nominations_applied(ladder, move.user_id, move.to_tier, now)
        return changes

    async def _nominations_applied(
        self, ladder: LadderRepository, user_id: int, tier_key: str | None, now: datetime
    ) -> None:
        """Approved nominations up to the new tier have done their job."""
        rank = self.rank(tier_key)
        keys = [tier.key for tier in self.tiers[: rank + 1]]
        await ladder.mark_nominations_applied(user_id, keys, now=now)

    # ------------------------------------------------------------------ moderators
    def resolve_tier(self, text: str) -> str | None:
        """A tier key from a key or name (any case); ``none`` means no tier."""
        wanted = text.strip().casefold()
        if wanted in ("none", "no tier", ""):
            return None
        for tier in self.settings.tiers:
            if wanted in (tier.key, tier.name.casefold()):
                return tier.key
        names = ", ".join(tier.name for tier in self.settings.tiers)
        raise UserFacingError(
            f"There is no tier called {text.strip()!r}. Tiers: {names}, or none."
            if names
            else "This community has no tiers configured yet."
        )

    def tier_name(self, key: str | None) -> str:
        if key is None:
            return "no tier"
        for tier in self.settings.tiers:
            if tier.key == key:
                return tier.name
        return key

    async def set_tier(
        self, user_id: int, tier_key: str | None, *, reason: str, actor_id: int, name: str = ""
    ) -> Change:
        """A moderator puts a member on a tier (or none), on the record."""
        if tier_key is not None and tier_key not in self._rank:
            raise UserFacingError(f"There is no tier called {tier_key!r}.")
        who = name or "That member"
        now = self.clock.now()
        async with self._lock, self.sessions() as session, session.begin():
            tiers = TierRepository(session, self.guild_id)
            state = await tiers.state_for_update(user_id, now=now)
            before = state.tier_key
            if before == tier_key:
                raise UserFacingError(
                    f"{who} already has no tier."
                    if tier_key is None
                    else f"{who} already holds {self.tier_name(tier_key)}."
                )
            await tiers.change(state, to_tier=tier_key, reason=reason, actor_id=actor_id, now=now)
            up = self.rank(tier_key) > self.rank(before)
            if up:
                ladder = LadderRepository(session, self.guild_id)
                await self._nominations_applied(ladder, user_id, tier_key, now)
                member = (await ladder.present_members([user_id])).get(user_id)
                public = member is None or not member.recognition_opt_out
            else:
                public = True
        return Change(
            user_id,
            before,
            tier_key,
            "promote" if up else "demote",
            (reason,),
            actor_id=actor_id,
            public=public,
        )

    async def pin(self, user_id: int, actor_id: int, *, name: str = "") -> Standing:
        """Exempt the member's tier from automatic changes until unpinned."""

        def apply(state: TierState, now: datetime) -> str:
            if state.pinned:
                raise UserFacingError(ALREADY_PINNED.format(name=name or "That member"))
            state.pinned = True
            state.below_since = None
            return f"Pinned at {self.tier_name(state.tier_key)}: automatic changes are paused."

        return await self._flag(user_id, actor_id, apply)

    async def unpin(self, user_id: int, actor_id: int, *, name: str = "") -> Standing:
        """Back to automatic rules; any grace period starts afresh."""

        def apply(state: TierState, now: datetime) -> str:
            if not state.pinned:
                raise UserFacingError(NOT_PINNED.format(name=name or "That member"))
            state.pinned = False
            state.below_since = None
            return "Unpinned: automatic tier rules apply again."

        return await self._flag(user_id, actor_id, apply)

    async def grant_leave(self, user_id: int, days: int, actor_id: int) -> Standing:
        """A leave of absence: no demotion (nor warning) for ``days`` days; 0 ends a leave."""
        if not 0 <= days <= MAX_LEAVE_DAYS:
            raise UserFacingError(f"A leave lasts 0 to {MAX_LEAVE_DAYS} days (0 ends a leave).")

        def apply(state: TierState, now: datetime) -> str:
            state.below_since = None
            if days == 0:
                state.leave_until = None
                return "Leave of absence ended."
            state.leave_until = now + timedelta(days=days)
            until = state.leave_until.astimezone(self.settings.schedule.tz)
            return f"Leave of absence until {until:%Y-%m-%d}: no demotion meanwhile."

        return await self._flag(user_id, actor_id, apply)

    async def _flag(
        self,
        user_id: int,
        actor_id: int,
        apply: Callable[[TierState, datetime], str],
    ) -> Standing:
        now = self.clock.now()
        async with self._lock, self.sessions() as session, session.begin():
            tiers = TierRepository(session, self.guild_id)
            state = await tiers.state_for_update(user_id, now=now)
            note = apply(state, now)
            state.updated_at = now
            await tiers.note(state, reason=note, actor_id=actor_id, now=now)
            return Standing(user_id, state.tier_key, state.pinned, state.leave_until)
