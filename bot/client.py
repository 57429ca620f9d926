"""The Flywheel bot: a ``commands.Bot`` that is handed everything it needs."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord.ext import commands

import cogs
from bot import runtime
from bot.clock import Clock
from bot.command_sync import sync_if_changed
from bot.community import Community, guild_of
from bot.config import Config, Settings
from bot.history import DiscordHistory
from bot.http_metrics import label_routes, trace_config
from bot.interaction_gate import InteractionGate
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.review_card import ReviewDesk
from bot.roster import sync_members
from bot.scheduling import Schedule
from bot.services.background import Background, finish_or_cancel
from bot.services.container import CLOSE_GRACE_SECONDS, Services
from bot.tree import FlywheelTree

log = logging.getLogger(__name__)

ShutdownHook = Callable[[], Awaitable[None]]
MessageHook = Callable[[discord.Message], None]

#: How long the heap freeze waits for the start-up work (member sync, catch-ups) to finish.
STARTUP_WORK_SECONDS = 60.0
#: How long shutdown waits for running event handlers before cancelling them.
IN_FLIGHT_GRACE_SECONDS = 2.0


def all_extensions() -> list[str]:
    """Every module in ``cogs/``: a new cog is loaded by existing, not by being listed."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


def required_intents() -> discord.Intents:
    """Members and message content are privileged: enable both in the Developer Portal."""
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    return intents


