"""/profile and /leaderboard against the real bot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.demo.community import SampleCommunity, build_sample_community
from db.models import ActivityDay, Member
from db.upsert import insert_for
from tests.e2e.util import bot_posts

pytestmark = pytest.mark.e2e

MEMBERS = 14  # more than a page of the leaderboard


@pytest.fixture
def community(emulator, bot_role_position: int) -> SampleCommunity:
    return build_sample_community(
        emulator, member_count=MEMBERS, bot_role_position=bot_role_position
    )


async def give(flywheel, kind: str, user_id: int, source: str, *, ago: timedelta = timedelta()):
    bot = flywheel.bot
    ledger = bot.services.contributions
    credit = ledger.credit(kind, user_id, source, occurred_at=bot.clock.now() - ago)
    async with bot.services.sessions() as session, session.begin():
        row = await ledger.record(session, credit)
    return row


async def opt_out(flywheel, user_id: int) -> None:
    now = flywheel.bot.clock.now()
    async with flywheel.bot.services.sessions() as session, session.begin():
        stmt = insert_for(session, Member).values(
            guild_id=flywheel.bot.guild_id,
            user_id=user_id,
            first_seen_at=now,
            recognition_opt_out=True,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "user_id"], set_={"recognition_opt_out": True}
            )
        )


async def command(emulator, community, user_id: int, name: str, **options: Any) -> Any:
    record = await emulator.invoke_slash_command(
        community.guild_id, community.channels["general"], user_id, name, options=options
    )
    return record, await record.wait_answer(timeout=5)


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


async def test_profile_shows_counts_points_active_days_and_tier(flywheel, emulator, community):
    ada = community.members["ada"]
    await give(flywheel, "answer", ada, "answer:1:1", ago=timedelta(days=45))
    await give(flywheel, "answer", ada, "answer:1:2", ago=timedelta(days=12))
    recent = await give(flywheel, "answer", ada, "answer:1:3", ago=timedelta(hours=1))
    await give(flywheel, "thanks_received", ada, "thanks:1")
    await give(flywheel, "answer", ada, "answer:1:4", ago=timedelta(hours=2))
    bot = flywheel.bot
    async with bot.services.sessions() as session, session.begin():
        await bot.services.contributions.reverse(session, recent, actor_id=None, reason="moved")
        today = bot.clock.now().astimezone(bot.settings.schedule.tz).date()
        session.add_all(
            [
                ActivityDay(guild_id=bot.guild_id, user_id=ada, day=today, messages=4),
                ActivityDay(
                    guild_id=bot.guild_id, user_id=ada, day=today - timedelta(9), messages=1
                ),
            ]
        )

    _, response = await command(emulator, community, ada, "profile")
    assert response["type"] == 4 and response["data"]["flags"] & 64
    assert response["data"]["allowed_mentions"] == {"parse": []}
    [embed] = response["data"]["embeds"]
    assert embed["title"] == "ada's contributions"
    assert "**Tier:** No tier yet" in embed["description"]
    assert "**Active days:** 7 days: 1 · 30 days: 2 · all time: 2" in embed["description"]
    assert "**Points:** 7 days: 12 · 30 days: 22 · all time: 32" in embed["description"]
    shown = fields(embed)
    assert shown["Answers"] == (
        "7 days: **1** (10 pts)\n30 days: **2** (20 pts)\nAll time: **3** (30 pts)"
    )
    assert shown["Thanks received"].startswith("7 days: **1** (2 pts)")
    assert set(shown) == {"Answers", "Thanks received"}


async def test_profile_of_another_member_and_refusal_for_bots(flywheel, emulator, community):
    grace = community.members["grace"]
    await give(flywheel, "content", grace, "content:1")
    _, response = await command(
        emulator, community, community.members["ada"], "profile", member=grace
    )
    [embed] = response["data"]["embeds"]
    assert embed["title"] == "grace's contributions" and response["data"]["flags"] & 64
    assert fields(embed)["Content shared"].endswith("All time: **1** (10 pts)")

    _, nobody = await command(
        emulator, community, grace, "profile", member=community.members["ken"]
    )
    assert fields(nobody["data"]["embeds"][0]) == {"Contributions": "No contributions yet."}

    _, refused = await command(emulator, community, grace, "profile", member=emulator.bot_user_id)
    assert refused["data"]["content"] == "Bots don't have profiles."
    assert refused["data"]["flags"] & 64

    # Someone who left is no longer a member: refused by name, not with the raw user object.
    await emulator.member_leave(community.guild_id, community.members["ken"])
    _, gone = await command(emulator, community, grace, "profile", member=community.members["ken"])
    assert gone["data"]["content"] == (
        "ken isn't a member of this server, so they can't be picked here."
    )
    assert gone["data"]["flags"] & 64


async def test_leaderboard_pages_for_its_invoker_only(flywheel, emulator, community):
    names = list(community.members)
    # Member i has i + 1 answers: the last one leads. Ken opts out, radia leaves.
    for i, name in enumerate(names):
        for n in range(i + 1):
            await give(flywheel, "answer", community.members[name], f"answer:{i}:{n}")
    await opt_out(flywheel, community.members["ken"])
    await emulator.member_leave(community.guild_id, community.members["radia"])
    shown = [n for n in reversed(names) if n not in ("ken", "radia")]
    linus = community.members["linus"]

    record, response = await command(emulator, community, linus, "leaderboard", period="week")
    data = response["data"]
    assert response["type"] == 4 and not data.get("flags", 0) & 64
    assert data["allowed_mentions"] == {"parse": []}
    [embed] = data["embeds"]
    lines = embed["description"].splitlines()
    assert lines[0] == "*All contributions*"
    expected = [
        f"**{rank}.** <@{community.members[name]}> — {10 * (names.index(name) + 1)} points"
        for rank, name in enumerate(shown[:10], start=1)
    ]
    assert lines[1:] == expected
    assert embed["footer"]["text"] == "Page 1"
    [row] = data["components"]
    previous, following = row["components"]
    assert previous["label"] == "Previous" and previous.get("disabled") is True
    assert following["label"] == "Next" and not following.get("disabled")

    board = record.original
    stranger = await emulator.click_button(board, community.members["ada"], following["custom_id"])
    refusal = await stranger.wait_answer(timeout=5)
    assert refusal["type"] == 4 and refusal["data"]["flags"] & 64
    assert refusal["data"]["content"] == "Run /leaderboard to get your own."

    turned = await emulator.click_button(board, linus, following["custom_id"])
    update = await turned.wait_answer(timeout=5)
    assert update["type"] == 7
    [embed] = update["data"]["embeds"]
    assert [line.split(" — ")[0] for line in embed["description"].splitlines()[1:]] == [
        f"**{rank}.** <@{community.members[name]}>"
        for rank, name in enumerate(shown[10:], start=11)
    ]
    assert embed["footer"]["text"] == "Page 2"
    previous, following = update["data"]["components"][0]["components"]
    assert not previous.get("disabled") and following.get("disabled") is True

    back = await emulator.click_button(emulator.message(board["id"]), linus, previous["custom_id"])
    assert (await back.wait_answer(timeout=5))["data"]["embeds"][0]["footer"]["text"] == "Page 1"
    assert bot_posts(emulator, community.channels["general"])  # the board is a public message


async def test_leaderboard_by_kind_and_the_empty_board(flywheel, emulator, community):
    ada, grace = community.members["ada"], community.members["grace"]
    await give(flywheel, "content", grace, "content:1")
    await give(flywheel, "answer", ada, "answer:9:9", ago=timedelta(days=20))

    _, response = await command(emulator, community, ada, "leaderboard", kind="content")
    lines = response["data"]["embeds"][0]["description"].splitlines()
    assert lines == ["*Content shared*", f"**1.** <@{grace}> — 10 points (1)"]

    _, week = await command(emulator, community, ada, "leaderboard", period="week", kind="answer")
    [embed] = week["data"]["embeds"]
    assert embed["description"].startswith("No answers in the last 7 days yet.")
    previous, following = week["data"]["components"][0]["components"]
    assert previous.get("disabled") is True and following.get("disabled") is True

    _, month = await command(emulator, community, ada, "leaderboard", kind="answer")
    assert f"<@{ada}> — 10 points (1)" in month["data"]["embeds"][0]["description"]
