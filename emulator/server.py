"""The :class:`Emulator`: one aiohttp server hosting the gateway and the REST API."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from . import idle, payloads, sharding, spec
from . import intents as I
from . import permissions as perms
from .actors import ActorMixin
from .builder import GuildHandle
from .chaos import Chaos
from .commands import CommandRegistry
from .events import Events
from .faults import FaultRule, Faults
from .gateway import Gateway, GatewaySession
from .history import HistoryMixin
from .interactions import InteractionBuilder, InteractionRecord
from .ops import Ops, RoleChange
from .ratelimits import Limiter, RateLimits
from .rest import RequestRecord, build_rest
from .rest.spec_check import SpecViolation
from .world import Application, Guild, Role, World

log = logging.getLogger("emulator")


class Emulator(ActorMixin, HistoryMixin):
    """A local Discord: REST under ``/api/v10`` and a gateway websocket at ``/``.

    Point discord.py at it with ``discord.http.Route.BASE = emu.api_base`` and
    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)``.
    """

    def __init__(
        self,
        bot_token: str = "emulator-token",
        bot_name: str = "Flywheel",
        *,
        heartbeat_interval: int = 41250,
        privileged_intents: int = I.PRIVILEGED,
        interaction_ack_timeout: float | None = 3.0,
        interaction_token_lifetime: float | None = 15 * 60,
        recommended_shards: int | None = None,
        max_guilds_per_shard: int = sharding.MAX_GUILDS_PER_SHARD,
        max_concurrency: int = 1,
        identify_window: float = sharding.IDENTIFY_WINDOW_SECONDS,
        session_start_total: int = sharding.SESSION_START_TOTAL,
        host: str = "127.0.0.1",
        port: int = 0,
        validate_requests: bool = True,
        check_responses: bool = False,
        rate_limits: RateLimits | None = None,
        chaos: Chaos | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.heartbeat_interval = heartbeat_interval
        self.privileged_intents = privileged_intents
        self.interaction_ack_timeout = interaction_ack_timeout
        #: Follow-ups and ``@original`` edits need the token younger than this (Discord: 15 min).
        self.interaction_token_lifetime = interaction_token_lifetime
        #: Seconds added to the loop's clock when aging interactions (advance_interaction_time).
        self._interaction_clock_offset = 0.0
        #: GET /gateway/bot's ``shards``; None: Discord's one per 1,000 guilds the bot is in.
        self.recommended_shards = recommended_shards
        #: An IDENTIFY whose shard would carry more guilds is closed with 4011 (Discord: 2,500).
        self.max_guilds_per_shard = max_guilds_per_shard
        #: The session start budget and identify concurrency (:mod:`emulator.sharding`).
        self.session_starts = sharding.SessionStarts(
            total=session_start_total,
            max_concurrency=max_concurrency,
            identify_window=identify_window,
        )
        #: Times the bot token was reset for overrunning the session start limit.
        self.token_resets = 0
        self.host = host
        self.port = port
        #: Refuse requests off Discord's spec with 50035 (see :mod:`emulator.spec`).
        self.validate_requests = validate_requests
        #: Also record responses that do not match the spec's response schemas.
        self.check_responses = check_responses

        self.world = World()
        owner = self.world.add_user(f"{bot_name.lower()}-owner")
        bot = self.world.add_user(bot_name, bot=True)
        self.world.application = Application(
            id=self.world.new_id(),
            name=bot_name,
            owner_id=owner.id,
            bot_user_id=bot.id,
            flags=I.app_flags_for(privileged_intents),
        )
        self.bot_user = bot
        self.gateway = Gateway(self)
        self.events = Events(self.world, self.gateway)
        self.ops = Ops(self)
        self.registry = CommandRegistry(self.world)
        self.builder = InteractionBuilder(self)
        self.faults = Faults()
        #: Random resumable gateway failures (:mod:`emulator.chaos`), or None.
        self.chaos = chaos
        #: Discord's REST rate limits, on unless a test raises them (:mod:`emulator.ratelimits`).
        self.limiter = Limiter(rate_limits or RateLimits())
        self.rest = build_rest(self)

        self.request_log: list[RequestRecord] = []
        self.unknown_routes: list[dict[str, str]] = []
        self.spec_violations: list[SpecViolation] = []
        self.role_changes: list[RoleChange] = []
        self.interaction_responses: list[dict[str, Any]] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        #: Modal submission id -> the interaction that opened the modal.
        self.modal_origins: dict[int, InteractionRecord] = {}
        self.gateway_log: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------- lifecycle
    @property
    def bot_id(self) -> int:
        return self.world.bot_id

    @property
    def recommended_shards(self) -> int:
        if self._recommended_shards is not None:
            return self._recommended_shards
        bot = self.world.bot_id
        return sharding.recommended_shards(
            sum(1 for g in self.world.guilds.values() if bot in g.members)
        )

    @recommended_shards.setter
    def recommended_shards(self, value: int | None) -> None:
        self._recommended_shards = value

    @property
    def bot_user_id(self) -> int:
        return self.world.bot_id

    @property
    def identified_intents(self) -> list[int]:
        """Intents of every IDENTIFY so far, oldest first."""
        return [
            e["d"]["intents"]
            for e in self.gateway_log
            if e["dir"] == "recv" and e["op"] == 2 and isinstance(e.get("d"), dict)
        ]

    @property
    def application_id(self) -> int:
        assert self.world.application is not None
        return self.world.application.id

    @property
    def http_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.http_base}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    async def start(self) -> Emulator:
        if self.validate_requests or self.check_responses:
            spec.load()  # once per process, before a request (or an interaction's 3 s) waits on it
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_route("*", "/api/{tail:.*}", self.rest.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("Discord emulator listening on %s", self.http_base)
        if self.chaos is not None:
            self.chaos.start(self.gateway)
        return self

    async def stop(self) -> None:
        if self.chaos is not None:
            await self.chaos.stop()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _attachment(self, request: web.Request) -> web.Response:
        try:
            data = self.world.attachment_blobs[int(request.match_info["attachment_id"])]
        except (KeyError, ValueError):
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    # ---------------------------------------------------------- world setup
    def create_guild(
        self,
        name: str,
        owner_name: str = "owner",
        *,
        guild_id: int | None = None,
        shard: tuple[int, int] | None = None,
        everyone_permissions: Any = perms.DEFAULT_EVERYONE,
        features: Iterable[str] | None = None,
    ) -> GuildHandle:
        """A guild with its owner and @everyone.

        ``shard=(shard_id, shard_count)`` picks an id that Discord's formula puts on that shard
        (``guild_id`` pins the id itself).
        """
        world = self.world
        owner = world.add_user(owner_name)
        if guild_id is not None and shard is not None:
            raise ValueError("give guild_id or shard, not both")
        gid = guild_id or (world.ids.next_on_shard(*shard) if shard else world.new_id())
        guild = Guild(id=gid, name=name, owner_id=owner.id)
        if features is not None:
            guild.features = list(features)
        guild.roles[gid] = Role(
            id=gid, guild_id=gid, name="@everyone", permissions=perms.to_bits(everyone_permissions)
        )
        world.guilds[gid] = guild
        self.ops.member_join(guild, owner)
        return GuildHandle(self, guild)

    def guild(self, guild_id: Any) -> GuildHandle:
        return GuildHandle(self, self.world.guilds[int(getattr(guild_id, "id", guild_id))])

    # ------------------------------------------------------------- reading
    def interaction_age(self, record: Any) -> float:
        """Seconds since ``record`` was created, on the interaction clock."""
        now = asyncio.get_running_loop().time() + self._interaction_clock_offset
        return float(now - record.created_at)

    def advance_interaction_time(self, seconds: float) -> None:
        """Age every interaction by ``seconds`` (a test of a 15-minute token, without waiting)."""
        self._interaction_clock_offset += seconds

    def messages(self, channel_id: Any) -> list[dict[str, Any]]:
        """Channel history, oldest first, with ``allowed_mentions`` as sent."""
        channel = self.world.channels[int(getattr(channel_id, "id", channel_id))]
        out = []
        for message_id in channel.messages:
            msg = channel.messages.peek(message_id)
            assert msg is not None
            data = payloads.message(self.world, msg)
            data["allowed_mentions"] = msg.allowed_mentions
            out.append(data)
        return out

    def message(self, message_id: Any) -> dict[str, Any]:
        msg = self.world.messages[int(getattr(message_id, "id", message_id))]
        data = payloads.message(self.world, msg)
        data["allowed_mentions"] = msg.allowed_mentions
        return data

    def dms(self, user_id: Any) -> list[dict[str, Any]]:
        """Messages in the bot's DM channel with ``user_id`` (both directions)."""
        channel = self.world.dm_channels.get(int(getattr(user_id, "id", user_id)))
        return [] if channel is None else self.messages(channel.id)

    def member_roles(self, guild_id: Any, user_id: Any) -> list[int]:
        guild = self.world.guilds[int(getattr(guild_id, "id", guild_id))]
        return list(guild.members[int(getattr(user_id, "id", user_id))].role_ids)

    def commands(self, guild_id: Any = None) -> list[dict[str, Any]]:
        """Synced application commands: global when ``guild_id`` is None."""
        key = None if guild_id is None else int(getattr(guild_id, "id", guild_id))
        return list(self.world.commands.get(key, {}).values())

    def channel(self, channel_id: Any) -> dict[str, Any]:
        return payloads.channel(
            self.world, self.world.channels[int(getattr(channel_id, "id", channel_id))]
        )

    def requests(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RequestRecord]:
        """Filter ``request_log`` (convenience for assertions)."""
        pattern = re.compile(path_regex) if path_regex else None
        return [
            r
            for r in self.request_log
            if (method is None or r.method == method.upper())
            and (pattern is None or pattern.search(r.path))
        ]

    @property
    def sessions(self) -> list[GatewaySession]:
        return list(self.gateway.sessions.values())

    async def wait_for_session(self, count: int = 1, timeout: float = 5.0) -> GatewaySession:  # noqa: ASYNC109
        """Wait until ``count`` sessions are identified; returns the newest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.gateway.sessions) < count:
            if loop.time() > deadline:
                raise TimeoutError("no gateway session identified in time")
            await asyncio.sleep(0.01)
        return self.sessions[-1]

    async def flush(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every queued gateway frame has been written."""
        await self.gateway.flush(timeout)

    def busy(self, client: Any = None) -> list[str]:
        """What the emulator (and ``client``, a discord.py client) is still doing; [] if idle."""
        reasons = idle.emulator_busy(self)
        return reasons if client is None else reasons + idle.client_busy(self, client)

    async def wait_idle(
        self,
        client: Any = None,
        *,
        busy: idle.Busy | None = None,
        quiet: float = 0.05,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until nothing more happens by itself: the barrier before a "nothing else
        happened" check (see :mod:`emulator.idle`); ``TimeoutError`` names what stayed busy."""
        await idle.wait_idle(self, client, busy=busy, quiet=quiet, timeout=timeout)

    # ---------------------------------------------------------- fault injection
    def rate_limit(
        self,
        method: str,
        path_regex: str,
        times: int = 1,
        retry_after: float = 0.5,
        global_: bool = False,
        scope: str = "user",
    ) -> FaultRule:
        """Answer the next ``times`` matching requests with a Discord 429.

        ``path_regex`` is searched in the path after ``/api/v10`` (e.g.
        ``r"/channels/\\d+/messages$"``); ``method`` may be ``"*"``.
        """
        return self.faults.add(
            FaultRule(
                method=method.upper(),
                pattern=re.compile(path_regex),
                times=times,
                kind="rate_limit",
                retry_after=retry_after,
                global_=global_,
                scope="global" if global_ else scope,
            )
        )

    def fail_requests(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 500,
        code: int = 0,
        message: str | None = None,
        times: int = 1,
    ) -> FaultRule:
        """Answer the next matching requests with an arbitrary error status/body."""
        body = {"message": message or f"{status}: Injected failure", "code": code}
        return self.faults.add(
            FaultRule(
                method=method.upper(),
                pattern=re.compile(path_regex),
                times=times,
                kind="error",
                status=status,
                body=body,
            )
        )

    def drop_gateway(self, session: GatewaySession | str | None = None, code: int = 4000):
        """Kill the websocket(s) but keep the session resumable. Await optional."""
        return self.gateway.drop(session, code)

    def invalidate_session(self, session: GatewaySession) -> None:
        """Forget the session: the client's next RESUME gets op 9 ``d: false``."""
        self.gateway.invalidate(session)

    def _live(self, session: GatewaySession | None) -> list[GatewaySession]:
        if session is not None:
            return [session]
        return [s for s in self.gateway.sessions.values() if s.connected]

    def reconnect(self, session: GatewaySession | None = None) -> None:
        """Op 7 to the session (every connected one by default): reconnect and resume."""
        for s in self._live(session):
            self.gateway.reconnect(s)

    def request_heartbeat(self, session: GatewaySession | None = None) -> None:
        """Op 1 to the session (every connected one by default): heartbeat now."""
        for s in self._live(session):
            self.gateway.request_heartbeat(s)

    def invalid_session(
        self, session: GatewaySession | None = None, *, resumable: bool = True
    ) -> None:
        """Op 9 to the session (every connected one by default), resumable or not."""
        for s in self._live(session):
            self.gateway.invalid_session(s, resumable=resumable)

    # ---------------------------------------------------------- bot voice
    def _bot_voice_update(self, data: dict[str, Any]) -> None:
        """Gateway op 4 from the bot (join/leave voice)."""
        gid = data.get("guild_id")
        guild = self.world.guilds.get(int(gid)) if gid else None
        if guild is None or self.bot_id not in guild.members:
            return
        channel_id = int(data["channel_id"]) if data.get("channel_id") else None
        self.ops.voice_update(
            guild,
            self.bot_id,
            channel_id,
            self_mute=bool(data.get("self_mute")),
            self_deaf=bool(data.get("self_deaf")),
        )
