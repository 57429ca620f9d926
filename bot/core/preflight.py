"""Start-up preflight: does the live guild have what the configuration relies on?

Pure: the bot turns the connected guild into a ``GuildSnapshot``, this module compares it
with what the configuration needs and returns problems phrased for a moderator, each with the
fix. Finding them at start-up beats a role that silently fails to apply weeks later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Permissions the bot needs guild-wide, and why (shown in the fix text).
GUILD_PERMISSIONS: Mapping[str, str] = {
    "view_channel": "to see the configured channels",
    "send_messages": "to post recognition and replies",
    "embed_links": "to post cards and reports",
    "attach_files": "to attach charts and exports",
    "read_message_history": "to find its own earlier posts",
    "manage_threads": "to tag solved help threads",
    "manage_roles": "to give and remove tier roles",
    "manage_guild": "to read invites for referral tracking",
}

_POSTING = ("view_channel", "send_messages", "embed_links")
_HELP = ("view_channel", "read_message_history", "send_messages_in_threads", "manage_threads")


@dataclass(frozen=True)
class RoleInfo:
    id: int
    name: str
    position: int
    managed: bool = False


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    name: str
    kind: str
    #: The bot's effective permissions in this channel (discord.Permissions attribute names).
    bot_permissions: frozenset[str]


@dataclass(frozen=True)
class GuildSnapshot:
    guild_id: int
    roles: Mapping[int, RoleInfo]
    channels: Mapping[int, ChannelInfo]
    bot_permissions: frozenset[str]
    bot_top_role: RoleInfo | None
    bot_is_owner: bool = False


@dataclass(frozen=True)
class ChannelNeed:
    key: str
    channel_id: int
    permissions: tuple[str, ...]
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleNeed:
    key: str
    role_id: int
    managed_by_bot: bool


@dataclass(frozen=True)
class Requirements:
    channels: tuple[ChannelNeed, ...] = ()
    roles: tuple[RoleNeed, ...] = ()
    guild_permissions: tuple[str, ...] = tuple(GUILD_PERMISSIONS)


@dataclass(frozen=True)
class Problem:
    """Something the bot cannot do, with the fix in plain words."""

    key: str
    what: str
    fix: str
    details: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return f"{self.key}: {self.what} Fix: {self.fix}"


def posting_channel(key: str, channel_id: int) -> ChannelNeed:
    return ChannelNeed(key, channel_id, _POSTING, ("text", "news"))


_FEEDBACK = (
    "view_channel",
    "send_messages",
    "send_messages_in_threads",
    "embed_links",
    "manage_threads",
    "manage_channels",
)
"""Post requests, note statuses in their threads, apply the (moderated) status tags and create
them at start-up."""


def feedback_forum(key: str, channel_id: int) -> ChannelNeed:
    return ChannelNeed(key, channel_id, _FEEDBACK, ("forum",))


_PROGRAMS = (
    "view_channel",
    "send_messages",
    "send_messages_in_threads",
    "embed_links",
    "create_private_threads",
    "manage_threads",
)
"""Post beta programs and research calls, open each program's private testers' thread, add
testers to it and archive it at the close."""


def programs_channel(key: str, channel_id: int) -> ChannelNeed:
    return ChannelNeed(key, channel_id, _PROGRAMS, ("text",))


def help_forum(key: str, channel_id: int) -> ChannelNeed:
    return ChannelNeed(key, channel_id, _HELP, ("forum", "text"))


def check(snapshot: GuildSnapshot, needs: Requirements) -> list[Problem]:
    """Every problem found, guild-wide permissions first, then channels, then roles."""
    problems: list[Problem] = []
    if not snapshot.bot_is_owner and "administrator" not in snapshot.bot_permissions:
        problems.extend(_missing_guild_permissions(snapshot, needs.guild_permissions))
    problems.extend(_channel_problems(snapshot, needs.channels))
    problems.extend(_role_problems(snapshot, needs.roles))
    return problems


def _missing_guild_permissions(snapshot: GuildSnapshot, wanted: Iterable[str]) -> list[Problem]:
    missing = [p for p in wanted if p not in snapshot.bot_permissions]
    if not missing:
        return []
    names = ", ".join(_label(p) for p in missing)
    reasons = "; ".join(f"{_label(p)} {GUILD_PERMISSIONS.get(p, '')}".strip() for p in missing)
    return [
        Problem(
            key="permissions",
            what=f"the bot lacks the server permission(s) {names}.",
            fix=f"give the bot's role {names} in Server Settings → Roles ({reasons}).",
        )
    ]


def _channel_problems(snapshot: GuildSnapshot, needs: Iterable[ChannelNeed]) -> list[Problem]:
    problems = []
    for need in needs:
        channel = snapshot.channels.get(need.channel_id)
        if channel is None:
            problems.append(
                Problem(
                    key=need.key,
                    what=f"channel {need.channel_id} does not exist in this server "
                    "(or the bot cannot see it).",
                    fix=f"set {need.key} to an existing channel's ID (Developer Mode → right-click "
                    "the channel → Copy Channel ID), or let the bot view that channel.",
                )
            )
            continue
        if need.kinds and channel.kind not in need.kinds:
            problems.append(
                Problem(
                    key=need.key,
                    what=f"#{channel.name} is a {channel.kind} channel; "
                    f"{need.key} needs a {' or '.join(need.kinds)} channel.",
                    fix=f"point {need.key} at a {need.kinds[0]} channel.",
                )
            )
        missing = [p for p in need.permissions if p not in channel.bot_permissions]
        if missing and "administrator" not in snapshot.bot_permissions:
            names = ", ".join(_label(p) for p in missing)
            problems.append(
                Problem(
                    key=need.key,
                    what=f"the bot lacks {names} in #{channel.name}.",
                    fix=f"allow the bot's role {names} in #{channel.name}'s permission settings.",
                )
            )
    return problems


def _role_problems(snapshot: GuildSnapshot, needs: Iterable[RoleNeed]) -> list[Problem]:
    problems = []
    top = snapshot.bot_top_role
    for need in needs:
        role = snapshot.roles.get(need.role_id)
        if role is None:
            problems.append(
                Problem(
                    key=need.key,
                    what=f"role {need.role_id} does not exist in this server.",
                    fix=f"set {need.key} to an existing role's ID (Server Settings → Roles → "
                    "right-click the role → Copy Role ID).",
                )
            )
            continue
        if not need.managed_by_bot or snapshot.bot_is_owner:
            continue
        if role.managed:
            problems.append(
                Problem(
                    key=need.key,
                    what=f"{role.name} is managed by an integration; no bot can assign it.",
                    fix=f"create a normal role for {need.key} and use its ID.",
                )
            )
        elif top is None or top.position <= role.position:
            bot_role = top.name if top is not None else "the bot's role"
            problems.append(
                Problem(
                    key=need.key,
                    what=f"{bot_role} is not above {role.name}, so Discord refuses to "
                    f"give or remove {role.name}.",
                    fix=f"move the {bot_role} role above {role.name} in Server Settings → Roles.",
                )
            )
    return problems


def _label(permission: str) -> str:
    """``manage_roles`` → ``Manage Roles`` (the name Discord's settings show)."""
    special = {"manage_guild": "Manage Server", "view_channel": "View Channels"}
    return special.get(permission, permission.replace("_", " ").title())
