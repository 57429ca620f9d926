"""REST plumbing: route matching, auth, body parsing, logging, faults, headers.

Every ``/api/v{n}/...`` request goes through :meth:`Rest.handle` so unknown routes, rate
limits, 429 injection and the request log are uniform. Responses carry the rate-limit headers
of the request's bucket (:mod:`emulator.ratelimits`), ``Via`` (discord.py takes a 429 without
it for a Cloudflare ban) and ``Content-Type: application/json`` exactly (discord.py compares it).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from multidict import MultiMapping

from .. import permissions as perms
from ..errors import ApiError, method_not_allowed, not_found_route, unauthorized
from ..messaging import UploadedFile
from ..ratelimits import Verdict, bucket_hash
from .spec_check import check_request, check_response

if TYPE_CHECKING:
    from ..events import Events
    from ..server import Emulator
    from ..world import Channel, Guild, Member, World

log = logging.getLogger("emulator.rest")

API_PREFIX = re.compile(r"^/api(/v\d+)?")
#: Every answer passes Discord's proxy; discord.py takes a 429 without it for a Cloudflare ban.
VIA = {"Via": "1.1 google"}
#: Cloudflare's answer to a banned client (error 1015: rate limited).
CLOUDFLARE_BAN = "error code: 1015"


@dataclass
class Reply:
    status: int = 200
    body: Any = None


@dataclass
class RequestRecord:
    """One REST request as the emulator saw it (``emu.request_log``)."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    json: Any
    files: list[dict[str, Any]]
    status: int = 0
    response: Any = None
    reason: str | None = None
    at: float = field(default_factory=time.time)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


