"""REST behaviour through discord.py's own HTTP client and models."""

from __future__ import annotations

import asyncio
import datetime
import io

import aiohttp
import discord
import pytest

from emulator import permissions
from tests.e2e.util import eventually

from .conftest import TOKEN, make_client, running


async def test_role_assignment_follows_discords_hierarchy(emu, world):
    client = make_client()
    updates: list[tuple[list[int], list[int]]] = []

    @client.event
    async def on_member_update(before, after):
        updates.append(([r.id for r in before.roles], [r.id for r in after.roles]))

    async with running(client):
        guild = client.get_guild(world.guild.id)
        alice = guild.get_member(world.alice.id)
        below = guild.get_role(world.mod_role.id)
        await alice.add_roles(below, reason="earned it")
        assert world.mod_role.id in emu.member_roles(world.guild.id, world.alice.id)
        await eventually(lambda: updates)
        assert world.mod_role.id in updates[-1][1]
        assert world.mod_role.id in [r.id for r in guild.get_member(world.alice.id).roles]

        for forbidden in (guild.get_role(world.top_role.id), guild.get_role(world.bot_role.id)):
            with pytest.raises(discord.Forbidden) as caught:
                await alice.add_roles(forbidden)
            assert caught.value.code == 50013 and caught.value.status == 403
            assert forbidden.id not in emu.member_roles(world.guild.id, world.alice.id)

        await alice.remove_roles(below)
        assert world.mod_role.id not in emu.member_roles(world.guild.id, world.alice.id)

        # edit(roles=...) goes through PATCH /members and the same checks
        await alice.edit(roles=[guild.get_role(world.member_role.id), below])
        with pytest.raises(discord.Forbidden):
            await alice.edit(roles=[guild.get_role(world.top_role.id)])
    changes = [(c.role_id, c.action, c.reason) for c in emu.role_changes]
    assert changes == [
        (world.mod_role.id, "add", "earned it"),
        (world.mod_role.id, "remove", None),
        (world.mod_role.id, "add", None),
    ]
    assert all(c.actor_id == emu.bot_user_id for c in emu.role_changes)


async def test_administrator_bypasses_permissions_but_not_hierarchy(emu, world):
    g = world.guild
    g.edit_role(world.bot_role, permissions=permissions.ADMINISTRATOR)
    g.edit_role(world.mod_role, position=10)  # same position as the bot's role
    client = make_client()
    async with running(client):
        guild = client.get_guild(g.id)
        alice = guild.get_member(world.alice.id)
        await alice.add_roles(guild.get_role(world.member_role.id))
        with pytest.raises(discord.Forbidden) as caught:
            await alice.add_roles(guild.get_role(world.mod_role.id))
        assert caught.value.code == 50013


async def test_missing_manage_roles_and_managed_roles_are_refused(emu, world):
    g = world.guild
    managed = g.create_role("Booster", managed=True, position=3)
    client = make_client()
    async with running(client):
        guild = client.get_guild(g.id)
        alice = guild.get_member(world.alice.id)
        with pytest.raises(discord.Forbidden):
            await alice.add_roles(guild.get_role(managed.id))
        g.edit_role(world.bot_role, permissions=0)
        await eventually(lambda: not guild.me.guild_permissions.manage_roles)
        with pytest.raises(discord.Forbidden) as caught:
            await alice.add_roles(guild.get_role(world.member_role.id))
        assert caught.value.code == 50013


async def test_rate_limit_is_retried_by_discord_py(emu, world):
    rule = emu.rate_limit("POST", r"/channels/\d+/messages$", times=1, retry_after=0.2)
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        message = await channel.send("after a 429")
    assert rule.hits == 1
    posts = emu.requests("POST", rf"/channels/{world.general.id}/messages$")
    assert [r.status for r in posts] == [429, 200]
    assert posts[0].response == {
        "message": "You are being rate limited.",
        "retry_after": 0.2,
        "global": False,
        "code": 0,
    }
    assert [m["id"] for m in emu.messages(world.general.id)] == [str(message.id)]


