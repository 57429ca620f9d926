"""Permission bits, Discord's permission algorithm and role hierarchy.

Follows https://discord.com/developers/docs/topics/permissions: base permissions from
@everyone + roles (owner/ADMINISTRATOR = all), then channel overwrites (@everyone,
roles aggregated, member), then implicit rules (no VIEW_CHANNEL = nothing, no
SEND_MESSAGES = no embeds/attachments/mentions, timed-out members read-only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .snowflake import now, parse_iso

if TYPE_CHECKING:
    from .world import Channel, Guild, Member

FLAGS: dict[str, int] = {
    "CREATE_INSTANT_INVITE": 1 << 0,
    "KICK_MEMBERS": 1 << 1,
    "BAN_MEMBERS": 1 << 2,
    "ADMINISTRATOR": 1 << 3,
    "MANAGE_CHANNELS": 1 << 4,
    "MANAGE_GUILD": 1 << 5,
    "ADD_REACTIONS": 1 << 6,
    "VIEW_AUDIT_LOG": 1 << 7,
    "PRIORITY_SPEAKER": 1 << 8,
    "STREAM": 1 << 9,
    "VIEW_CHANNEL": 1 << 10,
    "SEND_MESSAGES": 1 << 11,
    "SEND_TTS_MESSAGES": 1 << 12,
    "MANAGE_MESSAGES": 1 << 13,
    "EMBED_LINKS": 1 << 14,
    "ATTACH_FILES": 1 << 15,
    "READ_MESSAGE_HISTORY": 1 << 16,
    "MENTION_EVERYONE": 1 << 17,
    "USE_EXTERNAL_EMOJIS": 1 << 18,
    "VIEW_GUILD_INSIGHTS": 1 << 19,
    "CONNECT": 1 << 20,
    "SPEAK": 1 << 21,
    "MUTE_MEMBERS": 1 << 22,
    "DEAFEN_MEMBERS": 1 << 23,
    "MOVE_MEMBERS": 1 << 24,
    "USE_VAD": 1 << 25,
    "CHANGE_NICKNAME": 1 << 26,
    "MANAGE_NICKNAMES": 1 << 27,
    "MANAGE_ROLES": 1 << 28,
    "MANAGE_WEBHOOKS": 1 << 29,
    "MANAGE_GUILD_EXPRESSIONS": 1 << 30,
    "USE_APPLICATION_COMMANDS": 1 << 31,
    "REQUEST_TO_SPEAK": 1 << 32,
    "MANAGE_EVENTS": 1 << 33,
    "MANAGE_THREADS": 1 << 34,
    "CREATE_PUBLIC_THREADS": 1 << 35,
    "CREATE_PRIVATE_THREADS": 1 << 36,
    "USE_EXTERNAL_STICKERS": 1 << 37,
    "SEND_MESSAGES_IN_THREADS": 1 << 38,
    "USE_EMBEDDED_ACTIVITIES": 1 << 39,
    "MODERATE_MEMBERS": 1 << 40,
    "VIEW_CREATOR_MONETIZATION_ANALYTICS": 1 << 41,
    "USE_SOUNDBOARD": 1 << 42,
    "CREATE_GUILD_EXPRESSIONS": 1 << 43,
    "CREATE_EVENTS": 1 << 44,
    "USE_EXTERNAL_SOUNDS": 1 << 45,
    "SEND_VOICE_MESSAGES": 1 << 46,
    "SEND_POLLS": 1 << 49,
    "USE_EXTERNAL_APPS": 1 << 50,
    "PIN_MESSAGES": 1 << 51,
    "BYPASS_SLOWMODE": 1 << 52,
}
CREATE_INSTANT_INVITE = FLAGS["CREATE_INSTANT_INVITE"]
KICK_MEMBERS = FLAGS["KICK_MEMBERS"]
BAN_MEMBERS = FLAGS["BAN_MEMBERS"]
ADMINISTRATOR = FLAGS["ADMINISTRATOR"]
MANAGE_CHANNELS = FLAGS["MANAGE_CHANNELS"]
MANAGE_GUILD = FLAGS["MANAGE_GUILD"]
ADD_REACTIONS = FLAGS["ADD_REACTIONS"]
VIEW_CHANNEL = FLAGS["VIEW_CHANNEL"]
SEND_MESSAGES = FLAGS["SEND_MESSAGES"]
SEND_TTS_MESSAGES = FLAGS["SEND_TTS_MESSAGES"]
MANAGE_MESSAGES = FLAGS["MANAGE_MESSAGES"]
EMBED_LINKS = FLAGS["EMBED_LINKS"]
ATTACH_FILES = FLAGS["ATTACH_FILES"]
READ_MESSAGE_HISTORY = FLAGS["READ_MESSAGE_HISTORY"]
MENTION_EVERYONE = FLAGS["MENTION_EVERYONE"]
CONNECT = FLAGS["CONNECT"]
CHANGE_NICKNAME = FLAGS["CHANGE_NICKNAME"]
MANAGE_NICKNAMES = FLAGS["MANAGE_NICKNAMES"]
MANAGE_ROLES = FLAGS["MANAGE_ROLES"]
MANAGE_EVENTS = FLAGS["MANAGE_EVENTS"]
MANAGE_THREADS = FLAGS["MANAGE_THREADS"]
CREATE_PUBLIC_THREADS = FLAGS["CREATE_PUBLIC_THREADS"]
CREATE_PRIVATE_THREADS = FLAGS["CREATE_PRIVATE_THREADS"]
SEND_MESSAGES_IN_THREADS = FLAGS["SEND_MESSAGES_IN_THREADS"]
MODERATE_MEMBERS = FLAGS["MODERATE_MEMBERS"]
CREATE_EVENTS = FLAGS["CREATE_EVENTS"]
PIN_MESSAGES = FLAGS["PIN_MESSAGES"]

ALL = 0
for _bit in FLAGS.values():
    ALL |= _bit

# What a fresh Discord server grants @everyone (close to the real default).
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | FLAGS["STREAM"]
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | FLAGS["USE_EXTERNAL_EMOJIS"]
    | CONNECT
    | FLAGS["SPEAK"]
    | FLAGS["USE_VAD"]
    | CHANGE_NICKNAME
    | FLAGS["USE_APPLICATION_COMMANDS"]
    | FLAGS["REQUEST_TO_SPEAK"]
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | FLAGS["USE_EXTERNAL_STICKERS"]
    | SEND_MESSAGES_IN_THREADS
    | FLAGS["USE_EMBEDDED_ACTIVITIES"]
    | FLAGS["USE_SOUNDBOARD"]
    | FLAGS["USE_EXTERNAL_SOUNDS"]
    | FLAGS["SEND_VOICE_MESSAGES"]
    | FLAGS["SEND_POLLS"]
    | FLAGS["USE_EXTERNAL_APPS"]
    | PIN_MESSAGES
)

# Timed-out members keep only these (Discord's implicit rule).
_TIMEOUT_ALLOWED = VIEW_CHANNEL | READ_MESSAGE_HISTORY
# Without SEND_MESSAGES these text abilities vanish as well.
_NEEDS_SEND = MENTION_EVERYONE | SEND_TTS_MESSAGES | ATTACH_FILES | EMBED_LINKS
# Text channel types where SEND_MESSAGES gates the rest.
_TEXT_TYPES = {0, 5, 2, 13, 10, 11, 12, 15, 16}


def to_bits(value: Any) -> int:
    """Accept an int, an object with ``.value`` (discord.Permissions), a digit string,
    or an iterable of flag names ("manage_roles" / "MANAGE_ROLES")."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise TypeError("permissions must not be a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        return FLAGS[value.upper()]
    if hasattr(value, "value") and isinstance(value.value, int):
        return int(value.value)
    if isinstance(value, Iterable):
        bits = 0
        for name in value:
            bits |= FLAGS[str(name).upper()]
        return bits
    raise TypeError(f"cannot interpret {value!r} as permissions")


