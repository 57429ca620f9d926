"""The product feedback loop: requests, votes, staff decisions, the DMs that close the loop.

A request is stored before its forum post is made (the post records its thread on the item);
one that never got its post is posted by the start-up reconciliation, never twice. A staff
decision records the change and credits the author in one transaction; the DMs to the author
and the voters are claimed one by one before they are sent, so a restart finishes a change's
DMs and repeats none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.feedback import (
    CLOSED,
    LIVE,
    Ranked,
    Status,
    Titled,
    similar,
)
from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.member_input import required
from db.models import FeedbackChange, FeedbackItem
from db.repositories.feedback import FeedbackRepository

TITLE_MIN, TITLE_MAX = 5, 100
"""A forum post's title is at most 100 characters on Discord."""
TEXT_MIN, TEXT_MAX = 10, 1000
NOTE_MIN, NOTE_MAX = 3, 500

NO_SUCH_ITEM = "That request no longer exists."
#: How far back a restart looks for status changes whose DMs were not all sent.
RESUME_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Item:
    """A request as the cog renders it."""

    id: int
    author_id: int
    title: str
    problem: str
    wanted: str
    area: str
    status: Status
    created_at: datetime
    thread_id: int | None
    votes: int = 0

    @classmethod
    def of(cls, row: FeedbackItem, votes: int = 0) -> Item:
        return cls(
            id=row.id,
            author_id=row.author_id,
            title=row.title,
            problem=row.problem,
            wanted=row.wanted,
            area=row.area,
            status=Status(row.status),
            created_at=row.created_at,
            thread_id=row.thread_id,
            votes=votes,
        )


@dataclass(frozen=True)
class Similar:
    """An open request whose title reads like a new one's."""

    item_id: int
    title: str
    thread_id: int | None


@dataclass(frozen=True)
class Vote:
    item: Item
    #: True when the member now votes for it, False when the vote was withdrawn.
    voted: bool


@dataclass(frozen=True)
class Change:
    """A staff decision: ``change_id`` is None when the item already had that status."""

    item: Item
    change_id: int | None
    note: str
    actor_id: int
    #: Points credited to the author by this decision (0 when none).
    points: int = 0


