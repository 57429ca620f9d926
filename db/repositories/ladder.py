"""Bulk reads for the tier ladder: every member's numbers over every tier window at once.

A daily sweep of 100,000 members must not run a query per member, so each read here is one
``GROUP BY`` over the guild with a column per window (the widest window bounds the scan).
Given ``user_ids``, the same queries use the per-member indexes instead, so evaluating one
member after a contribution costs the same in a small guild and a huge one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    distinct,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import ActivityDay, Contribution, Member, Nomination, TierChange, TierState
from db.upsert import insert_for

#: Members per ``IN (...)`` list: SQLite caps the bound parameters of one statement.
CHUNK = 500
#: SQLite's julianday() of 1970-01-01.
_JULIAN_EPOCH = 2440587.5


@dataclass(frozen=True)
class WindowTotals:
    """A member's points and per-kind counts in one window (reversals already netted)."""

    points: int
    counts: dict[str, int]


@dataclass(frozen=True)
class Totals:
    """Every member's numbers in every window, one flat row per member.

    A row holds, for each window in order, the points and then one count per kind: a sweep
    builds 100,000 of these, so they are plain lists, not objects.
    """

    windows: tuple[int, ...]
    kinds: tuple[str, ...]
    rows: dict[int, list[int]] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return 1 + len(self.kinds)

    def points(self, user_id: int, window: int) -> int:
        row = self.rows.get(user_id)
        return row[self.windows.index(window) * self.width] if row is not None else 0

    def counts(self, user_id: int, window: int) -> dict[str, int]:
        row = self.rows.get(user_id)
        if row is None:
            return {}
        start = self.windows.index(window) * self.width + 1
        return {kind: n for kind, n in zip(self.kinds, row[start:], strict=False) if n}

    def of(self, user_id: int) -> dict[int, WindowTotals]:
        """One member's totals per window (empty when they have no contributions)."""
        if user_id not in self.rows:
            return {}
        return {
            w: WindowTotals(self.points(user_id, w), self.counts(user_id, w)) for w in self.windows
        }

    def add(self, rows: Any, *, reversal: bool = False) -> None:
        """Add query rows ``(user_id, *columns)``; a reversal's counts are taken away."""
        width = self.width
        for user_id, *values in rows:
            row = self.rows.get(user_id)
            if row is None and not reversal:
                # A sweep's credits: one row per member, taken as they come (most of a
                # sweep's Python time was this loop).
                self.rows[user_id] = [int(value or 0) for value in values]
                continue
            if row is None:
                row = self.rows[user_id] = [0] * len(values)
            for i, value in enumerate(values):
                if value:
                    row[i] += -int(value) if reversal and i % width else int(value)


@dataclass(frozen=True)
class TierMove:
    """An automatic or moderator change of a member's tier, with its audit reason."""

    user_id: int
    from_tier: str | None
    to_tier: str | None
    reason: str


@dataclass(frozen=True)
class GraceClock:
    """Where a member's grace period stands; ``notified_at`` when the at-risk notice went out."""

    user_id: int
    below_since: datetime | None
    notified_at: datetime | None = None


@dataclass(frozen=True)
class PresentMember:
    user_id: int
    joined_at: datetime | None
    recognition_opt_out: bool


@dataclass(frozen=True)
class StateRow:
    """A member's ``tier_states`` row as planning reads it, compared whole before a write."""

    tier_key: str | None
    tier_since: datetime | None
    pinned: bool
    leave_until: datetime | None
    below_since: datetime | None
    at_risk_notified_at: datetime | None
    updated_at: datetime


def window_columns(
    windows: Sequence[int],
    kinds: Sequence[str],
    since: Mapping[int, Any],
    time: Any,
    points: Any,
    original_points: Any,
    *,
    counted: Mapping[int, Collection[str]] | None = None,
    total: bool = True,
) -> list[Any]:
    """Per window: the points since its start, then a count per kind (a ``Totals`` row).

    ``time`` and ``original_points`` are the original credit's (a reversal counts in the
    window its original falls in); a contribution counts once if its points are positive.
    Summed, or (``total=False``) one contribution's share, for rows Totals adds up.
    ``counted`` names, per window, the kinds some tier counts there: the other places of the
    row are a constant 0 (nothing reads them), sparing a sum over every ledger row each.

    Every caller's ``WHERE`` keeps only rows whose ``time`` is inside the widest window, so
    its columns ask nothing of the time (a fifth of the ``GROUP BY``'s cost on SQLite).
    """

    def summed(value: Any) -> Any:
        return func.sum(value) if total else value

    widest = max(windows, default=0)
    out: list[Any] = []
    for window in windows:
        inside = [] if window == widest else [time >= since[window]]
        out.append(summed(case((and_(*inside), points), else_=0) if inside else points))
        for kind in kinds:
            if counted is not None and kind not in counted.get(window, ()):
                out.append(literal_column("0").label(None))
                continue
            counts = and_(*inside, Contribution.kind == written(kind), original_points > 0)
            out.append(summed(case((counts, 1), else_=0)))
    return out


