"""Members' data end to end: export as a private JSON file, erase after confirming, retention.

A member with a bit of everything (messages, thanks both ways, answers, a tier and its role, a
newsletter subscription) exports and erases their data; other members' totals and the
leaderboard must come out of it identical.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import select, text

from bot.client import all_extensions
from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from bot.services.members import MembersService
from db.models import Member, Thanks
from db.repositories.privacy import FORMER_MEMBER, MEMBER_COLUMNS, table
from db.repositories.stats import StatsRepository
from tests.e2e.util import bot_posts, eventually, members_synced, private_reply, settled, slash

pytestmark = pytest.mark.e2e


def privacy(app: Any) -> Any:
    return app.bot.get_cog("Privacy")


async def posted(app: Any, emulator: Any, channel_id: int, author_id: int, text: str) -> None:
    """``author_id`` posts, and the bot has seen it (thanks need a recent post there)."""
    message = await emulator.post_message(channel_id, author_id, text)
    at = discord.utils.snowflake_time(int(message["id"]))
    activity = app.bot.services.activity
    await eventually(lambda: _seen(activity, channel_id, author_id, at))


async def _seen(activity: Any, channel_id: int, author_id: int, at: Any) -> bool:
    return await activity.last_post([channel_id], author_id) == at


async def credit(bot: Any, user_id: int, kind: str, times: int) -> None:
    async with bot.services.sessions() as session, session.begin():
        for n in range(times):
            source = f"test:{kind}:{user_id}:{n}"
            ledger = bot.services.contributions
            await ledger.record(session, ledger.credit(kind, user_id, source))


async def busy_member(app: Any, emulator: Any, community: Any) -> None:
    """ada does a bit of everything, among grace and linus."""
    bot, m = app.bot, community.members
    general = community.channels["general"]
    await posted(app, emulator, general, m["grace"], "Here is how you configure the exporter")
    await posted(app, emulator, general, m["ada"], "Thank you, that solved my problem entirely")
    for giver, receiver in ((m["ada"], m["grace"]), (m["grace"], m["ada"])):
        thanks = await slash(emulator, community, giver, "thanks", member=receiver)
        assert (await thanks.wait_answer(timeout=10))["type"] == 4
    await credit(bot, m["ada"], "answer", 2)
    await credit(bot, m["grace"], "answer", 3)
    await credit(bot, m["linus"], "content", 1)
    promoted = await slash(
        emulator,
        community,
        community.moderators["morgan"],
        "tier set",
        member=m["ada"],
        tier="champion",
        reason="Helps everyone",
    )
    await private_reply(promoted)
    champion = community.tier_role_ids["champion"]
    await eventually(lambda: champion in emulator.member_roles(community.guild_id, m["ada"]))
    subscribed = await slash(emulator, community, m["ada"], "newsletter subscribe")
    assert "Subscribed" in (await private_reply(subscribed))["content"]


async def others(bot: Any, community: Any) -> tuple[dict[int, Any], list[Any]]:
    """Everyone else's totals by kind, and the leaderboard without ada."""
    ada = community.members["ada"]
    async with bot.services.sessions() as session:
        stats = StatsRepository(session, bot.guild_id)
        totals = {
            user: await stats.totals_by_kind(user)
            for name, user in community.members.items()
            if name != "ada"
        }
        board = await stats.leaderboard(since=None, kind=None, limit=100)
    return totals, [s for s in board if s.user_id != ada]


