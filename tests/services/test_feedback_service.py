"""Feedback decisions credit the author exactly once per stage, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings, parse_config
from bot.core.feedback import Status
from bot.errors import UserFacingError
from bot.services.contributions import Contributions
from bot.services.feedback import FeedbackService
from db.models import Contribution
from db.repositories.privacy import PrivacyRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, STAFF = 1001, 1002, 2001
REQUEST = {
    "title": "Dark mode for the app",
    "problem": "The white screen is too bright at night.",
    "wanted": "A dark theme that follows the system.",
    "area": "general",
}


def settings_for(**feedback: Any) -> Settings:
    config = minimal_config(
        guild_id=GUILD, feedback={"forum_channel": 4242, "planned_points": 3, **feedback}
    )
    return parse_config(config, env={"DISCORD_TOKEN": "x"}).settings


def service(sessions: Any, clock: Any, settings: Settings | None = None) -> FeedbackService:
    settings = settings or settings_for()
    return FeedbackService(sessions, settings, clock, Contributions(settings, clock))


async def credits(sessions: Any) -> list[tuple[int, str, int]]:
    async with sessions() as session:
        rows = await session.scalars(select(Contribution).where(Contribution.kind == "feedback"))
        return sorted((r.user_id, r.source_id, r.points) for r in rows)


async def test_planned_then_shipped_credits_each_stage_once(sessions, clock) -> None:
    feedback = service(sessions, clock)
    item = await feedback.submit(author_id=ADA, **REQUEST)
    assert item.area == "General", "areas are matched whatever their case"
    planned = await feedback.set_status(item.id, Status.PLANNED, "Next month", actor_id=STAFF)
    assert planned.change_id is not None and planned.points == 3
    again = await feedback.set_status(item.id, Status.PLANNED, "Still", actor_id=STAFF)
    assert again.change_id is None and again.points == 0, "already planned: nothing changes"
    progress = await feedback.set_status(item.id, Status.IN_PROGRESS, "Started", actor_id=STAFF)
    assert progress.points == 0, "taken on once"
    shipped = await feedback.set_status(item.id, Status.SHIPPED, "Out now", actor_id=STAFF)
    assert shipped.points == 10
    assert await credits(sessions) == [
        (ADA, f"feedback:{item.id}:planned", 3),
        (ADA, f"feedback:{item.id}:shipped", 10),
    ]
    with pytest.raises(UserFacingError, match="shipped: votes are closed"):
        await feedback.vote(item.id, GRACE)


async def test_shipped_straight_away_credits_both_stages(sessions, clock) -> None:
    feedback = service(sessions, clock)
    item = await feedback.submit(author_id=ADA, **REQUEST)
    shipped = await feedback.set_status(item.id, Status.SHIPPED, "Done already", actor_id=STAFF)
    assert shipped.points == 13


async def test_no_credit_for_staff_deciding_their_own_request_or_for_a_former_member(
    sessions, clock
) -> None:
    feedback = service(sessions, clock)
    own = await feedback.submit(author_id=STAFF, **REQUEST)
    assert (await feedback.set_status(own.id, Status.SHIPPED, "Mine", actor_id=STAFF)).points == 0
    theirs = await feedback.submit(author_id=ADA, **{**REQUEST, "title": "Export to CSV"})
    async with sessions() as session, session.begin():
        await PrivacyRepository(session, GUILD).erase(ADA, now=clock.now())
    done = await feedback.set_status(theirs.id, Status.SHIPPED, "Out", actor_id=STAFF)
    assert done.points == 0 and done.item.author_id <= 0
    assert await credits(sessions) == []


async def test_bad_requests_are_refused_with_what_to_fix(sessions, clock) -> None:
    feedback = service(sessions, clock)
    with pytest.raises(UserFacingError, match="Unknown area 'Billing': pick one of General"):
        await feedback.submit(author_id=ADA, **{**REQUEST, "area": "Billing"})
    with pytest.raises(UserFacingError, match="title must fit on one line"):
        await feedback.submit(author_id=ADA, **{**REQUEST, "title": "Dark\nmode"})
    with pytest.raises(UserFacingError, match="title must be 5 to 100 characters"):
        await feedback.submit(author_id=ADA, **{**REQUEST, "title": "\u200b\u200bDark"})
    item = await feedback.submit(author_id=ADA, **REQUEST)
    with pytest.raises(UserFacingError, match="note must be 3 to 500"):
        await feedback.set_status(item.id, Status.PLANNED, " ", actor_id=STAFF)
    with pytest.raises(UserFacingError, match="no longer exists"):
        await feedback.set_status(item.id + 99, Status.PLANNED, "Yes", actor_id=STAFF)


async def test_similar_open_requests_leave_out_settled_ones(sessions, clock) -> None:
    feedback = service(sessions, clock)
    item = await feedback.submit(author_id=ADA, **REQUEST)
    assert [s.item_id for s in await feedback.similar_open("Dark mode app")] == [item.id]
    await feedback.set_status(item.id, Status.DECLINED, "Not planned", actor_id=STAFF)
    assert await feedback.similar_open("Dark mode app") == []
