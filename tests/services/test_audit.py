"""The audit pages: a member's own ledger, tier changes and moderators' credits, newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.adjustments import MemberRef
from bot.services.audit import PAGE_SIZE
from bot.services.container import build_services
from tests.services.test_ladder_service import ADA, GRACE, make_settings, seed_members

MOD = 9001


@pytest.fixture
def services(sessions, clock):
    return build_services(make_settings(), clock, sessions)


async def credit(services, clock, user_id: int, source: str, points: int = 1) -> None:
    async with services.sessions.begin() as session:
        await services.contributions.record(
            session,
            services.contributions.credit("thanks_received", user_id, source, points=points),
        )
    clock.advance(timedelta(minutes=1))


async def test_a_members_history_is_their_own_ledger_newest_first_in_pages(services, clock):
    for number in range(PAGE_SIZE + 2):
        await credit(services, clock, ADA, f"ada:{number}")
    await credit(services, clock, GRACE, "grace:1")

    first = await services.audit.member_history(ADA)
    second = await services.audit.member_history(ADA, page=1)

    assert len(first.lines) == PAGE_SIZE and first.has_next
    assert {line.user_id for line in first.lines + second.lines} == {ADA}
    assert len(second.lines) == 2 and not second.has_next
    times = [line.occurred_at for line in first.lines + second.lines]
    assert times == sorted(times, reverse=True)


async def test_the_audit_log_has_tier_changes_and_only_moderators_ledger_rows(
    services, sessions, clock
):
    await seed_members(sessions, clock)
    await credit(services, clock, ADA, "automatic")
    entry = await services.adjustments.add(
        actor_id=MOD,
        member=MemberRef(ADA, in_guild=True, is_bot=False),
        kind="thanks_received",
        points=5,
        reason="ran the meetup",
        request_id=1,
    )
    clock.advance(timedelta(minutes=1))
    await services.ladder.set_tier(GRACE, "helper", reason="by hand", actor_id=MOD)

    credits = await services.audit.manual_credits()
    changes = await services.audit.tier_changes()

    assert [(line.id, line.points, line.reason) for line in credits.lines] == [
        (entry.id, 5, "ran the meetup")
    ]
    assert credits.name(MOD) == "9001"  # not a member the store knows: the id is shown
    assert credits.name(ADA) == str(ADA)  # seeded with their id as display name
    newest = changes.lines[0]
    assert (newest.user_id, newest.to_tier, newest.actor_id) == (GRACE, "helper", MOD)
    assert changes.name(None) == "automatic" and changes.name(0) == "a former member"
