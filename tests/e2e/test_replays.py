"""A replayed interaction (the gateway delivers it twice) has one effect and one answer (#14.7).

The gate (``bot.interaction_gate``) drops a replay before any handler runs, for commands,
buttons and forms alike. ``tests/e2e/test_thanks.py`` replays /thanks the same way.
"""

from __future__ import annotations

import pytest

from db.models import ContentSubmission, Contribution, Nomination
from tests.e2e import test_content as content
from tests.e2e import test_nominations as nominations
from tests.e2e.util import private_reply, settled

pytestmark = pytest.mark.e2e


def callbacks(emulator, record) -> list[object]:
    """Every answer the bot tried to give this interaction (initial responses, follow-ups)."""
    return [
        r
        for r in emulator.request_log
        if r.path.startswith(f"/interactions/{record.id}/")
        or r.path.startswith(f"/webhooks/{emulator.world.application.id}/{record.token}")
    ]


async def replayed(emulator, flywheel, record) -> list[object]:
    """Deliver ``record`` again; the answers the bot tried to give it before and after."""
    await settled(emulator, flywheel.bot)
    before = callbacks(emulator, record)
    assert before, "the first delivery was answered"
    await emulator.replay_interaction(record)
    await settled(emulator, flywheel.bot)
    return [before, callbacks(emulator, record)]


async def test_a_replayed_nominate_after_the_decision_nominates_once(flywheel, emulator, community):
    morgan, riley = community.moderators["morgan"], community.moderators["riley"]
    ada = community.members["ada"]
    record = await nominations.nominate(emulator, community, morgan, ada, "champion")
    await private_reply(record)
    card = nominations.cards(emulator, community)[-1]
    approve = await emulator.click_button(card, riley, nominations.button_ids(card)[0])
    await approve.wait_answer(timeout=5)
    await settled(emulator, flywheel.bot)

    before, after = await replayed(emulator, flywheel, record)

    assert after == before, "no second answer"
    assert [n.status for n in await nominations.rows(flywheel.bot, Nomination)] == ["approved"]
    assert len(nominations.cards(emulator, community)) == 1


async def test_a_replayed_approve_click_decides_once(flywheel, emulator, community):
    card = await content.shared_card(emulator, community)
    morgan = community.moderators["morgan"]
    click = await emulator.click_button(card, morgan, content.button_ids(card)[0])
    assert (await click.wait_answer(timeout=5))["type"] == 7

    before, after = await replayed(emulator, flywheel, click)

    assert after == before, "no second answer"
    assert len(await content.rows(flywheel.bot, Contribution)) == 1
    assert len(emulator.dms(community.members["ada"])) == 1


async def test_a_replayed_rejection_form_rejects_once(flywheel, emulator, community):
    card = await content.shared_card(emulator, community)
    riley = community.moderators["riley"]
    opened = await emulator.click_button(card, riley, content.button_ids(card)[1])
    await opened.wait_answer(timeout=5)
    submitted = await emulator.submit_modal(opened, riley, values={"reason": "Off topic"})
    assert (await submitted.wait_answer(timeout=5))["type"] == 7

    before, after = await replayed(emulator, flywheel, submitted)

    assert after == before, "no second answer (not even 'Already rejected')"
    [submission] = await content.rows(flywheel.bot, ContentSubmission)
    assert (submission.status, submission.decision_reason) == ("rejected", "Off topic")
    assert len(emulator.dms(community.members["ada"])) == 1
