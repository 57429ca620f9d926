"""State changes shared by REST routes and test actors, each emitting its events.

REST handlers check the *bot's* permissions and then call these; actors (tests
acting as users) call them directly. Keeping one implementation means a message
posted by a user and one sent by the bot produce identical world state and
gateway traffic.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import messaging
from .errors import ApiError
from .snowflake import now_iso
from .world import (
    NEWS,
    NEWS_THREAD,
    PUBLIC_THREAD,
    Channel,
    Guild,
    Invite,
    Member,
    Message,
    Reaction,
    Role,
    ScheduledEvent,
    User,
    VoiceState,
)

if TYPE_CHECKING:
    from .server import Emulator


@dataclass
class RoleChange:
    """Audit record for ``emu.role_changes``."""

    guild_id: int
    user_id: int
    role_id: int
    action: str  # "add" | "remove"
    actor_id: int | None
    reason: str | None = None
    source: str = "rest"
    at: float = field(default_factory=time.time)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class Ops:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    @property
    def world(self):
        return self.emu.world

    @property
    def events(self):
        return self.emu.events

    # ---------------------------------------------------------------- messages
    def send_message(
        self,
        channel: Channel,
        author_id: int,
        body: dict[str, Any],
        files: list[messaging.UploadedFile] | None = None,
        **kwargs: Any,
    ) -> Message:
        msg = messaging.create_message(
            self.world, channel, author_id, body, files, base_url=self.emu.http_base, **kwargs
        )
        if msg.ephemeral:
            return msg
        if channel.is_thread:
            if channel.archived:
                channel.archived = False
                channel.archive_timestamp = now_iso()
                self.events.thread_update(channel)
            if msg.webhook_id is None and author_id not in channel.thread_members:
                self.thread_join(channel, author_id)
        self.events.message_create(msg)
        return msg

    def edit_message(
        self,
        msg: Message,
        body: dict[str, Any],
        files: list[messaging.UploadedFile] | None = None,
    ) -> Message:
        messaging.edit_message(self.world, msg, body, files, base_url=self.emu.http_base)
        self.events.message_update(msg)
        return msg

    def delete_message(self, msg: Message) -> None:
        self.world.remove_message(msg)
        channel = self.world.channels.get(msg.channel_id)
        if channel is not None and channel.is_thread:
            channel.message_count = max(0, channel.message_count - 1)
        self.events.message_delete(msg)

    def bulk_delete(self, channel: Channel, messages: list[Message]) -> None:
        for msg in messages:
            self.world.remove_message(msg)
        self.events.message_delete_bulk(channel, [m.id for m in messages])

    def add_reaction(self, msg: Message, user_id: int, emoji: dict[str, Any]) -> bool:
        key = messaging.emoji_key(emoji)
        reaction = msg.reactions.get(key)
        if reaction is None:
            reaction = msg.reactions[key] = Reaction(emoji=dict(emoji))
        if user_id in reaction.user_ids:
            return False
        reaction.user_ids.append(user_id)
        self.events.reaction_add(msg, user_id, emoji)
        return True

    def remove_reaction(self, msg: Message, user_id: int, emoji: dict[str, Any]) -> bool:
        key = messaging.emoji_key(emoji)
        reaction = msg.reactions.get(key)
        if reaction is None or user_id not in reaction.user_ids:
            return False
        reaction.user_ids.remove(user_id)
        if not reaction.user_ids:
            del msg.reactions[key]
        self.events.reaction_remove(msg, user_id, reaction.emoji)
        return True

    def clear_reactions(self, msg: Message, emoji: dict[str, Any] | None = None) -> None:
        if emoji is None:
            msg.reactions.clear()
            self.events.reaction_remove_all(msg)
            return
        key = messaging.emoji_key(emoji)
        if msg.reactions.pop(key, None) is not None:
            self.events.reaction_remove_emoji(msg, emoji)

    def set_pinned(self, msg: Message, pinned: bool) -> None:
        if msg.pinned == pinned:
            return
        msg.pinned = pinned
        channel = self.world.channels[msg.channel_id]
        if pinned:
            channel.pin_times[msg.id] = now_iso()
            channel.last_pin_timestamp = channel.pin_times[msg.id]
        else:
            channel.pin_times.pop(msg.id, None)
        self.events.message_update(msg)
        self.events.channel_pins_update(channel)

    # ----------------------------------------------------------------- threads
    def start_thread(
        self,
        parent: Channel,
        creator_id: int,
        name: str,
        *,
        type: int | None = None,
        from_message: Message | None = None,
        auto_archive_duration: int | None = None,
        rate_limit_per_user: int | None = None,
        invitable: bool = True,
        applied_tags: list[int] | None = None,
        thread_id: int | None = None,
        announce: bool = True,
    ) -> Channel:
        if from_message is not None:
            if from_message.thread_id is not None:
                raise ApiError(160004)
            thread_id = from_message.id
            type = NEWS_THREAD if parent.type == NEWS else PUBLIC_THREAD
        ts = now_iso()
        thread = Channel(
            id=thread_id or self.world.new_id(),
            type=type if type is not None else PUBLIC_THREAD,
            guild_id=parent.guild_id,
            name=name,
            parent_id=parent.id,
            owner_id=creator_id,
            rate_limit_per_user=rate_limit_per_user or 0,
            auto_archive_duration=auto_archive_duration or parent.default_auto_archive_duration,
            create_timestamp=ts,
            archive_timestamp=ts,
            invitable=invitable,
            applied_tags=list(applied_tags or []),
        )
        thread.thread_members[creator_id] = ts
        self.world.add_channel(thread)
        self.events.thread_create(thread)
        if from_message is not None:
            from_message.thread_id = thread.id
            from_message.flags |= messaging.FLAG_HAS_THREAD
            self.events.message_update(from_message)
        elif announce and thread.type == PUBLIC_THREAD and parent.type not in (15, 16):
            # Discord drops a "started a thread" system message in the parent.
            note = Message(
                id=self.world.new_id(),
                channel_id=parent.id,
                guild_id=parent.guild_id,
                author_id=creator_id,
                content=name,
                type=messaging.THREAD_CREATED,
                message_reference={
                    "type": 0,
                    "channel_id": str(thread.id),
                    "guild_id": str(parent.guild_id),
                },
            )
            self.world.add_message(note)
            self.events.message_create(note)
        return thread

    def create_forum_post(
        self,
        forum: Channel,
        author_id: int,
        name: str,
        message_body: dict[str, Any],
        files: list[messaging.UploadedFile] | None = None,
        *,
        applied_tags: list[int] | None = None,
        auto_archive_duration: int | None = None,
        rate_limit_per_user: int | None = None,
    ) -> tuple[Channel, Message]:
        # Validate the starter message before creating anything.
        messaging.validate_body(message_body, files or [], creating=True)
        thread = self.start_thread(
            forum,
            author_id,
            name,
            type=PUBLIC_THREAD,
            applied_tags=applied_tags,
            auto_archive_duration=auto_archive_duration,
            rate_limit_per_user=rate_limit_per_user,
            announce=False,
        )
        msg = self.send_message(thread, author_id, message_body, files, message_id=thread.id)
        forum.last_message_id = thread.id
        return thread, msg

    def thread_join(self, thread: Channel, user_id: int) -> bool:
        if user_id in thread.thread_members:
            return False
        thread.thread_members[user_id] = now_iso()
        if user_id == self.world.bot_id and thread.type == 12:
            self.events.thread_create(thread, newly_created=False)
        self.events.thread_members_update(thread, added=[user_id])
        return True

    def thread_leave(self, thread: Channel, user_id: int) -> bool:
        if thread.thread_members.pop(user_id, None) is None:
            return False
        self.events.thread_members_update(thread, removed=[user_id])
        return True

    # ------------------------------------------------------------------- roles
    def set_member_roles(
        self,
        guild: Guild,
        member: Member,
        role_ids: list[int],
        *,
        actor_id: int | None,
        reason: str | None = None,
        source: str = "rest",
    ) -> bool:
        before = list(member.role_ids)
        after = [r for r in dict.fromkeys(role_ids) if r != guild.id]
        if set(before) == set(after):
            return False
        for rid in after:
            if rid not in before:
                self.emu.role_changes.append(
                    RoleChange(guild.id, member.user_id, rid, "add", actor_id, reason, source)
                )
        for rid in before:
            if rid not in after:
                self.emu.role_changes.append(
                    RoleChange(guild.id, member.user_id, rid, "remove", actor_id, reason, source)
                )
        member.role_ids = after
        self.events.member_update(guild, member)
        return True

    def create_role(
        self, guild: Guild, name: str, *, position: int | None = None, **fields: Any
    ) -> Role:
        if position is None:
            position = max((r.position for r in guild.roles.values()), default=0) + 1
        role = Role(
            id=self.world.new_id(), guild_id=guild.id, name=name, position=position, **fields
        )
        guild.roles[role.id] = role
        self.events.role_create(guild, role)
        return role

    def delete_role(self, guild: Guild, role: Role) -> None:
        guild.roles.pop(role.id, None)
        for member in guild.members.values():
            if role.id in member.role_ids:
                member.role_ids.remove(role.id)
        self.events.role_delete(guild, role)

    # ----------------------------------------------------------------- members
    def member_join(
        self, guild: Guild, user: User, *, invite: Invite | None = None, **fields: Any
    ) -> Member:
        if user.id in guild.members:
            return guild.members[user.id]
        member = Member(guild_id=guild.id, user_id=user.id, **fields)
        guild.members[user.id] = member
        if user.id == self.world.bot_id:
            self.events.guild_create(guild)
            return member
        if invite is not None:
            invite.uses += 1
            invite.joined_user_ids.append(user.id)
        self.events.member_add(guild, member)
        if user.status != "offline":
            self.events.presence_update(guild, user)
        if invite is not None and invite.max_uses and invite.uses >= invite.max_uses:
            self.delete_invite(invite)
        if guild.system_channel_id in guild.channels:
            channel = guild.channels[guild.system_channel_id]
            note = Message(
                id=self.world.new_id(),
                channel_id=channel.id,
                guild_id=guild.id,
                author_id=user.id,
                type=messaging.USER_JOIN,
            )
            self.world.add_message(note)
            self.events.message_create(note)
        return member

    def member_remove(self, guild: Guild, user_id: int) -> Member | None:
        member = guild.members.pop(user_id, None)
        if member is None:
            return None
        vs = guild.voice_states.pop(user_id, None)
        if vs is not None and vs.channel_id is not None:
            vs.channel_id = None
            guild.members[user_id] = member  # event payload still needs the member
            self.events.voice_state_update(vs)
            guild.members.pop(user_id, None)
        for channel in guild.channels.values():
            channel.thread_members.pop(user_id, None)
        user = self.world.users[user_id]
        if user_id == self.world.bot_id:
            self.events.guild_delete(guild)
        else:
            self.events.member_remove(guild, user)
        return member

    def update_member(self, guild: Guild, member: Member, **fields: Any) -> None:
        for key, value in fields.items():
            setattr(member, key, value)
        self.events.member_update(guild, member)

    # ----------------------------------------------------------------- invites
    def create_invite(
        self,
        channel: Channel,
        inviter_id: int | None,
        *,
        max_age: int = 86400,
        max_uses: int = 0,
        temporary: bool = False,
        unique: bool = True,
        code: str | None = None,
    ) -> Invite:
        guild = self.world.guilds[channel.guild_id]
        if not unique and code is None:
            for inv in guild.invites.values():
                if (
                    inv.channel_id == channel.id
                    and inv.inviter_id == inviter_id
                    and (inv.max_age, inv.max_uses, inv.temporary) == (max_age, max_uses, temporary)
                ):
                    return inv
        alphabet = string.ascii_letters + string.digits
        code = code or "".join(secrets.choice(alphabet) for _ in range(8))
        inv = Invite(
            code=code,
            guild_id=guild.id,
            channel_id=channel.id,
            inviter_id=inviter_id,
            max_age=max_age,
            max_uses=max_uses,
            temporary=temporary,
        )
        guild.invites[code] = inv
        self.events.invite_create(inv)
        return inv

    def set_vanity_url(self, guild: Guild, code: str | None, channel_id: int | None) -> None:
        """Give the guild a vanity URL (the VANITY_URL feature) or take it away (``None``).

        Joins through it count in its ``uses``; it is never listed with the guild's invites.
        """
        features = [f for f in guild.features if f != "VANITY_URL"]
        if code is None:
            guild.vanity = None
        else:
            if channel_id is None:
                raise ApiError(50035, "a vanity URL needs a channel")
            uses = guild.vanity.uses if guild.vanity is not None else 0
            guild.vanity = Invite(
                code=code, guild_id=guild.id, channel_id=channel_id, inviter_id=None,
                uses=uses, max_age=0,
            )  # fmt: skip
            features.append("VANITY_URL")
        guild.features = features
        self.events.guild_update(guild)

    def delete_invite(self, inv: Invite) -> None:
        guild = self.world.guilds[inv.guild_id]
        if guild.invites.pop(inv.code, None) is not None:
            self.events.invite_delete(inv)

    # -------------------------------------------------------- scheduled events
    def create_scheduled_event(self, guild: Guild, **fields: Any) -> ScheduledEvent:
        event = ScheduledEvent(id=self.world.new_id(), guild_id=guild.id, **fields)
        guild.scheduled_events[event.id] = event
        self.events.scheduled_event_create(event)
        return event

    def update_scheduled_event(self, event: ScheduledEvent, **fields: Any) -> ScheduledEvent:
        for key, value in fields.items():
            setattr(event, key, value)
        self.events.scheduled_event_update(event)
        return event

    def delete_scheduled_event(self, event: ScheduledEvent) -> None:
        guild = self.world.guilds[event.guild_id]
        guild.scheduled_events.pop(event.id, None)
        self.events.scheduled_event_delete(event)

    def scheduled_event_user(self, event: ScheduledEvent, user_id: int, *, add: bool) -> bool:
        if add == (user_id in event.user_ids):
            return False
        if add:
            event.user_ids.append(user_id)
        else:
            event.user_ids.remove(user_id)
        self.events.scheduled_event_user(event, user_id, added=add)
        return True

    # ------------------------------------------------------------------- voice
    def voice_update(
        self, guild: Guild, user_id: int, channel_id: int | None, **flags: Any
    ) -> VoiceState:
        vs = guild.voice_states.get(user_id)
        if vs is None:
            vs = VoiceState(
                guild_id=guild.id,
                user_id=user_id,
                channel_id=channel_id,
                session_id=secrets.token_hex(16),
            )
            guild.voice_states[user_id] = vs
        vs.channel_id = channel_id
        for key, value in flags.items():
            setattr(vs, key, value)
        self.events.voice_state_update(vs)
        if channel_id is None:
            guild.voice_states.pop(user_id, None)
        return vs
