"""Ambassador NPS end to end: the survey DM, changeable answers, comments, k >= 5, one a quarter."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.checks import MODERATORS_ONLY
from bot.client import all_extensions
from bot.config import parse_config
from bot.core.nps import survey_period
from bot.core.periods import next_occurrence
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from db.faults import StoreFaults
from db.models import Member, NpsResponse, ScheduledPost, SurveyInvite, TierState
from tests.e2e.conftest import PROBE_EXTENSION
from tests.e2e.util import bot_posts, eventually, private_reply, slash

pytestmark = pytest.mark.e2e

EXTENSIONS = [*all_extensions(), PROBE_EXTENSION]
COMMENTS = {
    "ada": "zebra-striped slides were great",
    "grace": "More hands-on workshops",
    "linus": "ask us before changing tiers",
}


@pytest.fixture
def bot_config(emulator, community, database_url):
    data = community_config(
        community, emulator, database_url=database_url, nps={"dm_pace_seconds": 0}
    )
    return parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})


@pytest.fixture
async def flywheel(bot_config, clock, emulator, community) -> AsyncIterator[Any]:
    """The bot with every member recorded and on a tier, plus 'quiet' (DMs closed) on one."""
    quiet = await emulator.member_join(community.guild_id, "quiet", accepts_dms=False)
    community.members["quiet"] = quiet.user_id
    async with running_bot(bot_config, clock=clock, extensions=EXTENSIONS) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        bot = app.bot

        async def recorded() -> bool:
            async with bot.services.sessions() as session:
                rows = await session.scalars(select(Member.user_id).where(Member.left_at.is_(None)))
                return set(community.members.values()) <= set(rows)

        await eventually(recorded)
        async with bot.services.sessions.begin() as session:
            for user in community.members.values():
                session.add(
                    TierState(
                        guild_id=bot.guild_id,
                        user_id=user,
                        tier_key="champion",
                        tier_since=bot.clock.now(),
                        updated_at=bot.clock.now(),
                    )
                )
        yield app


def dms(emu: Any, user_id: int) -> list[dict[str, Any]]:
    """The survey DMs the member got (other features may DM them too)."""
    return [
        m
        for m in emu.dms(user_id)
        if m["author"]["id"] == str(emu.bot_user_id) and "recommend" in (m["content"] or "")
    ]


def mod_log(emu: Any, community: Any) -> list[str]:
    return [m["content"] for m in bot_posts(emu, community.channels["mod-log"])]


def rows_of(message: dict[str, Any]) -> list[list[str]]:
    return [[c["custom_id"] for c in row["components"]] for row in message["components"]]


def embed_text(body: dict[str, Any]) -> str:
    parts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def send_survey(emu: Any, community: Any) -> str:
    reply = await private_reply(
        await slash(emu, community, community.moderators["morgan"], "nps send")
    )
    [summary] = await eventually(
        lambda: [t for t in mod_log(emu, community) if t.startswith("📋")], within=10
    )
    return str(reply["content"]) + "\n" + summary


async def answers(bot: Any) -> dict[int, tuple[str, int, str | None]]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(select(NpsResponse))
        return {r.user_id: (r.period, r.score, r.comment) for r in rows}


async def click(emu: Any, user_id: int, custom_id: str, message: dict[str, Any] | None = None):
    """Click the survey's button ``custom_id`` (followed on the DM by its server's id)."""
    survey = message or dms(emu, user_id)[-1]
    ids = [c["custom_id"] for row in survey["components"] for c in row["components"]]
    [full] = [i for i in ids if i == custom_id or re.fullmatch(rf"{custom_id}:[0-9]+", i)] or [
        custom_id
    ]
    return await emu.click_button(survey, user_id, full)


async def answer(emu: Any, user_id: int, period: str, score: int) -> dict[str, Any]:
    record = await click(emu, user_id, f"nps:score:{period}:{score}")
    return dict(await record.wait_answer())


# --------------------------------------------------------------------------- the survey DM


@pytest.mark.store_pace  # a refusal comes before the form only from a store in time
async def test_survey_dm_buttons_answers_that_change_and_the_comment_form(
    flywheel, emulator, community
):
    bot, m = flywheel.bot, community.members
    period = survey_period(bot.clock.now(), bot.settings.schedule.tz)
    text = await send_survey(emulator, community)
    assert f"Sending the {period.label} survey by DM to 7 tier member(s)" in text
    assert "sent by DM to 6 tier member(s); 1 couldn't be reached" in text
    assert dms(emulator, community.moderators["morgan"]) == [], "not on a tier: not asked"

    [survey] = dms(emulator, m["ada"])
    assert "How likely are you to recommend" in survey["content"]
    key, server = period.key, community.guild_id
    # A DM names no server: each button names its own.
    assert rows_of(survey) == [
        [f"nps:score:{key}:{n}:{server}" for n in range(5)],
        [f"nps:score:{key}:{n}:{server}" for n in range(5, 10)],
        [f"nps:score:{key}:10:{server}", f"nps:comment:{key}:{server}"],
    ]
    labels = [c["label"] for row in survey["components"] for c in row["components"]]
    assert labels == [str(n) for n in range(11)] + ["Add a comment"]

    # A comment needs an answer first.
    early = await click(emulator, m["ada"], f"nps:comment:{key}")
    assert "Pick a number from 0 to 10 first" in (await private_reply(early))["content"]

    first = await answer(emulator, m["ada"], key, 3)
    assert first["type"] == 7, "the DM itself shows the answer"
    assert "Your answer: **3**" in first["data"]["content"]
    assert (await answers(bot))[m["ada"]] == (key, 3, None)

    # A second click (on the updated DM) changes the answer: still one row.
    changed = await answer(emulator, m["ada"], key, 9)
    assert "Your answer: **9**" in changed["data"]["content"]
    assert await answers(bot) == {m["ada"]: (key, 9, None)}

    opened = await click(emulator, m["ada"], f"nps:comment:{key}")
    form = await opened.wait_answer()
    assert form["type"] == 9 and form["data"]["custom_id"] == f"nps:comment-form:{key}:{server}"
    saved = await emulator.submit_modal(opened, m["ada"], values={"comment": " Loved it "})
    assert "comment is saved" in (await private_reply(saved))["content"]
    assert (await answers(bot))[m["ada"]] == (key, 9, "Loved it")

    # Reopening the form shows the comment; an empty submission removes it.
    reopened = await click(emulator, m["ada"], f"nps:comment:{key}")
    assert "Loved it" in str((await reopened.wait_answer())["data"])
    cleared = await emulator.submit_modal(reopened, m["ada"], values={"comment": ""})
    assert "removed" in (await private_reply(cleared))["content"]
    assert (await answers(bot))[m["ada"]] == (key, 9, None)

    async with bot.services.sessions() as session:
        invites = {i.user_id: i.state for i in await session.scalars(select(SurveyInvite))}
    assert invites[m["quiet"]] == "failed" and invites[m["ada"]] == "sent"
    assert len(invites) == 7


# --------------------------------------------------------------------------- k >= 5


async def test_results_appear_only_from_five_answers_with_comments_without_names(
    flywheel, emulator, community
):
    bot, m, mods = flywheel.bot, community.members, community.moderators
    key = survey_period(bot.clock.now(), bot.settings.schedule.tz).key
    await send_survey(emulator, community)

    refused = await slash(emulator, community, m["ada"], "nps results")
    assert (await private_reply(refused))["content"] == MODERATORS_ONLY

    voters = ["ada", "grace", "linus", "barbara"]
    for name, score in zip(voters, (10, 9, 2, 7), strict=True):
        await answer(emulator, m[name], key, score)
        if name in COMMENTS:
            opened = await click(emulator, m[name], f"nps:comment:{key}")
            await opened.wait_answer()
            saved = await emulator.submit_modal(opened, m[name], values={"comment": COMMENTS[name]})
            await private_reply(saved)

    below = embed_text(
        await private_reply(await slash(emulator, community, mods["morgan"], "nps results"))
    )
    assert "4 answer(s) so far; results appear at 5" in below
    assert "NPS +" not in below and "NPS -" not in below and "Promoters" not in below
    assert not any(comment in below for comment in COMMENTS.values())

    fifth = next(n for n in m if n not in voters and n != "quiet")
    await answer(emulator, m[fifth], key, 10)
    shown = embed_text(
        await private_reply(
            await slash(emulator, community, mods["morgan"], "nps results", period=key)
        )
    )
    assert "**NPS +40** from 5 answers" in shown  # 3 promoters, 1 passive, 1 detractor
    assert "Promoters (9–10) 3 (60%)" in shown
    positions = [shown.index(COMMENTS[n]) for n in ("linus", "grace", "ada")]
    assert positions == sorted(positions), "comments sorted by text, not by who or when"
    for name, user in m.items():
        assert str(user) not in shown and name not in shown.lower().replace(COMMENTS["ada"], "")

    bad = await slash(emulator, community, mods["morgan"], "nps results", period="Q4")
    assert "Name a quarter like" in (await private_reply(bad))["content"]


# --------------------------------------------------------------------------- one a quarter


async def test_one_survey_per_quarter_and_a_closed_survey_refuses_answers(
    flywheel, emulator, community
):
    bot, m, mods = flywheel.bot, community.members, community.moderators
    tz = bot.settings.schedule.tz
    period = survey_period(bot.clock.now(), tz)
    await send_survey(emulator, community)

    async def recorded() -> bool:
        # The claim is marked posted right after the mod-log summary goes out; until then a
        # second /nps send hears "being sent right now".
        async with bot.services.sessions() as session:
            post = await session.scalar(
                select(ScheduledPost).where(
                    ScheduledPost.kind == "nps", ScheduledPost.period == period.key
                )
            )
            return post is not None and post.state == "posted"

    await eventually(recorded)
    again = await slash(emulator, community, mods["riley"], "nps send")
    assert "already sent" in (await private_reply(again))["content"]
    await flywheel.bot.schedule.run_due("nps")
    assert len(dms(emulator, m["ada"])) == 1, "one survey per quarter, whoever asks"

    await answer(emulator, m["grace"], period.key, 8)
    # The quarter ends: the old DM's buttons say the survey is closed.
    bot.clock.set(period.end + timedelta(minutes=1))
    late = await click(emulator, m["grace"], f"nps:score:{period.key}:2")
    assert "survey closed at the end of" in (await private_reply(late))["content"]
    late_comment = await click(emulator, m["grace"], f"nps:comment:{period.key}")
    assert "survey closed at the end of" in (await private_reply(late_comment))["content"]
    assert (await answers(bot))[m["grace"]] == (period.key, 8, None)

    # The next scheduled run is the next quarter's survey, sent once.
    config = bot.settings.nps
    due = next_occurrence(config.schedule, bot.clock.now(), tz, quarterly=True)
    bot.clock.set(due)
    await flywheel.bot.schedule.run_due("nps")
    await flywheel.bot.schedule.run_due("nps")
    nxt = survey_period(due, tz)
    assert nxt.key != period.key
    await eventually(lambda: len(dms(emulator, m["ada"])) == 2)
    assert (
        rows_of(dms(emulator, m["ada"])[-1])[0][0] == f"nps:score:{nxt.key}:0:{community.guild_id}"
    )
    await eventually(
        lambda: len([t for t in mod_log(emulator, community) if t.startswith("📋")]) == 2
    )

    async def both_recorded() -> bool:
        # The claim is marked posted right after the mod-log summary goes out.
        async with bot.services.sessions() as session:
            posts = await session.scalars(select(ScheduledPost).where(ScheduledPost.kind == "nps"))
            return sorted((p.period, p.state) for p in posts) == [
                (period.key, "posted"),
                (nxt.key, "posted"),
            ]

    await eventually(both_recorded)
    assert len(dms(emulator, m["ada"])) == 2


# --------------------------------------------------------------------------- restarts and catch-up


async def test_buttons_work_after_a_restart_and_a_missed_survey_is_caught_up(
    bot_config, emulator, community, clock
):
    m = community.members
    async with running_bot(bot_config, clock=clock, extensions=EXTENSIONS) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        bot = app.bot
        tz = bot.settings.schedule.tz
        async with bot.services.sessions.begin() as session:
            session.add(
                TierState(
                    guild_id=bot.guild_id,
                    user_id=m["ada"],
                    tier_key="champion",
                    updated_at=bot.clock.now(),
                )
            )
    assert dms(emulator, m["ada"]) == [], "installing the bot sends no survey backlog"

    # Offline across the survey date; back a day later (within the 3-day grace).
    due = next_occurrence(bot_config.settings.nps.schedule, clock.now(), tz, quarterly=True)
    clock.set(due + timedelta(days=1))
    async with running_bot(bot_config, clock=clock, extensions=EXTENSIONS) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        [survey] = await eventually(lambda: dms(emulator, m["ada"]))
        summary = await eventually(
            lambda: [t for t in mod_log(emulator, community) if t.startswith("📋")]
        )
        assert "(late: I was offline when it was due)" in summary[0]
    key = survey_period(due, tz).key

    # A new process: the old DM's buttons still work.
    async with running_bot(bot_config, clock=clock, extensions=EXTENSIONS) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        record = await emulator.click_button(
            survey, m["ada"], f"nps:score:{key}:6:{community.guild_id}"
        )
        assert "Your answer: **6**" in (await record.wait_answer())["data"]["content"]
        assert (await answers(app.bot))[m["ada"]] == (key, 6, None)
    assert len(dms(emulator, m["ada"])) == 1, "restarts send nothing more"


async def test_a_survey_missed_beyond_the_grace_is_skipped_and_moderators_told(
    bot_config, emulator, community, clock
):
    async with running_bot(bot_config, clock=clock, extensions=EXTENSIONS) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        tz = app.bot.settings.schedule.tz
    due = next_occurrence(bot_config.settings.nps.schedule, clock.now(), tz, quarterly=True)
    clock.set(due + timedelta(days=5))
    async with running_bot(bot_config, clock=clock, extensions=EXTENSIONS) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        async with app.bot.services.sessions() as session:
            [post] = await session.scalars(select(ScheduledPost).where(ScheduledPost.kind == "nps"))
        assert post.state == "skipped" and post.note.startswith("missed")
        [alert] = await eventually(
            lambda: [t for t in mod_log(emulator, community) if "was not sent" in t]
        )
        assert "/nps send` starts it now" in alert
        # ... and a moderator can still send it: a skipped survey is not a sent one.
        text = await send_survey(emulator, community)
        assert f"Sending the {survey_period(due, tz).label} survey" in text


async def test_a_store_failure_right_after_a_dm_never_asks_anyone_twice(
    flywheel, emulator, community
):
    """The store refuses the second invite's outcome, right after that DM went out."""
    mods = community.moderators
    faults = StoreFaults.attach(flywheel.engine)
    # Outcome writes update a claimed row; the second one fails (its DM is already out).
    faults.fail(match=r"UPDATE survey_invites SET state", skip=1)
    try:
        first = await slash(emulator, community, mods["morgan"], "nps send")
        await private_reply(first)
        [alert] = await eventually(
            lambda: [t for t in mod_log(emulator, community) if "stopped" in t], within=10
        )
        assert "`/nps send` resumes it (nobody is asked twice)" in alert
    finally:
        faults.detach()
    asked_before = {name: len(dms(emulator, user)) for name, user in community.members.items()}
    assert sum(asked_before.values()) == 2, asked_before

    await send_survey(emulator, community)
    asked = {name: len(dms(emulator, user)) for name, user in community.members.items()}
    assert all(count <= 1 for count in asked.values()), asked
    reachable = [name for name in community.members if name != "quiet"]
    assert all(asked[name] == 1 for name in reachable), asked


