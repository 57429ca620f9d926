"""Counting Discord's 429s and 5xx by route, through discord.py's own hooks.

discord.py retries a 429 or a 502 inside ``HTTPClient.request``, so the caller never sees
most of them; every attempt does pass the aiohttp session, whose trace config discord.py
exposes (``Client(http_trace=...)``). The route template (``POST /channels/{channel_id}/
messages``, no ids or tokens) is known only in ``request``: a thin wrapper puts it in a
context variable that the trace callback, running in the same task, reads.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

import aiohttp
from discord.http import HTTPClient, Route

from bot.metrics import Metrics

_ROUTE: ContextVar[str | None] = ContextVar("flywheel_discord_route", default=None)
#: A request not made through ``HTTPClient.request`` (none today) is labelled by its path with
#: every number and long token replaced, so no id ever becomes a label.
_VARIABLE_SEGMENT = re.compile(r"/(?:\d+|[A-Za-z0-9_\-.]{32,})(?=/|$)")


def trace_config(metrics: Metrics) -> aiohttp.TraceConfig:
    """For ``Client(http_trace=...)``: counts each attempt answered 429 or 5xx."""

    async def on_request_end(
        _session: aiohttp.ClientSession,
        _context: Any,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        status = params.response.status
        if status == 429 or status >= 500:
            route = _ROUTE.get() or f"{params.method} {path_template(params.url.path)}"
            metrics.discord_error(route, status)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


def path_template(path: str) -> str:
    return _VARIABLE_SEGMENT.sub("/{}", path)


def label_routes(http: HTTPClient) -> None:
    """Wrap ``http.request`` (this client only) so the trace knows which route it serves."""
    original = http.request

    async def request(route: Route, **kwargs: Any) -> Any:
        token = _ROUTE.set(f"{route.method} {route.path}")
        try:
            return await original(route, **kwargs)
        finally:
            _ROUTE.reset(token)

    http.request = request  # type: ignore[method-assign]
