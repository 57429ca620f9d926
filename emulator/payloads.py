"""Serialize world objects into the JSON Discord sends (snowflakes as strings).

Shapes follow discord/types/*.py and the official OpenAPI spec, so discord.py's
parsers see exactly what they would see from Discord.
"""

from __future__ import annotations

from typing import Any

from . import permissions as perms
from .snowflake import iso, snowflake_time
from .world import (
    DM,
    FORUM,
    MEDIA,
    NEWS,
    PRIVATE_THREAD,
    STAGE,
    TEXT,
    VOICE,
    Application,
    Channel,
    Guild,
    Invite,
    Member,
    Message,
    Role,
    ScheduledEvent,
    User,
    VoiceState,
    World,
)


def sid(value: int | None) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------------- users
def user(u: User) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(u.id),
        "username": u.username,
        "discriminator": "0001" if u.bot else "0",
        "global_name": None if u.bot else (u.global_name or u.username),
        "avatar": u.avatar,
        "avatar_decoration_data": None,
        "banner": None,
        "accent_color": None,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
        "collectibles": None,
    }
    if u.bot:
        data["bot"] = True
    if u.system:
        data["system"] = True
    return data


def current_user(u: User) -> dict[str, Any]:
    """``GET /users/@me`` and READY.user carry a few private fields."""
    data = user(u)
    data.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
    data["bot"] = u.bot
    return data


def member(world: World, m: Member, *, with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nick": m.nick,
        "avatar": m.avatar,
        "banner": None,
        "roles": [str(r) for r in m.role_ids],
        "joined_at": m.joined_at,
        "premium_since": m.premium_since,
        "deaf": m.deaf,
        "mute": m.mute,
        "flags": m.flags,
        "pending": m.pending,
        "communication_disabled_until": m.communication_disabled_until,
        "avatar_decoration_data": None,
    }
    if with_user:
        data["user"] = user(world.users[m.user_id])
    return data


def member_with_permissions(world: World, guild: Guild, m: Member, channel: Channel | None):
    data = member(world, m)
    data["permissions"] = str(perms.channel_permissions(guild, m, channel))
    return data


