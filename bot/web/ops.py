"""For operators: ``/healthz`` for supervisors and probes, ``/metrics`` for Prometheus.

``/healthz`` answers 503 when the store does not answer ``SELECT 1`` within
:data:`DATABASE_TIMEOUT`, or, in the bot's process, when the gateway is not connected. What a
process cannot know (``python -m bot web`` has no gateway, scheduler or role queue) is reported
as ``"not in this process"`` and never fails the check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

from aiohttp import web
from sqlalchemy import text

from bot.metrics import CONTENT_TYPE
from bot.web.state import WebState, state_of

log = logging.getLogger(__name__)

#: A store slower than this to answer ``SELECT 1`` counts as unreachable.
DATABASE_TIMEOUT: Final = 2.0
ELSEWHERE: Final = "not in this process"

routes = web.RouteTableDef()


async def database_check(state: WebState) -> dict[str, Any]:
    started = time.perf_counter()

    async def ping() -> None:
        async with state.services.sessions() as session:
            await session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), DATABASE_TIMEOUT)
    except TimeoutError:
        return {"reachable": False, "error": f"no answer within {DATABASE_TIMEOUT:g} s"}
    except Exception as exc:  # any driver's error: the probe reports, never raises
        log.warning("healthz: the database is unreachable: %s", type(exc).__name__)
        return {"reachable": False, "error": type(exc).__name__}
    return {"reachable": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


async def last_sweep(state: WebState) -> str | None:
    try:
        when = await asyncio.wait_for(state.services.ladder.last_sweep_at(), DATABASE_TIMEOUT)
    except Exception:
        return None  # the database check reports why
    return None if when is None else when.isoformat()


async def health(state: WebState) -> tuple[bool, dict[str, Any]]:
    """(healthy, the report ``/healthz`` serves)."""
    database = await database_check(state)
    healthy = bool(database["reachable"])
    report: dict[str, Any] = {"database": database}
    if state.gateway is not None:
        gateway = state.gateway()
        healthy = healthy and gateway.connected
        report["gateway"] = {
            "connected": gateway.connected,
            "latency_ms": None if gateway.latency is None else round(gateway.latency * 1000, 1),
        }
        report["pending_role_changes"] = state.services.tiers.roles.waiting
    else:
        report["gateway"] = {"connected": None, "detail": ELSEWHERE}
        report["pending_role_changes"] = None
    if state.scheduler is not None:
        report["scheduler"] = {"running": state.scheduler()}
    else:
        report["scheduler"] = {"running": None, "detail": ELSEWHERE}
    report["last_daily_sweep"] = await last_sweep(state) if database["reachable"] else None
    report["status"] = "ok" if healthy else "unavailable"
    return healthy, report


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.StreamResponse:
    healthy, report = await health(state_of(request))
    response = web.json_response(report, status=200 if healthy else 503)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/metrics", name="metrics")
async def metrics(request: web.Request) -> web.StreamResponse:
    body = state_of(request).metrics.exposition()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Cache-Control"] = "no-store"
    return response
