"""The Flywheel bot: a ``commands.Bot`` that is handed everything it needs."""

from __future__ import annotations

import asyncio
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord.ext import commands

import cogs
from bot import runtime
from bot.command_sync import sync_if_changed
from bot.config import Config, Settings
from bot.http_metrics import label_routes, trace_config
from bot.interaction_gate import InteractionGate
from bot.outbox import Outbox
from bot.review_card import ReviewDesk
from bot.scheduling import Schedule
from bot.services.background import finish_or_cancel
from bot.services.container import Services
from bot.tree import FlywheelTree

log = logging.getLogger(__name__)

ShutdownHook = Callable[[], Awaitable[None]]
MessageHook = Callable[[discord.Message], None]

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


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The program's services, for a persistent button or form that outlives its message."""
    client = interaction.client
    if not isinstance(client, Flywheel):
        raise TypeError("Flywheel's components only run in the Flywheel bot")
    return client.services


class Flywheel(commands.Bot):
    def __init__(
        self,
        *,
        config: Config,
        services: Services,
        outbox: Outbox,
        schedule: Schedule,
        extensions: Sequence[str] | None = None,
        freeze_heap_when_ready: bool = False,
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
            http_trace=trace_config(services.metrics),
            **client_options,
        )
        label_routes(self.http)
        self.config = config
        #: Every program service, built once by the composition root (``bot.app``).
        self.services = services
        #: What the bot sends on its own initiative (mod log, DMs, posts, role edits).
        self.outbox = outbox
        outbox.attach(self)
        #: The one approve/reject flow of review cards; each kind's cog registers its kind.
        self.reviews = ReviewDesk(config.settings, outbox)
        #: Every interaction passes it first: replays are dropped, slow handlers deferred for.
        self.interaction_gate = InteractionGate(
            lambda work: self.spawn(work, name="interaction-ack"),
            on_late=services.metrics.interactions_late.inc,
        )
        self.interaction_gate.install(self)
        self.clock = services.clock
        #: Every scheduled job and once-per-period post (``bot.scheduling``).
        self.schedule = schedule
        self.extension_names = list(extensions) if extensions is not None else all_extensions()
        #: Only for a process that runs nothing but this bot (``serve``), not tests or the demo.
        self.freeze_heap_when_ready = freeze_heap_when_ready
        self._shutdown_hooks: list[ShutdownHook] = []
        self._message_hooks: list[MessageHook] = []
        self._messages_seen = services.metrics.messages_seen
        self._startup: asyncio.Task[None] | None = None
        #: Set once the guild is known, commands are synced and preflight has run.
        self.flywheel_ready = asyncio.Event()
        #: The gateway session is live: READY or RESUMED came after the last disconnect.
        self.gateway_up = False
        self.add_listener(self._session_live, "on_ready")
        self.add_listener(self._session_live, "on_resumed")
        self.add_listener(self._session_lost, "on_disconnect")

    @property
    def settings(self) -> Settings:
        return self.config.settings

    @property
    def guild_id(self) -> int:
        return self.settings.discord.guild_id

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

    def on_every_message(self, hook: MessageHook) -> None:
        """Call ``hook`` synchronously for every message the bot receives.

        The hot path: a listener per feature would cost a task per message each, and hooks
        keep message ingestion close to a bare client's speed. Hooks must not block; slow work
        goes through :meth:`spawn`.
        """
        self._message_hooks.append(hook)

    def remove_message_hook(self, hook: MessageHook) -> None:
        self._message_hooks.remove(hook)

    async def on_message(self, message: discord.Message, /) -> None:
        # Every command is an application command: messages are never parsed for a prefix.
        self._messages_seen.inc()
        for hook in self._message_hooks:
            try:
                hook(message)
            except Exception:
                log.exception("message hook %r failed on message %s", hook, message.id)

    def spawn(self, coro: Awaitable[None], *, name: str) -> None:
        """Run ``coro`` in the background, tracked: errors are logged, close() cancels it."""
        self.services.background.spawn(coro, name=name)

    async def setup_hook(self) -> None:
        self.services.start()
        self.reviews.install(self)
        for name in self.extension_names:
            await self.load_extension(name)
        self.schedule.start()
        # Not on_ready: that fires again after every reconnect.
        self._startup = asyncio.create_task(self._after_first_ready(), name="flywheel-startup")

    async def _after_first_ready(self) -> None:
        await self.wait_until_ready()
        guild = self.get_guild(self.guild_id)
        if guild is None:
            log.error(
                "the bot is not in the configured guild %s (discord.guild_id); invite it with "
                "the OAuth2 URL from the README, or fix the id",
                self.guild_id,
            )
            return
        if self.settings.discord.sync_commands:
            try:
                await sync_if_changed(
                    self.tree,
                    guild,
                    application_id=self.application_id,
                    sessions=self.services.sessions,
                    clock=self.clock,
                )
            except discord.HTTPException as exc:
                log.error(
                    "could not sync slash commands (%s): re-invite the bot with the "
                    "applications.commands scope",
                    exc,
                )
        self.dispatch("flywheel_ready", guild)
        self.spawn(self._catch_up(), name="schedule-catch-up")
        self.flywheel_ready.set()
        if self.freeze_heap_when_ready:
            frozen = runtime.freeze_startup_heap()
            log.info("start-up heap frozen: %d objects left out of full collections", frozen)

    async def _catch_up(self) -> None:
        """Posts a restart interrupted or missed; features that follow up listen for the end."""
        await self.schedule.catch_up()
        self.dispatch("flywheel_caught_up")

    async def _finish_in_flight_work(self) -> None:
        """Let event handlers and spawned work still running finish briefly, then cancel them.

        They may hold a database session: the store must not close under them. discord.py
        names the tasks it runs listeners in ``discord.py: on_<event>``.
        """
        current = asyncio.current_task()
        in_flight = {
            task
            for task in asyncio.all_tasks()
            if task is not current
            and not task.done()
            and (
                task in self.services.background.pending
                or task.get_name().startswith("discord.py: on_")
            )
        }
        await finish_or_cancel(in_flight, IN_FLIGHT_GRACE_SECONDS)

    async def close(self) -> None:
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()
        await self._finish_in_flight_work()
        for hook in reversed(self._shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook %r failed", hook)
        self._shutdown_hooks.clear()
        await self.services.close()
        self.schedule.stop()
        await super().close()
