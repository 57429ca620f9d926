"""The gateway websocket: HELLO/IDENTIFY/READY/RESUME, heartbeats, sequencing.

Each IDENTIFY creates a :class:`GatewaySession` that outlives its websocket so a
client can RESUME after :meth:`Gateway.drop` and get every dispatch it missed
replayed. Dispatches are enqueued synchronously (world changes happen in plain
functions) and written by a per-connection writer task, preserving order.

Discord's failure paths are enforced, not only scriptable: a connection that sends no
heartbeat for 1.5 heartbeat intervals is closed (4009, its session ends: the client must
identify again); more than 120 frames in 60 seconds close it with 4008; a frame that is not
JSON closes it with 4002, any other than heartbeat, identify and resume before identifying
with 4003. The server side of the protocol is public: :meth:`Gateway.request_heartbeat`
(op 1), :meth:`Gateway.reconnect` (op 7), :meth:`Gateway.invalid_session` (op 9, resumable
or not), :meth:`Gateway.drop` (a lost connection). Sharding and IDENTIFY limits follow
Discord's (:mod:`emulator.sharding`): 4010 for an invalid ``shard``, 4011 past the guilds a shard
may carry, op 9 for an IDENTIFY too soon on its rate-limit key, a token reset once the session
start budget is spent; each session gets only its shard's guilds and events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import intents as I
from . import payloads, sharding

if TYPE_CHECKING:
    from .server import Emulator

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

DataFactory = Callable[["GatewaySession"], dict[str, Any] | None]

#: Discord's gateway send limit: frames a client may send per window, and the window.
SEND_LIMIT, SEND_WINDOW_SECONDS = 120, 60.0
#: A connection silent for this many heartbeat intervals is a zombie and is closed.
HEARTBEAT_TOLERANCE = 1.5
#: Op 8 as Discord answers it: members per GUILD_MEMBERS_CHUNK, members a name query returns
#: at most (only the empty query with limit 0 lists everyone), the longest nonce echoed back.
CHUNK_SIZE, QUERY_LIMIT, NONCE_BYTES = 1000, 100, 32


@dataclass(eq=False)
class GatewaySession:
    """One identified bot session (a shard), resumable across connections."""

    session_id: str
    intents: int
    shard_id: int | None
    shard_count: int | None
    large_threshold: int
    properties: dict[str, Any]
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=10000))
    connection: Connection | None = None
    resumes: int = 0
    presence: dict[str, Any] | None = None

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.ws.closed

    def owns_guild(self, guild_id: int | None) -> bool:
        """Discord's shard formula; DMs belong to shard 0."""
        if not self.shard_count:
            return True
        if guild_id is None:
            return (self.shard_id or 0) == 0
        return sharding.shard_of(guild_id, self.shard_count) == (self.shard_id or 0)

    def has(self, intent: int) -> bool:
        return self.intents & intent == intent


