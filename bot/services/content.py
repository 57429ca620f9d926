"""Content sharing and review-credited kinds: members send links, moderators approve
(points) or reject (a reason).

/share credits ``content``; /contribution submit credits a kind the server defines with
``credited = "review"`` (a talk, a case study…), with the link as its evidence. Both are one
table and one review card. The rules live here, without discord: a link is validated and
normalised so two spellings of one page are one submission (whichever command sent it), a
submission is decided exactly once, and approval credits the author in the same transaction
that records the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.kinds import Kind
from bot.core.links import LinkError, normalize_url
from bot.errors import UserFacingError
from bot.services.base import Service
from bot.services.member_input import required
from db.models import CONTENT_KINDS, ContentSubmission
from db.repositories.content import ContentRepository

TITLE_MIN, TITLE_MAX = 3, 200
#: What /share credits.
KIND_CONTENT = "content"
REASON_MIN, REASON_MAX = 1, 500

NO_SUCH_SUBMISSION = "That submission no longer exists."
OWN_SUBMISSION = "You can't decide on your own submission; another moderator will."


@dataclass(frozen=True)
class Submission:
    """A content submission as the cog renders it."""

    id: int
    author_id: int
    url: str
    title: str
    kind: str
    #: The contribution kind an approval credits (``content`` for /share).
    credit_kind: str
    status: str
    submitted_at: datetime
    review_channel_id: int | None
    review_message_id: int | None
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str | None
    contribution_id: int | None

    @classmethod
    def of(cls, row: ContentSubmission) -> Submission:
        return cls(
            id=row.id,
            author_id=row.author_id,
            url=row.url,
            title=row.title,
            kind=row.kind,
            credit_kind=row.credit_kind,
            status=row.status,
            submitted_at=row.submitted_at,
            review_channel_id=row.review_channel_id,
            review_message_id=row.review_message_id,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            decision_reason=row.decision_reason,
            contribution_id=row.contribution_id,
        )


@dataclass(frozen=True)
class ShareResult:
    """``duplicate``: the link was shared before, and ``submission`` is that earlier one."""

    submission: Submission
    duplicate: bool


@dataclass(frozen=True)
class Decision:
    """``decided_now`` is False when someone had already decided: ``submission`` says who."""

    submission: Submission
    decided_now: bool
    points: int = 0


def clean_title(raw: str) -> str:
    return required(raw, what="title", low=TITLE_MIN, high=TITLE_MAX, one_line=True)


def clean_note(raw: str | None) -> str | None:
    """An optional one-line note; blank is none."""
    if raw is None or not raw.strip():
        return None
    return required(raw, what="note", low=TITLE_MIN, high=TITLE_MAX, one_line=True)


def clean_reason(raw: str) -> str:
    return required(raw, what="reason", low=REASON_MIN, high=REASON_MAX)


class ContentService(Service):
    async def share(self, *, author_id: int, url: str, title: str, kind: str) -> ShareResult:
        """Store a pending submission, or return the earlier one for a link already shared."""
        try:
            normalized = normalize_url(url)
        except LinkError as exc:
            raise UserFacingError(str(exc)) from None
        clean = clean_title(title)
        if kind not in CONTENT_KINDS:
            raise UserFacingError(f"Unknown kind {kind!r}: pick one of {', '.join(CONTENT_KINDS)}.")
        return await self._create(author_id, normalized, clean, kind, KIND_CONTENT)

    def reviewed_kinds(self) -> tuple[Kind, ...]:
        """The server's kinds members submit with /contribution submit (``[[kinds]]``)."""
        return self.settings.kinds.credited_by("review")

    async def submit(
        self, *, author_id: int, kind: str, evidence: str, note: str | None = None
    ) -> ShareResult:
        """Store evidence of a review-credited contribution, or return the earlier submission
        of the same link (a link is credited once, whether it came by /share or here)."""
        row = self.settings.kinds.find(kind)
        if row is None or row.credit != "review":
            raise UserFacingError(self._not_submittable(kind))
        try:
            normalized = normalize_url(evidence)
        except LinkError as exc:
            raise UserFacingError(str(exc)) from None
        title = clean_note(note) or row.label
        return await self._create(author_id, normalized, title, "other", row.key)

    def _not_submittable(self, kind: str) -> str:
        reviewed = self.reviewed_kinds()
        if not reviewed:
            return (
                "This server has no kinds to submit yet: an administrator adds them in the "
                'config, as [[kinds]] with credited = "review".'
            )
        names = ", ".join(row.label for row in reviewed)
        return f"{kind[:50]!r} is not a kind you can submit here. Pick one of: {names}."

    async def _create(
        self, author_id: int, url: str, title: str, kind: str, credit_kind: str
    ) -> ShareResult:
        async with self.sessions() as session, session.begin():
            repo = ContentRepository(session, self.guild_id)
            row = await repo.create(
                author_id=author_id,
                url=url,
                title=title,
                kind=kind,
                credit_kind=credit_kind,
                now=self.clock.now(),
            )
            if row is not None:
                return ShareResult(Submission.of(row), duplicate=False)
            existing = await repo.by_url(url)
            assert existing is not None, "the insert conflicted, so the row exists"
            return ShareResult(Submission.of(existing), duplicate=True)

    async def card_posted(self, submission_id: int, channel_id: int, message_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await ContentRepository(session, self.guild_id).set_review_message(
                submission_id, channel_id, message_id
            )

    async def get(self, submission_id: int) -> Submission | None:
        async with self.sessions() as session:
            row = await ContentRepository(session, self.guild_id).get(submission_id)
            return None if row is None else Submission.of(row)

    async def pending(self, limit: int = 100) -> list[Submission]:
        """The review queue: submissions waiting for a decision, oldest first."""
        async with self.sessions() as session:
            rows = await ContentRepository(session, self.guild_id).pending(limit=limit)
            return [Submission.of(row) for row in rows]

    async def pending_without_card(self) -> list[Submission]:
        async with self.sessions() as session:
            rows = await ContentRepository(session, self.guild_id).pending_without_card()
            return [Submission.of(row) for row in rows]

    async def check_decidable(self, submission_id: int, moderator_id: int) -> Decision:
        """Before asking for a rejection reason: is there still something to decide?"""
        async with self.sessions() as session:
            row = await self._decidable(session, submission_id, moderator_id)
            return Decision(Submission.of(row), decided_now=row.status == "pending")

    async def approve(self, submission_id: int, moderator_id: int) -> Decision:
        """Approve and credit the author in one transaction; exactly once."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = ContentRepository(session, self.guild_id)
            row = await self._decidable(session, submission_id, moderator_id)
            if row.status == "pending" and row.credit_kind not in self.settings.kinds:
                raise UserFacingError(
                    f"Submission #{submission_id} credits the kind '{row.credit_kind}', which is "
                    "no longer in the config's [[kinds]]: add it back to approve it, or reject it."
                )
            if not await repo.decide(
                submission_id, status="approved", decided_by=moderator_id, now=now
            ):
                return await self._already_decided(repo, submission_id)
            credit = self.contributions.credit(
                row.credit_kind,
                row.author_id,
                f"content:{submission_id}",
                occurred_at=now,
                actor_id=moderator_id,
            )
            contribution = await self.contributions.record(session, credit)
            if contribution is not None:
                await repo.set_contribution(submission_id, contribution.id)
            decided = await repo.get(submission_id)
            assert decided is not None
            result = Decision(
                Submission.of(decided),
                decided_now=True,
                points=contribution.points if contribution is not None else 0,
            )
        await self.contributions.changed({result.submission.author_id})
        return result

    async def reject(self, submission_id: int, moderator_id: int, reason: str) -> Decision:
        clean = clean_reason(reason)
        async with self.sessions() as session, session.begin():
            repo = ContentRepository(session, self.guild_id)
            await self._decidable(session, submission_id, moderator_id)
            if not await repo.decide(
                submission_id,
                status="rejected",
                decided_by=moderator_id,
                now=self.clock.now(),
                reason=clean,
            ):
                return await self._already_decided(repo, submission_id)
            decided = await repo.get(submission_id)
            assert decided is not None
            return Decision(Submission.of(decided), decided_now=True)

    async def _decidable(
        self, session: AsyncSession, submission_id: int, moderator_id: int
    ) -> ContentSubmission:
        row = await ContentRepository(session, self.guild_id).get(submission_id)
        if row is None:
            raise UserFacingError(NO_SUCH_SUBMISSION)
        if row.status == "pending" and row.author_id == moderator_id:
            raise UserFacingError(OWN_SUBMISSION)
        return row

    @staticmethod
    async def _already_decided(repo: ContentRepository, submission_id: int) -> Decision:
        row = await repo.get(submission_id)
        assert row is not None
        return Decision(Submission.of(row), decided_now=False)