class _NotHandled:
    """An event handler a base class defines, hidden: ``getattr`` fails, so discord.py's
    dispatch starts no task for the event (its waiters and added listeners still run)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        raise AttributeError(self.name)


class Flywheel(commands.Bot):
    """One Discord connection serving the :class:`~bot.community.Community` of each server."""

    def __init__(
        self,
        *,
        config: Config,
        communities: Sequence[Community],
        metrics: Metrics,
        clock: Clock,
        extensions: Sequence[str] | None = None,
        freeze_heap_when_ready: bool = False,
        catch_up_history: bool = False,
        **client_options: Any,
    ) -> None:
        # Voice presence comes from gateway events; the bot never joins a voice channel, so
        # discord.py's warning about missing voice encryption libraries is only noise.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=required_intents(),
            tree_cls=FlywheelTree,
            # Nobody is pinged unless a message names them explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=trace_config(metrics),
            **client_options,
        )
        label_routes(self.http)
        self.config = config
        self.metrics = metrics
        self.clock = clock
        #: Each server's program, in config order; events reach the one of their guild.
        self.communities: tuple[Community, ...] = tuple(communities)
        self._by_guild = {community.guild_id: community for community in self.communities}
        for community in self.communities:
            community.attach(self)
        #: Process-wide background work (interaction acknowledgements); each server has its own.
        self.background = Background()
        #: Cleared when close() closes the services: an event after that has nothing to run on.
        self._taking_events = True
        #: Every interaction passes it first: replays are dropped, slow handlers deferred for.
        self.interaction_gate = InteractionGate(
            lambda work: self.spawn(work, name="interaction-ack"),
            on_late=metrics.interactions_late.inc,
        )
        self.interaction_gate.install(self)
        self.extension_names = list(extensions) if extensions is not None else all_extensions()
        #: Only for a process that runs nothing but this bot (``serve``), not tests or the demo.
        self.freeze_heap_when_ready = freeze_heap_when_ready
        #: Count from history what was said while no process listened (``BackfillService.
        #: fill_gap``): for ``run``, where a restart or a takeover follows a gap.
        self.catch_up_history = catch_up_history
        self._shutdown_hooks: list[ShutdownHook] = []
        self._messages_seen = metrics.messages_seen
        self._injecting: Community | None = None
        #: Events some server's cog listens to (``dispatch`` finds the guild of these only).
        self.listened: set[str] = set()
        self._startup: asyncio.Task[None] | None = None
        #: Set once every server is ready (commands synced, preflight run).
        self.flywheel_ready = asyncio.Event()
        #: The gateway session is live: READY or RESUMED came after the last disconnect.
        self.gateway_up = False
        self.add_listener(self._session_live, "on_ready")
        self.add_listener(self._session_live, "on_resumed")
        self.add_listener(self._session_lost, "on_disconnect")

    # ------------------------------------------------------------------ the communities
    def community(self, guild_id: int | None) -> Community:
        """The community of ``guild_id``; with one server, also what a DM belongs to."""
        if guild_id is None and len(self.communities) == 1:
            return self.communities[0]
        try:
            return self._by_guild[guild_id]  # type: ignore[index]
        except KeyError:
            raise LookupError(f"this bot does not serve the server {guild_id}") from None

    @property
    def only(self) -> Community:
        """The one community of a single-server bot (tools and tests that serve one server)."""
        if len(self.communities) != 1:
            raise LookupError(
                f"this bot serves {len(self.communities)} servers: use bot.community(guild_id)"
            )
        return self.communities[0]

    @property
    def settings(self) -> Settings:
        return self.only.settings

    @property
    def services(self) -> Services:
        return self.only.services

    @property
    def outbox(self) -> Outbox:
        return self.only.outbox

    @property
    def schedule(self) -> Schedule:
        return self.only.schedule

    @property
    def reviews(self) -> ReviewDesk:
        return self.only.reviews

    @property
    def guild_id(self) -> int:
        return self.only.guild_id

    async def add_community_cog(self, community: Community, cog: commands.Cog) -> None:
        """Add one server's instance of a cog: its slash commands are that guild's, its
        listeners hear that guild's events only (see :meth:`dispatch`)."""
        name = cog.__cog_name__
        if len(self.communities) > 1:
            cog.__cog_name__ = f"{name} {community.guild_id}"
        community.cog_names[name] = cog.__cog_name__
        self._injecting = community
        try:
            await super().add_cog(cog, guilds=[discord.Object(community.guild_id)])
        finally:
            self._injecting = None

    def add_listener(self, func: Any, name: str = discord.utils.MISSING) -> None:
        if self._injecting is not None:
            self._injecting.add_listener(func, name or None)
        else:
            super().add_listener(func, name)

    def remove_listener(self, func: Any, name: str = discord.utils.MISSING) -> None:
        for community in self.communities:
            community.remove_listener(func, name or None)
        super().remove_listener(func, name)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """discord.py's dispatch, then the listeners of the community the event is about
        (every community's for an event about no guild: a DM, the connection).

        A message goes to the message hooks, right here (:meth:`_message`); discord.py's
        dispatch (``wait_for`` waiters, added listeners) only if someone waits or listens: for
        nearly every message nobody does, and its two layers cost about 5% of handling one.

        Once :meth:`close` has closed the services an event is dropped: discord.py's connect
        loop still reports a reconnect it began before ``close()`` and that fails after it,
        when the client has no event loop left to run a listener on.
        """
        if self._closed_to(event_name):
            return
        if event_name == "message":
            self._message(args[0])
            if not (
                self._listeners.get("message")
                or self.extra_events.get("on_message")
                or "on_message" in self.listened
            ):
                return
        super().dispatch(event_name, *args, **kwargs)
        if "on_" + event_name not in self.listened:
            return  # messages, most of all: they went to the message hooks
        guild_id = guild_of(args)
        if guild_id is None:
            communities: Sequence[Community] = self.communities
        else:
            community = self._by_guild.get(guild_id)
            communities = () if community is None else (community,)
        self._to_listeners(communities, event_name, args, kwargs)

    def dispatch_to(
        self, community: Community, event_name: str, /, *args: Any, **kwargs: Any
    ) -> None:
        """Dispatch an event of one community's own (``flywheel_caught_up``…)."""
        if self._closed_to(event_name):
            return
        super().dispatch(event_name, *args, **kwargs)
        self._to_listeners((community,), event_name, args, kwargs)

    def _closed_to(self, event_name: str) -> bool:
        """Whether ``close()`` has closed the services, so ``event_name`` is dropped."""
        if self._taking_events:
            return False
        log.debug("dropped %s: the bot is closing", event_name)
        return True

    def _to_listeners(
        self,
        communities: Sequence[Community],
        event_name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        method = "on_" + event_name
        for community in communities:
            for listener in community.listeners.get(method, ()):
                self._schedule_event(listener, method, *args, **kwargs)

    # ------------------------------------------------------------------ the connection
    async def _session_live(self) -> None:
        self.gateway_up = True

    async def _session_lost(self) -> None:
        self.gateway_up = False

    @property
    def gateway_connected(self) -> bool:
        """Whether events flow now: a live session on an open websocket (``/healthz``)."""
        ws = self.ws
        return self.gateway_up and not self.is_closed() and ws is not None and ws.open

    def on_shutdown(self, hook: ShutdownHook) -> None:
        """Run ``hook`` on graceful shutdown, before the connection and store close."""
        self._shutdown_hooks.append(hook)

    #: No task per message: discord.py starts one for an ``on_message`` method (and
    #: ``commands.Bot`` has one, to parse prefix commands, which Flywheel has none of).
    on_message = _NotHandled()

    def _message(self, message: discord.Message) -> None:
        """The hot path: each community's message hooks, called as the message is parsed.

        A listener per feature would cost a task per message each, and so would a single
        ``on_message``: a task costs about as much as the hooks' own work (bench/ingest.py).
        Hooks must not block; slow work goes through ``spawn``. A hook's error is logged and
        stops neither the other hooks nor the gateway. Every command is an application
        command: messages are never parsed for a prefix. ``wait_for("message")`` and
        listeners added for ``on_message`` work as discord.py documents.
        """
        self._messages_seen.inc()
        guild = message.guild
        if guild is None:
            communities: Sequence[Community] = self.communities
        else:
            community = self._by_guild.get(guild.id)
            communities = () if community is None else (community,)
        for community in communities:
            for hook in community.message_hooks:
                try:
                    hook(message)
                except Exception:
                    log.exception("message hook %r failed on message %s", hook, message.id)

    def spawn(self, coro: Awaitable[None], *, name: str) -> None:
        """Run ``coro`` in the background, tracked: errors are logged, close() cancels it."""
        self.background.spawn(coro, name=name)

    async def setup_hook(self) -> None:
        for community in self.communities:
            if self.catch_up_history:
                community.services.activity.hold()
            community.services.start()
            community.reviews.install(community)
            for name in self.extension_names:
                await importlib.import_module(name).setup(community)
            community.schedule.start()
        if self.freeze_heap_when_ready:
            # The libraries, cogs and services are as long-lived as the process: frozen before
            # connecting, the collections while 100,000 members are chunked don't walk them.
            runtime.freeze_startup_heap()
        # Not on_ready: that fires again after every reconnect.
        self._startup = asyncio.create_task(self._after_first_ready(), name="flywheel-startup")

    async def _after_first_ready(self) -> None:
        await self.wait_until_ready()
        await asyncio.gather(*(self._community_ready(c) for c in self.communities))
        self.flywheel_ready.set()
        if self.freeze_heap_when_ready:
            # Once the start-up work is done too (member sync, the catch-ups): what it leaves
            # behind is as long-lived as the rest of the start-up heap.
            started = [
                event.wait()
                for c in self.communities
                for event in (c.schedule.caught_up, c.services.tiers.caught_up)
            ]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*started), STARTUP_WORK_SECONDS)
            frozen = runtime.freeze_startup_heap()
            log.info("start-up heap frozen: %d objects left out of full collections", frozen)

    async def _community_ready(self, community: Community) -> None:
        guild = self.get_guild(community.guild_id)
        if guild is None:
            community.services.activity.release()  # no history to catch up from
            community.members_synced.set()  # no member list to wait for
            log.error(
                "the bot is not in the configured guild %s (discord.guild_id); invite it with "
                "the OAuth2 URL from the README, or fix the id",
                community.guild_id,
            )
            return
        synced = None
        if community.settings.discord.sync_commands:
            synced = asyncio.create_task(self._sync_commands(community, guild))
        # The start-up work that reads the guild (the member sync of 100,000 members, the
        # preflight) runs while the commands are synced: that waits on Discord, this mostly
        # on the store (bench/startup.py).
        community.spawn(sync_members(community, guild), name="member-sync")
        community.dispatch("flywheel_ready", guild)
        if synced is not None:
            await synced
        if self.catch_up_history:
            community.spawn(self._fill_gap(community, guild), name="history-catch-up")
        community.spawn(self._catch_up(community), name="schedule-catch-up")
        community.flywheel_ready.set()

    async def _sync_commands(self, community: Community, guild: discord.Guild) -> None:
        try:
            await sync_if_changed(
                self.tree,
                guild,
                application_id=self.application_id,
                sessions=community.services.sessions,
                clock=self.clock,
            )
        except discord.HTTPException as exc:
            log.error(
                "could not sync slash commands (%s): re-invite the bot with the "
                "applications.commands scope",
                exc,
            )

    async def _fill_gap(self, community: Community, guild: discord.Guild) -> None:
        try:
            await community.services.backfill.fill_gap(DiscordHistory(guild, guild.me))
        except Exception as exc:
            log.exception("history catch-up failed")
            await community.outbox.alert(
                f"Flywheel could not read the history since it last stopped ({exc}): messages "
                "sent while it was away are not counted. Check that the bot can View Channel "
                "and Read Message History, then restart it"
            )

    async def _catch_up(self, community: Community) -> None:
        """Posts a restart interrupted or missed; features that follow up listen for the end.

        After the member sync: a post lists members, and one who left while the bot was away
        must not be featured (or pinged) in it.
        """
        await community.members_synced.wait()
        await community.schedule.catch_up()
        community.dispatch("flywheel_caught_up")

    async def _finish_in_flight_work(self) -> None:
        """Let event handlers and spawned work still running finish briefly, then cancel them.

        They may hold a database session: the store must not close under them. discord.py
        names the tasks it runs listeners in ``discord.py: on_<event>``.
        """
        current = asyncio.current_task()
        spawned = set(self.background.pending).union(
            *(community.services.background.pending for community in self.communities)
        )
        in_flight = {
            task
            for task in asyncio.all_tasks()
            if task is not current
            and not task.done()
            and (task in spawned or task.get_name().startswith("discord.py: on_"))
        }
        await finish_or_cancel(in_flight, IN_FLIGHT_GRACE_SECONDS)

    async def close(self) -> None:
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()
        for community in self.communities:
            community.schedule.pause()
        await self._finish_in_flight_work()
        for hook in reversed(self._shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook %r failed", hook)
        self._shutdown_hooks.clear()
        await self.background.finish(CLOSE_GRACE_SECONDS)
        self._taking_events = False
        for community in self.communities:
            await community.services.close()
            community.schedule.stop()
        await super().close()


class ShardedFlywheel(Flywheel, commands.AutoShardedBot):
    """Flywheel on discord.py's ``AutoShardedClient``: a websocket per shard this process runs
    (``[discord] shard_count`` and ``shard_ids``); each guild's events come on its own shard."""

    @property
    def gateway_connected(self) -> bool:
        """Every shard of this process has a live session."""
        shards = self.shards
        return (
            self.gateway_up
            and not self.is_closed()
            and bool(shards)
            and all(not shard.is_closed() for shard in shards.values())
        )