@dataclass
class Ctx:
    """What a route handler gets."""

    emu: Emulator
    method: str
    path: str
    params: dict[str, str]
    query: MultiMapping[str]
    json: Any
    files: list[UploadedFile]
    reason: str | None

    @property
    def world(self) -> World:
        return self.emu.world

    @property
    def events(self) -> Events:
        return self.emu.events

    @property
    def body(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise not_found_route() from None

    # ----------------------------------------------------------- permissions
    def bot_member(self, guild: Guild) -> Member:
        member = self.world.bot_member(guild)
        if member is None:
            raise ApiError(50001)
        return member

    def bot_perms(self, guild: Guild, channel: Channel | None = None) -> int:
        return perms.channel_permissions(guild, self.bot_member(guild), channel)

    def require(self, guild: Guild, bits: int, channel: Channel | None = None) -> int:
        """403 50001 if the bot cannot see the channel, 50013 if bits are missing."""
        have = self.bot_perms(guild, channel)
        if channel is not None and not have & perms.VIEW_CHANNEL:
            raise ApiError(50001)
        if not perms.has(have, bits):
            raise ApiError(50013)
        return have

    def guild_for_channel(self, channel: Channel) -> Guild | None:
        guild = self.world.guild_of(channel)
        if guild is not None and self.world.bot_id not in guild.members:
            raise ApiError(50001)
        return guild

    def query_int(self, name: str, default: int | None = None) -> int | None:
        value = self.query.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(
                50035,
                errors={
                    name: {
                        "_errors": [
                            {
                                "code": "NUMBER_TYPE_COERCE",
                                "message": f'Value "{value}" is not int.',
                            }
                        ]
                    }
                },
            ) from None

    def query_bool(self, name: str) -> bool:
        return str(self.query.get(name, "")).lower() in ("1", "true", "yes")


Handler = Callable[[Ctx], Awaitable[Any]]


@dataclass
class Route:
    method: str
    template: str
    segments: list[str]
    handler: Handler
    auth: bool

    @property
    def literal_count(self) -> int:
        return sum(1 for s in self.segments if not s.startswith("{"))


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        segments = [s for s in template.strip("/").split("/") if s]
        self.routes.append(Route(method, template, segments, handler, auth))

    def route(self, method: str, template: str, *, auth: bool = True):
        def deco(fn: Handler) -> Handler:
            self.add(method, template, fn, auth=auth)
            return fn

        return deco

    def match(self, method: str, segments: list[str]) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_exists_with_other_method)"""
        best: tuple[Route, dict[str, str]] | None = None
        other_method = False
        for route in self.routes:
            if len(route.segments) != len(segments):
                continue
            params: dict[str, str] = {}
            for pattern, actual in zip(route.segments, segments, strict=True):
                if pattern.startswith("{"):
                    params[pattern[1:-1]] = actual
                elif pattern != actual:
                    break
            else:
                if route.method != method:
                    other_method = True
                    continue
                if best is None or route.literal_count > best[0].literal_count:
                    best = (route, params)
        if best is None:
            return None, {}, other_method
        return best[0], best[1], False


def json_response(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    if status == 204 or body is None:
        return web.Response(
            status=204 if body is None and status < 300 else status, headers=headers
        )
    hdrs = dict(headers)
    hdrs["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body, default=str).encode(), headers=hdrs)


async def parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    ctype = request.content_type
    if ctype == "multipart/form-data":
        reader = await request.multipart()
        payload: Any = None
        files: list[UploadedFile] = []
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: Discord ignores it too
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(await part.text())
            elif part.filename is not None:
                data = await part.read(decode=False)
                files.append(
                    UploadedFile(
                        field=name,
                        filename=part.filename,
                        content_type=part.headers.get("Content-Type"),
                        data=bytes(data),
                    )
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        raise ApiError(50109, "The request body contains invalid JSON.") from None


class Rest:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.router = Router()
        #: Requests received and not yet answered, oldest first.
        self.in_flight: list[RequestRecord] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one request; it counts as in flight (not idle) until its answer is built."""
        record = RequestRecord(
            method=request.method.upper(), path="", route=None, query={}, json=None, files=[]
        )
        self.in_flight.append(record)
        try:
            return await self._handle(request, record)
        finally:
            # By identity: two identical requests at once are equal records.
            self.in_flight = [r for r in self.in_flight if r is not record]

    async def _handle(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        emu = self.emu
        # Use the raw path so percent-encoded segments (emoji) split correctly.
        raw_tail = API_PREFIX.sub("", request.rel_url.raw_path, count=1)
        segments = [unquote(s) for s in raw_tail.split("/") if s]
        path = "/" + "/".join(segments)
        method = record.method
        record.path, record.query = path, dict(request.query)
        emu.request_log.append(record)
        if emu.limiter.banned():
            # Cloudflare answers before Discord does: plain text, no Via, no rate-limit headers.
            record.status, record.response = 429, CLOUDFLARE_BAN
            return web.Response(status=429, text=CLOUDFLARE_BAN)
        route, params, other_method = self.router.match(method, segments)
        record.route = route.template if route else None
        verdict: Verdict | None = None
        try:
            body, files = await parse_body(request)
            record.json = body
            record.files = [
                {"field": f.field, "filename": f.filename, "size": len(f.data)} for f in files
            ]
            fault = emu.faults.take(method, path)
            if fault is not None:
                return self._fault_response(record, fault, method, record.route)
            if route is None:
                if other_method:
                    raise method_not_allowed()
                emu.unknown_routes.append({"method": method, "path": path})
                log.warning("emulator: unknown route %s %s", method, path)
                raise not_found_route()
            if route.auth and request.headers.get("Authorization") != f"Bot {emu.bot_token}":
                raise unauthorized()
            verdict = self._rate_limit(method, route.template, params)
            if not verdict.allowed:
                emu.limiter.note_status(429, verdict.scope)
                record.status, record.response = 429, verdict.body()
                return json_response(429, verdict.body(), {**verdict.headers, **VIA})
            check_request(emu, method, route.template, path, body, request.query)
            reason = request.headers.get("X-Audit-Log-Reason")
            ctx = Ctx(
                emu=emu,
                method=method,
                path=path,
                params=params,
                query=request.query,
                json=body,
                files=files,
                reason=unquote(reason) if reason else None,
            )
            result = await route.handler(ctx)
            if isinstance(result, Reply):
                status, out = result.status, result.body
            elif result is None:
                status, out = 204, None
            else:
                status, out = 200, result
        except ApiError as exc:
            status, out = exc.status, exc.body()
        except Exception:  # a bug in the emulator: answer like Discord's 500
            log.exception("emulator: handler crashed for %s %s", method, path)
            status, out = 500, {"message": "500: Internal Server Error", "code": 0}
        record.status = status
        record.response = out
        check_response(emu, method, record.route, path, status, out)
        emu.limiter.note_status(status)
        # A request counted in a bucket reports it, failed or not (failures count on Discord).
        limit_headers = verdict.headers if verdict is not None else {}
        return json_response(status, out, {**limit_headers, **VIA})

    def _rate_limit(self, method: str, template: str, params: dict[str, str]) -> Verdict:
        """Count the request in its buckets; sends to DM channels share the bots' DM bucket."""
        channel = self.emu.world.channels.get(int(params.get("channel_id", 0) or 0))
        dm = channel is not None and channel.is_dm
        return self.emu.limiter.check(f"{method} {template}", params, dm=dm)

    def _fault_response(self, record: RequestRecord, fault, method: str, template: str | None):
        """A scripted answer (``emu.rate_limit``, ``emu.fail_requests``) instead of the route's."""
        if fault.kind == "rate_limit":
            scope = "global" if fault.global_ else fault.scope
            verdict = Verdict(False, {}, fault.retry_after, scope)
            headers = {
                "Retry-After": str(max(1, math.ceil(fault.retry_after))),
                "X-RateLimit-Scope": scope,
            }
            if fault.global_:
                headers["X-RateLimit-Global"] = "true"
            else:
                headers.update(
                    {
                        "X-RateLimit-Limit": "1",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
                        "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                        "X-RateLimit-Bucket": bucket_hash(f"{method} {template or 'unknown'}"),
                    }
                )
            record.status, record.response = 429, verdict.body()
            return json_response(429, verdict.body(), {**headers, **VIA})
        body = dict(fault.body) or {"message": f"{fault.status}: Injected error", "code": 0}
        record.status, record.response = fault.status, body
        return json_response(fault.status, body, dict(VIA))
