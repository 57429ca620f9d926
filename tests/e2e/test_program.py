"""``/program health`` and ``/program export`` end to end: the report, the CSV file, the k rule."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from datetime import timedelta
from typing import Any

import pytest

from bot.checks import MODERATORS_ONLY
from bot.core.periods import monthly_period
from db.models import ContentSubmission, NpsResponse, TierChange, TierState
from tests.e2e.util import bot_posts, eventually, private_reply, slash

pytestmark = pytest.mark.e2e

_ids = itertools.count(1)


def last_month(bot: Any) -> Any:
    """The month the report covers: the last complete one in the guild's timezone."""
    return monthly_period(bot.clock.now(), bot.settings.schedule.tz)


async def seed(bot: Any, community: Any, *, nps_scores: list[int]) -> None:
    """ada has been a Champion for a while, grace became one in the reported month; together
    they approved 5 pieces of content that month; the latest survey has ``nps_scores``."""
    month, m = last_month(bot), community.members
    ada, grace = m["ada"], m["grace"]
    early = month.start + timedelta(days=2)
    async with bot.services.sessions() as session, session.begin():
        gid = bot.settings.discord.guild_id
        for user, at in ((ada, month.start - timedelta(days=40)), (grace, early)):
            session.add(
                TierChange(guild_id=gid, user_id=user, from_tier=None, to_tier="champion",
                           reason="test", created_at=at)
            )  # fmt: skip
            session.add(
                TierState(guild_id=gid, user_id=user, tier_key="champion", tier_since=at,
                          updated_at=at)
            )  # fmt: skip
        for author, pieces in ((ada, 3), (grace, 2)):
            for _ in range(pieces):
                session.add(
                    ContentSubmission(
                        guild_id=gid,
                        author_id=author,
                        url=f"https://example.com/post-{next(_ids)}",
                        title="A post",
                        kind="blog",
                        status="approved",
                        submitted_at=early,
                        decided_at=early + timedelta(hours=1),
                    )
                )
        members = list(m.values())
        for user, score in zip(members, nps_scores, strict=False):
            session.add(
                NpsResponse(guild_id=gid, period="2026-Q4", user_id=user, score=score,
                            comment="secret words", answered_at=early, updated_at=early)
            )  # fmt: skip


def text_of(body: dict[str, Any]) -> str:
    parts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


async def test_moderator_sees_the_health_report_with_targets_and_trends(
    flywheel, emulator, community
):
    bot = flywheel.bot
    await seed(bot, community, nps_scores=[10, 10, 9, 9, 8, 3])
    month = last_month(bot)
    before = monthly_period(month.start, bot.settings.schedule.tz)

    record = await slash(emulator, community, community.moderators["morgan"], "program health")
    reply = await private_reply(record)
    body = text_of(reply)

    assert reply["embeds"][0]["title"] == f"Program health · {month.label}"
    assert f"**{month.label}**, compared with the month before, **{before.label}**" in body
    assert "Content per tier member\n**2.5** · target 2–4 · ✅ on target" in body
    assert f"vs {before.label}: 0 · +2.5" in body  # ada alone, with nothing approved
    assert "5 piece(s) by tier members · 2 tier member(s)" in body
    assert "Ambassador NPS\n**+50 (6 answers)** · target ≥ 70 · 🔻 below" in body
    assert "secret words" not in body, "comments are not part of the health report"
    assert "**Champion**: ↑ 1 up · = 1 held · ↓ 0 down" in body
    assert "Engagement, week by week" in body
    assert "No user groups yet." in body
    assert reply.get("allowed_mentions", {}).get("parse", []) == []


async def test_nps_needs_enough_answers(flywheel, emulator, community):
    await seed(flywheel.bot, community, nps_scores=[10, 10, 0, 9])  # 4 < 5
    record = await slash(emulator, community, community.moderators["morgan"], "program health")
    body = text_of(await private_reply(record))
    assert "Ambassador NPS\n**not enough answers (4 of the 5 needed)**" in body
    assert "answers)" not in body


