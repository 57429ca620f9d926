"""``/channels/...`` routes: channels, messages, reactions, pins, threads, invites."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import forums, messaging, payloads
from .. import intents as I
from .. import permissions as P
from ..errors import ApiError, field_error, form_error
from ..snowflake import now, now_iso, parse_iso, time_snowflake
from ..world import (
    CATEGORY,
    FORUM,
    MEDIA,
    NEWS,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    STAGE,
    VOICE,
    Channel,
    Message,
    Overwrite,
)
from .router import Ctx, Reply, Router

THREAD_EDITABLE = {
    "name",
    "archived",
    "locked",
    "auto_archive_duration",
    "rate_limit_per_user",
    "invitable",
    "applied_tags",
    "flags",
}


def _channel(ctx: Ctx) -> Channel:
    channel = ctx.world.channel(ctx.params["channel_id"])
    guild = ctx.guild_for_channel(channel)
    if guild is not None and not ctx.bot_perms(guild, channel) & P.VIEW_CHANNEL:
        raise ApiError(50001)
    return channel


def _read(ctx: Ctx, msg: Message) -> dict[str, Any]:
    """A message as a read returns it (MESSAGE_CONTENT governs REST reads too)."""
    content_intent = bool(ctx.emu.privileged_intents & I.MESSAGE_CONTENT)
    return payloads.message_as_read(ctx.world, msg, content_intent=content_intent)


def _message(ctx: Ctx, channel: Channel) -> Message:
    return ctx.world.message(channel, ctx.params["message_id"])


def _perms(ctx: Ctx, channel: Channel) -> int:
    guild = ctx.world.guild_of(channel)
    return P.ALL if guild is None else ctx.bot_perms(guild, channel)


def _reads_history(ctx: Ctx, channel: Channel) -> bool:
    """READ_MESSAGE_HISTORY, and in a voice or stage channel's text chat CONNECT as well
    (Discord: reading text in voice takes the right to connect)."""
    have = _perms(ctx, channel)
    need = P.READ_MESSAGE_HISTORY | (P.CONNECT if channel.type in (VOICE, STAGE) else 0)
    return P.has(have, need)


def _need(ctx: Ctx, channel: Channel, bits: int) -> int:
    have = _perms(ctx, channel)
    if not P.has(have, bits):
        raise ApiError(50013)
    return have


def _check_send(ctx: Ctx, channel: Channel, *, files: bool, embeds: bool) -> int:
    """Discord's gatekeeping for posting into ``channel`` as the bot."""
    world = ctx.world
    if channel.is_dm:
        recipient = world.users[channel.recipient_ids[0]]
        shares_guild = any(
            recipient.id in g.members and world.bot_id in g.members for g in world.guilds.values()
        )
        if recipient.bot or not recipient.accepts_dms or not shares_guild:
            raise ApiError(50007)
        return P.ALL
    if channel.type in (CATEGORY, FORUM, MEDIA):
        raise ApiError(50008)
    have = _perms(ctx, channel)
    needed = P.SEND_MESSAGES_IN_THREADS if channel.is_thread else P.SEND_MESSAGES
    if not have & needed:
        raise ApiError(50013)
    if channel.is_thread and channel.locked and not have & P.MANAGE_THREADS:
        raise ApiError(50083)
    if files and not have & P.ATTACH_FILES:
        raise ApiError(50013)
    return have


def _body_without_unrenderable(body: dict[str, Any], have: int) -> dict[str, Any]:
    # Without EMBED_LINKS Discord accepts the message but drops the embeds.
    if body.get("embeds") and not have & P.EMBED_LINKS:
        body = dict(body)
        body["embeds"] = []
    return body


