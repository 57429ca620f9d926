"""``/guilds/...`` routes: guild, channels, roles, members, bans, invites, events.

Role assignment follows Discord exactly: MANAGE_ROLES (ADMINISTRATOR implies it),
the bot's highest role strictly above the target role, owner bypasses both, managed
roles never assignable; violations are 403 ``{"code": 50013}``.
"""

from __future__ import annotations

from typing import Any

from .. import forums, payloads
from .. import intents as I
from .. import permissions as P
from ..errors import ApiError, field_error, form_error
from ..snowflake import now, parse_iso
from ..world import (
    ENTITY_EXTERNAL,
    ENTITY_STAGE,
    ENTITY_VOICE,
    EVENT_ACTIVE,
    EVENT_CANCELED,
    EVENT_COMPLETED,
    EVENT_SCHEDULED,
    FORUM,
    MEDIA,
    STAGE,
    VOICE,
    Channel,
    Guild,
    Member,
    Overwrite,
    Role,
)
from .router import Ctx, Reply, Router

ROLE_FIELDS = {"name", "color", "hoist", "mentionable", "icon", "unicode_emoji"}
CHANNEL_TYPES_CREATABLE = {0, 2, 4, 5, 13, 15, 16}


def _guild(ctx: Ctx) -> Guild:
    guild = ctx.world.guild(ctx.params["guild_id"])
    ctx.bot_member(guild)  # 50001 if the bot is not in it
    return guild


def _is_owner(guild: Guild, member: Member) -> bool:
    return member.user_id == guild.owner_id


def _need_guild(ctx: Ctx, guild: Guild, bits: int) -> Member:
    bot = ctx.bot_member(guild)
    if not P.has(P.base_permissions(guild, bot), bits):
        raise ApiError(50013)
    return bot


def check_role_assignable(ctx: Ctx, guild: Guild, role: Role) -> None:
    bot = _need_guild(ctx, guild, P.MANAGE_ROLES)
    if role.managed or role.is_everyone:
        raise ApiError(50013)
    if not P.can_manage_role(guild, bot, role.position):
        raise ApiError(50013)


def _check_role_editable(ctx: Ctx, guild: Guild, role: Role, new_permissions: int | None) -> None:
    bot = _need_guild(ctx, guild, P.MANAGE_ROLES)
    if not role.is_everyone and not P.can_manage_role(guild, bot, role.position):
        raise ApiError(50013)
    if new_permissions is not None and not _is_owner(guild, bot):
        have = P.base_permissions(guild, bot)
        if not have & P.ADMINISTRATOR and new_permissions & ~have & ~role.permissions:
            raise ApiError(50013)  # cannot grant permissions the bot lacks


def _member_payload(ctx: Ctx, member: Member) -> dict[str, Any]:
    return payloads.member(ctx.world, member)