async def rows_naming(bot: Any, user_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    async with bot.services.sessions() as session:
        for name, columns in MEMBER_COLUMNS.items():
            t = table(name)
            for column in columns:
                rows = (
                    await session.execute(
                        select(t).where(t.c.guild_id == bot.guild_id, t.c[column] == user_id)
                    )
                ).all()
                if rows:
                    found[f"{name}.{column}"] = len(rows)
    return found


def button(message: dict[str, Any], label: str) -> str:
    for row in message["components"]:
        for component in row["components"]:
            if component.get("label") == label:
                return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button in {message['components']}")


# --------------------------------------------------------------------------- export


async def test_export_is_a_private_json_file_of_everything_about_the_member(
    flywheel, emulator, community
):
    await busy_member(flywheel, emulator, community)
    ada = community.members["ada"]

    record = await slash(emulator, community, ada, "privacy export")
    reply = await private_reply(record)
    assert "everything Flywheel stores about you" in reply["content"]
    [attachment] = record.original["attachments"]
    assert attachment["filename"] == f"flywheel-data-{ada}.json"
    document = json.loads(emulator.world.attachment_blobs[int(attachment["id"])])

    assert document["format"] == "flywheel-member-export/1"
    assert (document["user_id"], document["former_member_id"]) == (str(ada), "0")
    tables = document["tables"]
    assert list(tables) == list(MEMBER_COLUMNS) == list(document["about"])
    assert document["rows"] == sum(len(rows) for rows in tables.values())
    for name, rows in tables.items():
        for row in rows:  # only rows that name ada
            assert str(ada) in {row[c] for c in MEMBER_COLUMNS[name]}, (name, row)
    [me] = tables["members"]
    assert me["display_name"] == "ada" and me["left_at"] is None
    grace = str(community.members["grace"])
    assert {(t["giver_id"], t["receiver_id"]) for t in tables["thanks"]} == {
        (str(ada), grace),
        (grace, str(ada)),
    }
    kinds = sorted(c["kind"] for c in tables["contributions"] if c["user_id"] == str(ada))
    # (a day's message credit lands once the day's messages can no longer be taken back)
    assert [k for k in kinds if k != "message_day"] == ["answer", "answer", "thanks_received"]
    assert [s["tier_key"] for s in tables["tier_states"]] == ["champion"]
    assert [c["to_tier"] for c in tables["tier_changes"]] == ["champion"]
    assert sum(day["messages"] for day in tables["activity_days"]) == 1  # flushed first
    assert tables["channel_presence"][0]["channel_id"] == str(community.channels["general"])
    assert [s["user_id"] for s in tables["newsletter_subscriptions"]] == [str(ada)]
    assert tables["nps_responses"] == [] and tables["buddy_pairs"] == []
    assert record.ephemeral  # nobody else sees it


# --------------------------------------------------------------------------- delete


async def test_cancel_keeps_everything(flywheel, emulator, community):
    await busy_member(flywheel, emulator, community)
    ada = community.members["ada"]
    await privacy(flywheel)._flush_activity()
    before = await rows_naming(flywheel.bot, ada)

    record = await slash(emulator, community, ada, "privacy delete")
    prompt = await private_reply(record)
    assert "Delete your Flywheel data in this server?" in prompt["content"]
    assert "tier (Champion)" in prompt["content"]
    assert "thanks you gave still count" in prompt["content"]
    cancel = await emulator.click_button(record.original, ada, button(record.original, "Cancel"))
    await cancel.wait_answer(timeout=10)
    await eventually(lambda: record.original["content"] == "Cancelled: nothing was deleted.")
    assert record.original["components"] == []

    assert await rows_naming(flywheel.bot, ada) == before
    champion = community.tier_role_ids["champion"]
    assert champion in emulator.member_roles(community.guild_id, ada)


async def test_delete_erases_the_member_and_keeps_everyone_elses_totals(
    flywheel, emulator, community
):
    bot = flywheel.bot
    await busy_member(flywheel, emulator, community)
    ada, grace = community.members["ada"], community.members["grace"]
    await privacy(flywheel)._flush_activity()
    totals_before = await others(bot, community)
    assert totals_before[0][grace]["thanks_received"].count == 1  # ada's thanks
    # A last post somewhere new: "who posted where" waits in memory (written every 10 s).
    off_topic = emulator.guild(community.guild_id).create_text_channel("off-topic").id
    await posted(flywheel, emulator, off_topic, ada, "Last question before I go, about exports")

    record = await slash(emulator, community, ada, "privacy delete")
    await private_reply(record)
    confirm = await emulator.click_button(
        record.original, ada, button(record.original, "Delete my data")
    )
    await confirm.wait_answer(timeout=10)  # "Deleting your data…", then the outcome
    await eventually(lambda: confirm.original["content"].startswith("Done: your data is deleted"))

    assert await rows_naming(bot, ada) == {"members.user_id": 1}  # the tombstone: still here
    # Nothing buffered before the erasure is written after it.
    bot.clock.advance(timedelta(minutes=10))
    await bot.services.activity.flush()
    assert await rows_naming(bot, ada) == {"members.user_id": 1}
    async with bot.services.sessions() as session:
        tomb = await session.get(Member, (bot.guild_id, ada))
        assert (tomb.display_name, tomb.joined_at, tomb.left_at) == ("", None, None)
        thanks = (await session.scalars(select(Thanks).order_by(Thanks.id))).all()
    assert [(t.giver_id, t.receiver_id) for t in thanks] == [
        (FORMER_MEMBER, grace),
        (grace, FORMER_MEMBER),
    ]
    assert await others(bot, community) == totals_before
    await eventually(lambda: not emulator.member_roles(community.guild_id, ada))
    [note] = bot_posts(emulator, community.channels["mod-log"])[-1:]
    assert note["content"].startswith("A member's data was erased at their request")
    assert "ada" not in note["content"] and str(ada) not in note["content"]

    # The export now shows only what the bot must know: that ada is here.
    record = await slash(emulator, community, ada, "privacy export")
    await private_reply(record)
    [attachment] = record.original["attachments"]
    document = json.loads(emulator.world.attachment_blobs[int(attachment["id"])])
    assert document["rows"] == 1
    assert document["tables"]["members"][0]["display_name"] == ""


# --------------------------------------------------------------------------- retention


@pytest.fixture
async def retaining(emulator, community, database_url, clock) -> Any:
    data = community_config(
        community, emulator, database_url=database_url, privacy={"retention_days": 30}
    )
    config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    async with running_bot(config, clock=clock, extensions=all_extensions()) as app:
        yield app


async def test_retention_purges_members_gone_longer_than_the_setting(
    retaining, emulator, community, clock
):
    bot = retaining.bot
    await busy_member(retaining, emulator, community)
    await privacy(retaining)._flush_activity()
    ada, grace = community.members["ada"], community.members["grace"]
    await emulator.member_leave(community.guild_id, ada)

    async def gone() -> bool:
        async with bot.services.sessions() as session:
            row = await session.get(Member, (bot.guild_id, ada), populate_existing=True)
            return row is not None and row.left_at is not None

    await eventually(gone)
    await privacy(retaining)._flush_activity()
    kept = await rows_naming(bot, ada)

    clock.advance(timedelta(days=29))
    assert await privacy(retaining).run_retention() == 0
    assert await rows_naming(bot, ada) == kept
    await privacy(retaining)._flush_activity()  # days now past the uncount window: credited
    totals_before = await others(bot, community)

    clock.advance(timedelta(days=2))
    assert await privacy(retaining).run_retention() == 1
    assert await rows_naming(bot, ada) == {}
    assert await others(bot, community) == totals_before
    async with bot.services.sessions() as session:
        given = await session.scalar(select(Thanks).where(Thanks.receiver_id == grace))
    assert given.giver_id == FORMER_MEMBER
    [note] = bot_posts(emulator, community.channels["mod-log"])[-1:]
    assert note["content"].startswith("Retention: erased the data of 1 member(s)")
    assert await privacy(retaining).run_retention() == 0  # nothing left to purge


async def test_retention_zero_keeps_everything(flywheel, emulator, community, clock):
    bot = flywheel.bot
    await busy_member(flywheel, emulator, community)
    ada = community.members["ada"]
    await emulator.member_leave(community.guild_id, ada)
    await settled(emulator, bot)
    clock.advance(timedelta(days=3650))
    # Ten years on, every buffered day is past its uncount window: credit them now, or the
    # periodic flusher may do it between the snapshot and the check (seen once in CI).
    await bot.services.activity.flush()
    kept = await rows_naming(bot, ada)
    assert await privacy(flywheel).run_retention() == 0
    assert await rows_naming(bot, ada) == kept


async def test_delete_leaves_nothing_in_the_database_that_names_the_member(
    flywheel, emulator, community, database_url, caplog
):
    """Her id, username and display name: in others' thanks reasons, her question titles,
    the bot's own wording of a moved answer, the logs, and the database file itself."""
    bot, m = flywheel.bot, community.members
    joined = await emulator.member_join(
        community.guild_id, "zeldaquist", global_name="Zelda Quintessa"
    )
    zelda = joined.user_id
    await members_synced(bot, [zelda])
    general = community.channels["general"]
    await posted(flywheel, emulator, general, zelda, "Here is how the exporter is configured")
    await posted(flywheel, emulator, general, m["grace"], "Oh nice, thank you")
    thanks = await slash(
        emulator,
        community,
        m["grace"],
        "thanks",
        member=zelda,
        reason=f"<@{zelda}> aka Zelda Quintessa (zeldaquist) fixed my exporter",
    )
    assert (await thanks.wait_answer(timeout=10))["type"] == 4
    # Her own question, whose title names her.
    await emulator.create_forum_post(
        community.channels["help"], zelda, "Zelda Quintessa asks: exporter", "How?", tags=[]
    )
    # linus's question: grace's answer is marked, then the mark moves to zelda's answer.
    thread, _ = await emulator.create_forum_post(
        community.channels["help"], m["linus"], "Sync fails", "Sync fails on Windows", tags=[]
    )
    thread_id = int(thread["id"])
    first = await emulator.post_message(thread_id, m["grace"], "Try reinstalling")
    better = await emulator.post_message(thread_id, zelda, "Set the path in the config")
    for answer in (first, better):
        marked = await emulator.invoke_message_command(
            community.guild_id, thread_id, m["linus"], "Mark as answer", message_id=answer["id"]
        )
        await marked.wait_answer(timeout=10)
        await settled(emulator, bot)
    await privacy(flywheel)._flush_activity()

    caplog.clear()
    caplog.set_level(logging.INFO)
    record = await slash(emulator, community, zelda, "privacy delete")
    await private_reply(record)
    confirm = await emulator.click_button(
        record.original, zelda, button(record.original, "Delete my data")
    )
    await confirm.wait_answer(timeout=10)
    await settled(emulator, bot)
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("bot", "cogs", "db")]
    assert ours, "the erasure is logged"
    leaks = [r.getMessage() for r in ours if str(zelda) in r.getMessage()]
    assert leaks == [], "no log line of ours ties her id to the erasure"

    # Every id column: only the tombstone (she is still in the server) keeps her id.
    assert await rows_naming(bot, zelda) == {"members.user_id": 1}
    async with bot.services.sessions() as session:
        await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for trace in (str(zelda), "zeldaquist", "Zelda Quintessa", "Zelda", "Quintessa"):
        assert trace.encode() not in stored, trace
        assert trace.casefold().encode() not in stored.lower(), trace


