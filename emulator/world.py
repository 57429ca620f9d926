"""Plain in-memory Discord state.

No I/O and no events here: REST handlers and actors mutate these objects and then
ask :mod:`.events` to tell the gateway. Objects double as the "handles" tests get
back (they all expose ``.id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .message_store import MessageIndex, MessageStore
from .snowflake import SnowflakeGenerator, now_iso

# Channel types
TEXT, DM, VOICE, GROUP_DM, CATEGORY, NEWS = 0, 1, 2, 3, 4, 5
NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 10, 11, 12
STAGE, DIRECTORY, FORUM, MEDIA = 13, 14, 15, 16
THREAD_TYPES = frozenset({NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})
MESSAGEABLE_TYPES = frozenset({TEXT, DM, VOICE, NEWS, STAGE, *THREAD_TYPES})

# Scheduled event status / entity types
EVENT_SCHEDULED, EVENT_ACTIVE, EVENT_COMPLETED, EVENT_CANCELED = 1, 2, 3, 4
ENTITY_STAGE, ENTITY_VOICE, ENTITY_EXTERNAL = 1, 2, 3


@dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    system: bool = False
    avatar: str | None = None
    accepts_dms: bool = True
    status: str = "online"
    activities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def user_id(self) -> int:
        return self.id


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None
    icon: str | None = None
    unicode_emoji: str | None = None
    flags: int = 0

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild_id


@dataclass(eq=False)
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0


@dataclass(eq=False)
class ForumTag:
    id: int
    name: str
    moderated: bool = False
    emoji_id: int | None = None
    emoji_name: str | None = None


@dataclass(eq=False)
class Reaction:
    emoji: dict[str, Any]  # {"id": str|None, "name": str, "animated"?: bool}
    user_ids: list[int] = field(default_factory=list)


@dataclass(eq=False)
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    type: int = 0
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    mention_everyone: bool = False
    mention_ids: list[int] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    timestamp: str = field(default_factory=now_iso)
    edited_timestamp: str | None = None
    message_reference: dict[str, Any] | None = None
    pinned: bool = False
    reactions: dict[str, Reaction] = field(default_factory=dict)
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    interaction_legacy: dict[str, Any] | None = None
    allowed_mentions: dict[str, Any] | None = None
    nonce: str | int | None = None
    thread_id: int | None = None
    sticker_items: list[dict[str, Any]] = field(default_factory=list)
    poll: dict[str, Any] | None = None
    ephemeral: bool = False


@dataclass(eq=False)
class Channel:
    id: int
    type: int
    guild_id: int | None = None
    name: str = ""
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    overwrites: list[Overwrite] = field(default_factory=list)
    rate_limit_per_user: int = 0
    last_message_id: int | None = None
    last_pin_timestamp: str | None = None
    flags: int = 0
    # voice / stage
    bitrate: int = 64000
    user_limit: int = 0
    rtc_region: str | None = None
    # forum / media
    available_tags: list[ForumTag] = field(default_factory=list)
    default_reaction_emoji: dict[str, Any] | None = None
    default_sort_order: int | None = None
    default_forum_layout: int = 0
    default_auto_archive_duration: int = 1440
    default_thread_rate_limit_per_user: int = 0
    # threads
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: str | None = None
    create_timestamp: str | None = None
    message_count: int = 0
    total_message_sent: int = 0
    applied_tags: list[int] = field(default_factory=list)
    thread_members: dict[int, str] = field(default_factory=dict)  # user id -> join ts
    # DMs
    recipient_ids: list[int] = field(default_factory=list)
    # content
    messages: MessageStore = field(default_factory=MessageStore)  # id order
    pin_times: dict[int, str] = field(default_factory=dict)  # message id -> pinned_at

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_dm(self) -> bool:
        return self.type in (DM, GROUP_DM)

    def tag_id(self, name: str) -> int:
        """Id of the forum tag called ``name`` (tests use this to pick tags)."""
        for tag in self.available_tags:
            if tag.name == name:
                return tag.id
        raise KeyError(name)

    @property
    def tags(self) -> dict[str, int]:
        return {tag.name: tag.id for tag in self.available_tags}


@dataclass(eq=False)
class Member:
    guild_id: int
    user_id: int
    nick: str | None = None
    role_ids: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=now_iso)
    deaf: bool = False
    mute: bool = False
    pending: bool = False
    communication_disabled_until: str | None = None
    flags: int = 0
    avatar: str | None = None
    premium_since: str | None = None

    @property
    def id(self) -> int:
        return self.user_id


@dataclass(eq=False)
class Invite:
    code: str
    guild_id: int
    channel_id: int
    inviter_id: int | None
    uses: int = 0
    max_uses: int = 0
    max_age: int = 86400
    temporary: bool = False
    created_at: str = field(default_factory=now_iso)
    # which members joined through it (tests assert attribution)
    joined_user_ids: list[int] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.code


@dataclass(eq=False)
class ScheduledEvent:
    id: int
    guild_id: int
    name: str
    scheduled_start_time: str
    entity_type: int = ENTITY_EXTERNAL
    channel_id: int | None = None
    creator_id: int | None = None
    description: str | None = None
    scheduled_end_time: str | None = None
    location: str | None = None
    status: int = EVENT_SCHEDULED
    privacy_level: int = 2
    image: str | None = None
    user_ids: list[int] = field(default_factory=list)


@dataclass(eq=False)
class VoiceState:
    guild_id: int
    user_id: int
    channel_id: int | None
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False
    mute: bool = False
    deaf: bool = False
    self_stream: bool = False
    self_video: bool = False
    suppress: bool = False
    request_to_speak_timestamp: str | None = None


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)  # includes threads
    members: dict[int, Member] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    bans: dict[int, str | None] = field(default_factory=dict)  # user id -> reason
    #: The vanity URL (discord.gg/<code>): an invite that is never listed, never expires.
    vanity: Invite | None = None
    features: list[str] = field(default_factory=lambda: ["COMMUNITY", "NEWS"])
    description: str | None = None
    icon: str | None = None
    preferred_locale: str = "en-US"
    system_channel_id: int | None = None
    rules_channel_id: int | None = None
    public_updates_channel_id: int | None = None
    afk_channel_id: int | None = None
    verification_level: int = 1
    premium_tier: int = 0

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]


@dataclass
class Application:
    id: int
    name: str
    owner_id: int
    bot_user_id: int
    flags: int = 0
    description: str = ""
    verify_key: str = "0" * 64


class World:
    """Every object the emulator knows, with id lookups that raise Discord errors."""

    def __init__(self) -> None:
        self.ids = SnowflakeGenerator()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}  # every channel incl. threads and DMs
        # every live message by id (incl. ephemeral); finds seeded history by id too
        self.messages = MessageIndex()
        self.dm_channels: dict[int, Channel] = {}  # recipient user id -> DM with the bot
        self.attachment_blobs: dict[int, bytes] = {}
        self.application: Application | None = None
        # (guild_id or None) -> command id -> command payload
        self.commands: dict[int | None, dict[int, dict[str, Any]]] = {}
        self.deleted_messages: list[Message] = []

    # ----------------------------------------------------------------- lookups
    @property
    def bot_id(self) -> int:
        assert self.application is not None
        return self.application.bot_user_id

    def new_id(self) -> int:
        return self.ids.next()

    def user(self, user_id: int | str) -> User:
        try:
            return self.users[int(user_id)]
        except (KeyError, ValueError):
            raise ApiError(10013) from None

    def guild(self, guild_id: int | str) -> Guild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise ApiError(10004) from None

    def channel(self, channel_id: int | str) -> Channel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise ApiError(10003) from None

    def message(self, channel: Channel, message_id: int | str) -> Message:
        try:
            return channel.messages[int(message_id)]
        except (KeyError, ValueError):
            raise ApiError(10008) from None

    def member(self, guild: Guild, user_id: int | str) -> Member:
        try:
            return guild.members[int(user_id)]
        except (KeyError, ValueError):
            raise ApiError(10007) from None

    def role(self, guild: Guild, role_id: int | str) -> Role:
        try:
            return guild.roles[int(role_id)]
        except (KeyError, ValueError):
            raise ApiError(10011) from None

    def guild_of(self, channel: Channel) -> Guild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id else None

    def bot_member(self, guild: Guild) -> Member | None:
        return guild.members.get(self.bot_id)

    def bot_in_guild(self, guild_id: int | None) -> bool:
        guild = self.guilds.get(guild_id) if guild_id else None
        return guild is not None and self.bot_id in guild.members

    def find_message(self, message_id: int) -> Message | None:
        return self.messages.get(int(message_id))

    def roles_sorted(self, guild: Guild) -> list[Role]:
        return sorted(guild.roles.values(), key=lambda r: (r.position, r.id))

    def threads(self, guild: Guild) -> list[Channel]:
        return [c for c in guild.channels.values() if c.is_thread]

    def top_level_channels(self, guild: Guild) -> list[Channel]:
        return [c for c in guild.channels.values() if not c.is_thread]

    # ------------------------------------------------------------------ mutations
    def add_user(self, username: str, *, bot: bool = False, **extra: Any) -> User:
        user = User(id=self.new_id(), username=username, bot=bot, **extra)
        self.users[user.id] = user
        return user

    def add_channel(self, channel: Channel) -> Channel:
        channel.messages.channel_id = channel.id
        channel.messages.guild_id = channel.guild_id
        self.channels[channel.id] = channel
        if channel.guild_id is not None:
            self.guilds[channel.guild_id].channels[channel.id] = channel
        return channel

    def remove_channel(self, channel: Channel) -> None:
        self.channels.pop(channel.id, None)
        guild = self.guild_of(channel)
        if guild is not None:
            guild.channels.pop(channel.id, None)
        for message_id in channel.messages:
            self.messages.pop(message_id, None)
        self.messages.seeded[:] = [s for s in self.messages.seeded if s is not channel.messages]

    def add_message(self, message: Message) -> Message:
        """Store a message; ephemeral ones are reachable by id but not in history."""
        self.messages[message.id] = message
        if not message.ephemeral:
            channel = self.channels[message.channel_id]
            channel.messages[message.id] = message
            channel.last_message_id = message.id
        return message

    def remove_message(self, message: Message) -> None:
        channel = self.channels.get(message.channel_id)
        if channel is not None:
            channel.messages.pop(message.id, None)
        self.messages.pop(message.id, None)
        self.deleted_messages.append(message)

    def dm_channel_for(self, user: User) -> Channel:
        """The bot's DM channel with ``user`` (created on first use, like Discord)."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = Channel(id=self.new_id(), type=DM, recipient_ids=[user.id])
            self.dm_channels[user.id] = channel
            self.add_channel(channel)
        return channel
