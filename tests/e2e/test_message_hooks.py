"""Messages reach the message hooks as the gateway event is parsed: no task per message."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.app import App


async def test_hooks_run_as_the_message_is_parsed_with_no_task_per_message(
    flywheel: App, emulator, community
):
    bot = flywheel.bot
    ada, general = community.members["ada"], community.channels["general"]
    tasks: list[str] = []
    bot.only.on_every_message(lambda message: tasks.append(asyncio.current_task().get_name()))
    started = {task.get_name() for task in asyncio.all_tasks()}
    waiter = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.content == "one"))

    await emulator.post_message(general, ada, "one")
    message = await asyncio.wait_for(waiter, 10)

    assert message.author.id == ada, "wait_for('message') still works"
    [name] = tasks
    assert not name.startswith("discord.py: on_message"), name
    running = {task.get_name() for task in asyncio.all_tasks()} - started
    assert not any(name.startswith("discord.py: on_message") for name in running), running


async def test_a_failing_hook_is_logged_and_stops_neither_the_others_nor_the_gateway(
    flywheel: App, emulator, community, caplog
):
    bot = flywheel.bot
    ada, general = community.members["ada"], community.channels["general"]
    seen: list[str] = []

    def broken(message: discord.Message) -> None:
        raise ValueError(f"cannot read {message.content}")

    bot.only.on_every_message(broken)
    bot.only.on_every_message(lambda message: seen.append(message.content))
    waiter = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.content == "two"))

    with caplog.at_level(logging.ERROR, logger="bot.client"):
        await emulator.post_message(general, ada, "one")
        await emulator.post_message(general, ada, "two")
        await asyncio.wait_for(waiter, 10)

    assert seen == ["one", "two"]
    failures = [r for r in caplog.records if "message hook" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None and "cannot read one" in str(failures[0].exc_info[1])


async def test_a_listener_added_for_on_message_still_hears_messages(
    flywheel: App, emulator, community
):
    bot = flywheel.bot
    heard = asyncio.get_running_loop().create_future()

    async def on_message(message: discord.Message) -> None:
        if not heard.done():
            heard.set_result(message.content)

    bot.add_listener(on_message)
    try:
        await emulator.post_message(community.channels["general"], community.members["ada"], "hi")
        assert await asyncio.wait_for(heard, 10) == "hi"
    finally:
        bot.remove_listener(on_message)