async def test_response_headers_match_discord(emu, world):
    emu.rate_limit("GET", r"^/users/@me$", retry_after=1.5, global_=True)
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{emu.api_base}/users/@me") as limited:
            assert limited.status == 429
            assert limited.headers["Content-Type"] == "application/json"
            assert limited.headers["Retry-After"] == "2"
            assert limited.headers["X-RateLimit-Scope"] == "global"
            assert limited.headers["X-RateLimit-Global"] == "true"
            # Discord's global 429 names no bucket: it is not a route's limit.
            for name in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
                assert f"X-RateLimit-{name}" not in limited.headers
            assert (await limited.json())["global"] is True
        async with session.get(f"{emu.api_base}/users/@me") as ok:
            assert ok.status == 200 and ok.headers["Content-Type"] == "application/json"
            assert int(ok.headers["X-RateLimit-Remaining"]) > 0
            assert (await ok.json())["id"] == str(emu.bot_user_id)
        async with session.get(f"{emu.api_base}/channels/{world.general.id}/messages/1") as missing:
            assert missing.status == 404
            assert await missing.json() == {"message": "Unknown Message", "code": 10008}
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{emu.api_base}/users/@me") as denied,
    ):
        assert denied.status == 401
        assert await denied.json() == {"message": "401: Unauthorized", "code": 0}


async def test_unknown_route_is_not_found_and_recorded(emu, world):
    client = make_client()
    async with running(client):
        with pytest.raises(discord.NotFound) as caught:
            await client.http.request(discord.http.Route("GET", "/not/a/route"))
        assert caught.value.text == "404: Not Found"
    assert emu.unknown_routes == [{"method": "GET", "path": "/not/a/route"}]


async def test_dm_to_a_user_who_refuses_dms_is_forbidden(emu, world):
    client = make_client()
    async with running(client):
        alice = await client.fetch_user(world.alice.id)
        await alice.send("welcome!")
        shy = await client.fetch_user(world.shy.id)
        with pytest.raises(discord.Forbidden) as caught:
            await shy.send("hello?")
        assert caught.value.code == 50007
    assert [m["content"] for m in emu.dms(world.alice.id)] == ["welcome!"]
    assert emu.dms(world.shy.id) == []