async def test_a_member_back_while_the_bot_was_away_keeps_their_data_at_start_up(
    emulator, community, database_url, clock, monkeypatch
):
    """The purge missed while the bot was down runs after the start-up member sync, however
    long the sync takes: the table then knows who came back, and their data stays."""
    data = community_config(
        community, emulator, database_url=database_url, privacy={"retention_days": 30}
    )
    config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    ada = community.members["ada"]
    async with running_bot(config, clock=clock, extensions=all_extensions()) as app:
        await busy_member(app, emulator, community)
        await emulator.member_leave(community.guild_id, ada)
        await eventually(lambda: member_left(app.bot, ada))
        await privacy(app)._flush_activity()
        kept = await rows_naming(app.bot, ada)
    clock.advance(timedelta(days=31))
    guild = emulator.world.guilds[community.guild_id]
    emulator.ops.member_join(guild, emulator.world.users[ada])  # back, with no bot listening
    sync = MembersService.sync

    async def slow(self: MembersService, members: Any) -> Any:
        await asyncio.sleep(0.5)
        return await sync(self, members)

    monkeypatch.setattr(MembersService, "sync", slow)
    async with running_bot(config, clock=clock, extensions=all_extensions()) as app:
        await eventually(lambda: back(app.bot, ada))
        await settled(emulator, app.bot)
        assert set(await rows_naming(app.bot, ada)) == set(kept)
    notes = [p["content"] for p in bot_posts(emulator, community.channels["mod-log"])]
    assert not [n for n in notes if n.startswith("Retention:")]


async def member_left(bot: Any, user_id: int) -> bool:
    async with bot.services.sessions() as session:
        row = await session.get(Member, (bot.guild_id, user_id), populate_existing=True)
        return row is not None and row.left_at is not None


async def back(bot: Any, user_id: int) -> bool:
    async with bot.services.sessions() as session:
        row = await session.get(Member, (bot.guild_id, user_id), populate_existing=True)
        return row is not None and row.left_at is None and row.display_name == "ada"
