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
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import endpoints, startup
from bot.client import Flywheel, ShardedFlywheel
from bot.clock import Clock, SystemClock
from bot.community import Community
from bot.config import Config, Settings
from bot.errors import StartupError
from bot.leases import Leases, LeasesLost, SqliteLock, holder_name
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.scheduling import Schedule
from bot.services.container import Services, build_services
from bot.web import GatewayStatus, WebServer, create_app
from bot.web.app import Plugin
from bot.web.pages import review_decider, signed_in_pages
from bot.web.rights import GatewayRights, RestRights
from bot.web.state import GatewayProbe, SchedulerProbe
from db import migrate
from db.engine import create_engine, create_session_factory
from db.repositories.leases import FENCE, Fence

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


def sessions_of(
    engine: AsyncEngine, settings: Settings, holder: str | None
) -> async_sessionmaker[AsyncSession]:
    """A server's sessions; with a lease ``holder``, each claim checks the server's lease."""
    if holder is None:
        return create_session_factory(engine)
    return create_session_factory(engine, info={FENCE: Fence(settings.discord.guild_id, holder)})


def community_of(
    settings: Settings,
    clock: Clock,
    sessions: async_sessionmaker[AsyncSession],
    metrics: Metrics,
) -> Community:
    """One server's program: its services over the shared store, outbox and schedule (in the
    server's own time zone)."""
    outbox = Outbox(settings)
    services = build_services(settings, clock, sessions, outbox, metrics)
    tz = settings.schedule.tz
    schedule = Schedule(
        AsyncIOScheduler(timezone=tz),
        services.recognition,
        clock,
        tz,
        services.background,
        alert=outbox.alert,
        metrics=metrics,
    )
    return Community(settings, services, outbox, schedule)


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
    plugins: Sequence[Plugin] = (),
) -> WebServer:
    """The web app over ``services`` on ``[web] bind`` (not started)."""
    web = config.settings.web
    app = create_app(services, config=web, gateway=gateway, scheduler=scheduler, plugins=plugins)
    return WebServer(app, web.bind)


async def build(
    config: Config,
    *,
    clock: Clock | None = None,
    extensions: Sequence[str] | None = None,
    holder: str | None = None,
    **client_options: Any,
) -> App:
    """Build the store, every service and the bot. The caller starts it and must ``close`` it.

    ``holder`` names this process in the servers' leases (PostgreSQL, several processes): each
    server's claims then check its lease (``bot.leases``).
    """
    settings = config.settings
    endpoints.point_at(settings.discord.api_base, settings.discord.gateway_url)
    engine = await open_store(config)
    clock = clock or SystemClock()
    metrics = Metrics()
    communities = [
        community_of(server, clock, sessions_of(engine, server, holder), metrics)
        for server in config.served()
    ]
    if not communities:
        await engine.dispose()
        raise StartupError(
            f"none of the configured servers is on this process's shards "
            f"(shard_ids {list(settings.discord.shard_ids or ())} of "
            f"{settings.discord.shard_count}): {config.listing()}"
        )
    sharding = settings.discord.shard_count
    if sharding is not None:
        client_options.setdefault("shard_count", sharding if isinstance(sharding, int) else None)
        if settings.discord.shard_ids is not None:
            client_options.setdefault("shard_ids", list(settings.discord.shard_ids))
    client = Flywheel if sharding is None else ShardedFlywheel
    bot = client(
        config=config,
        communities=communities,
        metrics=metrics,
        clock=clock,
        extensions=extensions,
        **client_options,
    )
    first = communities[0]
    web = None
    if settings.web.enabled:
        web = web_server(
            config,
            first.services,
            gateway=lambda: gateway_status(bot),
            scheduler=lambda: bool(first.schedule.scheduler.running),
            plugins=[
                signed_in_pages(
                    first.services,
                    rights=GatewayRights(bot, settings),
                    decide=review_decider(first.reviews),
                )
            ],
        )
    return App(bot=bot, engine=engine, web=web)


@dataclass
class WebApp:
    """``python -m bot web``: the pages over the store, without a bot in the process."""

    services: Services
    engine: AsyncEngine
    web: WebServer
    #: Logged in over REST only (no gateway), to read members' roles; None without a token.
    discord_client: discord.Client | None = None

    async def close(self) -> None:
        try:
            await self.web.stop()
        finally:
            try:
                if self.discord_client is not None:
                    await self.discord_client.close()
            finally:
                await self.engine.dispose()