def register(r: Router) -> None:
    # --------------------------------------------------------------- guild
    @r.route("GET", "/guilds/{guild_id}")
    async def get_guild(ctx: Ctx):
        return payloads.guild(ctx.world, _guild(ctx), with_counts=ctx.query_bool("with_counts"))

    @r.route("PATCH", "/guilds/{guild_id}")
    async def modify_guild(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.MANAGE_GUILD)
        body = ctx.body
        for key in ("name", "description", "preferred_locale", "verification_level"):
            if key in body:
                setattr(guild, key, body[key])
        for key in (
            "system_channel_id",
            "rules_channel_id",
            "public_updates_channel_id",
            "afk_channel_id",
        ):
            if key in body:
                setattr(guild, key, int(body[key]) if body[key] else None)
        ctx.events.guild_update(guild)
        return payloads.guild(ctx.world, guild)

    @r.route("GET", "/guilds/{guild_id}/preview")
    async def guild_preview(ctx: Ctx):
        data = payloads.guild(ctx.world, _guild(ctx), with_counts=True)
        return data

    # ------------------------------------------------------------ channels
    @r.route("GET", "/guilds/{guild_id}/channels")
    async def list_channels(ctx: Ctx):
        guild = _guild(ctx)
        return [payloads.channel(ctx.world, c) for c in ctx.world.top_level_channels(guild)]

    @r.route("POST", "/guilds/{guild_id}/channels")
    async def create_channel(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.MANAGE_CHANNELS)
        body = ctx.body
        if not body.get("name"):
            raise form_error({"name": field_error("BASE_TYPE_REQUIRED", "This field is required")})
        ctype = int(body.get("type") or 0)
        if ctype not in CHANNEL_TYPES_CREATABLE:
            raise form_error(
                {
                    "type": field_error(
                        "BASE_TYPE_CHOICES", "Value must be one of {0, 2, 4, 5, 13, 15, 16}."
                    )
                }
            )
        overwrites = body.get("permission_overwrites") or []
        if overwrites:
            _need_guild(ctx, guild, P.MANAGE_ROLES)
        tags = []
        if body.get("available_tags"):
            if ctype not in (FORUM, MEDIA):
                raise form_error(
                    {
                        "available_tags": field_error(
                            "CHANNEL_TYPE_INVALID", "Only forum and media channels have tags"
                        )
                    }
                )
            tags = forums.parse_available_tags(ctx.world, None, body["available_tags"])
        channel = Channel(
            id=ctx.world.new_id(),
            type=ctype,
            guild_id=guild.id,
            name=body["name"],
            position=int(body.get("position") or len(ctx.world.top_level_channels(guild))),
            parent_id=int(body["parent_id"]) if body.get("parent_id") else None,
            topic=body.get("topic"),
            nsfw=bool(body.get("nsfw")),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            overwrites=[
                Overwrite(
                    int(o["id"]),
                    int(o.get("type", 0)),
                    int(o.get("allow") or 0),
                    int(o.get("deny") or 0),
                )
                for o in overwrites
            ],
        )
        if ctype in (VOICE, STAGE):
            channel.bitrate = int(body.get("bitrate") or 64000)
            channel.user_limit = int(body.get("user_limit") or 0)
        channel.available_tags = tags
        ctx.world.add_channel(channel)
        ctx.events.channel_create(channel)
        return Reply(201, payloads.channel(ctx.world, channel))

    @r.route("PATCH", "/guilds/{guild_id}/channels")
    async def channel_positions(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.MANAGE_CHANNELS)
        for entry in ctx.json or []:
            channel = guild.channels.get(int(entry["id"]))
            if channel is None:
                raise ApiError(10003)
            if entry.get("position") is not None:
                channel.position = int(entry["position"])
            if "parent_id" in entry:
                channel.parent_id = int(entry["parent_id"]) if entry["parent_id"] else None
            ctx.events.channel_update(channel)

    @r.route("GET", "/guilds/{guild_id}/threads/active")
    async def active_threads(ctx: Ctx):
        guild = _guild(ctx)
        bot = ctx.bot_member(guild)
        threads = [
            t
            for t in ctx.world.threads(guild)
            if not t.archived and P.channel_permissions(guild, bot, t) & P.VIEW_CHANNEL
        ]
        return {
            "threads": [payloads.thread(ctx.world, t) for t in threads],
            "members": [
                payloads.thread_member(t, bot.user_id)
                for t in threads
                if bot.user_id in t.thread_members
            ],
            "has_more": False,
        }

    # --------------------------------------------------------------- roles
    @r.route("GET", "/guilds/{guild_id}/roles")
    async def list_roles(ctx: Ctx):
        guild = _guild(ctx)
        return [payloads.role(r) for r in ctx.world.roles_sorted(guild)]

    @r.route("GET", "/guilds/{guild_id}/roles/member-counts")
    async def role_member_counts(ctx: Ctx):
        guild = _guild(ctx)
        counts = {str(r): 0 for r in guild.roles if r != guild.id}
        for m in guild.members.values():
            for rid in m.role_ids:
                counts[str(rid)] = counts.get(str(rid), 0) + 1
        return counts

    @r.route("GET", "/guilds/{guild_id}/roles/{role_id}")
    async def get_role(ctx: Ctx):
        guild = _guild(ctx)
        return payloads.role(ctx.world.role(guild, ctx.params["role_id"]))

    @r.route("POST", "/guilds/{guild_id}/roles")
    async def create_role(ctx: Ctx):
        guild = _guild(ctx)
        body = ctx.body
        bot = _need_guild(ctx, guild, P.MANAGE_ROLES)
        permissions = (
            int(body["permissions"])
            if body.get("permissions") is not None
            else guild.everyone.permissions
        )
        have = P.base_permissions(guild, bot)
        if not have & P.ADMINISTRATOR and permissions & ~have:
            raise ApiError(50013)
        # New roles land at position 1 (just above @everyone), pushing others up.
        shifted = [r for r in guild.roles.values() if not r.is_everyone and r.position >= 1]
        for other in shifted:
            other.position += 1
        role = Role(
            id=ctx.world.new_id(),
            guild_id=guild.id,
            name=body.get("name") or "new role",
            permissions=permissions,
            position=1,
            color=int(body.get("color") or 0),
            hoist=bool(body.get("hoist")),
            mentionable=bool(body.get("mentionable")),
            unicode_emoji=body.get("unicode_emoji"),
        )
        guild.roles[role.id] = role
        ctx.events.role_create(guild, role)
        for other in shifted:
            ctx.events.role_update(guild, other)
        return payloads.role(role)

    @r.route("PATCH", "/guilds/{guild_id}/roles")
    async def role_positions(ctx: Ctx):
        guild = _guild(ctx)
        bot = _need_guild(ctx, guild, P.MANAGE_ROLES)
        changed = []
        for entry in ctx.json or []:
            role = ctx.world.role(guild, entry["id"])
            new_pos = int(entry.get("position") or 0)
            if role.is_everyone:
                continue
            if not P.can_manage_role(guild, bot, role.position) or not P.can_manage_role(
                guild, bot, new_pos
            ):
                raise ApiError(50013)
            role.position = new_pos
            changed.append(role)
        for role in changed:
            ctx.events.role_update(guild, role)
        return [payloads.role(r) for r in ctx.world.roles_sorted(guild)]

    @r.route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
    async def modify_role(ctx: Ctx):
        guild = _guild(ctx)
        role = ctx.world.role(guild, ctx.params["role_id"])
        body = ctx.body
        new_perms = int(body["permissions"]) if body.get("permissions") is not None else None
        _check_role_editable(ctx, guild, role, new_perms)
        for key in ROLE_FIELDS & set(body):
            value = body[key]
            if key == "color":
                value = int(value or 0)
            setattr(role, key, value)
        if new_perms is not None:
            role.permissions = new_perms
        ctx.events.role_update(guild, role)
        return payloads.role(role)

    @r.route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
    async def delete_role(ctx: Ctx):
        guild = _guild(ctx)
        role = ctx.world.role(guild, ctx.params["role_id"])
        if role.is_everyone or role.managed:
            raise ApiError(50028)
        _check_role_editable(ctx, guild, role, None)
        ctx.emu.ops.delete_role(guild, role)

    # ------------------------------------------------------------- members
    @r.route("GET", "/guilds/{guild_id}/members")
    async def list_members(ctx: Ctx):
        guild = _guild(ctx)
        if not ctx.emu.privileged_intents & I.GUILD_MEMBERS:
            raise ApiError(50001)
        limit = ctx.query_int("limit", 1) or 1
        if not 1 <= limit <= 1000:
            raise form_error(
                {
                    "limit": field_error(
                        "NUMBER_TYPE_MAX", "int value should be less than or equal to 1000."
                    )
                }
            )
        after = ctx.query_int("after", 0) or 0
        ids = sorted(uid for uid in guild.members if uid > after)[:limit]
        return [_member_payload(ctx, guild.members[uid]) for uid in ids]

    @r.route("GET", "/guilds/{guild_id}/members/search")
    async def search_members(ctx: Ctx):
        guild = _guild(ctx)
        query = (ctx.query.get("query") or "").lower()
        limit = ctx.query_int("limit", 1) or 1
        found = [
            m
            for m in guild.members.values()
            if ctx.world.users[m.user_id].username.lower().startswith(query)
            or (m.nick or "").lower().startswith(query)
            or (ctx.world.users[m.user_id].global_name or "").lower().startswith(query)
        ]
        return [_member_payload(ctx, m) for m in found[:limit]]

    @r.route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def get_member(ctx: Ctx):
        guild = _guild(ctx)
        return _member_payload(ctx, ctx.world.member(guild, ctx.params["user_id"]))

    @r.route("PATCH", "/guilds/{guild_id}/members/@me")
    async def modify_me(ctx: Ctx):
        guild = _guild(ctx)
        bot = ctx.bot_member(guild)
        if "nick" in ctx.body:
            if not P.base_permissions(guild, bot) & (P.CHANGE_NICKNAME | P.MANAGE_NICKNAMES):
                raise ApiError(50013)
            ctx.emu.ops.update_member(guild, bot, nick=ctx.body["nick"] or None)
        return _member_payload(ctx, bot)

    @r.route("PATCH", "/guilds/{guild_id}/members/{user_id}")
    async def modify_member(ctx: Ctx):
        guild = _guild(ctx)
        bot = ctx.bot_member(guild)
        member = ctx.world.member(guild, ctx.params["user_id"])
        body = ctx.body
        have = P.base_permissions(guild, bot)
        owner = _is_owner(guild, bot)
        changes: dict[str, Any] = {}
        if "nick" in body:
            if member.user_id == bot.user_id:
                if not have & (P.CHANGE_NICKNAME | P.MANAGE_NICKNAMES):
                    raise ApiError(50013)
            elif not have & P.MANAGE_NICKNAMES or not P.can_act_on_member(guild, bot, member):
                raise ApiError(50013)
            changes["nick"] = body["nick"] or None
        if "communication_disabled_until" in body:
            if not have & P.MODERATE_MEMBERS or not P.can_act_on_member(guild, bot, member):
                raise ApiError(50013)
            if P.base_permissions(guild, member) & P.ADMINISTRATOR:
                raise ApiError(50013)
            changes["communication_disabled_until"] = body["communication_disabled_until"]
        for key, bit in (("mute", P.FLAGS["MUTE_MEMBERS"]), ("deaf", P.FLAGS["DEAFEN_MEMBERS"])):
            if key in body:
                if not have & bit:
                    raise ApiError(50013)
                changes[key] = bool(body[key])
        new_roles = None
        if "roles" in body and body["roles"] is not None:
            if not owner and not have & P.MANAGE_ROLES:
                raise ApiError(50013)
            wanted = [int(x) for x in body["roles"]]
            for rid in wanted:
                if rid not in guild.roles:
                    raise ApiError(10011)
            for rid in set(wanted) ^ set(member.role_ids):
                role = guild.roles.get(rid)
                if role is None:
                    continue
                if role.managed or not P.can_manage_role(guild, bot, role.position):
                    raise ApiError(50013)
            new_roles = wanted
        if "channel_id" in body:
            if not have & P.FLAGS["MOVE_MEMBERS"]:
                raise ApiError(50013)
            vs = guild.voice_states.get(member.user_id)
            if vs is None or vs.channel_id is None:
                raise ApiError(40032, "Target user is not connected to voice.")
            target = int(body["channel_id"]) if body["channel_id"] else None
            ctx.emu.ops.voice_update(guild, member.user_id, target)
        if new_roles is not None:
            for key, value in changes.items():
                setattr(member, key, value)
            if (
                not ctx.emu.ops.set_member_roles(
                    guild, member, new_roles, actor_id=bot.user_id, reason=ctx.reason
                )
                and changes
            ):
                ctx.events.member_update(guild, member)
        elif changes:
            ctx.emu.ops.update_member(guild, member, **changes)
        return _member_payload(ctx, member)

    @r.route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def add_member_role(ctx: Ctx):
        guild = _guild(ctx)
        member = ctx.world.member(guild, ctx.params["user_id"])
        role = ctx.world.role(guild, ctx.params["role_id"])
        check_role_assignable(ctx, guild, role)
        if role.id not in member.role_ids:
            ctx.emu.ops.set_member_roles(
                guild,
                member,
                [*member.role_ids, role.id],
                actor_id=ctx.world.bot_id,
                reason=ctx.reason,
            )

    @r.route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def remove_member_role(ctx: Ctx):
        guild = _guild(ctx)
        member = ctx.world.member(guild, ctx.params["user_id"])
        role = ctx.world.role(guild, ctx.params["role_id"])
        check_role_assignable(ctx, guild, role)
        if role.id in member.role_ids:
            ctx.emu.ops.set_member_roles(
                guild,
                member,
                [r for r in member.role_ids if r != role.id],
                actor_id=ctx.world.bot_id,
                reason=ctx.reason,
            )

    @r.route("DELETE", "/guilds/{guild_id}/members/{user_id}")
    async def kick(ctx: Ctx):
        guild = _guild(ctx)
        bot = _need_guild(ctx, guild, P.KICK_MEMBERS)
        member = ctx.world.member(guild, ctx.params["user_id"])
        if not P.can_act_on_member(guild, bot, member):
            raise ApiError(50013)
        ctx.emu.ops.member_remove(guild, member.user_id)

    # ---------------------------------------------------------------- bans
    @r.route("GET", "/guilds/{guild_id}/bans")
    async def list_bans(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.BAN_MEMBERS)
        return [
            {"reason": reason, "user": payloads.user(ctx.world.users[uid])}
            for uid, reason in guild.bans.items()
        ]

    @r.route("GET", "/guilds/{guild_id}/bans/{user_id}")
    async def get_ban(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.BAN_MEMBERS)
        uid = ctx.int_param("user_id")
        if uid not in guild.bans:
            raise ApiError(10026, "Unknown Ban", status=404)
        return {"reason": guild.bans[uid], "user": payloads.user(ctx.world.users[uid])}

    @r.route("PUT", "/guilds/{guild_id}/bans/{user_id}")
    async def ban(ctx: Ctx):
        guild = _guild(ctx)
        bot = _need_guild(ctx, guild, P.BAN_MEMBERS)
        user = ctx.world.user(ctx.params["user_id"])
        member = guild.members.get(user.id)
        if member is not None and not P.can_act_on_member(guild, bot, member):
            raise ApiError(50013)
        guild.bans[user.id] = ctx.reason
        if member is not None:
            ctx.emu.ops.member_remove(guild, user.id)
        ctx.events.ban(guild, user, added=True)

    @r.route("DELETE", "/guilds/{guild_id}/bans/{user_id}")
    async def unban(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.BAN_MEMBERS)
        uid = ctx.int_param("user_id")
        if guild.bans.pop(uid, ...) is ...:
            raise ApiError(10026, "Unknown Ban", status=404)
        ctx.events.ban(guild, ctx.world.users[uid], added=False)

    # ------------------------------------------------------------- invites
    @r.route("GET", "/guilds/{guild_id}/invites")
    async def guild_invites(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.MANAGE_GUILD)
        return [
            payloads.invite(ctx.world, inv, with_metadata=True) for inv in guild.invites.values()
        ]

    @r.route("GET", "/guilds/{guild_id}/vanity-url")
    async def vanity_url(ctx: Ctx):
        guild = _guild(ctx)
        _need_guild(ctx, guild, P.MANAGE_GUILD)
        vanity = guild.vanity
        return {"code": vanity.code if vanity else None, "uses": vanity.uses if vanity else 0}

    # ---------------------------------------------------- scheduled events
    def _event(ctx: Ctx, guild: Guild):
        try:
            return guild.scheduled_events[int(ctx.params["event_id"])]
        except (KeyError, ValueError):
            raise ApiError(10070) from None

    @r.route("GET", "/guilds/{guild_id}/scheduled-events")
    async def list_events(ctx: Ctx):
        guild = _guild(ctx)
        with_count = ctx.query_bool("with_user_count")
        return [
            payloads.scheduled_event(ctx.world, e, with_user_count=with_count)
            for e in guild.scheduled_events.values()
        ]

    @r.route("POST", "/guilds/{guild_id}/scheduled-events")
    async def create_event(ctx: Ctx):
        guild = _guild(ctx)
        bot = ctx.bot_member(guild)
        if not P.base_permissions(guild, bot) & (P.CREATE_EVENTS | P.MANAGE_EVENTS):
            raise ApiError(50013)
        fields = _event_fields(ctx, guild, ctx.body, creating=True)
        event = ctx.emu.ops.create_scheduled_event(guild, creator_id=bot.user_id, **fields)
        return payloads.scheduled_event(ctx.world, event)

    @r.route("GET", "/guilds/{guild_id}/scheduled-events/{event_id}")
    async def get_event(ctx: Ctx):
        guild = _guild(ctx)
        return payloads.scheduled_event(
            ctx.world, _event(ctx, guild), with_user_count=ctx.query_bool("with_user_count")
        )

    @r.route("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}")
    async def modify_event(ctx: Ctx):
        guild = _guild(ctx)
        event = _event(ctx, guild)
        bot = ctx.bot_member(guild)
        have = P.base_permissions(guild, bot)
        if not (
            have & P.MANAGE_EVENTS or (event.creator_id == bot.user_id and have & P.CREATE_EVENTS)
        ):
            raise ApiError(50013)
        body = ctx.body
        fields = _event_fields(ctx, guild, body, creating=False)
        if "status" in body:
            new = int(body["status"])
            allowed = {
                EVENT_SCHEDULED: {EVENT_ACTIVE, EVENT_CANCELED},
                EVENT_ACTIVE: {EVENT_COMPLETED},
            }.get(event.status, set())
            if new != event.status and new not in allowed:
                raise form_error(
                    {
                        "status": field_error(
                            "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                            "Invalid status transition",
                        )
                    }
                )
            fields["status"] = new
        ctx.emu.ops.update_scheduled_event(event, **fields)
        return payloads.scheduled_event(ctx.world, event)

    @r.route("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}")
    async def delete_event(ctx: Ctx):
        guild = _guild(ctx)
        event = _event(ctx, guild)
        _need_guild(ctx, guild, P.MANAGE_EVENTS)
        ctx.emu.ops.delete_scheduled_event(event)

    @r.route("GET", "/guilds/{guild_id}/scheduled-events/{event_id}/users")
    async def event_users(ctx: Ctx):
        guild = _guild(ctx)
        event = _event(ctx, guild)
        limit = min(ctx.query_int("limit", 100) or 100, 100)
        before, after = ctx.query_int("before"), ctx.query_int("after")
        ids = sorted(event.user_ids)
        if before is not None:
            ids = [i for i in ids if i < before][-limit:]
        else:
            ids = [i for i in ids if after is None or i > after][:limit]
        with_member = ctx.query_bool("with_member")
        out = []
        for uid in ids:
            entry: dict[str, Any] = {
                "guild_scheduled_event_id": str(event.id),
                "user_id": str(uid),
                "response": 1,  # INTERESTED: the only RSVP the emulator models
                "user": payloads.user(ctx.world.users[uid]),
            }
            if with_member and uid in guild.members:
                entry["member"] = payloads.member(ctx.world, guild.members[uid])
            out.append(entry)
        return out

    # --------------------------------------------------------------- voice
    @r.route("GET", "/guilds/{guild_id}/voice-states/{user_id}")
    async def voice_state(ctx: Ctx):
        guild = _guild(ctx)
        raw = ctx.params["user_id"]
        uid = ctx.world.bot_id if raw == "@me" else ctx.int_param("user_id")
        vs = guild.voice_states.get(uid)
        if vs is None or vs.channel_id is None:
            raise ApiError(10065, "Unknown Voice State", status=404)
        return payloads.voice_state(ctx.world, vs, with_member=True)

    # ------------------------------------------------------- empty listings
    for path in ("emojis", "stickers", "webhooks", "integrations", "soundboard-sounds"):
        r.add("GET", f"/guilds/{{guild_id}}/{path}", _empty_list)

    @r.route("GET", "/guilds/{guild_id}/audit-logs")
    async def audit_logs(ctx: Ctx):
        _guild(ctx)
        return {
            "audit_log_entries": [],
            "users": [],
            "integrations": [],
            "webhooks": [],
            "guild_scheduled_events": [],
            "threads": [],
            "application_commands": [],
            "auto_moderation_rules": [],
        }