def has(bits: int, required: int) -> bool:
    return bits & required == required


def is_timed_out(member: Member) -> bool:
    until = parse_iso(member.communication_disabled_until)
    return until is not None and until > now()


def base_permissions(guild: Guild, member: Member) -> int:
    if member.user_id == guild.owner_id:
        return ALL
    everyone = guild.roles.get(guild.id)
    bits = everyone.permissions if everyone else 0
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            bits |= role.permissions
    if bits & ADMINISTRATOR:
        return ALL
    if is_timed_out(member):
        bits &= _TIMEOUT_ALLOWED
    return bits


def channel_permissions(guild: Guild, member: Member, channel: Channel | None) -> int:
    """Effective permissions of ``member`` in ``channel`` (threads use their parent)."""
    base = base_permissions(guild, member)
    if channel is None:
        return base
    if base & ADMINISTRATOR or member.user_id == guild.owner_id:
        return ALL
    target = channel
    if channel.is_thread and channel.parent_id is not None:
        parent = guild.channels.get(channel.parent_id)
        if parent is not None:
            target = parent
    bits = base
    overwrites = {ow.id: ow for ow in target.overwrites}
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        bits &= ~everyone.deny
        bits |= everyone.allow
    allow = deny = 0
    for role_id in member.role_ids:
        ow = overwrites.get(role_id)
        if ow is not None and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    bits &= ~deny
    bits |= allow
    own = overwrites.get(member.user_id)
    if own is not None and own.type == 1:
        bits &= ~own.deny
        bits |= own.allow
    if is_timed_out(member):
        bits &= _TIMEOUT_ALLOWED
    if not bits & VIEW_CHANNEL:
        return 0
    if channel.type in _TEXT_TYPES and not bits & SEND_MESSAGES:
        bits &= ~_NEEDS_SEND
    # Private threads are only visible to their members (and thread managers).
    if (
        channel.is_thread
        and channel.type == 12
        and not bits & MANAGE_THREADS
        and member.user_id not in channel.thread_members
    ):
        return 0
    return bits


def top_role_position(guild: Guild, member: Member) -> int:
    """Highest role position the member holds (@everyone is 0)."""
    positions = [guild.roles[r].position for r in member.role_ids if r in guild.roles]
    return max(positions, default=0)


def can_manage_role(guild: Guild, actor: Member, role_position: int) -> bool:
    """Hierarchy rule: the actor's top role must be strictly above the role.

    The guild owner bypasses the hierarchy; ADMINISTRATOR does not.
    """
    if actor.user_id == guild.owner_id:
        return True
    return top_role_position(guild, actor) > role_position


def can_act_on_member(guild: Guild, actor: Member, target: Member) -> bool:
    """Kick/ban/nick/timeout hierarchy: nobody acts on the owner; else top role above."""
    if target.user_id == guild.owner_id:
        return False
    if actor.user_id == guild.owner_id:
        return True
    return top_role_position(guild, actor) > top_role_position(guild, target)


def names(bits: int) -> list[str]:
    return [name for name, bit in FLAGS.items() if bits & bit]
