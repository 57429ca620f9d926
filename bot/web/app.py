"""The web application: :func:`create_app` builds it from the services container."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from aiohttp import web

from bot.config import WebConfig
from bot.services.container import Services
from bot.web import ops, public
from bot.web.security import add_security_headers, error_pages
from bot.web.state import STATE, GatewayProbe, NavLink, SchedulerProbe, WebState
from bot.web.templating import STATIC, environment

log = logging.getLogger(__name__)

#: The shortest cookie-signing key accepted from the environment, in characters.
MIN_SECRET_LENGTH: Final = 32

Plugin = Callable[[web.Application], None]
"""Adds to the app before it starts: routes, sub-apps, middlewares, nav links (``app[STATE]``)."""

PUBLIC_NAV: Final = (
    NavLink("Leaderboard", "/leaderboard"),
    NavLink("Ladder", "/ladder"),
    NavLink("Roadmap", "/roadmap"),
)


def signing_key(config: WebConfig, environ: Mapping[str, str] = os.environ) -> bytes:
    """The cookie-signing key from the variable ``[web] secret_env`` names; without one, a
    random key for this process (sessions then end at restart and differ between processes)."""
    value = environ.get(config.secret_env, "")
    if len(value) >= MIN_SECRET_LENGTH:
        return value.encode()
    if value:
        log.warning(
            "web: %s is shorter than %d characters; using a random key for this process "
            "instead (generate one with: python -c 'import secrets; print(secrets.token_hex(32))')",
            config.secret_env,
            MIN_SECRET_LENGTH,
        )
    else:
        log.warning(
            "web: %s is not set; signing sign-in cookies with a random key made for this "
            "process, so everyone signs in again after a restart",
            config.secret_env,
        )
    return secrets.token_bytes(32)


def create_app(
    services: Services,
    *,
    config: WebConfig | None = None,
    gateway: GatewayProbe | None = None,
    scheduler: SchedulerProbe | None = None,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
    plugins: Sequence[Plugin] = (),
    template_dirs: Sequence[Path] = (),
    secret: bytes | None = None,
) -> web.Application:
    """The pages and endpoints over ``services``.

    ``gateway`` and ``scheduler`` report the bot's connection and scheduler for ``/healthz``;
    leave them out in a process without a bot. ``extra_routes`` and ``plugins`` add pages on
    top (sign-in, staff pages); ``template_dirs`` are searched before the built-in templates.
    ``secret`` signs cookies; by default it comes from :func:`signing_key`.
    """
    web_config = config if config is not None else services.settings.web
    app = web.Application(middlewares=[error_pages])
    app[STATE] = WebState(
        services=services,
        config=web_config,
        templates=environment(tuple(template_dirs)),
        secret=secret if secret is not None else signing_key(web_config),
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
