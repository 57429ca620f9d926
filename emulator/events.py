"""Translate world changes into the gateway dispatches Discord would send.

Every mutation (from REST or from a test actor) calls one method here, which
decides the event name, payload, gating intent and visibility (the bot must be
able to view the channel; MESSAGE_CONTENT rules for message bodies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import intents as I
from . import payloads
from . import permissions as perms

if TYPE_CHECKING:
    from .gateway import Gateway, GatewaySession
    from .world import (
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


class Events:
    def __init__(self, world: World, gateway: Gateway) -> None:
        self.world = world
        self.gw = gateway

    # ---------------------------------------------------------------- helpers
    def _bot_perms(self, channel: Channel) -> int:
        guild = self.world.guild_of(channel)
        if guild is None:
            return perms.ALL
        bot = self.world.bot_member(guild)
        if bot is None:
            return 0
        return perms.channel_permissions(guild, bot, channel)

    def bot_can_view(self, channel: Channel) -> bool:
        if channel.is_dm:
            return True  # DM channels in the world are always with the bot
        return bool(self._bot_perms(channel) & perms.VIEW_CHANNEL)

    def _guild_ok(self, guild_id: int | None) -> bool:
        return self.world.bot_in_guild(guild_id)

    # --------------------------------------------------------------- messages
    def _message_factory(self, msg: Message):
        world = self.world
        full = payloads.message(world, msg, with_member=True)
        stripped = None if payloads.bot_sees_content(world, msg) else payloads.strip_content(full)

        def build(session: GatewaySession) -> dict[str, Any]:
            if stripped is not None and not session.has(I.MESSAGE_CONTENT):
                return stripped
            return full

        return build

    def _message_route(self, msg: Message) -> tuple[bool, int | None, int, bool]:
        """(deliver?, guild_id, intent, is_dm)"""
        channel = self.world.channels.get(msg.channel_id)
        if channel is None or msg.ephemeral:
            return False, None, 0, False
        if channel.is_dm:
            return True, None, I.DIRECT_MESSAGES, True
        if not self._guild_ok(channel.guild_id) or not self.bot_can_view(channel):
            return False, None, 0, False
        return True, channel.guild_id, I.GUILD_MESSAGES, False

    def message_create(self, msg: Message) -> None:
        ok, gid, intent, dm = self._message_route(msg)
        if ok:
            self.gw.dispatch(
                "MESSAGE_CREATE", self._message_factory(msg), guild_id=gid, intent=intent, dm=dm
            )

    def message_update(self, msg: Message) -> None:
        ok, gid, intent, dm = self._message_route(msg)
        if ok:
            self.gw.dispatch(
                "MESSAGE_UPDATE", self._message_factory(msg), guild_id=gid, intent=intent, dm=dm
            )

    def message_delete(self, msg: Message) -> None:
        ok, gid, intent, dm = self._message_route(msg)
        if not ok:
            return
        data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if gid is not None:
            data["guild_id"] = str(gid)
        self.gw.dispatch("MESSAGE_DELETE", data, guild_id=gid, intent=intent, dm=dm)

    def message_delete_bulk(self, channel: Channel, ids: list[int]) -> None:
        if not self._guild_ok(channel.guild_id) or not self.bot_can_view(channel):
            return
        data = {
            "ids": [str(i) for i in ids],
            "channel_id": str(channel.id),
            "guild_id": str(channel.guild_id),
        }
        self.gw.dispatch(
            "MESSAGE_DELETE_BULK", data, guild_id=channel.guild_id, intent=I.GUILD_MESSAGES
        )

    def _reaction_route(self, msg: Message) -> tuple[bool, int | None, int, bool]:
        ok, gid, _intent, dm = self._message_route(msg)
        intent = I.DIRECT_MESSAGE_REACTIONS if dm else I.GUILD_MESSAGE_REACTIONS
        return ok, gid, intent, dm

    def reaction_add(self, msg: Message, user_id: int, emoji: dict[str, Any]) -> None:
        ok, gid, intent, dm = self._reaction_route(msg)
        if not ok:
            return
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": dict(emoji),
            "message_author_id": str(msg.author_id),
            "burst": False,
            "burst_colors": [],
            "type": 0,
        }
        if gid is not None:
            data["guild_id"] = str(gid)
            guild = self.world.guilds[gid]
            member = guild.members.get(user_id)
            if member is not None:
                data["member"] = payloads.member(self.world, member)
        self.gw.dispatch("MESSAGE_REACTION_ADD", data, guild_id=gid, intent=intent, dm=dm)

    def reaction_remove(self, msg: Message, user_id: int, emoji: dict[str, Any]) -> None:
        ok, gid, intent, dm = self._reaction_route(msg)
        if not ok:
            return
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": dict(emoji),
            "burst": False,
            "type": 0,
        }
        if gid is not None:
            data["guild_id"] = str(gid)
        self.gw.dispatch("MESSAGE_REACTION_REMOVE", data, guild_id=gid, intent=intent, dm=dm)

    def reaction_remove_all(self, msg: Message) -> None:
        ok, gid, intent, dm = self._reaction_route(msg)
        if not ok:
            return
        data: dict[str, Any] = {"channel_id": str(msg.channel_id), "message_id": str(msg.id)}
        if gid is not None:
            data["guild_id"] = str(gid)
        self.gw.dispatch("MESSAGE_REACTION_REMOVE_ALL", data, guild_id=gid, intent=intent, dm=dm)

    def reaction_remove_emoji(self, msg: Message, emoji: dict[str, Any]) -> None:
        ok, gid, intent, dm = self._reaction_route(msg)
        if not ok:
            return
        data: dict[str, Any] = {
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": dict(emoji),
        }
        if gid is not None:
            data["guild_id"] = str(gid)
        self.gw.dispatch("MESSAGE_REACTION_REMOVE_EMOJI", data, guild_id=gid, intent=intent, dm=dm)

    def channel_pins_update(self, channel: Channel) -> None:
        data: dict[str, Any] = {
            "channel_id": str(channel.id),
            "last_pin_timestamp": channel.last_pin_timestamp,
        }
        if channel.is_dm:
            self.gw.dispatch("CHANNEL_PINS_UPDATE", data, intent=I.DIRECT_MESSAGES, dm=True)
            return
        if self._guild_ok(channel.guild_id) and self.bot_can_view(channel):
            data["guild_id"] = str(channel.guild_id)
            self.gw.dispatch(
                "CHANNEL_PINS_UPDATE", data, guild_id=channel.guild_id, intent=I.GUILDS
            )

    def typing_start(self, channel: Channel, user_id: int, timestamp: int) -> None:
        data: dict[str, Any] = {
            "channel_id": str(channel.id),
            "user_id": str(user_id),
            "timestamp": timestamp,
        }
        if channel.is_dm:
            self.gw.dispatch("TYPING_START", data, intent=I.DIRECT_MESSAGE_TYPING, dm=True)
            return
        if not self._guild_ok(channel.guild_id) or not self.bot_can_view(channel):
            return
        guild = self.world.guilds[channel.guild_id]
        data["guild_id"] = str(guild.id)
        if user_id in guild.members:
            data["member"] = payloads.member(self.world, guild.members[user_id])
        self.gw.dispatch("TYPING_START", data, guild_id=guild.id, intent=I.GUILD_MESSAGE_TYPING)

    # --------------------------------------------------------------- channels
    def channel_create(self, channel: Channel) -> None:
        if self._guild_ok(channel.guild_id):
            self.gw.dispatch(
                "CHANNEL_CREATE",
                payloads.channel(self.world, channel),
                guild_id=channel.guild_id,
                intent=I.GUILDS,
            )

    def channel_update(self, channel: Channel) -> None:
        if channel.is_thread:
            self.thread_update(channel)
            return
        if self._guild_ok(channel.guild_id):
            self.gw.dispatch(
                "CHANNEL_UPDATE",
                payloads.channel(self.world, channel),
                guild_id=channel.guild_id,
                intent=I.GUILDS,
            )

    def channel_delete(self, channel: Channel) -> None:
        if channel.is_thread:
            self.thread_delete(channel)
            return
        if self._guild_ok(channel.guild_id):
            self.gw.dispatch(
                "CHANNEL_DELETE",
                payloads.channel(self.world, channel),
                guild_id=channel.guild_id,
                intent=I.GUILDS,
            )

    def thread_create(self, thread: Channel, *, newly_created: bool = True) -> None:
        if not self._guild_ok(thread.guild_id) or not self.bot_can_view(thread):
            return
        data = payloads.thread(self.world, thread)
        if newly_created:
            data["newly_created"] = True
        self.gw.dispatch("THREAD_CREATE", data, guild_id=thread.guild_id, intent=I.GUILDS)

    def thread_update(self, thread: Channel) -> None:
        if self._guild_ok(thread.guild_id) and self.bot_can_view(thread):
            self.gw.dispatch(
                "THREAD_UPDATE",
                payloads.thread(self.world, thread),
                guild_id=thread.guild_id,
                intent=I.GUILDS,
            )

    def thread_delete(self, thread: Channel) -> None:
        if self._guild_ok(thread.guild_id):
            self.gw.dispatch(
                "THREAD_DELETE",
                {
                    "id": str(thread.id),
                    "guild_id": str(thread.guild_id),
                    "parent_id": str(thread.parent_id),
                    "type": thread.type,
                },
                guild_id=thread.guild_id,
                intent=I.GUILDS,
            )

    def thread_members_update(
        self,
        thread: Channel,
        added: Sequence[int] = (),
        removed: Sequence[int] = (),
    ) -> None:
        if not self._guild_ok(thread.guild_id):
            return
        bot_id = self.world.bot_id
        world = self.world
        guild = world.guilds[thread.guild_id]

        def build(session: GatewaySession) -> dict[str, Any] | None:
            involves_bot = bot_id in added or bot_id in removed
            if not session.has(I.GUILD_MEMBERS) and not involves_bot:
                return None
            data: dict[str, Any] = {
                "id": str(thread.id),
                "guild_id": str(thread.guild_id),
                "member_count": min(len(thread.thread_members), 50),
            }
            if added:
                entries = []
                for uid in added:
                    if uid not in thread.thread_members:
                        continue
                    entry = payloads.thread_member(thread, uid)
                    if uid in guild.members:
                        entry["member"] = payloads.member(world, guild.members[uid])
                    entries.append(entry)
                data["added_members"] = entries
            if removed:
                data["removed_member_ids"] = [str(u) for u in removed]
            return data

        self.gw.dispatch("THREAD_MEMBERS_UPDATE", build, guild_id=thread.guild_id, intent=I.GUILDS)

    # ---------------------------------------------------------------- members
    def member_add(self, guild: Guild, member: Member) -> None:
        if not self._guild_ok(guild.id):
            return
        data = payloads.member(self.world, member)
        data["guild_id"] = str(guild.id)
        self.gw.dispatch("GUILD_MEMBER_ADD", data, guild_id=guild.id, intent=I.GUILD_MEMBERS)

    def member_update(self, guild: Guild, member: Member) -> None:
        if not self._guild_ok(guild.id):
            return
        data = payloads.member(self.world, member)
        data["guild_id"] = str(guild.id)
        # The bot always hears about its own member; others need GUILD_MEMBERS.
        intent = 0 if member.user_id == self.world.bot_id else I.GUILD_MEMBERS
        self.gw.dispatch("GUILD_MEMBER_UPDATE", data, guild_id=guild.id, intent=intent)

    def member_remove(self, guild: Guild, user: User) -> None:
        if not self._guild_ok(guild.id):
            return
        data = {"guild_id": str(guild.id), "user": payloads.user(user)}
        self.gw.dispatch("GUILD_MEMBER_REMOVE", data, guild_id=guild.id, intent=I.GUILD_MEMBERS)

    def ban(self, guild: Guild, user: User, *, added: bool) -> None:
        if self._guild_ok(guild.id):
            self.gw.dispatch(
                "GUILD_BAN_ADD" if added else "GUILD_BAN_REMOVE",
                {"guild_id": str(guild.id), "user": payloads.user(user)},
                guild_id=guild.id,
                intent=I.GUILD_MODERATION,
            )

    def presence_update(self, guild: Guild, user: User) -> None:
        if self._guild_ok(guild.id):
            self.gw.dispatch(
                "PRESENCE_UPDATE",
                payloads.presence(self.world, user, guild.id),
                guild_id=guild.id,
                intent=I.GUILD_PRESENCES,
            )

    # ------------------------------------------------------------------ roles
    def role_create(self, guild: Guild, role: Role) -> None:
        if self._guild_ok(guild.id):
            self.gw.dispatch(
                "GUILD_ROLE_CREATE",
                {"guild_id": str(guild.id), "role": payloads.role(role)},
                guild_id=guild.id,
                intent=I.GUILDS,
            )

    def role_update(self, guild: Guild, role: Role) -> None:
        if self._guild_ok(guild.id):
            self.gw.dispatch(
                "GUILD_ROLE_UPDATE",
                {"guild_id": str(guild.id), "role": payloads.role(role)},
                guild_id=guild.id,
                intent=I.GUILDS,
            )

    def role_delete(self, guild: Guild, role: Role) -> None:
        if self._guild_ok(guild.id):
            self.gw.dispatch(
                "GUILD_ROLE_DELETE",
                {"guild_id": str(guild.id), "role_id": str(role.id)},
                guild_id=guild.id,
                intent=I.GUILDS,
            )

    # ----------------------------------------------------------------- guilds
    def guild_create(self, guild: Guild) -> None:
        """The bot joined ``guild`` while connected."""
        world = self.world

        def build(session: GatewaySession) -> dict[str, Any]:
            data = payloads.guild_create(
                world, guild, intents=session.intents, large_threshold=session.large_threshold
            )
            # No "unavailable" key: discord.py then reports on_guild_join, not "available".
            data.pop("unavailable", None)
            return data

        self.gw.dispatch("GUILD_CREATE", build, guild_id=guild.id, intent=0)

    def guild_update(self, guild: Guild) -> None:
        if self._guild_ok(guild.id):
            self.gw.dispatch(
                "GUILD_UPDATE",
                payloads.guild(self.world, guild),
                guild_id=guild.id,
                intent=I.GUILDS,
            )

    def guild_delete(self, guild: Guild) -> None:
        """The bot left/was removed (no ``unavailable`` key means removal)."""
        self.gw.dispatch("GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id, intent=0)

    # ---------------------------------------------------------------- invites
    def _invite_visible(self, inv: Invite) -> bool:
        channel = self.world.channels.get(inv.channel_id)
        return (
            channel is not None
            and self._guild_ok(inv.guild_id)
            and bool(self._bot_perms(channel) & perms.MANAGE_CHANNELS)
        )

    def invite_create(self, inv: Invite) -> None:
        if self._invite_visible(inv):
            self.gw.dispatch(
                "INVITE_CREATE",
                payloads.invite_create_event(self.world, inv),
                guild_id=inv.guild_id,
                intent=I.GUILD_INVITES,
            )

    def invite_delete(self, inv: Invite) -> None:
        if self._invite_visible(inv):
            self.gw.dispatch(
                "INVITE_DELETE",
                {
                    "channel_id": str(inv.channel_id),
                    "guild_id": str(inv.guild_id),
                    "code": inv.code,
                },
                guild_id=inv.guild_id,
                intent=I.GUILD_INVITES,
            )

    # ------------------------------------------------------- scheduled events
    def _event(self, name: str, event: ScheduledEvent) -> None:
        if self._guild_ok(event.guild_id):
            self.gw.dispatch(
                name,
                payloads.scheduled_event(self.world, event),
                guild_id=event.guild_id,
                intent=I.GUILD_SCHEDULED_EVENTS,
            )

    def scheduled_event_create(self, event: ScheduledEvent) -> None:
        self._event("GUILD_SCHEDULED_EVENT_CREATE", event)

    def scheduled_event_update(self, event: ScheduledEvent) -> None:
        self._event("GUILD_SCHEDULED_EVENT_UPDATE", event)

    def scheduled_event_delete(self, event: ScheduledEvent) -> None:
        self._event("GUILD_SCHEDULED_EVENT_DELETE", event)

    def scheduled_event_user(self, event: ScheduledEvent, user_id: int, *, added: bool) -> None:
        if self._guild_ok(event.guild_id):
            self.gw.dispatch(
                "GUILD_SCHEDULED_EVENT_USER_ADD" if added else "GUILD_SCHEDULED_EVENT_USER_REMOVE",
                {
                    "guild_scheduled_event_id": str(event.id),
                    "user_id": str(user_id),
                    "guild_id": str(event.guild_id),
                },
                guild_id=event.guild_id,
                intent=I.GUILD_SCHEDULED_EVENTS,
            )

    # ------------------------------------------------------------------ voice
    def voice_state_update(self, vs: VoiceState) -> None:
        if self._guild_ok(vs.guild_id):
            self.gw.dispatch(
                "VOICE_STATE_UPDATE",
                payloads.voice_state(self.world, vs, with_member=True),
                guild_id=vs.guild_id,
                intent=I.GUILD_VOICE_STATES,
            )

    # ----------------------------------------------------------- interactions
    def interaction_create(self, payload: dict[str, Any], guild_id: int | None) -> None:
        """Deliver to exactly one session of the owning shard: a connected one if any,
        else the newest (it gets the event on RESUME)."""
        candidates = self.gw.sessions_for_guild(guild_id)
        if not candidates:
            return
        connected = [s for s in candidates if s.connected]
        target = connected[-1] if connected else candidates[-1]
        self.gw.dispatch("INTERACTION_CREATE", payload, intent=0, only=target)

    def command_permissions_update(self, data: dict[str, Any], guild_id: int) -> None:
        self.gw.dispatch(
            "APPLICATION_COMMAND_PERMISSIONS_UPDATE", data, guild_id=guild_id, intent=0
        )