async def _empty_list(ctx: Ctx):
    _guild(ctx)
    return []


def _event_fields(
    ctx: Ctx, guild: Guild, body: dict[str, Any], *, creating: bool
) -> dict[str, Any]:
    """Validate a scheduled-event payload like Discord (50035 on bad input)."""
    errors: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    entity_type = int(body.get("entity_type") or (ENTITY_EXTERNAL if creating else 0)) or None
    if creating:
        if not body.get("name"):
            errors["name"] = field_error("BASE_TYPE_REQUIRED", "This field is required")
        if not body.get("scheduled_start_time"):
            errors["scheduled_start_time"] = field_error(
                "BASE_TYPE_REQUIRED", "This field is required"
            )
    start = (
        parse_iso(body.get("scheduled_start_time")) if body.get("scheduled_start_time") else None
    )
    end = parse_iso(body.get("scheduled_end_time")) if body.get("scheduled_end_time") else None
    if start is not None and creating and start < now():
        errors["scheduled_start_time"] = field_error(
            "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST", "Cannot schedule event in the past."
        )
    if start and end and end <= start:
        errors["scheduled_end_time"] = field_error(
            "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
            "Cannot schedule event to end before starting.",
        )
    location = (body.get("entity_metadata") or {}).get("location")
    if entity_type == ENTITY_EXTERNAL and creating:
        if not location:
            errors["entity_metadata"] = {
                "location": field_error("BASE_TYPE_REQUIRED", "This field is required")
            }
        if not end:
            errors["scheduled_end_time"] = field_error(
                "BASE_TYPE_REQUIRED", "This field is required"
            )
    channel_id = body.get("channel_id")
    if entity_type in (ENTITY_STAGE, ENTITY_VOICE):
        channel = guild.channels.get(int(channel_id)) if channel_id else None
        wanted = STAGE if entity_type == ENTITY_STAGE else VOICE
        if channel is None or channel.type != wanted:
            errors["channel_id"] = field_error("CHANNEL_TYPE_INVALID", "Invalid channel type")
    if errors:
        raise form_error(errors)
    for key in (
        "name",
        "description",
        "scheduled_start_time",
        "scheduled_end_time",
        "privacy_level",
        "image",
    ):
        if key in body:
            fields[key] = body[key]
    if entity_type:
        fields["entity_type"] = entity_type
    if "channel_id" in body:
        fields["channel_id"] = int(channel_id) if channel_id else None
    if "entity_metadata" in body:
        fields["location"] = location
    return fields
