"""Administrative REST routes through discord.py: roles, channels, moderation, threads."""

from __future__ import annotations

import datetime

import discord
import pytest

from emulator import permissions
from tests.e2e.util import eventually

from .conftest import make_client, running

ADMINISH = (
    permissions.MANAGE_ROLES
    | permissions.MANAGE_CHANNELS
    | permissions.MANAGE_GUILD
    | permissions.KICK_MEMBERS
    | permissions.BAN_MEMBERS
    | permissions.MODERATE_MEMBERS
    | permissions.MANAGE_MESSAGES
    | permissions.MANAGE_THREADS
    | permissions.MANAGE_NICKNAMES
)


async def test_role_crud_over_rest(emu, world):
    world.guild.edit_role(world.bot_role, permissions=ADMINISH)
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        await eventually(lambda: guild.me.guild_permissions.kick_members)
        role = await guild.create_role(name="Champion", mentionable=True, reason="tiers")
        assert role.position == 1
        await eventually(lambda: guild.get_role(role.id) is not None)
        assert guild.get_role(world.bot_role.id).position == 11  # pushed up by the new role
        edited = await role.edit(name="Champions", colour=discord.Colour.gold())
        assert edited.name == "Champions"
        with pytest.raises(discord.Forbidden):  # cannot grant what the bot lacks
            await guild.create_role(
                name="Admins", permissions=discord.Permissions(administrator=True)
            )
        with pytest.raises(discord.Forbidden):  # above the bot
            await guild.get_role(world.top_role.id).edit(name="nope")
        await role.delete()
        await eventually(lambda: guild.get_role(role.id) is None)
        roles = await guild.fetch_roles()
        assert "Champions" not in {r.name for r in roles}


async def test_channels_and_overwrites_over_rest(emu, world):
    world.guild.edit_role(world.bot_role, permissions=ADMINISH)
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        await eventually(lambda: guild.me.guild_permissions.manage_channels)
        created = await guild.create_text_channel(
            "ambassadors",
            overwrites={
                guild.default_role: discord.PermissionOverwrite(view_channel=False),
                guild.me: discord.PermissionOverwrite(view_channel=True),
            },
        )
        await eventually(lambda: guild.get_channel(created.id) is not None)
        await created.edit(topic="for ambassadors", slowmode_delay=5)
        await eventually(lambda: guild.get_channel(created.id).topic == "for ambassadors")
        alice = guild.get_member(world.alice.id)
        await created.set_permissions(alice, view_channel=True)
        await eventually(lambda: guild.get_channel(created.id).permissions_for(alice).view_channel)
        fetched = await client.fetch_channel(created.id)
        assert fetched.slowmode_delay == 5
        await created.delete()
        await eventually(lambda: guild.get_channel(created.id) is None)
    assert emu.world.channels.get(created.id) is None


async def test_moderation_kick_ban_timeout(emu, world):
    world.guild.edit_role(world.bot_role, permissions=ADMINISH)
    removed: list[int] = []
    banned: list[int] = []
    client = make_client()

    @client.event
    async def on_member_remove(member):
        removed.append(member.id)

    @client.event
    async def on_member_ban(guild, user):
        banned.append(user.id)

    async with running(client):
        guild = client.get_guild(world.guild.id)
        await eventually(lambda: guild.me.guild_permissions.ban_members)
        alice = guild.get_member(world.alice.id)
        until = discord.utils.utcnow() + datetime.timedelta(minutes=10)
        await alice.timeout(until)
        await eventually(lambda: guild.get_member(world.alice.id).is_timed_out())
        await alice.edit(nick="Al")
        await guild.get_member(world.bob.id).kick(reason="spam")
        await guild.ban(discord.Object(id=world.shy.id), reason="raid")
        with pytest.raises(discord.Forbidden):
            await guild.get_member(world.owner.id).kick()
        await eventually(lambda: len(removed) == 2 and banned == [world.shy.id])
        bans = [entry.user.id async for entry in guild.bans()]
        assert bans == [world.shy.id]
        await guild.unban(discord.Object(id=world.shy.id))
    assert world.guild.member(world.alice.id).nick == "Al"
    assert set(removed) == {world.bob.id, world.shy.id}


async def test_thread_membership_and_archives(emu, world):
    world.guild.edit_role(world.bot_role, permissions=ADMINISH)
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        await eventually(lambda: guild.me.guild_permissions.manage_threads)
        general = guild.get_channel(world.general.id)
        thread = await general.create_thread(
            name="private", type=discord.ChannelType.private_thread
        )
        await thread.add_user(discord.Object(id=world.alice.id))
        members = await thread.fetch_members()
        assert {m.id for m in members} == {emu.bot_user_id, world.alice.id}
        await thread.remove_user(discord.Object(id=world.alice.id))
        await thread.edit(archived=True)
        archived = [t.id async for t in general.archived_threads(private=True)]
        assert archived == [thread.id]
        public = await general.create_thread(name="public", type=discord.ChannelType.public_thread)
        await public.leave()
        assert emu.bot_user_id not in emu.world.channels[public.id].thread_members
    # a public thread without a starter message leaves a system message in the parent
    [note] = [m for m in emu.messages(world.general.id) if m["type"] == 18]
    assert note["content"] == "public"


async def test_misc_reads(emu, world):
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        fetched = await client.fetch_guild(world.guild.id, with_counts=True)
        assert fetched.approximate_member_count == 5
        member = await guild.fetch_member(world.alice.id)
        assert member.name == "alice"
        user = await client.fetch_user(world.bob.id)
        assert user.name == "bob"
        guilds = [g.id async for g in client.fetch_guilds()]
        assert guilds == [world.guild.id]
        channels = await guild.fetch_channels()
        assert {c.name for c in channels} >= {"general", "help", "Lounge"}
        await emu.voice_join(world.guild.id, world.alice.id, world.voice.id)
        state = await member.fetch_voice()
        assert state.channel.id == world.voice.id
        with pytest.raises(discord.NotFound):
            await guild.fetch_member(424242)
        with pytest.raises(discord.NotFound):
            await client.fetch_channel(424242)
        news = guild.get_channel(world.announcements.id)
        posted = await news.send("release notes")
        await posted.publish()
        assert emu.message(posted.id)["flags"] & 1
