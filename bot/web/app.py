"""The web application: :func:`create_app` builds it from the services container."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final

from aiohttp import web

from bot.config import WebConfig
from bot.services.container import Services
from bot.web import ops, public
from bot.web.security import add_security_headers, error_pages
from bot.web.state import STATE, GatewayProbe, NavLink, SchedulerProbe, WebState
from bot.web.templating import STATIC, environment

Plugin = Callable[[web.Application], None]
"""Adds to the app before it starts: routes, sub-apps, middlewares, nav links (``app[STATE]``)."""

PUBLIC_NAV: Final = (
    NavLink("Leaderboard", "/leaderboard"),
    NavLink("Ladder", "/ladder"),
    NavLink("Roadmap", "/roadmap"),
)


def create_app(
    services: Services,
    *,
    config: WebConfig | None = None,
    gateway: GatewayProbe | None = None,
    scheduler: SchedulerProbe | None = None,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
    plugins: Sequence[Plugin] = (),
    template_dirs: Sequence[Path] = (),
) -> web.Application:
    """The pages and endpoints over ``services``.

    ``gateway`` and ``scheduler`` report the bot's connection and scheduler for ``/healthz``;
    leave them out in a process without a bot. ``extra_routes`` and ``plugins`` add pages on
    top (sign-in, staff pages); ``template_dirs`` are searched before the built-in templates.
    """
    app = web.Application(middlewares=[error_pages])
    app[STATE] = WebState(
        services=services,
        config=config if config is not None else services.settings.web,
        templates=environment(tuple(template_dirs)),
        gateway=gateway,
        scheduler=scheduler,
        nav=list(PUBLIC_NAV),
    )
    app.on_response_prepare.append(add_security_headers)
    app.router.add_routes(public.routes)
    app.router.add_routes(ops.routes)
    app.router.add_static("/static", STATIC, name="static", append_version=False)
    app.router.add_routes(list(extra_routes))
    for plugin in plugins:
        plugin(app)
    return app