async def test_export_is_a_private_csv_with_one_row_per_metric_per_period(
    flywheel, emulator, community
):
    bot = flywheel.bot
    await seed(bot, community, nps_scores=[10, 10, 9, 9, 8, 3])
    month = last_month(bot)
    before = monthly_period(month.start, bot.settings.schedule.tz)

    record = await slash(emulator, community, community.moderators["riley"], "program export")
    reply = await private_reply(record)
    assert f"Program health numbers for {month.label} and {before.label}" in reply["content"]
    message = record.original
    [attachment] = message["attachments"]
    assert attachment["filename"] == f"program-health-{month.key}.csv"
    data = emulator.world.attachment_blobs[int(attachment["id"])]

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["metric", "period", "value", "target", "status"]
    table = {(r[0], r[1]): r[2:] for r in rows[1:]}
    assert len(table) == len(rows) - 1, "one row per metric per period"
    assert table[("content_per_tier_member", month.key)] == ["2.5", "2-4", "on target"]
    assert table[("content_per_tier_member", before.key)] == ["0", "2-4", "below"]
    assert table[("nps", "2026-Q4")] == ["50", ">=70", "below"]
    assert table[("tier_up.champion", month.key)] == ["1", "", ""]
    assert table[("tier_held.champion", month.key)] == ["1", "", ""]
    for metric in ("active_members", "contributors", "referrals_credited", "new_contributors"):
        assert (metric, month.key) in table and (metric, before.key) in table
    assert sum(1 for metric, _ in table if metric == "weekly_active_members") == 8


@pytest.mark.parametrize("command", ["program health", "program export"])
async def test_members_who_are_not_moderators_are_refused(flywheel, emulator, community, command):
    await seed(flywheel.bot, community, nps_scores=[10, 10, 9, 9, 8, 3])
    record = await slash(emulator, community, community.members["ada"], command)
    reply = await private_reply(record)
    assert reply["content"] == MODERATORS_ONLY
    assert not reply.get("embeds")
    assert record.original is None or not record.original.get("attachments")


async def test_the_newsletter_comes_with_a_staff_copy_in_the_mod_log(flywheel, emulator, community):
    send = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.moderators["morgan"],
        "newsletter send",
        options={},
    )
    await send.wait_answer(timeout=10)
    staff = await eventually(
        lambda: [
            p
            for p in bot_posts(emulator, community.channels["mod-log"])
            if p["content"].startswith("**Staff copy** of the newsletter")
        ]
    )
    titles = [e.get("title", "") for e in staff[0]["embeds"]]
    assert any(t.startswith("Program health") for t in titles)
    posts = bot_posts(emulator, community.channels["mod-log"])
    assert any(a["filename"].endswith(".csv") for p in posts for a in p.get("attachments", []))
    assert all(p["mention_everyone"] is False for p in posts)


async def test_an_export_that_outlasts_the_interaction_token_arrives_by_dm(
    flywheel, emulator, community, monkeypatch
):
    """Discord refuses a follow-up once the token is 15 minutes old (401, 50027): the answer,
    file included, goes to the moderator's DMs with a note why instead of being lost."""
    bot, riley = flywheel.bot, community.moderators["riley"]
    started, finish = asyncio.Event(), asyncio.Event()
    export = bot.services.health.export

    async def slow_export() -> Any:
        started.set()
        await finish.wait()  # the report takes "16 minutes"
        return await export()

    monkeypatch.setattr(bot.services.health, "export", slow_export)
    record = await slash(emulator, community, riley, "program export")
    await record.wait_response(timeout=5)  # deferred: "thinking…"
    await asyncio.wait_for(started.wait(), timeout=5)
    emulator.advance_interaction_time(16 * 60)
    finish.set()

    [dm] = await eventually(lambda: emulator.dms(riley))
    assert dm["content"].startswith("Program health numbers for")
    assert "15 minutes" in dm["content"] and "by DM" in dm["content"]
    [attachment] = dm["attachments"]
    assert attachment["filename"].startswith("program-health-")
    assert (
        emulator.world.attachment_blobs[int(attachment["id"])]
        .decode("utf-8-sig")
        .startswith("metric,period,value,target,status")
    )