def presence(world: World, u: User, guild_id: int | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user": {"id": str(u.id)},
        "status": u.status,
        "activities": list(u.activities),
        "client_status": {} if u.status == "offline" else {"desktop": u.status},
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    return data


# ---------------------------------------------------------------------- roles
def role(r: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(r.id),
        "name": r.name,
        "description": None,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": r.hoist,
        "icon": r.icon,
        "unicode_emoji": r.unicode_emoji,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": r.managed,
        "mentionable": r.mentionable,
        "flags": r.flags,
    }
    if r.bot_id is not None:
        data["tags"] = {"bot_id": str(r.bot_id)}
    return data


# ------------------------------------------------------------------- channels
def _overwrites(c: Channel) -> list[dict[str, Any]]:
    return [
        {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
        for o in c.overwrites
    ]


def thread_member(c: Channel, user_id: int) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "user_id": str(user_id),
        "join_timestamp": c.thread_members[user_id],
        "flags": 0,
    }


def channel(world: World, c: Channel) -> dict[str, Any]:
    if c.is_thread:
        return thread(world, c)
    if c.type == DM:
        return {
            "id": str(c.id),
            "type": DM,
            "last_message_id": sid(c.last_message_id),
            "flags": 0,
            "recipients": [user(world.users[u]) for u in c.recipient_ids],
        }
    data: dict[str, Any] = {
        "id": str(c.id),
        "type": c.type,
        "guild_id": sid(c.guild_id),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": _overwrites(c),
        "nsfw": c.nsfw,
        "parent_id": sid(c.parent_id),
        "flags": c.flags,
    }
    if c.type in (TEXT, NEWS, FORUM, MEDIA):
        data.update(
            {
                "topic": c.topic,
                "last_message_id": sid(c.last_message_id),
                "rate_limit_per_user": c.rate_limit_per_user,
                "default_auto_archive_duration": c.default_auto_archive_duration,
                "default_thread_rate_limit_per_user": c.default_thread_rate_limit_per_user,
            }
        )
        if c.last_pin_timestamp:
            data["last_pin_timestamp"] = c.last_pin_timestamp
    if c.type in (VOICE, STAGE):
        data.update(
            {
                "bitrate": c.bitrate,
                "user_limit": c.user_limit,
                "rtc_region": c.rtc_region,
                "video_quality_mode": 1,
                "last_message_id": sid(c.last_message_id),
                "rate_limit_per_user": c.rate_limit_per_user,
            }
        )
        if c.type == STAGE:
            data["topic"] = c.topic
    if c.type in (FORUM, MEDIA):
        data.update(
            {
                "available_tags": [
                    {
                        "id": str(t.id),
                        "name": t.name,
                        "moderated": t.moderated,
                        "emoji_id": sid(t.emoji_id),
                        "emoji_name": t.emoji_name,
                    }
                    for t in c.available_tags
                ],
                "default_reaction_emoji": c.default_reaction_emoji,
                "default_sort_order": c.default_sort_order,
                "default_forum_layout": c.default_forum_layout,
            }
        )
    return data


def thread(world: World, c: Channel, *, for_user: int | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "archived": c.archived,
        "auto_archive_duration": c.auto_archive_duration,
        "archive_timestamp": c.archive_timestamp or c.create_timestamp,
        "locked": c.locked,
        "create_timestamp": c.create_timestamp,
    }
    if c.type == PRIVATE_THREAD:
        metadata["invitable"] = c.invitable
    data: dict[str, Any] = {
        "id": str(c.id),
        "type": c.type,
        "guild_id": sid(c.guild_id),
        "parent_id": sid(c.parent_id),
        "owner_id": sid(c.owner_id),
        "name": c.name,
        "last_message_id": sid(c.last_message_id),
        "rate_limit_per_user": c.rate_limit_per_user,
        "message_count": c.message_count,
        "member_count": min(len(c.thread_members), 50),
        "total_message_sent": c.total_message_sent,
        "thread_metadata": metadata,
        "flags": c.flags,
        "applied_tags": [str(t) for t in c.applied_tags],
    }
    viewer = world.bot_id if for_user is None else for_user
    if viewer in c.thread_members:
        data["member"] = {
            "id": str(c.id),
            "user_id": str(viewer),
            "join_timestamp": c.thread_members[viewer],
            "flags": 0,
        }
    return data


def partial_channel_with_permissions(world: World, c: Channel, permissions: int):
    """Channel as embedded in interactions/resolved data (adds ``permissions``)."""
    data = channel(world, c)
    data["permissions"] = str(permissions)
    return data


# --------------------------------------------------------------------- guilds
def guild(world: World, g: Guild, *, with_counts: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(g.id),
        "name": g.name,
        "icon": g.icon,
        "icon_hash": g.icon,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(g.owner_id),
        "region": "deprecated",
        "afk_channel_id": sid(g.afk_channel_id),
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": g.verification_level,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [role(r) for r in world.roles_sorted(g)],
        "emojis": [],
        "stickers": [],
        "features": list(g.features),
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": sid(g.system_channel_id),
        "system_channel_flags": 0,
        "rules_channel_id": sid(g.rules_channel_id),
        "public_updates_channel_id": sid(g.public_updates_channel_id),
        "safety_alerts_channel_id": None,
        "max_presences": None,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "vanity_url_code": g.vanity.code if g.vanity is not None else None,
        "description": g.description,
        "banner": None,
        "premium_tier": g.premium_tier,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": g.preferred_locale,
        "nsfw_level": 0,
        "nsfw": False,
        "incidents_data": None,
        "hub_type": None,
        "latest_onboarding_question_id": None,
        "home_header": None,
    }
    if with_counts:
        data["approximate_member_count"] = len(g.members)
        data["approximate_presence_count"] = sum(
            1 for m in g.members if world.users[m].status != "offline"
        )
    return data


def guild_create(
    world: World,
    g: Guild,
    *,
    intents: int,
    large_threshold: int = 50,
) -> dict[str, Any]:
    """GUILD_CREATE as Discord sends it to a bot.

    Like Discord, only guilds that are not "large" and only with GUILD_PRESENCES
    get the full member list; otherwise the bot gets itself plus members in voice
    channels and must request the rest with op 8 (discord.py chunks automatically).
    """
    from .intents import GUILD_PRESENCES

    bot_member = world.bot_member(g)
    large = len(g.members) > large_threshold
    if intents & GUILD_PRESENCES and not large:
        members = list(g.members.values())
    else:
        wanted = {world.bot_id} | {
            vs.user_id for vs in g.voice_states.values() if vs.channel_id is not None
        }
        members = [m for uid, m in g.members.items() if uid in wanted]
    presences = []
    if intents & GUILD_PRESENCES:
        presences = [
            presence(world, world.users[m.user_id], None)
            for m in members
            if world.users[m.user_id].status != "offline"
        ]
    data = guild(world, g)
    # Bots receive every channel (hidden ones too, with their overwrites) but only
    # the active threads they can view.
    bot_view = world.top_level_channels(g)
    active_threads = [
        c
        for c in world.threads(g)
        if not c.archived and (bot_member is None or perms.channel_permissions(g, bot_member, c))
    ]
    data.update(
        {
            "joined_at": bot_member.joined_at if bot_member else None,
            "large": large,
            "unavailable": False,
            "member_count": len(g.members),
            "voice_states": [
                voice_state(world, vs, with_member=False, with_guild=False)
                for vs in g.voice_states.values()
                if vs.channel_id is not None
            ],
            "members": [member(world, m) for m in members],
            "channels": [channel(world, c) for c in bot_view],
            "threads": [thread(world, c) for c in active_threads],
            "presences": presences,
            "stage_instances": [],
            "guild_scheduled_events": [
                scheduled_event(world, e, with_user_count=False)
                for e in g.scheduled_events.values()
            ],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "activity_instances": [],
            "application_command_counts": {},
            "lazy": True,
        }
    )
    return data


# ------------------------------------------------------------------- messages
def _emoji(e: dict[str, Any]) -> dict[str, Any]:
    return dict(e)


def reaction_list(m: Message, viewer_id: int) -> list[dict[str, Any]]:
    out = []
    for r in m.reactions.values():
        if not r.user_ids:
            continue
        out.append(
            {
                "count": len(r.user_ids),
                "count_details": {"burst": 0, "normal": len(r.user_ids)},
                "me": viewer_id in r.user_ids,
                "me_burst": False,
                "burst_colors": [],
                "emoji": _emoji(r.emoji),
            }
        )
    return out


def message(
    world: World,
    m: Message,
    *,
    with_member: bool = False,
    with_referenced: bool = True,
) -> dict[str, Any]:
    """A message as REST returns it; ``with_member`` adds the gateway-only fields."""
    author = world.users[m.author_id]
    g = world.guilds.get(m.guild_id) if m.guild_id else None
    mentions = []
    for uid in m.mention_ids:
        u = world.users.get(uid)
        if u is None:
            continue
        entry = user(u)
        if with_member and g is not None and uid in g.members:
            entry["member"] = member(world, g.members[uid], with_user=False)
        mentions.append(entry)
    data: dict[str, Any] = {
        "id": str(m.id),
        "type": m.type,
        "channel_id": str(m.channel_id),
        "author": user(author),
        "content": m.content,
        "timestamp": m.timestamp,
        "edited_timestamp": m.edited_timestamp,
        "tts": m.tts,
        "mention_everyone": m.mention_everyone,
        "mentions": mentions,
        "mention_roles": [str(r) for r in m.mention_role_ids],
        "attachments": [dict(a) for a in m.attachments],
        "embeds": [dict(e) for e in m.embeds],
        "pinned": m.pinned,
        "flags": m.flags,
        "components": [dict(c) for c in m.components],
    }
    reactions = reaction_list(m, world.bot_id)
    if reactions:
        data["reactions"] = reactions
    if m.nonce is not None:
        data["nonce"] = m.nonce
    if m.webhook_id is not None:
        data["webhook_id"] = str(m.webhook_id)
    if m.application_id is not None:
        data["application_id"] = str(m.application_id)
    if m.interaction_metadata is not None:
        data["interaction_metadata"] = m.interaction_metadata
    if m.interaction_legacy is not None:
        data["interaction"] = m.interaction_legacy
    if m.sticker_items:
        data["sticker_items"] = m.sticker_items
    if m.poll is not None:
        data["poll"] = m.poll
    if m.message_reference is not None:
        data["message_reference"] = m.message_reference
        if with_referenced and m.message_reference.get("type", 0) == 0:
            ref_id = m.message_reference.get("message_id")
            ref = world.messages.peek(int(ref_id)) if ref_id else None
            data["referenced_message"] = (
                message(world, ref, with_referenced=False) if ref is not None else None
            )
    if m.thread_id is not None and m.thread_id in world.channels:
        data["thread"] = thread(world, world.channels[m.thread_id])
    channel_obj = world.channels.get(m.channel_id)
    if channel_obj is not None and channel_obj.is_thread:
        data["position"] = max(0, channel_obj.total_message_sent - 1)
    if with_member and g is not None:
        data["guild_id"] = str(g.id)
        if m.author_id in g.members and m.webhook_id is None:
            data["member"] = member(world, g.members[m.author_id], with_user=False)
    return data


def bot_sees_content(world: World, msg: Message) -> bool:
    """Whether the bot sees ``msg``'s content even without MESSAGE_CONTENT: its own messages,
    DMs, and messages that mention it (Discord's rule, for the gateway and REST alike)."""
    channel = world.channels.get(msg.channel_id)
    is_dm = channel is not None and channel.is_dm
    return is_dm or msg.author_id == world.bot_id or world.bot_id in msg.mention_ids


def message_as_read(world: World, msg: Message, *, content_intent: bool) -> dict[str, Any]:
    """A message as a REST read returns it: without the MESSAGE_CONTENT intent approved for
    the app, someone else's message comes with its content, embeds, attachments and
    components empty."""
    data = message(world, msg)
    return data if content_intent or bot_sees_content(world, msg) else strip_content(data)


def strip_content(data: dict[str, Any]) -> dict[str, Any]:
    """What a bot without MESSAGE_CONTENT sees of someone else's message."""
    data = dict(data)
    data["content"] = ""
    data["embeds"] = []
    data["attachments"] = []
    data["components"] = []
    data.pop("poll", None)
    return data


# -------------------------------------------------------------------- invites
def invite(world: World, inv: Invite, *, with_metadata: bool, with_counts: bool = False):
    g = world.guilds[inv.guild_id]
    c = world.channels.get(inv.channel_id)
    expires = None
    if inv.max_age:
        from datetime import datetime, timedelta

        expires = iso(datetime.fromisoformat(inv.created_at) + timedelta(seconds=inv.max_age))
    data: dict[str, Any] = {
        "type": 0,
        "code": inv.code,
        "guild": {
            "id": str(g.id),
            "name": g.name,
            "splash": None,
            "banner": None,
            "description": g.description,
            "icon": g.icon,
            "features": list(g.features),
            "verification_level": g.verification_level,
            "vanity_url_code": g.vanity.code if g.vanity is not None else None,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_subscription_count": 0,
        },
        "guild_id": str(g.id),
        "channel": {
            "id": str(inv.channel_id),
            "type": c.type if c else 0,
            "name": c.name if c else "",
        },
        "expires_at": expires,
        "flags": 0,
    }
    if inv.inviter_id is not None:
        data["inviter"] = user(world.users[inv.inviter_id])
    if with_metadata:
        data.update(
            {
                "uses": inv.uses,
                "max_uses": inv.max_uses,
                "max_age": inv.max_age,
                "temporary": inv.temporary,
                "created_at": inv.created_at,
            }
        )
    if with_counts:
        data["approximate_member_count"] = len(g.members)
        data["approximate_presence_count"] = sum(
            1 for m in g.members if world.users[m].status != "offline"
        )
    return data


def invite_create_event(world: World, inv: Invite) -> dict[str, Any]:
    data = invite(world, inv, with_metadata=True)
    out = {
        "channel_id": str(inv.channel_id),
        "code": inv.code,
        "created_at": inv.created_at,
        "expires_at": data["expires_at"],
        "max_age": inv.max_age,
        "max_uses": inv.max_uses,
        "temporary": inv.temporary,
        "uses": 0,
        "guild_id": str(inv.guild_id),
        "type": 0,
        "flags": 0,
    }
    if inv.inviter_id is not None:
        out["inviter"] = user(world.users[inv.inviter_id])
    return out


# ------------------------------------------------------------ scheduled events
def scheduled_event(world: World, e: ScheduledEvent, *, with_user_count: bool = True):
    data: dict[str, Any] = {
        "id": str(e.id),
        "guild_id": str(e.guild_id),
        "channel_id": sid(e.channel_id),
        "creator_id": sid(e.creator_id),
        "name": e.name,
        "description": e.description,
        "scheduled_start_time": e.scheduled_start_time,
        "scheduled_end_time": e.scheduled_end_time,
        "privacy_level": e.privacy_level,
        "status": e.status,
        "entity_type": e.entity_type,
        "entity_id": None,
        "entity_metadata": {"location": e.location} if e.location is not None else None,
        "image": e.image,
        "recurrence_rule": None,
        "guild_scheduled_event_exceptions": [],
        "auto_start": False,
    }
    if e.creator_id is not None and e.creator_id in world.users:
        data["creator"] = user(world.users[e.creator_id])
    if with_user_count:
        data["user_count"] = len(e.user_ids)
    return data


# ---------------------------------------------------------------------- voice
def voice_state(world: World, vs: VoiceState, *, with_member: bool, with_guild: bool = True):
    data: dict[str, Any] = {
        "channel_id": sid(vs.channel_id),
        "user_id": str(vs.user_id),
        "session_id": vs.session_id,
        "deaf": vs.deaf,
        "mute": vs.mute,
        "self_deaf": vs.self_deaf,
        "self_mute": vs.self_mute,
        "self_stream": vs.self_stream,
        "self_video": vs.self_video,
        "suppress": vs.suppress,
        "request_to_speak_timestamp": vs.request_to_speak_timestamp,
    }
    if with_guild:
        data["guild_id"] = str(vs.guild_id)
    if with_member:
        g = world.guilds[vs.guild_id]
        m = g.members.get(vs.user_id)
        if m is not None:
            data["member"] = member(world, m)
    return data


# ---------------------------------------------------------------- application
def application(world: World, app: Application) -> dict[str, Any]:
    owner = world.users[app.owner_id]
    bot = world.users[app.bot_user_id]
    return {
        "id": str(app.id),
        "name": app.name,
        "icon": None,
        "description": app.description,
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": app.verify_key,
        "flags": app.flags,
        "flags_new": str(app.flags),
        "owner": user(owner),
        "team": None,
        "rpc_origins": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "tags": [],
        "approximate_guild_count": sum(1 for g in world.guilds.values() if bot.id in g.members),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": ["applications.commands", "bot"],
        "integration_types_config": {"0": {}, "1": {}},
        "is_monetized": False,
        "bot": user(bot),
    }


def snowflake_created(value: int) -> str:
    return iso(snowflake_time(value))
