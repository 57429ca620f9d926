"""Forum channels and tags, refereed as Discord does, driven by an unmodified discord.py."""

from __future__ import annotations

import discord
import pytest

from emulator import permissions
from tests.e2e.util import eventually

from .conftest import make_client, running

FEEDBACK_TAGS = ["Open", "Planned", "In progress", "Shipped", "Declined"]
BOT_PERMS = permissions.MANAGE_CHANNELS | permissions.MANAGE_THREADS | permissions.MANAGE_ROLES


class Vote(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.clicks = 0

    @discord.ui.button(label="+1", custom_id="feedback:vote")
    async def vote(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        self.clicks += 1
        await interaction.response.send_message("counted", ephemeral=True)


async def _bad(coro, code: int) -> discord.HTTPException:
    with pytest.raises(discord.HTTPException) as info:
        await coro
    assert info.value.code == code, info.value.text
    return info.value


async def test_feedback_forum_lifecycle(emu, world):
    world.guild.edit_role(world.bot_role, permissions=BOT_PERMS)
    client = make_client()
    view = Vote()
    async with running(client):
        client.add_view(view)
        forum = client.get_guild(world.guild.id).get_channel(world.forum.id)
        before = {t["name"]: t["id"] for t in emu.forum_tags(world.forum.id)}
        # (a) start-up: add the missing tags, keeping the existing ones (and their ids)
        tags = list(forum.available_tags) + [discord.ForumTag(name=n) for n in FEEDBACK_TAGS]
        forum = await forum.edit(available_tags=tags)
        names = [t["name"] for t in emu.forum_tags(world.forum.id)]
        assert names == ["Solved", "Question", *FEEDBACK_TAGS]
        after = {t["name"]: t["id"] for t in emu.forum_tags(world.forum.id)}
        assert {k: after[k] for k in before} == before
        cached = client.get_guild(world.guild.id).get_channel(world.forum.id)
        await eventually(lambda: len(cached.available_tags) == 7)  # CHANNEL_UPDATE carried them

        by_name = {t.name: t for t in forum.available_tags}
        # (b) a post with a persistent button and the Open tag
        created = await forum.create_thread(
            name="Dark mode",
            content="Please add dark mode",
            view=view,
            applied_tags=[by_name["Open"]],
        )
        thread, starter = created.thread, created.message
        assert starter.id == thread.id
        assert emu.applied_tag_names(thread.id) == ["Open"]
        record = await emu.click_button(starter.id, world.alice.id, "feedback:vote")
        body = await record.wait_response(timeout=5)
        assert body["type"] == 4 and view.clicks == 1

        # (c) status change, starter edit, reply
        thread = await thread.edit(applied_tags=[by_name["Planned"]])
        assert [t.name for t in thread.applied_tags] == ["Planned"]
        assert emu.applied_tag_names(thread.id) == ["Planned"]
        guild = client.get_guild(world.guild.id)
        await eventually(
            lambda: [t.name for t in guild.get_thread(thread.id).applied_tags] == ["Planned"]
        )  # THREAD_UPDATE carried them
        await thread.get_partial_message(thread.id).edit(content="Dark mode — planned")
        await thread.send("We're on it")
        contents = [m["content"] for m in emu.messages(thread.id)]
        assert "Dark mode — planned" in contents and "We're on it" in contents

        # (d) archive and lock; an archived thread refuses edits until unarchived
        thread = await thread.edit(archived=True, locked=True)
        assert thread.archived and thread.locked
        await _bad(thread.edit(applied_tags=[by_name["Shipped"]]), 50083)
        thread = await thread.edit(archived=False, applied_tags=[by_name["Shipped"]])
        assert emu.applied_tag_names(thread.id) == ["Shipped"]

        # removing a tag from the forum takes it off the posts that carried it
        keep = [t for t in forum.available_tags if t.name != "Shipped"]
        await forum.edit(available_tags=keep)
        assert emu.applied_tag_names(thread.id) == []
        assert emu.world.channels[thread.id].applied_tags == []


async def test_applied_tags_limits(emu, world):
    world.guild.edit_role(world.bot_role, permissions=BOT_PERMS)
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        forum = guild.get_channel(world.forum.id)
        forum = await forum.edit(
            available_tags=[
                *forum.available_tags,
                *(discord.ForumTag(name=f"t{i}") for i in range(5)),
                discord.ForumTag(name="Staff", moderated=True),
            ],
            require_tag=True,
        )
        tags = {t.name: t for t in forum.available_tags}
        created = await forum.create_thread(
            name="post", content="x", applied_tags=[tags["Question"]]
        )
        thread = created.thread
        # at most 5
        await _bad(
            thread.edit(applied_tags=[tags[f"t{i}"] for i in range(5)] + [tags["Solved"]]), 50035
        )
        # only the parent forum's tags
        err = await _bad(thread.edit(applied_tags=[discord.Object(id=12345)]), 50035)
        assert "applied_tags" in err.text
        # REQUIRE_TAG: a post cannot end up without tags
        await _bad(thread.edit(applied_tags=[]), 50035)
        # unchanged after the refusals
        assert emu.applied_tag_names(thread.id) == ["Question"]
        # moderated tags: the bot, with MANAGE_THREADS, may add them
        thread = await thread.edit(applied_tags=[tags["Staff"]])
        assert emu.applied_tag_names(thread.id) == ["Staff"]

        # without MANAGE_THREADS the owner may retag, but not add or remove a moderated tag
        world.guild.edit_role(world.bot_role, permissions=permissions.MANAGE_CHANNELS)
        await eventually(lambda: not guild.me.guild_permissions.manage_threads)
        await _bad(thread.edit(applied_tags=[tags["Question"]]), 50013)
        thread = await thread.edit(applied_tags=[tags["Staff"], tags["Question"]])
        assert emu.applied_tag_names(thread.id) == ["Staff", "Question"]
        with pytest.raises(discord.HTTPException) as info:  # a moderated tag on a new post
            await forum.create_thread(name="p2", content="y", applied_tags=[tags["Staff"]])
        assert info.value.code == 50013

        # a post opened by someone else: neither owner nor MANAGE_THREADS
        data, _ = await emu.create_forum_post(
            world.forum.id, world.alice.id, "alice's", "hi", tags=["Question"]
        )
        await eventually(lambda: guild.get_thread(int(data["id"])) is not None)
        other = guild.get_thread(int(data["id"]))
        await _bad(other.edit(applied_tags=[tags["Solved"]]), 50013)

        # a thread outside a forum has no tags
        general = guild.get_channel(world.general.id)
        plain = await general.create_thread(name="chat", type=discord.ChannelType.public_thread)
        await _bad(plain.edit(applied_tags=[tags["Solved"]]), 50035)


async def test_available_tags_limits(emu, world):
    world.guild.edit_role(world.bot_role, permissions=BOT_PERMS)
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        forum = guild.get_channel(world.forum.id)
        http = client.http
        snapshot = emu.forum_tags(world.forum.id)
        # at most 20
        too_many = [discord.ForumTag(name=f"t{i}") for i in range(21)]
        await _bad(forum.edit(available_tags=too_many), 50035)
        # name 1-20 characters
        err = await _bad(forum.edit(available_tags=[discord.ForumTag(name="x" * 21)]), 50035)
        assert "available_tags.0.name" in err.text  # the nested errors tree, as Discord's
        await _bad(http.edit_channel(forum.id, available_tags=[{"name": ""}]), 50035)
        # at most one of emoji_id / emoji_name
        both = [{"name": "e", "emoji_id": "123", "emoji_name": "🙂"}]
        await _bad(http.edit_channel(forum.id, available_tags=both), 50035)
        # an id that is not one of this forum's tags
        await _bad(http.edit_channel(forum.id, available_tags=[{"id": "42", "name": "x"}]), 50035)
        # only forums have tags
        await _bad(http.edit_channel(world.general.id, available_tags=[{"name": "x"}]), 50035)
        assert emu.forum_tags(world.forum.id) == snapshot
        # creating a forum obeys the same limits
        await _bad(guild.create_forum("f", available_tags=too_many), 50035)
        await _bad(guild.create_forum("f", available_tags=[discord.ForumTag(name="x" * 21)]), 50035)
        made = await guild.create_forum(
            "ideas", available_tags=[discord.ForumTag(name="Open", emoji="🟢")]
        )
        assert [(t["name"], t["emoji_name"]) for t in emu.forum_tags(made.id)] == [("Open", "🟢")]
        # MANAGE_CHANNELS is needed
        world.guild.edit_role(world.bot_role, permissions=permissions.MANAGE_THREADS)
        await eventually(lambda: not guild.me.guild_permissions.manage_channels)
        await _bad(forum.edit(available_tags=[discord.ForumTag(name="Open")]), 50013)
