"""One server's program inside the bot, and how events find it.

A deployment may serve several servers from one Discord connection. Each server is a
:class:`Community`: its settings, its services over the shared store, its outbox, its schedule
(in its own time zone) and its review desk. Every cog is instantiated once per community and
given that community as its ``bot``: ``self.bot.services`` is that server's services and
``self.bot.schedule`` its schedule, while everything else (``get_guild``, ``user``, ``tree``,
``wait_until_ready``…) is the shared client's. The cogs' code does not know how many servers
there are; the client routes each event to the community of the guild it names
(:func:`guild_of`) and each slash command is registered for that guild only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord

from bot.config import Settings
from bot.outbox import Outbox
from bot.review_card import ReviewDesk
from bot.scheduling import Schedule
from bot.services.container import Services

if TYPE_CHECKING:
    from discord.ext import commands

    from bot.client import Flywheel, MessageHook

Listener = Callable[..., Coroutine[Any, Any, Any]]


def guild_of(args: tuple[Any, ...]) -> int | None:
    """The guild an event is about, from its first argument (None: a DM or the connection).

    discord.py passes the object the event is about first: a Guild, or something carrying
    ``guild_id`` (raw payloads, interactions, scheduled events) or ``guild`` (messages,
    members, channels, threads, invites).
    """
    if not args:
        return None
    first = args[0]
    if isinstance(first, discord.Guild):
        return first.id
    guild_id = getattr(first, "guild_id", None)
    if isinstance(guild_id, int):
        return guild_id
    guild = getattr(first, "guild", None)
    guild_id = getattr(guild, "id", None)
    return guild_id if isinstance(guild_id, int) else None


class Community:
    """One server's program: what that server's cogs see as their ``bot``.

    Attributes it does not define are the shared client's (a read-through, not a copy), so a
    cog written for one server runs unchanged beside the same cog of another server.
    """

    def __init__(
        self, settings: Settings, services: Services, outbox: Outbox, schedule: Schedule
    ) -> None:
        self.settings = settings
        self.services = services
        self.outbox = outbox
        self.schedule = schedule
        self.clock = services.clock
        #: The one approve/reject flow of this server's review cards.
        self.reviews = ReviewDesk(settings, outbox)
        #: Set once this server's guild is known, its commands synced and preflight run.
        self.flywheel_ready = asyncio.Event()
        #: Set once the start-up member sync has run (:func:`bot.roster.sync_members`):
        #: slash commands wait for it, as what they read of who is here may be stale before.
        self.members_synced = asyncio.Event()
        self.listeners: dict[str, list[Listener]] = {}
        self.message_hooks: list[MessageHook] = []
        self.cog_names: dict[str, str] = {}
        self._client: Flywheel | None = None

    def __repr__(self) -> str:
        return f"<Community guild_id={self.guild_id}>"

    @property
    def guild_id(self) -> int:
        return self.settings.discord.guild_id

    @property
    def client(self) -> Flywheel:
        if self._client is None:
            raise RuntimeError("the community is used before its client is attached")
        return self._client

    def attach(self, client: Flywheel) -> None:
        self._client = client
        self.outbox.attach(client)

    def __getattr__(self, name: str) -> Any:
        # Only reached for what this class does not define: the shared client's attributes.
        if name.startswith("__") or self._client is None:
            raise AttributeError(name)
        return getattr(self._client, name)

    # ------------------------------------------------------------------ what is this server's
    @property
    def guild(self) -> discord.Guild | None:
        return self.client.get_guild(self.guild_id)

    async def add_cog(self, cog: commands.Cog, **_: Any) -> None:
        """Register ``cog`` for this server: its commands in this guild, its listeners here."""
        await self.client.add_community_cog(self, cog)

    def get_cog(self, name: str) -> commands.Cog | None:
        return self.client.get_cog(self.cog_names.get(name, name))

    def add_listener(self, func: Listener, name: str | None = None) -> None:
        event = name or func.__name__
        self.listeners.setdefault(event, []).append(func)
        self.client.listened.add(event)

    def remove_listener(self, func: Listener, name: str | None = None) -> None:
        funcs = self.listeners.get(name or func.__name__, [])
        if func in funcs:
            funcs.remove(func)

    def on_every_message(self, hook: MessageHook) -> None:
        """Call ``hook`` synchronously for every message in this server (see the client's)."""
        self.message_hooks.append(hook)

    def remove_message_hook(self, hook: MessageHook) -> None:
        self.message_hooks.remove(hook)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Dispatch an event of this server's own (``flywheel_ready``…) to its listeners."""
        self.client.dispatch_to(self, event_name, *args, **kwargs)

    def spawn(self, coro: Awaitable[None], *, name: str) -> None:
        """Run ``coro`` in the background, tracked by this server's services."""
        self.services.background.spawn(coro, name=name)