def register(r: Router) -> None:
    # ------------------------------------------------------------- channel
    @r.route("GET", "/channels/{channel_id}")
    async def get_channel(ctx: Ctx):
        return payloads.channel(ctx.world, _channel(ctx))

    @r.route("PATCH", "/channels/{channel_id}")
    async def modify_channel(ctx: Ctx):
        channel = _channel(ctx)
        body = ctx.body
        if channel.is_dm:
            raise ApiError(50003)
        if channel.is_thread:
            have = _perms(ctx, channel)
            owner_ok = channel.owner_id == ctx.world.bot_id and set(body) <= {
                "name",
                "archived",
                "auto_archive_duration",
                "applied_tags",
            }
            if not (have & P.MANAGE_THREADS or owner_ok):
                raise ApiError(50013)
            if channel.archived and body.get("archived") is not False:
                # Discord: the thread must be unarchived, or be unarchived by this request.
                raise ApiError(50083)
            if channel.archived and channel.locked and not have & P.MANAGE_THREADS:
                # A locked thread can only be unarchived with MANAGE_THREADS.
                raise ApiError(50013)
            if "applied_tags" in body:
                parent = ctx.world.channels.get(channel.parent_id or 0)
                body = dict(body)
                body["applied_tags"] = forums.check_applied_tags(
                    parent, body["applied_tags"], have, before=channel.applied_tags
                )
            for key in THREAD_EDITABLE & set(body):
                value = body[key]
                if key == "archived" and value != channel.archived:
                    channel.archive_timestamp = now_iso()
                setattr(channel, key, value)
            ctx.events.thread_update(channel)
            return payloads.channel(ctx.world, channel)
        _need(ctx, channel, P.MANAGE_CHANNELS)
        if "available_tags" in body:
            if channel.type not in (FORUM, MEDIA):
                raise form_error(
                    {
                        "available_tags": field_error(
                            "CHANNEL_TYPE_INVALID", "Only forum and media channels have tags"
                        )
                    }
                )
            tags = forums.parse_available_tags(ctx.world, channel, body["available_tags"])
        else:
            tags = None
        simple = {
            "name",
            "topic",
            "nsfw",
            "rate_limit_per_user",
            "position",
            "bitrate",
            "user_limit",
            "rtc_region",
            "default_auto_archive_duration",
            "default_thread_rate_limit_per_user",
            "default_sort_order",
            "default_forum_layout",
            "default_reaction_emoji",
            "flags",
        }
        for key in simple & set(body):
            setattr(channel, key, body[key])
        if "parent_id" in body:
            channel.parent_id = int(body["parent_id"]) if body["parent_id"] else None
        if "type" in body and body["type"] in (0, 5):
            channel.type = body["type"]
        if "permission_overwrites" in body:
            _need(ctx, channel, P.MANAGE_ROLES)
            channel.overwrites = [
                Overwrite(
                    int(o["id"]), int(o["type"]), int(o.get("allow") or 0), int(o.get("deny") or 0)
                )
                for o in body["permission_overwrites"] or []
            ]
        if tags is not None:
            forums.set_available_tags(ctx.world, channel, tags)
        ctx.events.channel_update(channel)
        return payloads.channel(ctx.world, channel)

    @r.route("DELETE", "/channels/{channel_id}")
    async def delete_channel(ctx: Ctx):
        channel = _channel(ctx)
        data = payloads.channel(ctx.world, channel)
        if channel.is_dm:
            return data  # closing a DM is a no-op for bots
        _need(ctx, channel, P.MANAGE_THREADS if channel.is_thread else P.MANAGE_CHANNELS)
        ctx.world.remove_channel(channel)
        ctx.events.channel_delete(channel)
        return data

    @r.route("PUT", "/channels/{channel_id}/permissions/{target}")
    async def edit_overwrite(ctx: Ctx):
        channel = _channel(ctx)
        _need(ctx, channel, P.MANAGE_ROLES)
        target = ctx.int_param("target")
        body = ctx.body
        channel.overwrites = [o for o in channel.overwrites if o.id != target]
        channel.overwrites.append(
            Overwrite(
                target,
                int(body.get("type", 0)),
                int(body.get("allow") or 0),
                int(body.get("deny") or 0),
            )
        )
        ctx.events.channel_update(channel)

    @r.route("DELETE", "/channels/{channel_id}/permissions/{target}")
    async def delete_overwrite(ctx: Ctx):
        channel = _channel(ctx)
        _need(ctx, channel, P.MANAGE_ROLES)
        target = ctx.int_param("target")
        channel.overwrites = [o for o in channel.overwrites if o.id != target]
        ctx.events.channel_update(channel)

    @r.route("POST", "/channels/{channel_id}/typing")
    async def typing(ctx: Ctx):
        channel = _channel(ctx)
        _check_send(ctx, channel, files=False, embeds=False)
        ctx.events.typing_start(channel, ctx.world.bot_id, int(now().timestamp()))

    # ------------------------------------------------------------ messages
    @r.route("GET", "/channels/{channel_id}/messages")
    async def list_messages(ctx: Ctx):
        """One page of history, newest first (an ``after`` page too: the ``limit`` messages
        right after ``after``, newest first, which is why discord.py reverses it)."""
        channel = _channel(ctx)
        limit = _limit(ctx, 50, 1, 100)
        anchors = {k: ctx.query_int(k) for k in ("before", "after", "around")}
        given = [k for k, v in anchors.items() if v is not None]
        if len(given) > 1:
            # Documented as mutually exclusive; Discord silently honours one of them (the
            # wrong page, unnoticed), so the emulator refuses the request instead.
            raise form_error(
                {
                    k: field_error(
                        "MESSAGE_LIST_ANCHORS_EXCLUSIVE",
                        "before, after and around are mutually exclusive.",
                    )
                    for k in given
                }
            )
        if not _reads_history(ctx, channel):
            return []  # Discord: "no messages will be returned" without the permission
        store = channel.messages
        chosen = store.page(limit, **anchors)
        return [_read(ctx, m) for m in map(store.peek, chosen) if m is not None]

    @r.route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def get_message(ctx: Ctx):
        channel = _channel(ctx)
        if not _reads_history(ctx, channel):
            raise ApiError(50001)
        return _read(ctx, _message(ctx, channel))

    @r.route("POST", "/channels/{channel_id}/messages")
    async def create_message(ctx: Ctx):
        channel = _channel(ctx)
        body = ctx.body
        have = _check_send(ctx, channel, files=bool(ctx.files), embeds=bool(body.get("embeds")))
        body = _body_without_unrenderable(body, have)
        msg = ctx.emu.ops.send_message(channel, ctx.world.bot_id, body, ctx.files)
        return payloads.message(ctx.world, msg)

    @r.route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def edit_message(ctx: Ctx):
        channel = _channel(ctx)
        msg = _message(ctx, channel)
        body = ctx.body
        if msg.author_id != ctx.world.bot_id or msg.webhook_id is not None:
            # Others' messages: only the SUPPRESS_EMBEDS flag, with MANAGE_MESSAGES.
            if set(body) - {"flags"}:
                raise ApiError(50005)
            _need(ctx, channel, P.MANAGE_MESSAGES)
        if msg.type not in (0, 19, 20, 23):
            raise ApiError(50021)
        ctx.emu.ops.edit_message(msg, body, ctx.files)
        return payloads.message(ctx.world, msg)

    @r.route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def delete_message(ctx: Ctx):
        channel = _channel(ctx)
        msg = _message(ctx, channel)
        if msg.author_id != ctx.world.bot_id and not channel.is_dm:
            _need(ctx, channel, P.MANAGE_MESSAGES)
        elif msg.author_id != ctx.world.bot_id:
            raise ApiError(50003)
        ctx.emu.ops.delete_message(msg)

    @r.route("POST", "/channels/{channel_id}/messages/bulk-delete")
    async def bulk_delete(ctx: Ctx):
        channel = _channel(ctx)
        if channel.is_dm:
            raise ApiError(50003)
        _need(ctx, channel, P.MANAGE_MESSAGES)
        ids = [int(i) for i in ctx.body.get("messages") or []]
        if not 2 <= len(ids) <= 100:
            raise ApiError(50016)
        cutoff = time_snowflake(now() - dt.timedelta(days=14))
        if any(i < cutoff for i in ids):
            raise ApiError(50034)
        found = [channel.messages[i] for i in dict.fromkeys(ids) if i in channel.messages]
        ctx.emu.ops.bulk_delete(channel, found)

    @r.route("POST", "/channels/{channel_id}/messages/{message_id}/crosspost")
    async def crosspost(ctx: Ctx):
        channel = _channel(ctx)
        if channel.type != NEWS:
            raise ApiError(50024)
        msg = _message(ctx, channel)
        if msg.author_id != ctx.world.bot_id:
            _need(ctx, channel, P.MANAGE_MESSAGES)
        else:
            _need(ctx, channel, P.SEND_MESSAGES)
        msg.flags |= 1  # CROSSPOSTED
        ctx.events.message_update(msg)
        return payloads.message(ctx.world, msg)

    # ----------------------------------------------------------- reactions
    def _react_target(ctx: Ctx) -> tuple[Channel, Message, dict[str, Any]]:
        channel = _channel(ctx)
        if not _reads_history(ctx, channel):
            raise ApiError(50013)
        msg = _message(ctx, channel)
        return channel, msg, messaging.parse_emoji(ctx.params["emoji"])

    @r.route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def add_reaction(ctx: Ctx):
        channel, msg, emoji = _react_target(ctx)
        if messaging.emoji_key(emoji) not in msg.reactions:
            _need(ctx, channel, P.ADD_REACTIONS)
        ctx.emu.ops.add_reaction(msg, ctx.world.bot_id, emoji)

    @r.route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def remove_own_reaction(ctx: Ctx):
        _, msg, emoji = _react_target(ctx)
        ctx.emu.ops.remove_reaction(msg, ctx.world.bot_id, emoji)

    @r.route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}")
    async def remove_user_reaction(ctx: Ctx):
        channel, msg, emoji = _react_target(ctx)
        user_id = ctx.int_param("user_id")
        if user_id != ctx.world.bot_id:
            _need(ctx, channel, P.MANAGE_MESSAGES)
        ctx.emu.ops.remove_reaction(msg, user_id, emoji)

    @r.route("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
    async def reaction_users(ctx: Ctx):
        """Who reacted, ordered by user id, ``after`` a user id, 1–100 (25 by default)."""
        limit = _limit(ctx, 25, 1, 100)
        _, msg, emoji = _react_target(ctx)
        reaction = msg.reactions.get(messaging.emoji_key(emoji))
        if reaction is None:
            return []
        if ctx.query_int("type", 0) == 1:
            return []  # super (burst) reactions are not modelled: nobody gave one
        after = ctx.query_int("after", 0) or 0
        ids = sorted(u for u in reaction.user_ids if u > after)[:limit]
        return [payloads.user(ctx.world.users[u]) for u in ids]

    @r.route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
    async def clear_emoji(ctx: Ctx):
        channel, msg, emoji = _react_target(ctx)
        _need(ctx, channel, P.MANAGE_MESSAGES)
        ctx.emu.ops.clear_reactions(msg, emoji)

    @r.route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions")
    async def clear_all(ctx: Ctx):
        channel = _channel(ctx)
        _need(ctx, channel, P.MANAGE_MESSAGES)
        ctx.emu.ops.clear_reactions(_message(ctx, channel))

    # ---------------------------------------------------------------- pins
    async def _pin(ctx: Ctx, pinned: bool):
        channel = _channel(ctx)
        msg = _message(ctx, channel)
        if not channel.is_dm:
            have = _perms(ctx, channel)
            if not have & (P.PIN_MESSAGES | P.MANAGE_MESSAGES):
                raise ApiError(50013)
        ctx.emu.ops.set_pinned(msg, pinned)

    async def _list_pins(ctx: Ctx) -> list[Message]:
        channel = _channel(ctx)
        pinned = [channel.messages[i] for i in channel.pin_times if i in channel.messages]
        pinned.sort(key=lambda m: channel.pin_times.get(m.id, ""), reverse=True)
        return pinned

    @r.route("PUT", "/channels/{channel_id}/messages/pins/{message_id}")
    async def pin(ctx: Ctx):
        await _pin(ctx, True)

    @r.route("DELETE", "/channels/{channel_id}/messages/pins/{message_id}")
    async def unpin(ctx: Ctx):
        await _pin(ctx, False)

    @r.route("PUT", "/channels/{channel_id}/pins/{message_id}")
    async def pin_legacy(ctx: Ctx):
        await _pin(ctx, True)

    @r.route("DELETE", "/channels/{channel_id}/pins/{message_id}")
    async def unpin_legacy(ctx: Ctx):
        await _pin(ctx, False)

    @r.route("GET", "/channels/{channel_id}/messages/pins")
    async def list_pins(ctx: Ctx):
        channel = ctx.world.channel(ctx.params["channel_id"])
        pinned = await _list_pins(ctx)
        limit = ctx.query_int("limit", 50) or 50
        return {
            "items": [
                {
                    "pinned_at": channel.pin_times.get(m.id),
                    "message": _read(ctx, m),
                }
                for m in pinned[:limit]
            ],
            "has_more": len(pinned) > limit,
        }

    @r.route("GET", "/channels/{channel_id}/pins")
    async def list_pins_legacy(ctx: Ctx):
        return [_read(ctx, m) for m in await _list_pins(ctx)]

    # ------------------------------------------------------------- threads
    @r.route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    async def thread_from_message(ctx: Ctx):
        channel = _channel(ctx)
        if channel.is_thread or channel.is_dm or channel.type not in (0, 5):
            raise ApiError(50024)
        _need(ctx, channel, P.CREATE_PUBLIC_THREADS)
        msg = _message(ctx, channel)
        body = ctx.body
        _require_name(body)
        thread = ctx.emu.ops.start_thread(
            channel,
            ctx.world.bot_id,
            body["name"],
            from_message=msg,
            auto_archive_duration=body.get("auto_archive_duration"),
            rate_limit_per_user=body.get("rate_limit_per_user"),
        )
        return Reply(201, payloads.thread(ctx.world, thread))

    @r.route("POST", "/channels/{channel_id}/threads")
    async def start_thread(ctx: Ctx):
        channel = _channel(ctx)
        body = ctx.body
        _require_name(body)
        world = ctx.world
        if channel.type in (FORUM, MEDIA):
            have = _perms(ctx, channel)
            if not have & P.SEND_MESSAGES:
                raise ApiError(50013)
            message_body = body.get("message")
            if not isinstance(message_body, dict):
                raise form_error(
                    {"message": field_error("BASE_TYPE_REQUIRED", "This field is required")}
                )
            if ctx.files and not have & P.ATTACH_FILES:
                raise ApiError(50013)
            tags = forums.check_applied_tags(channel, body.get("applied_tags"), have)
            message_body = _body_without_unrenderable(message_body, have)
            thread, msg = ctx.emu.ops.create_forum_post(
                channel,
                world.bot_id,
                body["name"],
                message_body,
                ctx.files,
                applied_tags=tags,
                auto_archive_duration=body.get("auto_archive_duration"),
                rate_limit_per_user=body.get("rate_limit_per_user"),
            )
            data = payloads.thread(world, thread)
            data["message"] = payloads.message(world, msg)
            return Reply(201, data)
        if channel.is_thread or channel.is_dm or channel.type not in (0, 5):
            raise ApiError(50024)
        thread_type = int(body.get("type") or PRIVATE_THREAD)
        _need(
            ctx,
            channel,
            P.CREATE_PRIVATE_THREADS if thread_type == PRIVATE_THREAD else P.CREATE_PUBLIC_THREADS,
        )
        thread = ctx.emu.ops.start_thread(
            channel,
            world.bot_id,
            body["name"],
            type=thread_type
            if thread_type in (PUBLIC_THREAD, PRIVATE_THREAD, 10)
            else PRIVATE_THREAD,
            auto_archive_duration=body.get("auto_archive_duration"),
            rate_limit_per_user=body.get("rate_limit_per_user"),
            invitable=bool(body.get("invitable", True)),
        )
        return Reply(201, payloads.thread(world, thread))

    def _thread(ctx: Ctx) -> Channel:
        channel = _channel(ctx)
        if not channel.is_thread:
            raise ApiError(50024)
        return channel

    @r.route("PUT", "/channels/{channel_id}/thread-members/@me")
    async def join_thread(ctx: Ctx):
        thread = _thread(ctx)
        if thread.archived:
            raise ApiError(50083)
        ctx.emu.ops.thread_join(thread, ctx.world.bot_id)

    @r.route("DELETE", "/channels/{channel_id}/thread-members/@me")
    async def leave_thread(ctx: Ctx):
        ctx.emu.ops.thread_leave(_thread(ctx), ctx.world.bot_id)

    @r.route("PUT", "/channels/{channel_id}/thread-members/{user_id}")
    async def add_thread_member(ctx: Ctx):
        thread = _thread(ctx)
        if thread.archived:
            raise ApiError(50083)
        _need(ctx, thread, P.SEND_MESSAGES_IN_THREADS)
        guild = ctx.world.guilds[thread.guild_id]
        member = ctx.world.member(guild, ctx.params["user_id"])
        ctx.emu.ops.thread_join(thread, member.user_id)

    @r.route("DELETE", "/channels/{channel_id}/thread-members/{user_id}")
    async def remove_thread_member(ctx: Ctx):
        thread = _thread(ctx)
        if thread.owner_id != ctx.world.bot_id:
            _need(ctx, thread, P.MANAGE_THREADS)
        ctx.emu.ops.thread_leave(thread, ctx.int_param("user_id"))

    @r.route("GET", "/channels/{channel_id}/thread-members")
    async def list_thread_members(ctx: Ctx):
        thread = _thread(ctx)
        return [payloads.thread_member(thread, u) for u in thread.thread_members]

    @r.route("GET", "/channels/{channel_id}/thread-members/{user_id}")
    async def get_thread_member(ctx: Ctx):
        thread = _thread(ctx)
        uid = ctx.int_param("user_id")
        if uid not in thread.thread_members:
            raise ApiError(10007)
        return payloads.thread_member(thread, uid)

    async def _archived(ctx: Ctx, private: bool, joined_only: bool = False):
        """Archived threads of a channel, newest archive first, paged by ``before``.

        Public and private lists order by ``archive_timestamp`` and take an ISO8601
        ``before``; the joined-private list orders by thread id and takes a snowflake.
        """
        channel = _channel(ctx)
        limit = _limit(ctx, 50, 2, 100)
        need = P.READ_MESSAGE_HISTORY
        if private and not joined_only:
            need |= P.MANAGE_THREADS
        _need(ctx, channel, need)
        threads = [
            t
            for t in ctx.world.threads(ctx.world.guilds[channel.guild_id])
            if t.parent_id == channel.id
            and t.archived
            and ((t.type == PRIVATE_THREAD) == private)
            and (not joined_only or ctx.world.bot_id in t.thread_members)
        ]
        raw_before = ctx.query.get("before")
        if joined_only:
            threads.sort(key=lambda t: t.id, reverse=True)
            if raw_before:
                cutoff = ctx.query_int("before")
                threads = [t for t in threads if cutoff is None or t.id < cutoff]
        else:
            threads.sort(key=lambda t: (_archived_at(t), t.id), reverse=True)
            if raw_before:
                when = _iso_param(raw_before)
                threads = [t for t in threads if _archived_at(t) < when]
        page = threads[:limit]
        return {
            "threads": [payloads.thread(ctx.world, t) for t in page],
            "members": [
                payloads.thread_member(t, ctx.world.bot_id)
                for t in page
                if ctx.world.bot_id in t.thread_members
            ],
            "has_more": len(threads) > limit,
        }

    @r.route("GET", "/channels/{channel_id}/threads/archived/public")
    async def archived_public(ctx: Ctx):
        return await _archived(ctx, False)

    @r.route("GET", "/channels/{channel_id}/threads/archived/private")
    async def archived_private(ctx: Ctx):
        return await _archived(ctx, True)

    @r.route("GET", "/channels/{channel_id}/users/@me/threads/archived/private")
    async def archived_joined(ctx: Ctx):
        return await _archived(ctx, True, joined_only=True)

    # ------------------------------------------------------------- invites
    @r.route("GET", "/channels/{channel_id}/invites")
    async def channel_invites(ctx: Ctx):
        channel = _channel(ctx)
        _need(ctx, channel, P.MANAGE_CHANNELS)
        guild = ctx.world.guilds[channel.guild_id]
        return [
            payloads.invite(ctx.world, inv, with_metadata=True)
            for inv in guild.invites.values()
            if inv.channel_id == channel.id
        ]

    @r.route("POST", "/channels/{channel_id}/invites")
    async def create_invite(ctx: Ctx):
        channel = _channel(ctx)
        if channel.is_dm or channel.is_thread or channel.type == CATEGORY:
            raise ApiError(50024)
        _need(ctx, channel, P.CREATE_INSTANT_INVITE)
        body = ctx.body
        inv = ctx.emu.ops.create_invite(
            channel,
            ctx.world.bot_id,
            max_age=int(body.get("max_age", 86400)),
            max_uses=int(body.get("max_uses", 0)),
            temporary=bool(body.get("temporary", False)),
            unique=bool(body.get("unique", False)),
        )
        return payloads.invite(ctx.world, inv, with_metadata=True)

    @r.route("GET", "/channels/{channel_id}/webhooks")
    async def channel_webhooks(ctx: Ctx):
        channel = _channel(ctx)
        _need(ctx, channel, P.FLAGS["MANAGE_WEBHOOKS"])
        return []


def _limit(ctx: Ctx, default: int, low: int, high: int) -> int:
    """A ``limit`` query parameter within Discord's bounds (400 50035 outside them)."""
    limit = ctx.query_int("limit", default)
    assert limit is not None
    if limit < low:
        raise form_error(
            {
                "limit": field_error(
                    "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}."
                )
            }
        )
    if limit > high:
        raise form_error(
            {
                "limit": field_error(
                    "NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}."
                )
            }
        )
    return limit


def _archived_at(thread: Channel) -> dt.datetime:
    return parse_iso(
        thread.archive_timestamp or thread.create_timestamp
    ) or dt.datetime.min.replace(tzinfo=dt.UTC)


def _iso_param(raw: str) -> dt.datetime:
    try:
        when = parse_iso(raw)
    except ValueError:
        when = None
    if when is None:
        raise form_error(
            {"before": field_error("DATE_TIME_TYPE_PARSE", "Could not parse " + repr(raw) + ".")}
        )
    return when


def _require_name(body: dict[str, Any]) -> None:
    name = body.get("name")
    if not name:
        raise form_error({"name": field_error("BASE_TYPE_REQUIRED", "This field is required")})
    if len(name) > 100:
        raise form_error(
            {"name": field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
        )
