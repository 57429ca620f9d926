"""The services without a bot: what a CLI command or a web process builds.

``build_services`` with no Discord connection (``Offline`` effects) still runs the program:
a contribution re-evaluates the member and stores the promotion; what would go to Discord is
refused by the offline effects, and the role stays pending in the store for the bot to apply.
"""

from __future__ import annotations

import pytest

from bot.services.container import build_services
from bot.services.effects import Offline
from tests.services.test_ladder_service import (
    ADA,
    helper_material,
    make_settings,
    seed_members,
    state,
)


@pytest.fixture
def services(sessions, clock):
    return build_services(make_settings(), clock, sessions)


def test_one_ladder_serves_every_feature(services):
    assert isinstance(services.effects, Offline)
    assert services.tiers.ladder is services.ladder
    assert services.nominations.standing is services.ladder
    assert services.nominations.reevaluate == services.tiers.reevaluate
    assert services.thanks.posts is services.activity
    assert services.nps.claims is services.recognition


async def test_a_contribution_promotes_with_no_bot_and_no_cog(services, sessions, clock):
    await seed_members(sessions, clock)
    await helper_material(services.ladder, sessions, clock, ADA)

    await services.contributions.changed({ADA})

    promoted = await state(sessions, ADA)
    assert promoted is not None and promoted.tier_key == "helper"
    await services.background.finish(grace=5)  # the news is tried (and refused: offline)
    assert await services.ladder.desired_tiers([ADA]) == {ADA: "helper"}
