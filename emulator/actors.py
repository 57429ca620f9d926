"""Test-side "act as a user" API, mixed into :class:`~emulator.Emulator`.

Each call changes the world exactly as the user's action would on Discord and
emits the gateway events the bot would receive. Calls are async so tests can
``await`` them uniformly; they return once the events are queued (use
``await emu.flush()`` to wait until they are written to the socket).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import forums, messaging, payloads
from . import permissions as perms
from .commands import CHAT_INPUT, MESSAGE, USER
from .errors import ApiError, EmulatorError
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    InteractionRecord,
    message_components_find,
    modal_submit_components,
)
from .snowflake import iso
from .world import (
    ENTITY_EXTERNAL,
    ENTITY_STAGE,
    ENTITY_VOICE,
    EVENT_ACTIVE,
    EVENT_CANCELED,
    EVENT_COMPLETED,
    FORUM,
    MEDIA,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    STAGE,
    Channel,
    Guild,
    Invite,
    Member,
    Message,
    ScheduledEvent,
    VoiceState,
)

if TYPE_CHECKING:
    from .events import Events
    from .interactions import InteractionBuilder
    from .ops import Ops
    from .world import World


def _id(obj: Any) -> int:
    if isinstance(obj, Mapping):
        return int(obj["id"])
    return int(getattr(obj, "id", obj))


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return iso(value)
    return str(value)


def _upload(files: Iterable[Any] | None) -> list[messaging.UploadedFile]:
    out = []
    for i, f in enumerate(files or []):
        if isinstance(f, messaging.UploadedFile):
            out.append(f)
            continue
        filename, data = (f["filename"], f["content"]) if isinstance(f, Mapping) else f
        if isinstance(data, str):
            data = data.encode()
        out.append(messaging.UploadedFile(f"files[{i}]", filename, None, bytes(data)))
    return out


class ActorMixin:
    """Requires ``world``, ``events``, ``ops``, ``builder`` and interaction maps."""

    world: World
    events: Events
    ops: Ops
    builder: InteractionBuilder
    interactions: dict[int, InteractionRecord]
    interactions_by_token: dict[str, InteractionRecord]

    # ------------------------------------------------------------ lookups
    def _channel(self, channel_id: Any) -> Channel:
        try:
            return self.world.channels[_id(channel_id)]
        except KeyError:
            raise EmulatorError(f"unknown channel {channel_id!r}") from None

    def _guild(self, guild_id: Any) -> Guild:
        try:
            return self.world.guilds[_id(guild_id)]
        except KeyError:
            raise EmulatorError(f"unknown guild {guild_id!r}") from None

    def _member(self, guild: Guild, user_id: Any) -> Member:
        try:
            return guild.members[_id(user_id)]
        except KeyError:
            raise EmulatorError(f"user {user_id!r} is not in guild {guild.name!r}") from None

    def _message(self, message: Any) -> Message:
        msg = self.world.messages.get(_id(message))
        if msg is None:
            raise EmulatorError(f"unknown message {message!r}")
        return msg

    def _user_can(self, channel: Channel, user_id: int, bits: int) -> bool:
        guild = self.world.guild_of(channel)
        if guild is None:
            return True
        member = self._member(guild, user_id)
        return perms.has(perms.channel_permissions(guild, member, channel), bits)

    def _render(self, msg: Message) -> dict[str, Any]:
        return payloads.message(self.world, msg)

    # ----------------------------------------------------------- messages
    def dm_channel(self, user_id: Any) -> Channel:
        """The DM channel between the bot and ``user_id`` (created if needed)."""
        return self.world.dm_channel_for(self.world.users[_id(user_id)])

    async def post_message(
        self,
        channel_id: Any,
        author_id: Any,
        content: str = "",
        *,
        reply_to: Any = None,
        embeds: list[dict[str, Any]] | None = None,
        files: Iterable[Any] | None = None,
        components: list[dict[str, Any]] | None = None,
        check_permissions: bool = True,
    ) -> dict[str, Any]:
        """A user posts a message. ``files`` are ``(filename, bytes)`` pairs."""
        channel = self._channel(channel_id)
        author = _id(author_id)
        if channel.is_dm and author not in (*channel.recipient_ids, self.world.bot_id):
            raise EmulatorError("only the DM recipient can post in this DM")
        if check_permissions and not channel.is_dm:
            needed = perms.SEND_MESSAGES_IN_THREADS if channel.is_thread else perms.SEND_MESSAGES
            if not self._user_can(channel, author, perms.VIEW_CHANNEL | needed):
                raise EmulatorError(f"user {author} cannot post in #{channel.name}")
        body: dict[str, Any] = {"content": content}
        if embeds:
            body["embeds"] = embeds
        if components:
            body["components"] = components
        if reply_to is not None:
            ref = self._message(reply_to)
            body["message_reference"] = {
                "message_id": str(ref.id),
                "channel_id": str(ref.channel_id),
            }
        try:
            msg = self.ops.send_message(channel, author, body, _upload(files))
        except ApiError as exc:
            raise EmulatorError(f"Discord would reject this message: {exc.body()}") from exc
        return self._render(msg)

    async def post_dm(self, user_id: Any, content: str = "", **kwargs: Any) -> dict[str, Any]:
        """``user_id`` sends the bot a direct message."""
        return await self.post_message(self.dm_channel(user_id), user_id, content, **kwargs)

    async def edit_message(
        self,
        channel_id: Any,
        message_id: Any,
        content: str | None = None,
        *,
        embeds: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        channel = self._channel(channel_id)
        msg = channel.messages.get(_id(message_id))
        if msg is None:
            raise EmulatorError(f"unknown message {message_id!r}")
        body: dict[str, Any] = {}
        if content is not None:
            body["content"] = content
        if embeds is not None:
            body["embeds"] = embeds
        self.ops.edit_message(msg, body)
        return self._render(msg)

    async def delete_message(self, channel_id: Any, message_id: Any) -> None:
        channel = self._channel(channel_id)
        msg = channel.messages.get(_id(message_id))
        if msg is None:
            raise EmulatorError(f"unknown message {message_id!r}")
        self.ops.delete_message(msg)

    async def add_reaction(
        self, channel_id: Any, message_id: Any, user_id: Any, emoji: Any
    ) -> None:
        channel = self._channel(channel_id)
        msg = channel.messages.get(_id(message_id))
        if msg is None:
            raise EmulatorError(f"unknown message {message_id!r}")
        self.ops.add_reaction(msg, _id(user_id), messaging.parse_emoji(emoji))

    async def remove_reaction(
        self, channel_id: Any, message_id: Any, user_id: Any, emoji: Any
    ) -> None:
        channel = self._channel(channel_id)
        msg = channel.messages.get(_id(message_id))
        if msg is None:
            raise EmulatorError(f"unknown message {message_id!r}")
        self.ops.remove_reaction(msg, _id(user_id), messaging.parse_emoji(emoji))

    async def typing(self, channel_id: Any, user_id: Any) -> None:
        self.events.typing_start(self._channel(channel_id), _id(user_id), int(time.time()))

    # ------------------------------------------------------------ threads
    async def create_thread(
        self,
        channel_id: Any,
        author_id: Any,
        name: str,
        *,
        message_id: Any = None,
        private: bool = False,
    ) -> dict[str, Any]:
        parent = self._channel(channel_id)
        from_message = parent.messages.get(_id(message_id)) if message_id is not None else None
        if message_id is not None and from_message is None:
            raise EmulatorError(f"unknown message {message_id!r}")
        thread = self.ops.start_thread(
            parent,
            _id(author_id),
            name,
            type=PRIVATE_THREAD if private else PUBLIC_THREAD,
            from_message=from_message,
        )
        return payloads.thread(self.world, thread)

    async def create_forum_post(
        self,
        forum_id: Any,
        author_id: Any,
        title: str,
        content: str,
        tags: Iterable[Any] = (),
        *,
        embeds: list[dict[str, Any]] | None = None,
        files: Iterable[Any] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A user opens a forum post; ``tags`` are tag names or ids."""
        forum = self._channel(forum_id)
        if forum.type not in (FORUM, MEDIA):
            raise EmulatorError(f"#{forum.name} is not a forum")
        by_name = {t.name: t.id for t in forum.available_tags}
        known = set(by_name.values())
        tag_ids = []
        for tag in tags:
            tid = by_name.get(tag) if isinstance(tag, str) and not tag.isdigit() else _id(tag)
            if tid is None or tid not in known:
                raise EmulatorError(f"forum #{forum.name} has no tag {tag!r}")
            tag_ids.append(tid)
        body: dict[str, Any] = {"content": content}
        if embeds:
            body["embeds"] = embeds
        thread, msg = self.ops.create_forum_post(
            forum, _id(author_id), title, body, _upload(files), applied_tags=tag_ids
        )
        return payloads.thread(self.world, thread), self._render(msg)

    def forum_tags(self, forum_id: Any) -> list[dict[str, Any]]:
        """A forum's tags as Discord lists them: ``[{"id", "name", "moderated", ...}]``."""
        forum = self._channel(forum_id)
        if forum.type not in (FORUM, MEDIA):
            raise EmulatorError(f"#{forum.name} is not a forum")
        return [
            {
                "id": t.id,
                "name": t.name,
                "moderated": t.moderated,
                "emoji_id": t.emoji_id,
                "emoji_name": t.emoji_name,
            }
            for t in forum.available_tags
        ]

    def applied_tag_names(self, thread_id: Any) -> list[str]:
        """Names of the tags applied to forum post ``thread_id``, in applied order."""
        thread = self._channel(thread_id)
        forum = self.world.channels.get(thread.parent_id or 0)
        if not thread.is_thread or forum is None:
            raise EmulatorError(f"{thread_id!r} is not a thread")
        return forums.tag_names(forum, thread.applied_tags)

    async def join_thread(self, thread_id: Any, user_id: Any) -> None:
        self.ops.thread_join(self._channel(thread_id), _id(user_id))

    async def archive_thread(self, thread_id: Any, *, locked: bool = False) -> None:
        thread = self._channel(thread_id)
        thread.archived = True
        thread.locked = locked
        thread.archive_timestamp = iso(dt.datetime.now(dt.UTC))
        self.events.thread_update(thread)

    # ------------------------------------------------------------ members
    async def member_join(
        self, guild_id: Any, name: str, invite_code: str | None = None, **fields: Any
    ) -> Member:
        """A new user joins (through ``invite_code`` if given, bumping its uses).

        The guild's vanity code works as ``invite_code`` too.
        """
        guild = self._guild(guild_id)
        invite = None
        if invite_code is not None:
            invite = guild.invites.get(invite_code)
            if invite is None and guild.vanity is not None and guild.vanity.code == invite_code:
                invite = guild.vanity
            if invite is None:
                raise EmulatorError(f"no invite {invite_code!r} in {guild.name!r}")
        user_fields = {
            k: fields.pop(k) for k in ("accepts_dms", "status", "global_name", "bot") if k in fields
        }
        user = self.world.add_user(name, **user_fields)
        return self.ops.member_join(guild, user, invite=invite, **fields)

    async def member_leave(self, guild_id: Any, user_id: Any) -> None:
        guild = self._guild(guild_id)
        if self.ops.member_remove(guild, _id(user_id)) is None:
            raise EmulatorError(f"user {user_id!r} is not in {guild.name!r}")

    async def set_member_roles(
        self, guild_id: Any, user_id: Any, roles: Iterable[Any], *, actor_id: Any = None
    ) -> None:
        """Someone (e.g. a human admin) changes a member's roles."""
        guild = self._guild(guild_id)
        member = self._member(guild, user_id)
        self.ops.set_member_roles(
            guild,
            member,
            [_id(r) for r in roles],
            actor_id=_id(actor_id) if actor_id is not None else guild.owner_id,
            source="actor",
        )

    async def update_member(self, guild_id: Any, user_id: Any, **fields: Any) -> None:
        guild = self._guild(guild_id)
        self.ops.update_member(guild, self._member(guild, user_id), **fields)

    async def set_presence(
        self, user_id: Any, status: str, activities: list[dict[str, Any]] | None = None
    ) -> None:
        user = self.world.users[_id(user_id)]
        user.status = status
        user.activities = list(activities or [])
        for guild in self.world.guilds.values():
            if user.id in guild.members:
                self.events.presence_update(guild, user)

    # ------------------------------------------------------------ invites
    async def create_invite(
        self,
        channel_id: Any,
        inviter_id: Any,
        *,
        max_uses: int = 0,
        max_age: int = 86400,
        temporary: bool = False,
        code: str | None = None,
    ) -> Invite:
        channel = self._channel(channel_id)
        return self.ops.create_invite(
            channel,
            _id(inviter_id),
            max_uses=max_uses,
            max_age=max_age,
            temporary=temporary,
            code=code,
        )

    async def delete_invite(self, code: str) -> None:
        for guild in self.world.guilds.values():
            if code in guild.invites:
                self.ops.delete_invite(guild.invites[code])
                return
        raise EmulatorError(f"unknown invite {code!r}")

    # --------------------------------------------------- scheduled events
    def _event(self, guild_id: Any, event_id: Any) -> ScheduledEvent:
        guild = self._guild(guild_id)
        try:
            return guild.scheduled_events[_id(event_id)]
        except KeyError:
            raise EmulatorError(f"unknown scheduled event {event_id!r}") from None

    async def create_scheduled_event(
        self,
        guild_id: Any,
        creator_id: Any,
        name: str,
        start_time: Any,
        *,
        end_time: Any = None,
        channel_id: Any = None,
        location: str | None = None,
        description: str | None = None,
    ) -> ScheduledEvent:
        """Voice/stage event when ``channel_id`` is given, else external (``location``)."""
        guild = self._guild(guild_id)
        if channel_id is not None:
            channel = self._channel(channel_id)
            entity_type = ENTITY_STAGE if channel.type == STAGE else ENTITY_VOICE
        else:
            entity_type = ENTITY_EXTERNAL
            if not location or end_time is None:
                raise EmulatorError("external events need location and end_time")
        return self.ops.create_scheduled_event(
            guild,
            name=name,
            scheduled_start_time=_when(start_time),
            scheduled_end_time=_when(end_time) if end_time is not None else None,
            entity_type=entity_type,
            channel_id=_id(channel_id) if channel_id is not None else None,
            location=location,
            description=description,
            creator_id=_id(creator_id),
        )

    async def start_scheduled_event(self, guild_id: Any, event_id: Any) -> ScheduledEvent:
        return self.ops.update_scheduled_event(self._event(guild_id, event_id), status=EVENT_ACTIVE)

    async def end_scheduled_event(self, guild_id: Any, event_id: Any) -> ScheduledEvent:
        return self.ops.update_scheduled_event(
            self._event(guild_id, event_id), status=EVENT_COMPLETED
        )

    async def cancel_scheduled_event(self, guild_id: Any, event_id: Any) -> ScheduledEvent:
        return self.ops.update_scheduled_event(
            self._event(guild_id, event_id), status=EVENT_CANCELED
        )

    async def event_add_user(self, guild_id: Any, event_id: Any, user_id: Any) -> None:
        """``user_id`` marks themselves "interested" (RSVP)."""
        self.ops.scheduled_event_user(self._event(guild_id, event_id), _id(user_id), add=True)

    async def event_remove_user(self, guild_id: Any, event_id: Any, user_id: Any) -> None:
        self.ops.scheduled_event_user(self._event(guild_id, event_id), _id(user_id), add=False)

    # -------------------------------------------------------------- voice
    async def voice_join(
        self,
        guild_id: Any,
        user_id: Any,
        channel_id: Any,
        self_mute: bool = False,
        self_deaf: bool = False,
    ) -> VoiceState:
        guild = self._guild(guild_id)
        self._member(guild, user_id)
        channel = self._channel(channel_id)
        if channel.type not in (2, 13):
            raise EmulatorError(f"#{channel.name} is not a voice channel")
        return self.ops.voice_update(
            guild, _id(user_id), channel.id, self_mute=self_mute, self_deaf=self_deaf
        )

    async def voice_leave(self, guild_id: Any, user_id: Any) -> None:
        guild = self._guild(guild_id)
        if _id(user_id) not in guild.voice_states:
            raise EmulatorError(f"user {user_id!r} is not in voice")
        self.ops.voice_update(guild, _id(user_id), None)

    # ------------------------------------------------------- interactions
    def _dispatch_interaction(self, payload: dict[str, Any], user_id: int) -> InteractionRecord:
        rec = InteractionRecord(self, payload, user_id=user_id)  # type: ignore[arg-type]
        self.interactions[rec.id] = rec
        self.interactions_by_token[rec.token] = rec
        self.events.interaction_create(payload, rec.guild_id)
        return rec

    async def replay_interaction(self, record: InteractionRecord) -> InteractionRecord:
        """Deliver ``record``'s INTERACTION_CREATE again, same id and token, as Discord may
        (at-least-once: a resumed session replays events). Answers land on the same record;
        Discord refuses a second first-response with 40060."""
        self.events.interaction_create(record.payload, record.guild_id)
        return record

    def _context(self, guild_id: Any, channel_id: Any, user_id: Any):
        guild = self._guild(guild_id) if guild_id is not None else None
        channel = self._channel(channel_id)
        user = self.world.users[_id(user_id)]
        if guild is not None and channel.guild_id != guild.id:
            raise EmulatorError(f"channel {channel.id} is not in guild {guild.id}")
        if guild is not None and not self._user_can(channel, user.id, perms.VIEW_CHANNEL):
            raise EmulatorError(f"user {user.id} cannot see #{channel.name}")
        return guild, channel, user

    def _command(self, guild: Guild | None, name: str, ctype: int, user_id: int) -> dict[str, Any]:
        cmd = self.registry.find(guild.id if guild else None, name, ctype)  # type: ignore[attr-defined]
        if cmd is None:
            known = sorted(c["name"] for c in self.commands(guild.id if guild else None))  # type: ignore[attr-defined]
            raise EmulatorError(f"no synced command {name!r} (type {ctype}); synced: {known}")
        required = cmd.get("default_member_permissions")
        if guild is not None and required not in (None, ""):
            member = guild.members[user_id]
            have = perms.base_permissions(guild, member)
            if not perms.has(have, int(required)):
                raise EmulatorError(f"user {user_id} cannot see /{name} (missing permissions)")
        if guild is None and cmd.get("contexts") is not None and 1 not in cmd["contexts"]:
            raise EmulatorError(f"/{name} is not available in DMs")
        if guild is not None and cmd.get("contexts") is not None and 0 not in cmd["contexts"]:
            raise EmulatorError(f"/{name} is not available in guilds")
        return cmd

    def _command_data(self, cmd: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": cmd["type"]}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    async def invoke_slash_command(
        self,
        guild_id: Any,
        channel_id: Any,
        user_id: Any,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        focused: str | None = None,
    ) -> InteractionRecord:
        """Run ``/name`` (``"tier set"`` for subcommands) as ``user_id``.

        Options are checked against the synced definition (names, types, choices,
        required) and user/role/channel/attachment values are put in ``resolved``.
        """
        guild, channel, user = self._context(guild_id, channel_id, user_id)
        root, *path = name.split()
        cmd = self._command(guild, root, CHAT_INPUT, user.id)
        wrappers, schema = self.builder.resolve_path(cmd, path)
        resolved: dict[str, dict[str, Any]] = {}
        invoker = guild.members[user.id] if guild is not None else None
        leaf = self.builder.build_options(
            guild, schema, dict(options or {}), resolved, focused=focused, invoker=invoker
        )
        nested: list[dict[str, Any]] = leaf
        for wrapper in reversed(wrappers):
            nested = [{**wrapper, "options": nested}]
        data = self._command_data(cmd)
        if nested:
            data["options"] = nested
        if resolved:
            data["resolved"] = resolved
        itype = AUTOCOMPLETE if focused is not None else APPLICATION_COMMAND
        payload = self.builder.base(itype, guild, channel, user)
        payload["data"] = data
        return self._dispatch_interaction(payload, user.id)

    async def invoke_autocomplete(
        self,
        guild_id: Any,
        channel_id: Any,
        user_id: Any,
        name: str,
        options: Mapping[str, Any],
        focused: str,
    ) -> InteractionRecord:
        """The user is typing option ``focused``; the bot answers with choices (type 8)."""
        return await self.invoke_slash_command(
            guild_id, channel_id, user_id, name, options, focused=focused
        )

    async def invoke_user_command(
        self, guild_id: Any, channel_id: Any, user_id: Any, name: str, target_id: Any
    ) -> InteractionRecord:
        """Run user context-menu ``name`` on ``target_id``."""
        guild, channel, user = self._context(guild_id, channel_id, user_id)
        cmd = self._command(guild, name, USER, user.id)
        target = self.world.users[_id(target_id)]
        resolved: dict[str, Any] = {"users": {str(target.id): payloads.user(target)}}
        if guild is not None and target.id in guild.members:
            m = payloads.member_with_permissions(self.world, guild, guild.members[target.id], None)
            m.pop("user", None)
            resolved["members"] = {str(target.id): m}
        data = self._command_data(cmd)
        data.update({"target_id": str(target.id), "resolved": resolved})
        payload = self.builder.base(APPLICATION_COMMAND, guild, channel, user)
        payload["data"] = data
        return self._dispatch_interaction(payload, user.id)

    async def invoke_message_command(
        self,
        guild_id: Any,
        channel_id: Any,
        user_id: Any,
        name: str,
        message: Any = None,
        *,
        message_id: Any = None,
    ) -> InteractionRecord:
        """Run message context-menu ``name`` on ``message`` (dict, id, or ``message_id=``)."""
        guild, channel, user = self._context(guild_id, channel_id, user_id)
        cmd = self._command(guild, name, MESSAGE, user.id)
        target = message if message is not None else message_id
        if target is None:
            raise EmulatorError("invoke_message_command needs a message or message_id")
        msg = self._message(target)
        data = self._command_data(cmd)
        data.update(
            {
                "target_id": str(msg.id),
                "resolved": {"messages": {str(msg.id): payloads.message(self.world, msg)}},
            }
        )
        payload = self.builder.base(APPLICATION_COMMAND, guild, channel, user)
        payload["data"] = data
        return self._dispatch_interaction(payload, user.id)

    def _component_interaction(
        self, message: Any, user_id: Any, custom_id: str, values: list[str] | None
    ) -> InteractionRecord:
        msg = self._message(message)
        if msg.ephemeral:
            owner = next(
                (
                    r.user_id
                    for r in self.interactions.values()
                    if msg.id in (r.original_message_id, *r.followup_ids)
                ),
                None,
            )
            if owner is not None and owner != _id(user_id):
                raise EmulatorError("only the invoking user can see this ephemeral message")
        component = message_components_find(msg.components, custom_id)
        if component is None:
            raise EmulatorError(f"message {msg.id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise EmulatorError(f"component {custom_id!r} is disabled")
        guild = self.world.guild_of(self.world.channels[msg.channel_id])
        channel = self.world.channels[msg.channel_id]
        user = self.world.users[_id(user_id)]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] == 2:
            if values is not None:
                raise EmulatorError(f"{custom_id!r} is a button; use click_button")
        else:
            if values is None:
                raise EmulatorError(f"{custom_id!r} is a select; use select_menu")
            data["values"] = [str(v) for v in values]
        payload = self.builder.base(MESSAGE_COMPONENT, guild, channel, user)
        payload["data"] = data
        payload["message"] = payloads.message(self.world, msg)
        return self._dispatch_interaction(payload, user.id)

    async def click_button(self, message: Any, user_id: Any, custom_id: str) -> InteractionRecord:
        return self._component_interaction(message, user_id, custom_id, None)

    async def select_menu(
        self, message: Any, user_id: Any, custom_id: str, values: Iterable[Any]
    ) -> InteractionRecord:
        return self._component_interaction(message, user_id, custom_id, list(values))

    async def submit_modal(
        self,
        interaction_or_custom_id: InteractionRecord | str,
        user_id: Any,
        values: Mapping[str, Any] | None = None,
    ) -> InteractionRecord:
        """Submit the modal the bot opened (pass its InteractionRecord or custom_id)."""
        origin: InteractionRecord | None
        if isinstance(interaction_or_custom_id, InteractionRecord):
            origin = interaction_or_custom_id
            if origin.response_type != MODAL or origin.modal is None:
                raise EmulatorError(f"interaction {origin.id} did not open a modal")
        else:
            origin = next(
                (
                    r
                    for r in reversed(list(self.interactions.values()))
                    if r.modal is not None and r.modal.get("custom_id") == interaction_or_custom_id
                ),
                None,
            )
            if origin is None:
                raise EmulatorError(
                    f"no modal with custom_id {interaction_or_custom_id!r} was opened"
                )
        assert origin.modal is not None
        guild = self.world.guilds.get(origin.guild_id) if origin.guild_id else None
        channel = self._channel(origin.channel_id)
        user = self.world.users[_id(user_id)]
        data = {
            "custom_id": origin.modal["custom_id"],
            "components": modal_submit_components(
                origin.modal.get("components") or [], dict(values or {})
            ),
        }
        payload = self.builder.base(MODAL_SUBMIT, guild, channel, user)
        payload["data"] = data
        if origin.type == MESSAGE_COMPONENT and origin.component_message_id:
            source = self.world.messages.get(origin.component_message_id)
            if source is not None:
                payload["message"] = payloads.message(self.world, source)
        rec = self._dispatch_interaction(payload, user.id)
        self.modal_origins[rec.id] = origin
        return rec