async def test_multipart_attachments_are_recorded_and_downloadable(emu, world):
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        sent = await channel.send(
            "report attached",
            file=discord.File(io.BytesIO(b"id,points\n1,50\n"), filename="report.csv"),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        [attachment] = sent.attachments
        assert attachment.filename == "report.csv" and attachment.size == 15
        assert await attachment.read() == b"id,points\n1,50\n"
    [stored] = emu.messages(world.general.id)
    assert stored["attachments"][0]["content_type"] == "text/csv; charset=utf-8"
    assert stored["allowed_mentions"] == {"parse": []}
    [post] = emu.requests("POST", r"/messages$")
    assert post.files == [{"field": "files[0]", "filename": "report.csv", "size": 15}]
    assert post.json["content"] == "report attached"


async def test_send_permissions_and_validation(emu, world):
    g = world.guild
    g.set_overwrite(world.announcements, world.bot_role, deny=permissions.SEND_MESSAGES)
    client = make_client()
    async with running(client):
        with pytest.raises(discord.Forbidden) as caught:
            await client.get_channel(world.announcements.id).send("nope")
        assert caught.value.code == 50013
        with pytest.raises(discord.Forbidden) as caught:
            await client.http.send_message(world.secret.id, params=_params("hidden"))
        assert caught.value.code == 50001
        general = client.get_channel(world.general.id)
        with pytest.raises(discord.HTTPException) as caught:
            await general.send("x" * 2001)
        assert caught.value.code == 50035 and "content" in caught.value.text
        with pytest.raises(discord.HTTPException) as caught:
            await general.send(embed=discord.Embed(title="t" * 257))
        assert caught.value.code == 50035
        with pytest.raises(discord.HTTPException) as caught:
            await client.http.send_message(world.general.id, params=_params(None))
        assert caught.value.code == 50006
    assert emu.messages(world.general.id) == []


def _params(content):
    return discord.http.handle_message_parameters(content=content)


async def test_mentions_respect_allowed_mentions(emu, world):
    client = make_client()
    async with running(client):
        general = client.get_channel(world.general.id)
        await general.send(
            f"<@{world.alice.id}> @everyone", allowed_mentions=discord.AllowedMentions.none()
        )
        await general.send(f"<@{world.alice.id}> <@&{world.member_role.id}>")
    quiet, loud = emu.messages(world.general.id)
    assert quiet["mentions"] == [] and quiet["mention_everyone"] is False
    assert [u["id"] for u in loud["mentions"]] == [str(world.alice.id)]
    assert loud["mention_roles"] == []  # role is not mentionable and the bot lacks MENTION_EVERYONE


async def test_messages_history_edit_delete_reactions_pins(emu, world):
    events: list[str] = []
    client = make_client()

    @client.event
    async def on_raw_reaction_add(payload):
        events.append(f"react:{payload.emoji.name}:{payload.user_id}")

    @client.event
    async def on_raw_message_edit(payload):
        events.append(f"edit:{payload.message_id}")

    async with running(client):
        channel = client.get_channel(world.general.id)
        first = await emu.post_message(world.general.id, world.alice.id, "first")
        second = await emu.post_message(
            world.general.id, world.bob.id, "second", reply_to=first["id"]
        )
        assert second["type"] == 19 and second["referenced_message"]["id"] == first["id"]
        mine = await channel.send("third")
        history = [m.content async for m in channel.history(limit=10)]
        assert history == ["third", "second", "first"]
        older = [m.content async for m in channel.history(limit=10, before=mine)]
        assert older == ["second", "first"]
        fetched = await channel.fetch_message(int(first["id"]))
        await fetched.add_reaction("👍")
        await emu.add_reaction(world.general.id, first["id"], world.bob.id, "👍")
        await eventually(lambda: len([e for e in events if e.startswith("react")]) == 2)
        fetched = await channel.fetch_message(int(first["id"]))
        assert fetched.reactions[0].count == 2 and fetched.reactions[0].me
        users = [u.id async for u in fetched.reactions[0].users()]
        assert set(users) == {emu.bot_user_id, world.bob.id}
        await mine.edit(content="third, edited")
        await mine.pin()
        assert [p.id async for p in channel.pins()] == [mine.id]
        with pytest.raises(discord.Forbidden) as caught:  # no MANAGE_MESSAGES
            await fetched.delete()
        assert caught.value.code == 50013
        await mine.delete()
        with pytest.raises(discord.NotFound):
            await channel.fetch_message(mine.id)
    assert f"edit:{mine.id}" in events
    assert [m["content"] for m in emu.messages(world.general.id)] == ["first", "second"]


async def test_threads_and_forum_posts(emu, world):
    created: list[discord.Thread] = []
    client = make_client()

    @client.event
    async def on_thread_create(thread):
        created.append(thread)

    async with running(client):
        guild = client.get_guild(world.guild.id)
        forum = guild.get_channel(world.forum.id)
        solved = forum.get_tag(world.forum.tag_id("Solved"))
        post = await forum.create_thread(name="FAQ", content="Read me first", applied_tags=[solved])
        assert post.thread.applied_tags == [solved]
        assert post.message.id == post.thread.id and post.message.content == "Read me first"
        thread, first = await emu.create_forum_post(
            world.forum.id, world.alice.id, "Sync fails", "Help!", tags=["Question"]
        )
        await eventually(lambda: len(created) == 2)
        user_post = guild.get_thread(int(thread["id"]))
        assert user_post.owner_id == world.alice.id and user_post.parent_id == world.forum.id
        assert [t.name for t in user_post.applied_tags] == ["Question"]
        await user_post.send("Have you tried turning it off and on again?")
        general = guild.get_channel(world.general.id)
        msg = await general.send("discuss")
        side = await msg.create_thread(name="discussion")
        assert side.id == msg.id
        await side.join()
        active = await guild.active_threads()
        assert {t.id for t in active} >= {post.thread.id, user_post.id, side.id}
    replies = emu.messages(int(thread["id"]))
    assert [m["content"] for m in replies] == [
        "Help!",
        "Have you tried turning it off and on again?",
    ]
    assert first["id"] == thread["id"]


async def test_invites_track_uses(emu, world):
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        invite = await guild.get_channel(world.general.id).create_invite(max_uses=2)
        await emu.member_join(world.guild.id, "carol", invite_code=invite.code)
        [listed] = await guild.invites()
        assert (
            listed.code == invite.code and listed.uses == 1 and listed.inviter.id == emu.bot_user_id
        )
        fetched = await client.fetch_invite(invite.code)
        assert fetched.guild.id == world.guild.id
        await emu.member_join(world.guild.id, "dan", invite_code=invite.code)
        assert await guild.invites() == []  # max_uses reached -> deleted
    stored = [r for r in emu.requests("POST", r"/invites$")]
    assert stored[0].status == 200


async def test_vanity_url_counts_joins_and_needs_manage_guild(emu, world):
    world.guild.set_system_channel(world.general)
    world.guild.set_vanity_url("flywheel")
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        assert "VANITY_URL" in guild.features and guild.vanity_url_code == "flywheel"
        await emu.member_join(world.guild.id, "carol", invite_code="flywheel")
        vanity = await guild.vanity_invite()
        assert vanity is not None
        assert (vanity.code, vanity.uses, vanity.channel.id) == ("flywheel", 1, world.general.id)
        assert await guild.invites() == [], "the vanity URL is not one of the guild's invites"

        world.guild.edit_role(world.bot_role, permissions=permissions.VIEW_CHANNEL)
        await eventually(lambda: not guild.me.guild_permissions.manage_guild)
        with pytest.raises(discord.Forbidden) as refused:
            await guild.vanity_invite()
        assert refused.value.code == 50013

        world.guild.set_vanity_url(None)
        await eventually(lambda: "VANITY_URL" not in guild.features)
        assert guild.vanity_url_code is None
    with pytest.raises(Exception, match="no invite 'flywheel'"):
        await emu.member_join(world.guild.id, "dan", invite_code="flywheel")


async def test_scheduled_events_over_rest(emu, world):
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        with pytest.raises(discord.Forbidden):
            await guild.create_scheduled_event(
                name="Office hours",
                start_time=discord.utils.utcnow() + datetime.timedelta(days=1),
                entity_type=discord.EntityType.voice,
                channel=guild.get_channel(world.voice.id),
                privacy_level=discord.PrivacyLevel.guild_only,
            )
        world.guild.edit_role(world.bot_role, permissions=permissions.MANAGE_EVENTS)
        await eventually(lambda: guild.me.guild_permissions.manage_events)
        event = await guild.create_scheduled_event(
            name="Office hours",
            start_time=discord.utils.utcnow() + datetime.timedelta(days=1),
            entity_type=discord.EntityType.voice,
            channel=guild.get_channel(world.voice.id),
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        await emu.event_add_user(world.guild.id, event.id, world.alice.id)
        users = [u.id async for u in event.users()]
        assert users == [world.alice.id]
        fetched = await guild.fetch_scheduled_event(event.id)
        assert fetched.user_count == 1
        started = await event.start()
        assert started.status is discord.EventStatus.active
        with pytest.raises(discord.HTTPException) as caught:
            await event.cancel()  # active events can only be completed
        assert caught.value.code == 50035
        await started.end()
        with pytest.raises(discord.HTTPException) as caught:
            await guild.create_scheduled_event(
                name="Past",
                start_time=discord.utils.utcnow() - datetime.timedelta(days=1),
                end_time=discord.utils.utcnow(),
                entity_type=discord.EntityType.external,
                location="Online",
                privacy_level=discord.PrivacyLevel.guild_only,
            )
        assert caught.value.code == 50035


async def test_member_fetch_search_and_nickname(emu, world):
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        members = [m async for m in guild.fetch_members(limit=None)]
        assert {m.name for m in members} == {"owner", "Flywheel", "alice", "bob", "shy"}
        found = await guild.query_members("ali")
        assert [m.id for m in found] == [world.alice.id]
        await guild.me.edit(nick="Wheel")
        await eventually(lambda: guild.me.nick == "Wheel")
        alice = guild.get_member(world.alice.id)
        with pytest.raises(discord.Forbidden):  # no MANAGE_NICKNAMES
            await alice.edit(nick="Al")
    assert world.guild.bot_member.nick == "Wheel"


async def test_bulk_delete_and_typing(emu, world):
    world.guild.edit_role(world.bot_role, permissions=permissions.MANAGE_MESSAGES)
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        for i in range(3):
            await emu.post_message(world.general.id, world.alice.id, f"spam {i}")
        async with channel.typing():
            pass
        deleted = await channel.purge(limit=10)
        assert len(deleted) == 3
    assert emu.messages(world.general.id) == []


async def test_gateway_info_routes(emu, world):
    client = make_client()
    async with running(client):
        gateway = await client.http.request(discord.http.Route("GET", "/gateway"))
        assert gateway == {"url": emu.gateway_url.rstrip("/")}
        shards, url, limit = await client.http.get_bot_gateway()
        assert shards == 1 and url == emu.gateway_url.rstrip("/") and limit["remaining"] > 0
        app = await client.application_info()
        assert app.id == emu.application_id and app.name == "Flywheel"


async def test_injected_server_errors_are_retried(emu, world):
    emu.fail_requests("GET", r"^/channels/\d+$", status=500, times=1)
    client = make_client()
    async with running(client):
        channel = await client.fetch_channel(world.general.id)
        assert channel.name == "general"
    assert [r.status for r in emu.requests("GET", r"^/channels/\d+$")] == [500, 200]


@pytest.mark.parametrize("delay", [0.0])
async def test_events_created_after_connect_reach_the_bot(emu, world, delay):
    client = make_client()
    async with running(client):
        guild = client.get_guild(world.guild.id)
        role = world.guild.create_role("Late", position=4)
        channel = world.guild.create_text_channel("late-channel")
        await eventually(lambda: guild.get_role(role.id) and guild.get_channel(channel.id))
        await asyncio.sleep(delay)
        assert guild.get_channel(channel.id).name == "late-channel"


async def test_guild_join_leave_and_member_removal_reach_the_bot(emu, world):
    joined: list[int] = []
    removed: list[int] = []
    left: list[int] = []
    client = make_client()

    @client.event
    async def on_guild_join(guild):
        joined.append(guild.id)

    @client.event
    async def on_guild_remove(guild):
        removed.append(guild.id)

    @client.event
    async def on_raw_member_remove(payload):
        left.append(payload.user.id)

    async with running(client):
        other = emu.create_guild("Second Server")
        other.create_text_channel("lobby")
        other.add_bot()
        await eventually(lambda: joined == [other.id])
        assert client.get_guild(other.id).get_channel(other.channel("lobby").id) is not None
        await emu.member_leave(world.guild.id, world.bob.id)
        await eventually(lambda: left == [world.bob.id])
        assert client.get_guild(world.guild.id).get_member(world.bob.id) is None
        await client.get_guild(other.id).leave()
        await eventually(lambda: removed == [other.id])
        assert client.get_guild(other.id) is None


async def test_bot_manages_forum_tags_and_archiving(emu, world):
    world.guild.edit_role(world.bot_role, permissions=permissions.MANAGE_THREADS)
    client = make_client()
    async with running(client):
        thread_data, _ = await emu.create_forum_post(
            world.forum.id, world.alice.id, "How do I?", "question", tags=["Question"]
        )
        guild = client.get_guild(world.guild.id)
        await eventually(lambda: guild.get_thread(int(thread_data["id"])) is not None)
        thread = guild.get_thread(int(thread_data["id"]))
        forum = guild.get_channel(world.forum.id)
        solved = forum.get_tag(world.forum.tag_id("Solved"))
        edited = await thread.edit(applied_tags=[solved], archived=True)
        assert [t.name for t in edited.applied_tags] == ["Solved"] and edited.archived
    stored = emu.world.channels[int(thread_data["id"])]
    assert stored.applied_tags == [world.forum.tag_id("Solved")] and stored.archived
