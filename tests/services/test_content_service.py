"""Review-credited kinds: submitted with evidence, approved once, credited as their own kind,
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings, parse_config
from bot.errors import UserFacingError
from bot.services.content import ContentService
from bot.services.contributions import Contributions
from db.models import Contribution
from db.repositories.recognition import RecognitionRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, MOD = 1001, 1002, 2001
TALK = {
    "key": "talk",
    "label": "Talks given",
    "noun": "talk",
    "plural": "talks",
    "points": 15,
    "credited": "review",
}
CASE_STUDY = {
    "key": "case_study",
    "label": "Case studies",
    "noun": "case study",
    "plural": "case studies",
    "points": 30,
    "credited": "moderators",
}


def settings_for(*kinds: dict[str, Any]) -> Settings:
    config = minimal_config(guild_id=GUILD, kinds=list(kinds))
    return parse_config(config, env={"DISCORD_TOKEN": "x"}).settings


def service(sessions: Any, clock: Any, settings: Settings) -> ContentService:
    return ContentService(sessions, settings, clock, Contributions(settings, clock))


async def ledger(sessions: Any) -> list[tuple[int, str, int, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(Contribution))
        return sorted((r.user_id, r.kind, r.points, r.source_id) for r in rows)


async def test_a_submission_credits_its_kind_once_on_approval(sessions, clock) -> None:
    content = service(sessions, clock, settings_for(TALK, CASE_STUDY))
    assert [row.key for row in content.reviewed_kinds()] == ["talk"]
    sent = await content.submit(
        author_id=ADA, kind="talk", evidence="https://Example.com/talk?utm_source=x", note=None
    )
    sub = sent.submission
    assert not sent.duplicate
    assert (sub.credit_kind, sub.kind, sub.title, sub.url) == (
        "talk",
        "other",
        "Talks given",
        "https://example.com/talk",
    )
    decided = await content.approve(sub.id, MOD)
    assert decided.decided_now and decided.points == 15
    again = await content.approve(sub.id, MOD)
    assert not again.decided_now
    assert await ledger(sessions) == [(ADA, "talk", 15, f"content:{sub.id}")]
    async with sessions() as session:
        [link] = await RecognitionRepository(session, GUILD).approved_content(
            sub.submitted_at, clock.now() + timedelta(days=1)
        )
    assert link[2:4] == ("other", "talk")


async def test_the_same_link_is_one_submission_whether_shared_or_submitted(sessions, clock) -> None:
    content = service(sessions, clock, settings_for(TALK))
    shared = await content.share(
        author_id=ADA, url="https://example.com/slides", title="Slides", kind="talk"
    )
    sent = await content.submit(author_id=GRACE, kind="talk", evidence="http://example.com/slides/")
    assert sent.duplicate and sent.submission.id == shared.submission.id
    assert sent.submission.credit_kind == "content"


@pytest.mark.parametrize(
    ("kinds", "kind", "message"),
    [
        ((TALK, CASE_STUDY), "case_study", "'case_study' is not a kind you can submit here. "
         "Pick one of: Talks given."),
        ((TALK,), "content", "'content' is not a kind you can submit here."),
        ((), "talk", "This server has no kinds to submit yet"),
    ],
)  # fmt: skip
async def test_only_review_credited_kinds_are_submitted(
    sessions, clock, kinds: tuple[dict[str, Any], ...], kind: str, message: str
) -> None:
    content = service(sessions, clock, settings_for(*kinds))
    with pytest.raises(UserFacingError, match=re.escape(message)):
        await content.submit(author_id=ADA, kind=kind, evidence="https://example.com/x")
    assert await ledger(sessions) == []


async def test_a_note_is_one_line_and_the_evidence_a_link(sessions, clock) -> None:
    content = service(sessions, clock, settings_for(TALK))
    with pytest.raises(UserFacingError, match=r"The note must fit on one line\."):
        await content.submit(
            author_id=ADA, kind="talk", evidence="https://example.com/a", note="two\nlines"
        )
    with pytest.raises(UserFacingError, match="doesn't look like a link"):
        await content.submit(author_id=ADA, kind="talk", evidence="my talk at the meetup")
    blank = await content.submit(
        author_id=ADA, kind="talk", evidence="https://example.com/b", note="   "
    )
    assert blank.submission.title == "Talks given"


async def test_a_kind_removed_from_the_config_is_not_credited_by_a_late_approval(
    sessions, clock
) -> None:
    sent = await service(sessions, clock, settings_for(TALK)).submit(
        author_id=ADA, kind="talk", evidence="https://example.com/c"
    )
    without = service(sessions, clock, settings_for())
    with pytest.raises(UserFacingError, match="no longer in the config's \\[\\[kinds\\]\\]"):
        await without.approve(sent.submission.id, MOD)
    rejected = await without.reject(sent.submission.id, MOD, "We stopped crediting talks")
    assert rejected.decided_now and rejected.submission.status == "rejected"
    assert await ledger(sessions) == []


async def test_the_review_queue_is_what_waits_oldest_first(sessions, clock) -> None:
    content = service(sessions, clock, settings_for(TALK))
    first = await content.share(author_id=ADA, url="https://a.example/1", title="One", kind="blog")
    clock.advance(60)
    second = await content.share(
        author_id=GRACE, url="https://a.example/2", title="Two", kind="blog"
    )
    clock.advance(60)
    third = await content.submit(
        author_id=ADA, kind="talk", evidence="https://a.example/3", note=None
    )
    await content.approve(second.submission.id, MOD)

    queue = await content.pending()

    assert [s.id for s in queue] == [first.submission.id, third.submission.id]
    assert [s.id for s in await content.pending(limit=1)] == [first.submission.id]
