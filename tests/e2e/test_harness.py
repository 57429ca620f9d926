"""The real bot against the local emulator: start, sync, preflight, interactions, shutdown."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest
from discord.gateway import DiscordWebSocket
from sqlalchemy import func, select

from bot.client import all_extensions
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from bot.scheduling import Recurring
from db.models import Member
from tests.e2e.conftest import PROBE_EXTENSION
from tests.e2e.util import bot_posts, command_syncs, eventually, settled
from tests.helpers import write_config

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


async def test_bot_reaches_ready_with_the_guild_and_its_intents(flywheel, emulator, community):
    bot = flywheel.bot
    guild = bot.get_guild(community.guild_id)
    assert guild is not None and guild.name == "Flywheel Demo Community"
    assert guild.get_channel(community.channels["help"]).type is discord.ChannelType.forum
    assert {r.name for r in guild.roles} >= {"Champion", "Ambassador", "Advisor", "Flywheel"}
    assert len(guild.members) >= 6
    intents = discord.Intents._from_value(emulator.identified_intents[-1])
    assert intents.members and intents.message_content and intents.guild_scheduled_events
    assert intents.voice_states and intents.invites


async def test_commands_sync_once_and_not_again_when_unchanged(
    emulator, community, bot_config, clock
):
    extensions = [*all_extensions(), PROBE_EXTENSION]
    async with running_bot(bot_config, clock=clock, extensions=extensions):
        pass
    assert len(command_syncs(emulator)) == 1
    synced = {c["name"] for c in emulator.commands(guild_id=community.guild_id)}
    assert {"probe-echo", "Quote"} <= synced

    async with running_bot(bot_config, clock=clock, extensions=extensions):
        pass
    assert len(command_syncs(emulator)) == 1, "unchanged commands must not be re-synced"

    async with running_bot(bot_config, clock=clock, extensions=all_extensions()):
        pass
    assert len(command_syncs(emulator)) == 2, "a changed command set is synced"


async def test_a_healthy_setup_posts_no_preflight_alert(flywheel, emulator, community):
    assert flywheel.bot.get_cog("Preflight").problems == []
    assert bot_posts(emulator, community.channels["mod-log"]) == []


@pytest.mark.parametrize("bot_role_position", [6])
async def test_preflight_tells_moderators_which_role_to_move(flywheel, emulator, community):
    # The report is posted while other start-up work (the feedback forum's tags) goes on.
    [alert] = await eventually(lambda: bot_posts(emulator, community.channels["mod-log"]))
    assert "move the Flywheel role above Advisor" in alert["content"]
    assert "Champion" not in alert["content"].split("Fix:")[0]  # Champion is below the bot
    assert alert["allowed_mentions"] == {"parse": []}


async def test_slash_command_reply_is_ephemeral(flywheel, emulator, community):
    interaction = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.members["ada"],
        "probe-echo",
        options={"text": "hello"},
    )
    response = await interaction.wait_answer(timeout=5)
    assert response["type"] == 4
    assert response["data"]["content"] == "echo: hello"
    assert response["data"]["flags"] & 64


async def test_context_menu_opens_a_modal_and_the_submission_is_answered(
    flywheel, emulator, community
):
    message = await emulator.post_message(
        community.channels["general"], community.members["grace"], "Use the migration guide"
    )
    menu = await emulator.invoke_message_command(
        community.guild_id,
        community.channels["general"],
        community.members["ada"],
        "Quote",
        message_id=int(message["id"]),
    )
    opened = await menu.wait_answer(timeout=5)
    assert opened["type"] == 9 and opened["data"]["custom_id"] == "probe:modal"
    submitted = await emulator.submit_modal(
        menu, community.members["ada"], values={"probe:comment": "so true"}
    )
    answer = await submitted.wait_answer(timeout=5)
    assert answer["data"]["content"] == "You said 'so true' about 'Use the migration guide'"


async def test_button_click_updates_the_message(flywheel, emulator, community):
    posting = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.members["ada"],
        "probe-button",
    )
    await posting.wait_answer(timeout=5)
    [card] = [
        m for m in bot_posts(emulator, community.channels["general"]) if m["content"] == "Press it"
    ]
    click = await emulator.click_button(card, community.members["grace"], "probe:count")
    update = await click.wait_answer(timeout=5)
    assert update["type"] == 7
    [row] = update["data"]["components"]
    assert row["components"][0]["label"] == "Clicked 1"


async def test_user_errors_are_shown_and_bugs_get_a_reference(flywheel, emulator, community):
    refused = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.members["ada"],
        "probe-refuse",
    )
    refusal = (await refused.wait_answer(timeout=5))["data"]
    assert refusal["content"] == "That link is not http(s)." and refusal["flags"] & 64

    crashed = await emulator.invoke_slash_command(
        community.guild_id,
        community.channels["general"],
        community.members["ada"],
        "probe-crash",
    )
    apology = (await crashed.wait_answer(timeout=5))["data"]
    assert apology["flags"] & 64
    assert "something went wrong" in apology["content"] and "reference" in apology["content"]
    assert "internal detail" not in apology["content"]
    assert "Traceback" not in apology["content"]


@pytest.mark.parametrize("bot_role_position", [6])
async def test_rate_limited_post_is_retried_not_lost(emulator, community, bot_config, clock):
    emulator.rate_limit("POST", r"/channels/\d+/messages", times=1, retry_after=0.3)
    async with running_bot(bot_config, clock=clock) as app:
        await settled(emulator, app.bot)  # the preflight report, retried after its 429
    posts = [
        r
        for r in emulator.request_log
        if r.method == "POST"
        and r.path.endswith(f"/channels/{community.channels['mod-log']}/messages")
    ]
    assert [r.status for r in posts] == [429, 200]
    assert len(bot_posts(emulator, community.channels["mod-log"])) == 1


async def test_run_subprocess_shuts_down_cleanly_on_sigterm(emulator, community, tmp_path):
    data = community_config(
        community,
        emulator,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}",
        logging={"level": "INFO"},
    )
    config = write_config(tmp_path / "config.toml", data)
    env = {**os.environ, "DISCORD_TOKEN": EMULATOR_TOKEN}
    early = b""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        await eventually(
            lambda: command_syncs(emulator) or process.returncode is not None,
            within=20,
            interval=0.1,
        )
        assert command_syncs(emulator), "the bot never synced its commands"
        assert process.returncode is None
        # A process that runs nothing but the bot keeps its start-up heap out of full
        # collections, once start-up is done (just after the commands are synced).
        assert process.stderr is not None
        early = b""
        while not re.search(rb"start-up heap frozen: [1-9]\d* objects", early):
            line = await asyncio.wait_for(process.stderr.readline(), timeout=20)
            assert line, early.decode()
            early += line
        process.send_signal(signal.SIGTERM)
        _, stderr_bytes = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    stderr = (early + stderr_bytes).decode()
    assert process.returncode == 0, stderr
    assert "shut down cleanly" in stderr
    assert EMULATOR_TOKEN not in stderr


async def test_a_bot_stopped_while_it_reconnects_stops_cleanly(
    emulator, community, bot_config, clock, monkeypatch
):
    """A reconnect discord.py began before ``close()`` and that fails after it makes its
    connect loop dispatch ``disconnect`` on a client with no event loop left: the event is
    dropped, not raised out of ``bot.start()`` (the chaos suite hit this once)."""
    reconnecting, fail = asyncio.Event(), asyncio.Event()

    async def reconnect_that_fails_late(*args: object, **kwargs: object) -> None:
        reconnecting.set()
        await fail.wait()
        raise OSError("connection lost while reconnecting")

    async with running_bot(bot_config, clock=clock) as app:
        monkeypatch.setattr(DiscordWebSocket, "from_client", reconnect_that_fails_late)
        emulator.drop_gateway()
        await asyncio.wait_for(reconnecting.wait(), timeout=10)
        await app.close()
        fail.set()
    # running_bot has awaited bot.start(): it ended without an error.
    assert app.bot.is_closed()


async def test_scheduled_work_running_at_shutdown_finishes_before_the_store_closes(
    emulator, community, bot_config, clock
):
    """APScheduler's shutdown cancels the jobs it runs without waiting: a post cut off mid-way.
    The bot stops new wake-ups, lets running work finish, then closes the store."""
    started, go_on = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async with running_bot(bot_config, clock=clock) as app:
        bot = app.bot
        schedule = bot.communities[0].schedule

        async def members_stored() -> int:
            async with bot.services.sessions() as session:
                return int(await session.scalar(select(func.count(Member.user_id))))

        async def post() -> None:
            started.set()
            await go_on.wait()
            finished.append(await members_stored())  # the store is still open

        await bot.communities[0].members_synced.wait()
        stored = await members_stored()
        schedule.add(Recurring(key="slow-post", run=post, every=timedelta(hours=1)))
        schedule.scheduler.modify_job("slow-post", next_run_time=datetime.now(UTC))
        await asyncio.wait_for(started.wait(), timeout=10)
        closing = asyncio.create_task(app.close())
        await asyncio.sleep(0.3)  # shutdown is under way, the work still running
        assert not closing.done()
        go_on.set()
        await closing
    assert finished == [stored]