class FeedbackService(Service):
    @property
    def enabled(self) -> bool:
        return self.settings.feedback.enabled

    @property
    def areas(self) -> tuple[str, ...]:
        return self.settings.feedback.areas

    def is_product_staff(self, role_ids: Sequence[int]) -> bool:
        """Whether these roles make a member staff here: the product role (moderators are
        checked by the cog, with Manage Server)."""
        product = self.settings.feedback.product_role
        return product is not None and product in role_ids

    # ------------------------------------------------------------------ requests
    def clean_request(
        self, *, title: str, problem: str, wanted: str, area: str
    ) -> tuple[str, str, str, str]:
        """The request's texts as stored, or a UserFacingError saying what to fix."""
        clean_title = required(title, what="title", low=TITLE_MIN, high=TITLE_MAX, one_line=True)
        clean_problem = required(problem, what="problem", low=TEXT_MIN, high=TEXT_MAX)
        clean_wanted = required(wanted, what="'what would help'", low=TEXT_MIN, high=TEXT_MAX)
        known = {a.casefold(): a for a in self.areas}
        chosen = known.get(area.strip().casefold())
        if chosen is None:
            raise UserFacingError(f"Unknown area {area!r}: pick one of {', '.join(self.areas)}.")
        return clean_title, clean_problem, clean_wanted, chosen

    async def similar_open(self, title: str) -> list[Similar]:
        """Requests still wanted whose titles read like ``title``, most alike first."""
        async with self.sessions() as session:
            rows = await FeedbackRepository(session, self.guild_id).titles([s.value for s in LIVE])
        threads = {item_id: thread for item_id, _, thread in rows}
        found = similar(title, [Titled(item_id, text) for item_id, text, _ in rows])
        return [Similar(t.item_id, t.title, threads[t.item_id]) for t in found]

    async def submit(
        self, *, author_id: int, title: str, problem: str, wanted: str, area: str
    ) -> Item:
        """Store a new request (its forum post is made next, see :meth:`posted`)."""
        clean = self.clean_request(title=title, problem=problem, wanted=wanted, area=area)
        async with self.sessions() as session, session.begin():
            row = await FeedbackRepository(session, self.guild_id).create(
                author_id=author_id,
                title=clean[0],
                problem=clean[1],
                wanted=clean[2],
                area=clean[3],
                now=self.clock.now(),
            )
            return Item.of(row)

    async def posted(self, item_id: int, thread_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await FeedbackRepository(session, self.guild_id).set_thread(item_id, thread_id)

    async def unposted(self) -> list[Item]:
        async with self.sessions() as session:
            rows = await FeedbackRepository(session, self.guild_id).unposted()
            return [Item.of(row) for row in rows]

    async def get(self, item_id: int) -> Item:
        async with self.sessions() as session:
            repo = FeedbackRepository(session, self.guild_id)
            row = await repo.get(item_id)
            if row is None:
                raise UserFacingError(NO_SUCH_ITEM)
            return Item.of(row, await repo.votes(item_id))

    async def by_thread(self, thread_id: int) -> Item | None:
        async with self.sessions() as session:
            repo = FeedbackRepository(session, self.guild_id)
            row = await repo.by_thread(thread_id)
            return None if row is None else Item.of(row, await repo.votes(row.id))

    # ------------------------------------------------------------------ votes
    async def vote(self, item_id: int, user_id: int) -> Vote:
        """Vote for a request, or withdraw the vote (one per member); closed once settled."""
        async with self.sessions() as session, session.begin():
            repo = FeedbackRepository(session, self.guild_id)
            row = await repo.get(item_id)
            if row is None:
                raise UserFacingError(NO_SUCH_ITEM)
            status = Status(row.status)
            if status in CLOSED:
                raise UserFacingError(f"This request is {status.tag.lower()}: votes are closed.")
            voted = await repo.toggle_vote(item_id, user_id, now=self.clock.now())
            return Vote(Item.of(row, await repo.votes(item_id)), voted)

    async def top(
        self, *, area: str | None = None, status: Status | None = None, limit: int = 10
    ) -> list[Ranked]:
        """The most wanted requests: still wanted ones unless ``status`` is asked for."""
        statuses = [status.value] if status is not None else [s.value for s in LIVE]
        async with self.sessions() as session:
            rows = await FeedbackRepository(session, self.guild_id).top(
                statuses, area=area, limit=limit
            )
        return [
            Ranked(
                row.id,
                row.title,
                Status(row.status),
                row.area,
                votes,
                row.created_at,
                row.thread_id,
            )
            for row, votes in rows
        ]

    # ------------------------------------------------------------------ decisions
    async def set_status(self, item_id: int, status: Status, note: str, *, actor_id: int) -> Change:
        """Record a staff decision and credit the author, in one transaction, exactly once.

        Taking a request on (Planned, In progress) credits ``[feedback] planned_points`` once;
        shipping it credits ``[points] feedback`` (and the planned credit if it skipped that).
        Staff deciding on their own request earn nothing by it.
        """
        clean_note = required(note, what="note", low=NOTE_MIN, high=NOTE_MAX)
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = FeedbackRepository(session, self.guild_id)
            row = await repo.get(item_id)
            if row is None:
                raise UserFacingError(NO_SUCH_ITEM)
            change = await repo.set_status(
                row, status=status.value, note=clean_note, actor_id=actor_id, now=now
            )
            if change is None:
                current = await repo.get(item_id)
                assert current is not None
                return Change(
                    Item.of(current, await repo.votes(item_id)), None, clean_note, actor_id
                )
            points = await self._credit(session, row, status, actor_id, now)
            current = await repo.get(item_id)
            assert current is not None
            result = Change(
                Item.of(current, await repo.votes(item_id)), change.id, clean_note, actor_id, points
            )
        if points:
            await self.contributions.changed({result.item.author_id})
        return result

    async def _credit(
        self, session: AsyncSession, row: FeedbackItem, status: Status, actor_id: int, now: datetime
    ) -> int:
        if row.author_id <= 0 or row.author_id == actor_id:
            return 0
        wanted: list[tuple[str, int]] = []
        if status in (Status.PLANNED, Status.IN_PROGRESS, Status.SHIPPED):
            wanted.append(("planned", self.settings.feedback.planned_points))
        if status is Status.SHIPPED:
            wanted.append(("shipped", self.settings.points_for("feedback")))
        points = 0
        for stage, worth in wanted:
            if worth <= 0:
                continue
            credit = self.contributions.credit(
                "feedback",
                row.author_id,
                f"feedback:{row.id}:{stage}",
                occurred_at=now,
                actor_id=actor_id,
                reason=f"request '{row.title}' {stage}",
                points=worth,
            )
            recorded = await self.contributions.record(session, credit)
            points += recorded.points if recorded is not None else 0
        return points

    # ------------------------------------------------------------------ closing the loop
    async def to_tell(self, change_id: int) -> tuple[Item, FeedbackChange, list[int]] | None:
        """The change and who is still to be told of it (author first); None if it is gone."""
        async with self.sessions() as session:
            repo = FeedbackRepository(session, self.guild_id)
            change = await repo.change(change_id)
            row = None if change is None else await repo.get(change.item_id)
            if change is None or row is None:
                return None
            people = await repo.to_tell(row, change_id)
            return Item.of(row, await repo.votes(row.id)), change, people

    async def claim_notice(self, change_id: int, user_id: int) -> bool:
        async with self.sessions() as session, session.begin():
            return await FeedbackRepository(session, self.guild_id).claim_notice(
                change_id, user_id, now=self.clock.now()
            )

    async def record_notice(self, change_id: int, user_id: int, *, ok: bool) -> None:
        async with self.sessions() as session, session.begin():
            await FeedbackRepository(session, self.guild_id).record_notice(
                change_id, user_id, ok=ok, now=self.clock.now()
            )

    async def notice_counts(self, change_id: int) -> tuple[int, int]:
        async with self.sessions() as session:
            return await FeedbackRepository(session, self.guild_id).notice_counts(change_id)

    async def recent_changes(self) -> list[int]:
        """Ids of the changes of the last week, oldest first (a restart finishes their DMs)."""
        async with self.sessions() as session:
            rows = await FeedbackRepository(session, self.guild_id).changes_since(
                self.clock.now() - RESUME_WINDOW
            )
            return [row.id for row in rows]

    # ------------------------------------------------------------------ reports
    async def shipped_between(self, start: datetime, end: datetime) -> list[Item]:
        """Requests shipped in ``[start, end)``: the newsletter's "You asked, we shipped"."""
        async with self.sessions() as session:
            rows = await FeedbackRepository(session, self.guild_id).shipped_between(start, end)
            return [Item.of(row) for row in rows]
