"""NominationService on a real store (SQLite and PostgreSQL): refusals, decisions, outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from bot.config import Settings, parse_config
from bot.errors import UserFacingError
from bot.services.nominations import NominationService, Nominee
from db.repositories.tiers import TierRepository
from tests.helpers import minimal_config

GUILD = 111111111111111111
ADA, GRACE, MORGAN, RILEY = 1001, 1002, 2001, 2002
TIERS = [
    {"key": "champion", "name": "Champion", "role_id": 601, "min_points": 50},
    {"key": "advisor", "name": "Advisor", "role_id": 602, "nomination_required": True},
]


def settings_with(tiers: list[dict[str, object]]) -> Settings:
    data = minimal_config(guild_id=GUILD, tiers=tiers)
    return parse_config(data, require_token=False).settings


class Recorder:
    """Stands in for the ladder: records re-evaluations, promotes when told to."""

    def __init__(self, sessions, clock, *, promote_to: str | None = None) -> None:
        self.sessions, self.clock, self.promote_to = sessions, clock, promote_to
        self.calls: list[frozenset[int]] = []

    async def reevaluate(self, user_ids: frozenset[int]) -> None:
        self.calls.append(user_ids)
        if self.promote_to is None:
            return
        async with self.sessions() as session, session.begin():
            tiers = TierRepository(session, GUILD)
            for user_id in user_ids:
                state = await tiers.state_for_update(user_id, now=self.clock.now())
                await tiers.change(
                    state, to_tier=self.promote_to, reason="t", actor_id=None, now=self.clock.now()
                )

    async def missing(self, user_id: int, tier_key: str) -> tuple[str, ...]:
        return ("10/50 points ✗",)


def member(user_id: int, name: str = "ada", **kw: bool) -> Nominee:
    return Nominee(
        user_id=user_id,
        name=name,
        is_bot=kw.get("is_bot", False),
        in_guild=kw.get("in_guild", True),
    )


@pytest.fixture
def ladder(sessions, clock) -> Recorder:
    return Recorder(sessions, clock)


@pytest.fixture
def service(sessions, clock, ladder) -> NominationService:
    return NominationService(
        sessions, settings_with(TIERS), clock, reevaluate=ladder.reevaluate, standing=ladder
    )


async def test_nothing_to_nominate_for_without_tiers(sessions, clock, ladder):
    bare = NominationService(sessions, settings_with([]), clock, reevaluate=ladder.reevaluate)
    with pytest.raises(UserFacingError) as refused:
        await bare.nominate(member(ADA), "champion", nominated_by=MORGAN, reason="great")
    assert str(refused.value) == "No tiers are configured, so there is nothing to nominate for."


async def test_one_pending_nomination_per_member_and_tier(service):
    first = await service.nominate(member(ADA), "advisor", nominated_by=MORGAN, reason=" great ")
    assert (first.status, first.reason, first.tier_name) == ("pending", "great", "Advisor")
    with pytest.raises(UserFacingError) as refused:
        await service.nominate(member(ADA), "Advisor", nominated_by=RILEY, reason="again")
    assert str(refused.value) == f"ada already has a pending nomination for Advisor (#{first.id})."
    other = await service.nominate(member(ADA), "champion", nominated_by=RILEY, reason="also")
    assert [n.id for n in await service.listing("pending")] == [other.id, first.id]
    assert [n.id for n in await service.pending_without_card()] == [other.id, first.id]
    await service.card_posted(first.id, 10, 20)
    assert [n.id for n in await service.pending_without_card()] == [other.id]

    # Once decided, the member can be nominated for that tier again.
    await service.reject(first.id, RILEY, "not yet")
    again = await service.nominate(member(ADA), "advisor", nominated_by=MORGAN, reason="now")
    assert again.id != first.id


async def test_concurrent_approvals_decide_once(service, sessions, clock, ladder):
    nomination = await service.nominate(member(ADA), "advisor", nominated_by=MORGAN, reason="x")
    # A second instance (another cog reload) shares the store and so the decision lock.
    twin = NominationService(
        sessions, service.settings, clock, reevaluate=ladder.reevaluate, standing=ladder
    )
    results = await asyncio.gather(
        service.approve(nomination.id, MORGAN), twin.approve(nomination.id, RILEY)
    )
    assert sorted(r.decided_now for r in results) == [False, True]
    assert ladder.calls == [frozenset({ADA})]
    [winner] = [r for r in results if r.decided_now]
    assert winner.outcome == "waiting" and winner.missing == ("10/50 points ✗",)


async def test_approval_reports_a_promotion(sessions, clock):
    ladder = Recorder(sessions, clock, promote_to="advisor")
    service = NominationService(
        sessions, settings_with(TIERS), clock, reevaluate=ladder.reevaluate, standing=ladder
    )
    nomination = await service.nominate(member(ADA), "advisor", nominated_by=MORGAN, reason="x")
    decided = await service.approve(nomination.id, RILEY)
    assert (decided.outcome, decided.missing) == ("promoted", ())
    assert decided.nomination.decided_by == RILEY


async def refusal(work: Awaitable[object]) -> str:
    with pytest.raises(UserFacingError) as refused:
        await work
    return str(refused.value)


async def test_refusals_say_exactly_why(service):
    def nominate(nominee: Nominee, tier: str = "advisor", reason: str = "x"):
        return service.nominate(nominee, tier, nominated_by=MORGAN, reason=reason)

    assert (
        await refusal(nominate(member(ADA), "wizard"))
        == "There is no tier called 'wizard'. Tiers: Champion, Advisor."
    )
    assert (
        await refusal(nominate(member(MORGAN)))
        == "You can't nominate yourself; ask another moderator to."
    )
    assert await refusal(nominate(member(ADA, is_bot=True))) == "Bots can't be nominated."
    assert (
        await refusal(nominate(member(ADA, in_guild=False)))
        == "That person isn't a member of this server, so they can't be nominated."
    )
    assert (
        await refusal(nominate(member(ADA), reason="x" * 501))
        == "The reason must be 1 to 500 characters long."
    )

    nomination = await nominate(member(GRACE, "grace"))
    assert (
        await refusal(service.approve(nomination.id, GRACE))
        == "You can't decide on your own nomination; another moderator will."
    )
    assert (
        await refusal(service.reject(nomination.id, RILEY, "   "))
        == "The reason must be 1 to 500 characters long."
    )
    assert (
        await refusal(service.approve(nomination.id + 100, RILEY))
        == "That nomination no longer exists."
    )