async def build_web(config: Config, *, clock: Clock | None = None) -> WebApp:
    """The same store and services as :func:`build`, with Offline effects and no gateway.

    Nothing here starts the services' loops and no effect reaches Discord: a decision made on
    the staff pages is stored (a promotion's role stays pending for the bot to apply). With the
    bot's token, members' roles are read over REST for the staff pages. The caller starts
    ``web`` and must ``close``.
    """
    settings = config.settings
    endpoints.point_at(settings.discord.api_base, settings.discord.gateway_url)
    engine = await open_store(config)
    services = build_services(settings, clock or SystemClock(), create_session_factory(engine))
    try:
        client, rights = await rest_rights(config, services)
    except BaseException:
        await engine.dispose()
        raise
    pages = signed_in_pages(services, rights=rights, decide=None)
    return WebApp(
        services=services,
        engine=engine,
        web=web_server(config, services, plugins=[pages]),
        discord_client=client,
    )


async def rest_rights(
    config: Config, services: Services
) -> tuple[discord.Client | None, RestRights | None]:
    """A Discord client logged in over REST (no gateway) to read members' roles for staff
    pages; without a token there is none, and nobody gets the staff pages."""
    if config.token is None:
        log.warning(
            "web: %s is not set, so members' roles can't be read: the staff pages are off",
            config.settings.discord.token_env,
        )
        return None, None
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(config.token.get_secret_value())
    except discord.LoginFailure:
        await client.close()
        raise StartupError(startup.token_refused(config.settings.discord.token_env)) from None
    except aiohttp.ClientConnectorError as exc:
        await client.close()
        raise StartupError(startup.unreachable(config.settings.discord.api_base, exc)) from None
    return client, RestRights(client, config.settings, services.clock)


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


async def serve(config: Config, *, clock: Clock | None = None, standby: bool = False) -> None:
    """Run until SIGINT/SIGTERM or the connection closes, then shut down cleanly.

    On PostgreSQL the process first takes its servers' leases (``standby``: waits for them);
    on SQLite it takes the database's one-process lock (``bot.leases``).
    """
    if config.token is None:
        raise StartupError(f"set {config.settings.discord.token_env} to the bot's token")
    database = startup.sqlite_file(config.settings.database.url)
    is_sqlite = make_url(config.settings.database.url).get_backend_name() == "sqlite"
    if standby and is_sqlite:
        raise StartupError(
            "--standby needs PostgreSQL: SQLite serves one process (README: Running at scale)"
        )
    unwritable = startup.sqlite_unwritable(config.settings.database.url)
    if unwritable:
        raise StartupError(unwritable)
    lock = SqliteLock(database) if database is not None else None
    if lock is not None:
        lock.take()
    holder = None if is_sqlite else holder_name()
    try:
        # This process runs nothing but the bot: its start-up heap can leave the collector's
        # passes.
        app = await build(
            config,
            clock=clock,
            holder=holder,
            freeze_heap_when_ready=True,
            catch_up_history=True,
        )
        try:
            await _serve_app(app, config, holder, standby=standby)
        finally:
            await app.close()
    finally:
        if lock is not None:
            lock.release()
    log.info("shut down cleanly")


async def _serve_app(app: App, config: Config, holder: str | None, *, standby: bool) -> None:
    assert config.token is not None
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []
    leases = None
    waiting: asyncio.Task[None] | None = None
    lost_lease = False

    def request_stop(name: str) -> None:
        log.info("received %s: shutting down", name)
        if waiting is not None:
            waiting.cancel()
        if not stopping:
            stopping.append(loop.create_task(app.bot.close()))

    def lease_lost() -> None:
        nonlocal lost_lease
        lost_lease = True
        for community in app.bot.communities:
            community.schedule.stop()
        if not stopping:
            stopping.append(loop.create_task(app.bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop, sig.name)
    try:
        if holder is not None:
            leases = Leases(app.engine, [c.guild_id for c in app.bot.communities], holder=holder)
            if standby:
                waiting = asyncio.create_task(leases.wait_and_take(), name="standby")
                try:
                    await waiting
                except asyncio.CancelledError:
                    if stopping:
                        return
                    raise
            else:
                await leases.take_or_refuse()
            leases.keep(lease_lost)
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
        if leases is not None:
            await leases.release()
    if lost_lease:
        raise LeasesLost(
            "this process lost its servers' leases: another process runs them now. Restart "
            "this one with --standby to take over when that one stops"
        )
