"""One member's ladder numbers and state in a single statement, built once per tier set.

Evaluating a member after a contribution used to run six or seven queries, each built anew:
building the SQL expressions (a ``CASE`` per window and kind) cost more than running them.
:class:`MemberQuery` builds one ``SELECT`` with bind parameters when the service first needs
it and compiles it once (:class:`~db.driver_statement.DriverStatement`); each evaluation then
binds the member and the window starts and runs it with one call into the driver. The
numbers are the same expressions
:class:`~db.repositories.ladder.LadderRepository`'s bulk reads group by member.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Dialect, and_, bindparam, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from db.driver_statement import DriverStatement
from db.models import ActivityDay, Contribution, Member, Nomination, TierState
from db.repositories.ladder import (
    PresentMember,
    StateRow,
    Totals,
    counted_kinds,
    giver_columns,
    week_columns,
    week_number,
    window_columns,
    written,
)

_STATE = (
    TierState.tier_key,
    TierState.tier_since,
    TierState.pinned,
    TierState.leave_until,
    TierState.below_since,
    TierState.at_risk_notified_at,
    TierState.updated_at,
)


@dataclass(frozen=True)
class MemberRead:
    """Everything one evaluation reads about one present member."""

    member: PresentMember
    state: StateRow | None
    #: Configured tier keys the member holds an approved nomination for.
    nominations: frozenset[str]
    #: ``{window_days: weeks}``, ``{window_days: givers}``.
    weeks: dict[int, int]
    givers: dict[int, int]


@dataclass(frozen=True)
class MemberQuery:
    """The compiled read for one tier set: windows, counted kinds, peer kinds, nominations."""

    windows: tuple[int, ...]
    kinds: tuple[str, ...]
    giver_windows: tuple[int, ...]
    nomination_keys: tuple[str, ...]
    statement: DriverStatement

    @classmethod
    def build(
        cls,
        *,
        dialect: Dialect,
        kinds: Mapping[int, Collection[str]],
        giver_windows: Collection[int] = (),
        peer_kinds: Collection[str] = (),
        nomination_keys: Sequence[str] = (),
    ) -> MemberQuery:
        """``kinds``: per tier window (``{days: kinds}``), the kinds a tier counts there."""
        ordered = tuple(sorted(kinds))
        counted = counted_kinds(kinds)
        asked = tuple(sorted(giver_windows)) if peer_kinds else ()
        guild: Any = bindparam("guild", type_=Member.guild_id.type)
        user: Any = bindparam("user", type_=Member.user_id.type)
        since = {w: bindparam(f"since_{w}", type_=Contribution.occurred_at.type) for w in ordered}
        days = {w: bindparam(f"day_{w}", type_=ActivityDay.day.type) for w in ordered}
        earliest = since[ordered[-1]]
        c, original, a = Contribution, aliased(Contribution), ActivityDay

        # Aggregates without GROUP BY: always exactly one row, so they join on true.
        credits = (
            select(
                func.count(),
                *window_columns(
                    ordered, counted, since, c.occurred_at, c.points, c.points, counted=kinds
                ),
            )
            .where(c.guild_id == guild, c.user_id == user, c.occurred_at >= earliest)
            .where(c.reverses_id.is_(None))
            .subquery("credits")
        )
        reversals = (
            select(
                func.count(),
                *window_columns(
                    ordered,
                    counted,
                    since,
                    original.occurred_at,
                    c.points,
                    original.points,
                    counted=kinds,
                ),
            )
            .join(original, original.id == c.reverses_id)
            .where(c.guild_id == guild, c.user_id == user, c.occurred_at >= earliest)
            .where(c.reverses_id.is_not(None), original.occurred_at >= earliest)
            .subquery("reversals")
        )
        weeks = (
            select(*week_columns(ordered, days, week_number(dialect.name)))
            .where(a.guild_id == guild, a.user_id == user, a.day >= days[ordered[-1]])
            .where(a.messages > 0)
            .subquery("weeks")
        )
        parts = [credits, reversals, weeks]
        if asked:
            peer_since = {w: since[w] for w in asked}
            givers = (
                select(*giver_columns(peer_since))
                .where(c.guild_id == guild, c.user_id == user, c.occurred_at >= since[asked[-1]])
                .where(*_peer_filters(peer_kinds))
                .subquery("givers")
            )
            parts.append(givers)
        if nomination_keys:
            n = Nomination
            held = [
                func.max(case((n.tier_key == written(key), 1), else_=0)) for key in nomination_keys
            ]
            parts.append(
                select(*held)
                .where(n.guild_id == guild, n.nominee_id == user, n.status == written("approved"))
                .subquery("nominated")
            )
        statement = (
            select(
                Member.joined_at,
                Member.recognition_opt_out,
                TierState.user_id,
                *_STATE,
                *[column for part in parts for column in part.c],
            )
            .select_from(Member)
            .outerjoin(
                TierState,
                and_(TierState.guild_id == Member.guild_id, TierState.user_id == Member.user_id),
            )
            .where(Member.guild_id == guild, Member.user_id == user)
            .where(Member.left_at.is_(None), Member.is_bot.is_(False))
        )
        for part in parts:
            statement = statement.join(part, true())
        compiled = DriverStatement.compile(statement, dialect)
        return cls(ordered, counted, asked, tuple(nomination_keys), compiled)

    async def read(
        self,
        connection: AsyncConnection,
        guild_id: int,
        user_id: int,
        *,
        since: Mapping[int, datetime],
        first_days: Mapping[int, date],
        totals: Totals,
    ) -> MemberRead | None:
        """The member's numbers (added to ``totals``) and state; None if not present."""
        params: dict[str, Any] = {"guild": guild_id, "user": user_id}
        params.update({f"since_{w}": since[w] for w in self.windows})
        params.update({f"day_{w}": first_days[w] for w in self.windows})
        # One call into the driver: the hand-offs of a read through SQLAlchemy's adapter cost
        # more than this one-row read.
        row = await self.statement.first(connection, params)
        if row is None:
            return None
        joined_at, opt_out, state_user, *rest = row
        state = StateRow(*rest[: len(_STATE)]) if state_user is not None else None
        rest = rest[len(_STATE) :]
        width = 1 + len(self.windows) * (1 + len(self.kinds))
        credit, reversal = rest[:width], rest[width : 2 * width]
        rest = rest[2 * width :]
        # Grouped by member, a member with no row in the window has no totals at all.
        if credit[0]:
            totals.add([(user_id, *credit[1:])])
        if reversal[0]:
            totals.add([(user_id, *reversal[1:])], reversal=True)
        weeks = {w: int(n or 0) for w, n in zip(self.windows, rest, strict=False)}
        rest = rest[len(self.windows) :]
        givers = {w: int(n or 0) for w, n in zip(self.giver_windows, rest, strict=False)}
        rest = rest[len(self.giver_windows) :]
        nominations = frozenset(
            key for key, held in zip(self.nomination_keys, rest, strict=True) if held
        )
        member = PresentMember(user_id, joined_at, bool(opt_out))
        return MemberRead(member, state, nominations, weeks, givers)


def _peer_filters(kinds: Collection[str]) -> list[Any]:
    """Peer credits that counted and were not reversed, from someone else."""
    c = Contribution
    reversal = aliased(Contribution)
    reversed_ = (
        select(reversal.id)
        .where(reversal.guild_id == c.guild_id, reversal.reverses_id == c.id)
        .exists()
    )
    return [
        c.kind.in_([written(kind) for kind in sorted(kinds)]),
        c.points > 0,
        c.reverses_id.is_(None),
        c.actor_id > 0,
        c.actor_id != c.user_id,
        ~reversed_,
    ]
