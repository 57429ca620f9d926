"""Synchronous world building: ``emu.create_guild(...)`` returns a :class:`GuildHandle`.

Works before the bot connects (state shows up in READY/GUILD_CREATE) and after
(each change also dispatches the matching gateway event).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import permissions as perms
from .world import (
    CATEGORY,
    FORUM,
    NEWS,
    STAGE,
    TEXT,
    VOICE,
    Channel,
    ForumTag,
    Guild,
    Member,
    Overwrite,
    Role,
)

if TYPE_CHECKING:
    from .server import Emulator

OverwriteSpec = Mapping[Any, tuple[Any, Any]]


def _id(obj: Any) -> int:
    return int(getattr(obj, "id", obj))


class GuildHandle:
    """Test-side handle on one emulated guild (``.id`` is the guild id)."""

    def __init__(self, emu: Emulator, guild: Guild) -> None:
        self.emu = emu
        self.guild = guild
        self.id = guild.id

    def __repr__(self) -> str:
        return f"<GuildHandle id={self.id} name={self.guild.name!r}>"

    @property
    def everyone(self) -> Role:
        return self.guild.everyone

    @property
    def owner(self) -> Member:
        return self.guild.members[self.guild.owner_id]

    @property
    def bot_member(self) -> Member | None:
        return self.emu.world.bot_member(self.guild)

    def member(self, user_id: Any) -> Member:
        return self.guild.members[_id(user_id)]

    def role(self, name: str) -> Role:
        for role in self.guild.roles.values():
            if role.name == name:
                return role
        raise KeyError(name)

    def channel(self, name: str) -> Channel:
        for channel in self.guild.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(name)

    # ------------------------------------------------------------------ roles
    def create_role(
        self,
        name: str,
        *,
        permissions: Any = 0,
        position: int | None = None,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        managed: bool = False,
    ) -> Role:
        return self.emu.ops.create_role(
            self.guild,
            name,
            position=position,
            permissions=perms.to_bits(permissions),
            color=color,
            hoist=hoist,
            mentionable=mentionable,
            managed=managed,
        )

    def edit_role(self, role: Any, **fields: Any) -> Role:
        target = self.guild.roles[_id(role)]
        if "permissions" in fields:
            fields["permissions"] = perms.to_bits(fields["permissions"])
        for key, value in fields.items():
            setattr(target, key, value)
        self.emu.events.role_update(self.guild, target)
        return target

    def set_everyone_permissions(self, permissions: Any) -> Role:
        return self.edit_role(self.guild.id, permissions=permissions)

    # ---------------------------------------------------------------- members
    def add_bot(
        self,
        roles: Iterable[Any] = (),
        *,
        nick: str | None = None,
        managed_role_permissions: Any = None,
    ) -> Member:
        """The emulated bot joins. ``managed_role_permissions`` also creates the
        integration-managed role Discord makes when a bot is invited with perms."""
        world = self.emu.world
        role_ids = [_id(r) for r in roles]
        if managed_role_permissions is not None:
            app = world.application
            assert app is not None
            managed = self.emu.ops.create_role(
                self.guild,
                world.users[world.bot_id].username,
                permissions=perms.to_bits(managed_role_permissions),
                managed=True,
                bot_id=world.bot_id,
            )
            role_ids.append(managed.id)
        return self.emu.ops.member_join(
            self.guild, world.users[world.bot_id], role_ids=role_ids, nick=nick
        )

    def add_member(
        self,
        name: str,
        roles: Iterable[Any] = (),
        *,
        bot: bool = False,
        nick: str | None = None,
        accepts_dms: bool = True,
        status: str = "online",
        global_name: str | None = None,
        joined_at: str | None = None,
    ) -> Member:
        world = self.emu.world
        user = world.add_user(
            name, bot=bot, accepts_dms=accepts_dms, status=status, global_name=global_name
        )
        fields: dict[str, Any] = {"role_ids": [_id(r) for r in roles], "nick": nick}
        if joined_at is not None:
            fields["joined_at"] = joined_at
        return self.emu.ops.member_join(self.guild, user, **fields)

    def add_existing_user(self, user_id: Any, roles: Iterable[Any] = ()) -> Member:
        """Put a user who already exists (e.g. in another guild) into this guild."""
        user = self.emu.world.users[_id(user_id)]
        return self.emu.ops.member_join(self.guild, user, role_ids=[_id(r) for r in roles])

    # --------------------------------------------------------------- channels
    def _overwrites(self, spec: OverwriteSpec | None) -> list[Overwrite]:
        out = []
        for target, (allow, deny) in (spec or {}).items():
            tid = _id(target)
            kind = 0 if tid in self.guild.roles else 1
            out.append(Overwrite(tid, kind, perms.to_bits(allow), perms.to_bits(deny)))
        return out

    def _channel(
        self,
        ctype: int,
        name: str,
        *,
        category: Any = None,
        overwrites: OverwriteSpec | None = None,
        **fields: Any,
    ) -> Channel:
        world = self.emu.world
        position = sum(1 for c in self.guild.channels.values() if not c.is_thread)
        channel = Channel(
            id=world.new_id(),
            type=ctype,
            guild_id=self.guild.id,
            name=name,
            position=position,
            parent_id=_id(category) if category is not None else None,
            overwrites=self._overwrites(overwrites),
            **fields,
        )
        world.add_channel(channel)
        self.emu.events.channel_create(channel)
        return channel

    def create_category(self, name: str, *, overwrites: OverwriteSpec | None = None) -> Channel:
        return self._channel(CATEGORY, name, overwrites=overwrites)

    def create_text_channel(
        self,
        name: str,
        category: Any = None,
        *,
        topic: str | None = None,
        overwrites: OverwriteSpec | None = None,
        nsfw: bool = False,
        slowmode: int = 0,
    ) -> Channel:
        return self._channel(
            TEXT,
            name,
            category=category,
            overwrites=overwrites,
            topic=topic,
            nsfw=nsfw,
            rate_limit_per_user=slowmode,
        )

    def create_announcement_channel(
        self, name: str, category: Any = None, *, overwrites: OverwriteSpec | None = None
    ) -> Channel:
        return self._channel(NEWS, name, category=category, overwrites=overwrites)

    def create_voice_channel(
        self,
        name: str,
        category: Any = None,
        *,
        user_limit: int = 0,
        overwrites: OverwriteSpec | None = None,
    ) -> Channel:
        return self._channel(
            VOICE, name, category=category, overwrites=overwrites, user_limit=user_limit
        )

    def create_stage_channel(
        self, name: str, category: Any = None, *, overwrites: OverwriteSpec | None = None
    ) -> Channel:
        return self._channel(STAGE, name, category=category, overwrites=overwrites)

    def create_forum_channel(
        self,
        name: str,
        tags: Iterable[str | Mapping[str, Any]] = (),
        *,
        category: Any = None,
        overwrites: OverwriteSpec | None = None,
        require_tag: bool = False,
        topic: str | None = None,
    ) -> Channel:
        world = self.emu.world
        forum_tags = []
        for tag in tags:
            spec = {"name": tag} if isinstance(tag, str) else dict(tag)
            forum_tags.append(
                ForumTag(
                    id=world.new_id(),
                    name=spec["name"],
                    moderated=bool(spec.get("moderated")),
                    emoji_name=spec.get("emoji_name"),
                )
            )
        return self._channel(
            FORUM,
            name,
            category=category,
            overwrites=overwrites,
            available_tags=forum_tags,
            flags=(1 << 4) if require_tag else 0,
            topic=topic,
        )

    def set_overwrite(self, channel: Any, target: Any, *, allow: Any = 0, deny: Any = 0) -> None:
        ch = self.emu.world.channels[_id(channel)]
        tid = _id(target)
        ch.overwrites = [o for o in ch.overwrites if o.id != tid]
        kind = 0 if tid in self.guild.roles else 1
        ch.overwrites.append(Overwrite(tid, kind, perms.to_bits(allow), perms.to_bits(deny)))
        self.emu.events.channel_update(ch)

    def set_vanity_url(self, code: str | None, channel: Any = None) -> None:
        """discord.gg/<code> leads to ``channel`` (default: the system channel); None removes it."""
        channel_id = _id(channel) if channel is not None else self.guild.system_channel_id
        self.emu.ops.set_vanity_url(self.guild, code, channel_id)

    def set_system_channel(self, channel: Any) -> None:
        self.guild.system_channel_id = _id(channel) if channel is not None else None
        self.emu.events.guild_update(self.guild)
