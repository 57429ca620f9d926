"""What every handler of the web app reads: the services and the process's status probes.

One :class:`WebState` per application, under :data:`STATE`; handlers reach it with
:func:`state_of`. Extensions (sign-in, staff pages) add their own links and template context
here rather than editing the core pages.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
from aiohttp import web

from bot.config import WebConfig
from bot.metrics import Metrics
from bot.services.container import Services


@dataclass(frozen=True)
class GatewayStatus:
    """The bot's gateway connection as ``/healthz`` reports it."""

    connected: bool
    #: Heartbeat round trip in seconds; None while unknown.
    latency: float | None = None

    @classmethod
    def of(cls, connected: bool, latency: float | None) -> GatewayStatus:
        """Normalises discord.py's ``nan``/``inf`` latency before the first heartbeat to None."""
        known = latency is not None and math.isfinite(latency)
        return cls(connected, latency if known else None)


GatewayProbe = Callable[[], GatewayStatus]
SchedulerProbe = Callable[[], bool]


@dataclass(frozen=True)
class NavLink:
    """A link in the page header; it is marked as the current page when ``href`` is the path."""

    label: str
    href: str


ContextProcessor = Callable[[web.Request], Awaitable[Mapping[str, Any]]]
"""Adds variables to every rendered template (the signed-in member, a CSRF token)."""
AccountLinks = Callable[[web.Request], Awaitable[Sequence[NavLink]]]
"""The header's right-hand links for this request ("Sign in", or "Dashboard" and "Sign out")."""


async def _no_account_links(_request: web.Request) -> Sequence[NavLink]:
    return ()


@dataclass
class WebState:
    services: Services
    config: WebConfig
    templates: jinja2.Environment
    #: The key that signs cookies (from ``[web] secret_env``, or made for this process).
    secret: bytes
    #: None outside the bot process (``python -m bot web``): there is no gateway here.
    gateway: GatewayProbe | None = None
    scheduler: SchedulerProbe | None = None
    nav: list[NavLink] = field(default_factory=list)
    account_links: AccountLinks = _no_account_links
    context_processors: list[ContextProcessor] = field(default_factory=list)

    @property
    def metrics(self) -> Metrics:
        return self.services.metrics

    @property
    def in_bot_process(self) -> bool:
        return self.gateway is not None


STATE: web.AppKey[WebState] = web.AppKey("flywheel_state", WebState)


def state_of(request: web.Request) -> WebState:
    """The state of the application that serves ``request`` (the root app's, for sub-apps)."""
    for app in reversed(request.match_info.apps):
        if STATE in app:
            return app[STATE]
    return request.app[STATE]