def counted_kinds(counted: Mapping[int, Collection[str]]) -> tuple[str, ...]:
    """The kinds counted in any window, in the order of a ``Totals`` row."""
    return tuple(sorted({kind for kinds in counted.values() for kind in kinds}))


def written(value: str) -> Any:
    """A constant string written into the SQL rather than bound: compared with a bound
    parameter on every row, ``kind = ?`` made SQLite's one-member read nine times slower
    (0.70 ms against 0.08 ms in ``sqlite3``). Only for names from the configuration.

    Quoted once, here, by SQLAlchemy's own literal rendering: a ``literal_execute`` parameter
    is rendered anew at every execution (a sixth of a one-member read's time)."""
    return literal_column(_QUOTE(value))


#: SQL's quoting of a string constant (quotes doubled), the same on SQLite and PostgreSQL.
_QUOTE: Any = String().literal_processor(DefaultDialect())  # type: ignore[no-untyped-call]


def giver_columns(since: Mapping[int, Any]) -> list[Any]:
    """Per window (in order): different members who gave a credit since its start."""
    c = Contribution
    return [
        func.count(distinct(case((c.occurred_at >= since[window], c.actor_id))))
        for window in sorted(since)
    ]


def week_number(dialect: str) -> Any:
    """Monday-based week number of ``activity_days.day`` (weeks since 1969-12-29)."""
    day = ActivityDay.day
    days: Any
    if dialect == "sqlite":
        days = cast(func.julianday(day) - literal(_JULIAN_EPOCH), Integer)
    else:
        days = day - cast(literal(date(1970, 1, 1)), Date)
    # 1970-01-01 was a Thursday: three days after the Monday that starts week 0.
    return (days + 3) // 7


def week_columns(windows: Sequence[int], first_days: Mapping[int, Any], week: Any) -> list[Any]:
    """Per window: distinct weeks with an active day on or after its first day."""
    day = ActivityDay.day
    return [func.count(distinct(case((day >= first_days[w], week)))) for w in windows]


def _chunks(ids: Collection[int] | None) -> Iterator[list[int] | None]:
    """``None`` once (the whole guild), or the ids in statement-sized lists."""
    if ids is None:
        yield None
        return
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


class LadderRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    # ------------------------------------------------------------------ members
    async def present_members(self, user_ids: Collection[int] | None) -> dict[int, PresentMember]:
        """Members who are here and are not bots (all of them when ``user_ids`` is None)."""
        found: dict[int, PresentMember] = {}
        for ids in _chunks(user_ids):
            stmt = select(Member.user_id, Member.joined_at, Member.recognition_opt_out).where(
                Member.guild_id == self.guild_id,
                Member.left_at.is_(None),
                Member.is_bot.is_(False),
            )
            if ids is not None:
                stmt = stmt.where(Member.user_id.in_(ids))
            for user_id, joined_at, opt_out in await self.session.execute(stmt):
                found[user_id] = PresentMember(user_id, joined_at, bool(opt_out))
        return found

    # ------------------------------------------------------------------ ledger
    async def window_totals(
        self,
        since: Mapping[int, datetime],
        kinds: Mapping[int, Collection[str]],
        user_ids: Collection[int] | None,
    ) -> Totals:
        """Points and counts of contributions since each window's start (``{days: start}``).

        Points count every kind; counts only the ``kinds`` asked for in each window
        (``{days: kinds}``); see :func:`window_columns`. A contribution counts
        once if its points are positive; a reversal cancels its original in the window the
        original falls in, so an old credit reversed today does not dent this month's numbers.
        One row per member: grouping by member alone keeps the sort small.
        """
        windows = tuple(sorted(since))
        totals = Totals(windows, counted_kinds(kinds))
        if not since:
            return totals
        earliest = min(since.values())

        def columns(time: Any, points: Any, original_points: Any) -> list[Any]:
            return window_columns(
                windows, totals.kinds, since, time, points, original_points, counted=kinds
            )

        c = Contribution
        original = aliased(Contribution)
        for ids in _chunks(user_ids):
            credits = (
                select(c.user_id, *columns(c.occurred_at, c.points, c.points))
                .where(c.guild_id == self.guild_id, c.occurred_at >= earliest)
                .where(c.reverses_id.is_(None))
                .group_by(c.user_id)
            )
            if ids is not None:
                credits = credits.where(c.user_id.in_(ids))
            totals.add(await self.session.execute(credits))

            if ids is None:
                totals.add(await self.reversals(since, kinds), reversal=True)
                continue
            # A reversal comes after its original: with this bound one member's reversals
            # are found through the member's own index, not among the guild's.
            reversals = (
                select(c.user_id, *columns(original.occurred_at, c.points, original.points))
                .where(c.user_id.in_(ids), c.occurred_at >= earliest)
                .where(c.reverses_id.is_not(None))
                .group_by(c.user_id)
                .join(original, original.id == c.reverses_id)
                .where(c.guild_id == self.guild_id, original.occurred_at >= earliest)
            )
            totals.add(await self.session.execute(reversals), reversal=True)
        return totals

    async def totals_reaching(
        self,
        since: Mapping[int, datetime],
        kinds: Mapping[int, Collection[str]],
        minimums: Sequence[Sequence[tuple[int, int]]],
        users: tuple[int | None, int | None] = (None, None),
    ) -> Totals:
        """The guild's members whose credits alone meet some tier's contribution minimums.

        ``minimums`` has one entry per tier: ``(position in a totals row, required)`` pairs,
        every entry non-empty. Only members meeting one entry in full come back, so a sweep
        of 100,000 members hands Python the few thousand who could move, not everyone: their
        credits alone, before reversals (:meth:`reversals`). ``users`` bounds the member ids
        read, ``[low, high)``, so that parts of the guild can be read side by side.
        """
        windows = tuple(sorted(since))
        totals = Totals(windows, counted_kinds(kinds))
        if not since:
            return totals
        earliest = min(since.values())
        c = Contribution
        columns = window_columns(
            windows, totals.kinds, since, c.occurred_at, c.points, c.points, counted=kinds
        )
        low, high = users
        grouped = (
            select(c.user_id, *[column.label(f"n{i}") for i, column in enumerate(columns)])
            .where(c.guild_id == self.guild_id, c.occurred_at >= earliest)
            .where(c.reverses_id.is_(None))
            .where(*([c.user_id >= low] if low is not None else []))
            .where(*([c.user_id < high] if high is not None else []))
            .group_by(c.user_id)
            .subquery("grouped")
        )
        # Filtered outside the GROUP BY rather than by HAVING: a HAVING repeating the sums
        # with their own parameters made SQLite compute every sum twice.
        n = list(grouped.c)[1:]
        meets = or_(*[and_(*[n[i] >= required for i, required in tier]) for tier in minimums])
        totals.add(await self.session.execute(select(*grouped.c).where(meets)))
        return totals

    async def reversals(
        self, since: Mapping[int, datetime], kinds: Mapping[int, Collection[str]]
    ) -> list[Any]:
        """The guild's reversals of credits inside the windows, one ``Totals`` row each (to
        add with ``reversal=True``): few, read apart from the credits' ``GROUP BY``. Grouped
        by member, SQLite would walk the whole ledger through the covering member index for
        its order; "> 0" rather than "IS NOT NULL" is a range on the reversal index."""
        if not since:
            return []
        windows = tuple(sorted(since))
        earliest = min(since.values())
        c = Contribution
        original = aliased(Contribution)
        each = window_columns(
            windows, counted_kinds(kinds), since, original.occurred_at, c.points,
            original.points, counted=kinds, total=False,
        )  # fmt: skip
        stmt = (
            select(c.user_id, *each)
            .where(c.reverses_id > 0)
            .join(original, original.id == c.reverses_id)
            .where(c.guild_id == self.guild_id, original.occurred_at >= earliest)
        )
        return list((await self.session.execute(stmt)).all())

    async def member_splits(self, parts: int) -> list[int]:
        """Member ids that cut the guild's members into ``parts`` parts of about equal size."""
        total = await self.session.scalar(
            select(func.count()).where(Member.guild_id == self.guild_id)
        )
        step = (total or 0) // parts
        splits = []
        for index in range(1, parts if step else 1):
            stmt = (
                select(Member.user_id)
                .where(Member.guild_id == self.guild_id)
                .order_by(Member.user_id)
                .offset(index * step)
                .limit(1)
            )
            splits.append(int((await self.session.execute(stmt)).scalar_one()))
        return splits

    async def count_present(self) -> int:
        """How many members are here and are not bots."""
        stmt = select(func.count()).where(
            Member.guild_id == self.guild_id,
            Member.left_at.is_(None),
            Member.is_bot.is_(False),
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def distinct_givers(
        self,
        since: Mapping[int, datetime],
        kinds: Collection[str],
        user_ids: Collection[int] | None,
    ) -> dict[int, dict[int, int]]:
        """``{user_id: {window_days: members}}``: how many different members gave the member
        a credit of ``kinds`` (peer credits) since each window's start.

        Credits that counted (positive points), not reversed, from someone else: a capped
        credit (0 points) or a cancelled one names no giver. Former members (ids <= 0) are
        not counted: nobody can tell them apart.
        """
        if not since or not kinds:
            return {}
        windows = sorted(since)
        c = Contribution
        reversal = aliased(Contribution)
        columns = giver_columns(since)
        reversed_ = (
            select(reversal.id)
            .where(reversal.guild_id == c.guild_id, reversal.reverses_id == c.id)
            .exists()
        )
        result: dict[int, dict[int, int]] = {}
        for ids in _chunks(user_ids):
            stmt = (
                select(c.user_id, *columns)
                .where(
                    c.guild_id == self.guild_id,
                    c.occurred_at >= min(since.values()),
                    c.kind.in_(sorted(kinds)),
                    c.points > 0,
                    c.reverses_id.is_(None),
                    c.actor_id > 0,
                    c.actor_id != c.user_id,
                    ~reversed_,
                )
                .group_by(c.user_id)
            )
            if ids is not None:
                stmt = stmt.where(c.user_id.in_(ids))
            for user_id, *counts in await self.session.execute(stmt):
                result[user_id] = {w: int(n) for w, n in zip(windows, counts, strict=True)}
        return result

    # ------------------------------------------------------------------ activity
    async def active_weeks(
        self, since: Mapping[int, date], user_ids: Collection[int] | None
    ) -> dict[int, dict[int, int]]:
        """``{user_id: {window_days: weeks}}``: distinct weeks with an active day in the window."""
        if not since:
            return {}
        windows = sorted(since)
        a = ActivityDay
        columns = week_columns(windows, since, week_number(self.session.get_bind().dialect.name))
        result: dict[int, dict[int, int]] = {}
        for ids in _chunks(user_ids):
            stmt = (
                select(a.user_id, *columns)
                .where(a.guild_id == self.guild_id, a.day >= min(since.values()), a.messages > 0)
                .group_by(a.user_id)
            )
            if ids is not None:
                stmt = stmt.where(a.user_id.in_(ids))
            for user_id, *weeks in await self.session.execute(stmt):
                result[user_id] = {window: int(n) for window, n in zip(windows, weeks, strict=True)}
        return result

    # ------------------------------------------------------------------ tiers
    async def states(
        self, user_ids: Collection[int] | None, *, lock: bool = False
    ) -> dict[int, StateRow]:
        """Members' ``tier_states`` as plain rows (a sweep reads every holder's).

        ``lock`` holds the rows until the transaction ends (PostgreSQL; a SQLite writer holds
        the whole database), so a decision checked against them is written before anyone else
        can change them.
        """
        found: dict[int, StateRow] = {}
        t = TierState
        columns = (t.tier_key, t.tier_since, t.pinned, t.leave_until, t.below_since)
        for ids in _chunks(user_ids):
            stmt = select(t.user_id, *columns, t.at_risk_notified_at, t.updated_at).where(
                t.guild_id == self.guild_id
            )
            if ids is not None:
                stmt = stmt.where(t.user_id.in_(ids))
            if lock:
                stmt = stmt.with_for_update()
            result = await self.session.execute(stmt)
            for uid, key, since, pinned, leave, below, notified, at in result:
                found[uid] = StateRow(key, since, pinned, leave, below, notified, at)
        return found

    async def move_tiers(
        self, moves: Sequence[TierMove], *, actor_id: int | None, now: datetime
    ) -> None:
        """Put members on their new tiers and write the audit rows, in two batched statements.

        Like ``TierRepository.change``: a new tier starts now, with a fresh grace clock; a pin
        or a leave of absence stays as it was.
        """
        if not moves:
            return
        states = [
            {
                "guild_id": self.guild_id,
                "user_id": move.user_id,
                "tier_key": move.to_tier,
                "tier_since": now if move.to_tier is not None else None,
                "pinned": False,
                "below_since": None,
                "at_risk_notified_at": None,
                "updated_at": now,
            }
            for move in moves
        ]
        upsert = insert_for(self.session, TierState)
        upsert = upsert.on_conflict_do_update(
            index_elements=["guild_id", "user_id"],
            set_={
                key: upsert.excluded[key]
                for key in ("tier_key", "tier_since", "below_since", "at_risk_notified_at")
            }
            | {"updated_at": upsert.excluded.updated_at},
        )
        audit = [
            {
                "guild_id": self.guild_id,
                "user_id": move.user_id,
                "from_tier": move.from_tier,
                "to_tier": move.to_tier,
                "reason": move.reason,
                "actor_id": actor_id,
                "created_at": now,
            }
            for move in moves
        ]
        for start in range(0, len(moves), CHUNK):
            await self.session.execute(upsert, states[start : start + CHUNK])
            await self.session.execute(insert(TierChange), audit[start : start + CHUNK])

    async def set_grace_clocks(self, clocks: Sequence[GraceClock], *, now: datetime) -> None:
        """Store members' ``below_since`` (and the at-risk notice time, when one was sent)."""
        plain = [c for c in clocks if c.notified_at is None]
        noticed = [c for c in clocks if c.notified_at is not None]
        table = TierState.__table__
        assert isinstance(table, Table)
        where = and_(table.c.guild_id == self.guild_id, table.c.user_id == bindparam("member"))
        if plain:
            await self.session.execute(
                update(table).where(where).values(below_since=bindparam("below"), updated_at=now),
                [{"member": c.user_id, "below": c.below_since} for c in plain],
            )
        if noticed:
            await self.session.execute(
                update(table)
                .where(where)
                .values(
                    below_since=bindparam("below"),
                    at_risk_notified_at=bindparam("noticed"),
                    updated_at=now,
                ),
                [
                    {"member": c.user_id, "below": c.below_since, "noticed": c.notified_at}
                    for c in noticed
                ],
            )

    async def tier_keys(self, user_ids: Sequence[int]) -> dict[int, str | None]:
        """The desired tier of members who have a ladder state (others are not in the map)."""
        found: dict[int, str | None] = {}
        for ids in _chunks(user_ids):
            assert ids is not None
            stmt = select(TierState.user_id, TierState.tier_key).where(
                TierState.guild_id == self.guild_id, TierState.user_id.in_(ids)
            )
            found.update({uid: key for uid, key in await self.session.execute(stmt)})
        return found

    async def all_tier_keys(self) -> dict[int, str | None]:
        stmt = select(TierState.user_id, TierState.tier_key).where(
            TierState.guild_id == self.guild_id
        )
        return {uid: key for uid, key in await self.session.execute(stmt)}

    async def seats_taken(self, tier_keys: Collection[str] | None = None) -> dict[str, int]:
        """Members holding each tier (only ``tier_keys``, if given: the seated ones), counting
        only those still in the server."""
        held = (
            TierState.tier_key.in_([written(key) for key in sorted(tier_keys)])
            if tier_keys is not None
            else TierState.tier_key.is_not(None)
        )
        stmt = (
            select(TierState.tier_key, func.count())
            .join(
                Member,
                and_(Member.guild_id == TierState.guild_id, Member.user_id == TierState.user_id),
            )
            .where(TierState.guild_id == self.guild_id, held, Member.left_at.is_(None))
            .group_by(TierState.tier_key)
        )
        return {key: int(n) for key, n in await self.session.execute(stmt) if key is not None}

    # ------------------------------------------------------------------ nominations
    async def approved_nominations(self, user_ids: Collection[int] | None) -> dict[int, set[str]]:
        """Tier keys each member holds an approved nomination for (applied or not)."""
        found: dict[int, set[str]] = {}
        for ids in _chunks(user_ids):
            stmt = select(Nomination.nominee_id, Nomination.tier_key).where(
                Nomination.guild_id == self.guild_id, Nomination.status == "approved"
            )
            if ids is not None:
                stmt = stmt.where(Nomination.nominee_id.in_(ids))
            for user_id, key in await self.session.execute(stmt):
                found.setdefault(user_id, set()).add(key)
        return found

    async def mark_nominations_applied(
        self, user_id: int, tier_keys: Collection[str], *, now: datetime
    ) -> list[int]:
        """Stamp the member's approved, not yet applied nominations for ``tier_keys``."""
        if not tier_keys:
            return []
        rows = list(
            await self.session.scalars(
                select(Nomination).where(
                    Nomination.guild_id == self.guild_id,
                    Nomination.nominee_id == user_id,
                    Nomination.status == "approved",
                    Nomination.applied_at.is_(None),
                    Nomination.tier_key.in_(list(tier_keys)),
                )
            )
        )
        for row in rows:
            row.applied_at = now
        return [row.id for row in rows]