class Connection:
    """A live websocket; frames go through a queue so ordering survives sync callers."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress if compress == "zlib-stream" else None
        self._zlib = zlib.compressobj() if self.compress else None
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.session: GatewaySession | None = None
        loop = asyncio.get_running_loop()
        #: When the client last heartbeated (the HELLO counts as the start).
        self.last_heartbeat = loop.time()
        #: When the client sent each frame of the last minute (Discord's 120-a-minute limit).
        self.sent_at: deque[float] = deque()
        #: Frames queued or being written; 0 once every one is on the wire.
        self.unsent = 0
        self.writer = asyncio.create_task(self._write_loop())

    @property
    def writing(self) -> bool:
        """Frames are still to be written (and will be: the writer is alive)."""
        return self.unsent > 0 and not self.writer.done()

    def send(self, frame: dict[str, Any]) -> None:
        self.unsent += 1
        self.queue.put_nowait(frame)

    async def _write_loop(self) -> None:
        while True:
            frame = await self.queue.get()
            try:
                if frame is None or self.ws.closed:
                    return
                text = json.dumps(frame, separators=(",", ":"), default=str)
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                return
            except Exception:  # keep the stream alive; a bad frame is an emulator bug
                log.exception("emulator: could not send gateway frame %r", frame)
            finally:
                if frame is not None:
                    self.unsent -= 1
                self.queue.task_done()

    async def close(self, code: int) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code)
        self.queue.put_nowait(None)

    def over_send_limit(self, now: float) -> bool:
        """Count one frame from the client; True once more than 120 came within 60 s."""
        self.sent_at.append(now)
        while self.sent_at and self.sent_at[0] <= now - SEND_WINDOW_SECONDS:
            self.sent_at.popleft()
        return len(self.sent_at) > SEND_LIMIT


class Gateway:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[Connection] = set()

    # ------------------------------------------------------------------ sending
    def _log(self, direction: str, op: int | None, t: str | None = None, **extra: Any) -> None:
        self.emu.gateway_log.append({"dir": direction, "op": op, "t": t, **extra})

    def _dispatch_to(self, session: GatewaySession, event: str, data: Any) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(frame)
        self._log(
            "send",
            DISPATCH,
            event,
            s=session.seq,
            session_id=session.session_id,
            shard=session.shard_id,
        )
        if session.connection is not None:
            session.connection.send(frame)

    def dispatch(
        self,
        event: str,
        data: dict[str, Any] | DataFactory,
        *,
        guild_id: int | None = None,
        intent: int = 0,
        dm: bool = False,
        only: GatewaySession | None = None,
    ) -> None:
        """Send ``event`` to every session that would receive it from Discord.

        ``guild_id`` routes to the owning shard (DM events go to shard 0 with
        ``dm=True``); ``intent`` must be held by the session; ``data`` may be a
        function of the session (e.g. to strip content without MESSAGE_CONTENT).
        """
        targets = [only] if only is not None else list(self.sessions.values())
        for session in targets:
            if intent and not session.has(intent):
                continue
            if (guild_id is not None or dm) and not session.owns_guild(guild_id):
                continue
            payload = data(session) if callable(data) else data
            if payload is None:
                continue
            self._dispatch_to(session, event, payload)

    def sessions_for_guild(self, guild_id: int | None) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.owns_guild(guild_id)]

    # ----------------------------------------------------------------- handling
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws, request.query.get("compress"))
        self.connections.add(conn)
        conn.send(
            {
                "op": HELLO,
                "d": {"heartbeat_interval": self.emu.heartbeat_interval},
                "s": None,
                "t": None,
            }
        )
        watchdog = asyncio.create_task(self._watch_heartbeats(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                if conn.over_send_limit(asyncio.get_running_loop().time()):
                    self._log("send", -1, "CLOSE", code=4008, reason="Rate limited.")
                    await conn.close(4008)  # Rate limited: more than 120 frames a minute
                    break
                try:
                    raw = msg.data if msg.type == WSMsgType.TEXT else zlib.decompress(msg.data)
                    frame = json.loads(raw)
                except (ValueError, zlib.error):
                    frame = None
                if not isinstance(frame, dict):
                    self._log("send", -1, "CLOSE", code=4002, reason="Decode error.")
                    await conn.close(4002)  # Decode error
                    break
                await self._on_frame(conn, frame)
        finally:
            watchdog.cancel()
            self.connections.discard(conn)
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                if ws.close_code in (1000, 1001):
                    # A clean close from the client ends the session, as on Discord.
                    self.sessions.pop(session.session_id, None)
            conn.queue.put_nowait(None)
        return ws

    async def _on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        session_id = conn.session.session_id if conn.session else None
        self._log("recv", op, None, session_id=session_id, d=_redact(data))
        if op == HEARTBEAT:
            conn.last_heartbeat = asyncio.get_running_loop().time()
            conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif conn.session is None:
            await conn.close(4003)  # Not authenticated
        elif op == REQUEST_MEMBERS:
            self._request_members(conn.session, data or {})
        elif op == PRESENCE:
            conn.session.presence = data
        elif op == VOICE_STATE:
            self.emu._bot_voice_update(data or {})
        else:
            await conn.close(4001)  # Unknown opcode

    async def _watch_heartbeats(self, conn: Connection) -> None:
        """Close a zombie connection: no heartbeat within 1.5 intervals ends its session."""
        interval = self.emu.heartbeat_interval / 1000
        allowed = interval * HEARTBEAT_TOLERANCE
        loop = asyncio.get_running_loop()
        while not conn.ws.closed:
            await asyncio.sleep(min(interval / 4, 1.0))
            if loop.time() - conn.last_heartbeat <= allowed:
                continue
            session = conn.session
            self._log(
                "send",
                -1,
                "CLOSE",
                code=4009,
                reason="Session timed out.",
                session_id=session.session_id if session else None,
            )
            if session is not None:
                # Discord: "Session timed out. Reconnect and start a new one."
                self.sessions.pop(session.session_id, None)
            await conn.close(4009)
            return

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        token = token.removeprefix("Bot ").strip()
        return token == self.emu.bot_token

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005)  # Already authenticated
            return
        if not self._token_ok(data.get("token")):
            await conn.close(4004)  # Authentication failed
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~I.ALL:
            await conn.close(4013)  # Invalid intent(s)
            return
        if intents & I.PRIVILEGED & ~self.emu.privileged_intents:
            await conn.close(4014)  # Disallowed intent(s)
            return
        shard = data.get("shard")
        shard_id = shard_count = None
        if shard is not None:
            if (
                not isinstance(shard, list)
                or len(shard) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
            ):
                await self._refuse(conn, 4010, "Invalid shard.")
                return
            shard_id, shard_count = shard
            if shard_count < 1 or not 0 <= shard_id < shard_count:
                await self._refuse(conn, 4010, "Invalid shard.")
                return
        starts = self.emu.session_starts
        if not starts.start():
            # Discord: "Upon hitting this limit, all active sessions for the app will be
            # terminated, the bot token will be reset" (topics/gateway, Identifying).
            await self._reset_token(conn)
            return
        world = self.emu.world
        carried = [
            g
            for g in world.guilds.values()
            if world.bot_id in g.members
            and (shard_count is None or sharding.shard_of(g.id, shard_count) == shard_id)
        ]
        if len(carried) > self.emu.max_guilds_per_shard:
            # Discord: "The session would have handled too many guilds - you are required to
            # shard your connection in order to connect."
            await self._refuse(conn, 4011, "Sharding required.")
            return
        if not starts.try_identify(shard_id or 0):
            # Discord: beyond max_concurrency identifies per 5 seconds "the Gateway will
            # respond with an Invalid Session (opcode 9)" (topics/gateway, Rate Limiting).
            self._log("send", INVALID_SESSION, None, reason="identify rate limited", shard=shard)
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            intents=intents,
            shard_id=shard_id,
            shard_count=shard_count,
            large_threshold=int(data.get("large_threshold") or 50),
            properties=data.get("properties") or {},
            presence=data.get("presence"),
        )
        session.connection = conn
        conn.session = session
        self.sessions[session.session_id] = session
        guilds = carried
        app = world.application
        assert app is not None
        ready: dict[str, Any] = {
            "v": 10,
            "user": payloads.current_user(world.users[world.bot_id]),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.emu.gateway_url,
            "application": {"id": str(app.id), "flags": app.flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["emulator"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["emulator-gateway",{"micros":0}]'],
        }
        if shard_id is not None:
            ready["shard"] = [shard_id, shard_count]
        self._dispatch_to(session, "READY", ready)
        for g in guilds:
            self._dispatch_to(
                session,
                "GUILD_CREATE",
                payloads.guild_create(
                    world, g, intents=session.intents, large_threshold=session.large_threshold
                ),
            )

    async def _refuse(self, conn: Connection, code: int, reason: str) -> None:
        self._log("send", -1, "CLOSE", code=code, reason=reason)
        await conn.close(code)

    async def _reset_token(self, conn: Connection) -> None:
        """The session start limit is spent: the token changes and every session ends."""
        self.emu.bot_token = f"reset-{secrets.token_hex(12)}"
        self.emu.token_resets += 1
        self._log("send", -1, "TOKEN_RESET", reason="session start limit reached")
        self.sessions.clear()
        others = [c for c in self.connections if c is not conn]
        for other in others:
            other.session = None
        await conn.close(4004)  # Authentication failed: the token it sent is no longer valid
        await asyncio.gather(*(other.close(4004) for other in others))

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        if not self._token_ok(data.get("token")):
            await conn.close(4004)
            return
        session = self.sessions.get(str(data.get("session_id")))
        if session is None:
            self._log("send", INVALID_SESSION, None, session_id=data.get("session_id"))
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        last = data.get("seq") or 0
        if session.buffer and last < session.buffer[0]["s"] - 1:
            # The events after ``last`` fell out of the replay buffer: cannot resume.
            self._log("send", INVALID_SESSION, None, session_id=session.session_id)
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.connection
        if old is not None and old is not conn:
            old.session = None
            asyncio.create_task(old.close(4000))  # noqa: RUF006 - fire and forget
        session.connection = conn
        session.resumes += 1
        conn.session = session
        replay = [f for f in session.buffer if f["s"] > last]
        for frame in replay:
            conn.send(frame)
        self._dispatch_to(session, "RESUMED", {"_trace": ['["emulator-gateway",{"micros":0}]']})

    def _request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        world = self.emu.world
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        query = data.get("query")
        limit = int(data.get("limit") or 0)
        user_ids = data.get("user_ids")
        nonce = data.get("nonce")
        if not isinstance(nonce, str) or len(nonce.encode()) > NONCE_BYTES:
            nonce = None  # Discord ignores an invalid nonce: the chunks carry none
        want_presences = bool(data.get("presences")) and session.has(I.GUILD_PRESENCES)
        for gid in guild_ids:
            guild = world.guilds.get(int(gid)) if gid is not None else None
            if guild is None or world.bot_id not in guild.members:
                continue
            if not session.owns_guild(guild.id):
                # Another shard's guild is unknown to this session: nothing comes back, so a
                # client that asks the wrong shard waits for chunks that never arrive.
                self._log(
                    "send", -1, "IGNORED", reason="guild not on this shard", guild_id=str(guild.id)
                )
                continue
            not_found: list[str] = []
            if user_ids is not None:
                ids = user_ids if isinstance(user_ids, list) else [user_ids]
                members = []
                for uid in ids:
                    m = guild.members.get(int(uid))
                    if m is None:
                        not_found.append(str(uid))
                    else:
                        members.append(m)
            elif not session.has(I.GUILD_MEMBERS) and not query:
                members = []  # Discord refuses full lists without the intent
            else:
                q = (query or "").lower()
                members = [
                    m
                    for m in guild.members.values()
                    if not q
                    or world.users[m.user_id].username.lower().startswith(q)
                    or (m.nick or "").lower().startswith(q)
                ]
                if q:
                    members = members[: min(limit, QUERY_LIMIT) if limit else QUERY_LIMIT]
                elif limit:
                    members = members[:limit]
            chunks = [members[i : i + CHUNK_SIZE] for i in range(0, len(members), CHUNK_SIZE)] or [
                []
            ]
            for index, chunk in enumerate(chunks):
                event: dict[str, Any] = {
                    "guild_id": str(guild.id),
                    "members": [payloads.member(world, m) for m in chunk],
                    "chunk_index": index,
                    "chunk_count": len(chunks),
                }
                if not_found and index == 0:
                    event["not_found"] = not_found
                if want_presences:
                    event["presences"] = [
                        payloads.presence(world, world.users[m.user_id], None) for m in chunk
                    ]
                if nonce is not None:
                    event["nonce"] = nonce
                self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", event)

    # ---------------------------------------------------------------- control
    def drop(self, session: GatewaySession | str | None = None, code: int = 4000) -> asyncio.Task:
        """Kill live connection(s) without ending the session, so RESUME works.

        Detaches synchronously: anything dispatched after this call is buffered and
        only delivered by a RESUME replay.
        """
        targets: list[GatewaySession]
        if session is None:
            targets = [s for s in self.sessions.values() if s.connection is not None]
        elif isinstance(session, str):
            targets = [self.sessions[session]]
        else:
            targets = [session]
        conns = []
        for s in targets:
            if s.connection is not None:
                conn = s.connection
                conn.session = None
                s.connection = None
                conns.append(conn)
                self._log("send", -1, "DROP", session_id=s.session_id, code=code)

        async def _close() -> None:
            for conn in conns:
                await conn.close(code)

        return asyncio.ensure_future(_close())

    def invalidate(self, session: GatewaySession) -> None:
        """Forget a session: its next RESUME gets op 9 and must re-IDENTIFY."""
        self.sessions.pop(session.session_id, None)

    def reconnect(self, session: GatewaySession) -> None:
        """Ask the client to reconnect and resume (op 7), as Discord does during maintenance."""
        if session.connection is not None:
            self._log("send", RECONNECT, None, session_id=session.session_id)
            session.connection.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    def request_heartbeat(self, session: GatewaySession) -> None:
        """Ask the client for a heartbeat now (op 1): it must answer with op 1 at once."""
        if session.connection is not None:
            self._log("send", HEARTBEAT, None, session_id=session.session_id)
            session.connection.send({"op": HEARTBEAT, "d": session.seq, "s": None, "t": None})

    def invalid_session(self, session: GatewaySession, *, resumable: bool) -> None:
        """Op 9 on the live connection: ``d: true`` the client may resume, ``false`` it must
        identify again (the session is forgotten)."""
        if not resumable:
            self.sessions.pop(session.session_id, None)
        if session.connection is not None:
            self._log("send", INVALID_SESSION, None, session_id=session.session_id, d=resumable)
            frame = {"op": INVALID_SESSION, "d": resumable, "s": None, "t": None}
            session.connection.send(frame)

    def unsent(self) -> list[str]:
        """One line per live connection with frames not yet written (empty: all on the wire)."""
        return [
            f"{c.unsent} gateway frame(s) not yet written to session "
            f"{c.session.session_id if c.session else '(not identified)'}"
            for c in self.connections
            if c.writing
        ]

    async def flush(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every queued frame has been written to its socket."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while pending := self.unsent():
            if loop.time() >= deadline:
                raise TimeoutError(f"gateway not flushed within {timeout}s: {'; '.join(pending)}")
            await asyncio.sleep(0.005)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.close(1001)
        for conn in list(self.connections):
            conn.writer.cancel()
        self.connections.clear()


def _redact(data: Any) -> Any:
    if isinstance(data, dict) and "token" in data:
        data = dict(data)
        data["token"] = "<redacted>"
    return data
