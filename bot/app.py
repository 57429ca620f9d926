"""The composition root: builds config, store, services, scheduler and bot, and runs them.

Nothing is built at import time; tests and the demo call the same functions as ``run``, with
their own clock and endpoints.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import endpoints, startup
from bot.client import Flywheel
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.errors import StartupError
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.scheduling import Schedule
from bot.services.container import Services, build_services
from bot.web import GatewayStatus, WebServer, create_app
from bot.web.state import GatewayProbe, SchedulerProbe
from db import migrate
from db.engine import create_engine, create_session_factory

log = logging.getLogger(__name__)


async def open_store(config: Config) -> AsyncEngine:
    """An engine on a database at the code's migration head, or a StartupError saying why not."""
    database = config.settings.database
    unwritable = startup.sqlite_unwritable(database.url)
    if unwritable:
        raise StartupError(unwritable)
    engine = create_engine(database.url, echo=database.echo)
    try:
        pending = await migrate.pending_revisions(engine)
        if pending and database.auto_migrate:
            log.info("applying %d database migration(s): %s", len(pending), ", ".join(pending))
            await migrate.upgrade(engine)
        elif pending:
            raise StartupError(
                f"the database needs migration(s) {', '.join(pending)} and "
                "database.auto_migrate is false: run `python -m bot db upgrade` first"
            )
        await migrate.check_writable(engine)
    except (DBAPIError, OSError) as exc:
        await engine.dispose()
        raise StartupError(startup.store_unusable(database.url, exc)) from None
    except BaseException:
        await engine.dispose()
        raise
    return engine


@dataclass
class App:
    """Everything one running bot owns; ``close`` releases it in the right order."""

    bot: Flywheel
    engine: AsyncEngine
    #: The web pages, when ``[web] enabled``: started by :meth:`start_web`.
    web: WebServer | None = None

    async def start_web(self) -> None:
        if self.web is not None and not self.web.running:
            await self.web.start()

    async def close(self) -> None:
        try:
            if self.web is not None:
                await self.web.stop()
        finally:
            try:
                if not self.bot.is_closed():
                    await self.bot.close()
            finally:
                await self.engine.dispose()


def gateway_status(bot: Flywheel) -> GatewayStatus:
    """The bot's session, for ``/healthz``: connected and the heartbeat's round trip."""
    connected = bot.gateway_connected
    return GatewayStatus.of(connected, bot.latency if connected else None)


def web_server(
    config: Config,
    services: Services,
    *,
    gateway: GatewayProbe | None = None,
    scheduler: SchedulerProbe | None = None,
) -> WebServer:
    """The web app over ``services`` on ``[web] bind`` (not started)."""
    web = config.settings.web
    app = create_app(services, config=web, gateway=gateway, scheduler=scheduler)
    return WebServer(app, web.bind)


async def build(
    config: Config,
    *,
    clock: Clock | None = None,
    extensions: Sequence[str] | None = None,
    **client_options: Any,
) -> App:
    """Build the store, every service and the bot. The caller starts it and must ``close`` it."""
    settings = config.settings
    endpoints.point_at(settings.discord.api_base, settings.discord.gateway_url)
    engine = await open_store(config)
    outbox = Outbox(settings)
    metrics = Metrics()
    services = build_services(
        settings, clock or SystemClock(), create_session_factory(engine), outbox, metrics
    )
    tz = settings.schedule.tz
    schedule = Schedule(
        AsyncIOScheduler(timezone=tz),
        services.recognition,
        services.clock,
        tz,
        services.background,
        alert=outbox.alert,
        metrics=metrics,
    )
    bot = Flywheel(
        config=config,
        services=services,
        outbox=outbox,
        schedule=schedule,
        extensions=extensions,
        **client_options,
    )
    web = None
    if settings.web.enabled:
        web = web_server(
            config,
            services,
            gateway=lambda: gateway_status(bot),
            scheduler=lambda: bool(schedule.scheduler.running),
        )
    return App(bot=bot, engine=engine, web=web)


@dataclass
class WebApp:
    """``python -m bot web``: the pages over the store, without a bot in the process."""

    services: Services
    engine: AsyncEngine
    web: WebServer

    async def close(self) -> None:
        try:
            await self.web.stop()
        finally:
            await self.engine.dispose()


async def build_web(config: Config, *, clock: Clock | None = None) -> WebApp:
    """The same store and services as :func:`build`, with Offline effects and no gateway.

    Nothing here starts the services' loops: a process without a bot credits nothing and edits
    no role, it only reads. The caller starts ``web`` and must ``close``.
    """
    engine = await open_store(config)
    services = build_services(
        config.settings, clock or SystemClock(), create_session_factory(engine)
    )
    return WebApp(services=services, engine=engine, web=web_server(config, services))


async def serve_web(config: Config, *, clock: Clock | None = None) -> None:
    """Serve the web pages alone until SIGINT/SIGTERM, then shut down cleanly."""
    app = await build_web(config, clock=clock)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def request_stop(name: str) -> None:
        log.info("received %s: shutting down", name)
        stop.set()

    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, request_stop, sig.name)
        await app.web.start()
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await app.close()
    log.info("shut down cleanly")


async def serve(config: Config, *, clock: Clock | None = None) -> None:
    """Run until SIGINT/SIGTERM or the connection closes, then shut down cleanly."""
    if config.token is None:
        raise StartupError(f"set {config.settings.discord.token_env} to the bot's token")
    # This process runs nothing but the bot: its start-up heap can leave the collector's passes.
    app = await build(config, clock=clock, freeze_heap_when_ready=True)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def request_stop(name: str) -> None:
        log.info("received %s: shutting down", name)
        if not stopping:
            stopping.append(loop.create_task(app.bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop, sig.name)
    try:
        await app.start_web()
        async with app.bot:
            await app.bot.start(config.token.get_secret_value())
    except discord.LoginFailure:
        raise StartupError(startup.token_refused(config.settings.discord.token_env)) from None
    except discord.PrivilegedIntentsRequired:
        flags = app.bot.application.flags if app.bot.application else None
        missing = startup.missing_toggles(app.bot.intents, flags)
        raise StartupError(startup.intents_refused(missing)) from None
    except aiohttp.ClientConnectorError as exc:
        raise StartupError(startup.unreachable(config.settings.discord.api_base, exc)) from None
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if stopping:
            await stopping[0]
        await app.close()
    log.info("shut down cleanly")
