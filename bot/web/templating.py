"""Server-rendered pages: one autoescaping Jinja2 environment and :func:`render`.

Templates live in ``bot/web/templates`` and extend ``base.html`` (header nav, a ``main``
landmark, the footer). :func:`render` fills in what every page needs: the nav, the account
links an extension provides, and each context processor's variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import jinja2
from aiohttp import web

from bot.web.state import state_of

TEMPLATES: Final = Path(__file__).with_name("templates")
STATIC: Final = Path(__file__).with_name("static")
HTML: Final = "text/html"


def environment(extra_dirs: tuple[Path, ...] = ()) -> jinja2.Environment:
    """Autoescaping everywhere; a missing variable is an error, not an empty string."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([*extra_dirs, TEMPLATES]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=True,
    )


async def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """``template`` rendered for ``request`` as an HTML response."""
    state = state_of(request)
    values: dict[str, Any] = {
        "request": request,
        "path": request.path,
        "nav": state.nav,
        "account_links": await state.account_links(request),
        "public_url": state.config.public_url or "",
    }
    for processor in state.context_processors:
        values.update(await processor(request))
    values.update(context or {})
    text = await state.templates.get_template(template).render_async(values)
    return web.Response(text=text, status=status, content_type=HTML, charset="utf-8")