@pytest.mark.store_pace
async def test_a_slow_store_still_answers_the_buttons_and_opens_the_form(
    flywheel, emulator, community
):
    """Within Discord's 3 seconds (#14.2): the click is deferred and the DM updated after; the
    form opens without the current comment, so an empty submission keeps it."""
    bot, ada = flywheel.bot, community.members["ada"]
    key = survey_period(bot.clock.now(), bot.settings.schedule.tz).key
    await send_survey(emulator, community)
    await answer(emulator, ada, key, 7)
    first = await click(emulator, ada, f"nps:comment:{key}")
    await first.wait_answer()
    saved = await emulator.submit_modal(first, ada, values={"comment": "Keep me"})
    await private_reply(saved)
    faults = StoreFaults.attach(flywheel.engine)
    try:
        faults.slow(4.0, match=r"^(INSERT INTO|UPDATE) nps_responses")
        changed = await click(emulator, ada, f"nps:score:{key}:9")
        assert (await changed.wait_response(timeout=7))["type"] == 6
        edit = await changed.wait_edit(timeout=10)
        assert "Your answer: **9**" in edit["content"]

        faults.clear()
        lookup = faults.slow(4.0, match=r"(?s)^SELECT .*FROM nps_responses", times=1)
        opened = await click(emulator, ada, f"nps:comment:{key}")
        form = await opened.wait_answer(timeout=3)
        assert (
            form["type"] == 9
            and form["data"]["custom_id"] == f"nps:comment-form:{key}:keep:{community.guild_id}"
        )
        assert lookup.hits == 1
        kept = await emulator.submit_modal(opened, ada, values={"comment": ""})
        assert (await private_reply(kept))["content"] == "Your comment is unchanged."
        await eventually(lambda: bot.services.background.pending == frozenset(), within=10)
    finally:
        faults.detach()
    late = [
        r for r in emulator.request_log if r.path.startswith("/interactions/") and r.status == 404
    ]
    assert late == []
    assert (await answers(bot))[ada] == (key, 9, "Keep me")
