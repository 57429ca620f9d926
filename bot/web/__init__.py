"""The program on the web: public pages and the operators' endpoints, over the services.

Built by the composition root (:mod:`bot.app`): inside ``python -m bot run`` when
``[web] enabled``, or alone with ``python -m bot web`` (same store, Offline effects, no gateway).

API for pages built on top (sign-in, member and staff pages), kept stable:

* :func:`create_app` ``(services, *, config=None, gateway=None, scheduler=None,
  extra_routes=(), plugins=(), template_dirs=(), secret=None)`` -> ``aiohttp.web.Application``.
  ``extra_routes`` are ``web.RouteDef``s (e.g. a ``web.RouteTableDef``); each plugin is called
  with the app before it starts and may add routes, sub-apps, middlewares (``app.middlewares``),
  startup/cleanup hooks and nav links.
* :data:`STATE` / :func:`state_of` ``(request)`` -> :class:`WebState`: ``services`` (the one
  :class:`~bot.services.container.Services`), ``config`` (``[web]``), ``secret`` (bytes that
  sign cookies: ``$[web] secret_env`` if at least 32 characters, else random per process, see
  :func:`signing_key`), ``metrics``, ``gateway``
  and ``scheduler`` probes (None outside the bot process), ``nav`` (list of :class:`NavLink`,
  the header's links), ``account_links`` (async ``request -> [NavLink]`` for the header's right
  side: "Sign in" / "Dashboard"; none by default) and ``context_processors`` (async
  ``request -> dict`` merged into every template's variables, e.g. ``csrf_token``).
* :func:`render` ``(request, template, context=None, *, status=200)``: a page from
  ``bot/web/templates`` (autoescaped; undefined variables are errors). Every template gets
  ``request``, ``path``, ``nav``, ``account_links`` and ``public_url`` (``""`` when unset),
  then the context processors' variables, then ``context``. Pages extend
  ``base.html`` and fill ``{% block title %}`` and ``{% block content %}``; ``base.html`` has
  ``{% block head %}`` for extra ``<link>``s. The stylesheet is ``/static/style.css``.
* :func:`bad_request` ``(message)``: raise it for a 400 page saying what is wrong. Every HTTP
  error becomes a page through ``error.html``; every response carries
  :data:`~bot.web.security.SECURITY_HEADERS` (a CSP with no inline script or style).
* :class:`WebServer` ``(app, bind)``: ``await start()`` / ``await stop()``; ``url`` is the
  bound address (port 0 picks a free one).
"""

from bot.web.app import PUBLIC_NAV, Plugin, create_app, signing_key
from bot.web.security import SECURITY_HEADERS, bad_request
from bot.web.server import WebServer
from bot.web.state import (
    STATE,
    AccountLinks,
    ContextProcessor,
    GatewayStatus,
    NavLink,
    WebState,
    state_of,
)
from bot.web.templating import render

__all__ = [
    "PUBLIC_NAV",
    "SECURITY_HEADERS",
    "STATE",
    "AccountLinks",
    "ContextProcessor",
    "GatewayStatus",
    "NavLink",
    "Plugin",
    "WebServer",
    "WebState",
    "bad_request",
    "create_app",
    "render",
    "signing_key",
    "state_of",
]
