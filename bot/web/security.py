"""Headers every response carries, and error pages instead of tracebacks.

The policy allows nothing inline: scripts and styles come from this server only (the pages
need no script at all), no page can be framed, and forms post only back here.
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.web.templating import render

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: What an error page says when the handler gave no reason of its own.
DEFAULT_MESSAGES: Final = {
    404: "There is no page at this address.",
    405: "This page cannot be used that way.",
}


def bad_request(message: str) -> web.HTTPBadRequest:
    """A 400 whose page says ``message`` (what is wrong with the request, in plain words)."""
    return web.HTTPBadRequest(text=message)


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs for every response, static files and errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors as pages saying what is wrong; anything unexpected as a plain 500 page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        message = DEFAULT_MESSAGES.get(exc.status) if exc.text == _default_text(exc) else None
        return await render(
            request,
            "error.html",
            {"status": exc.status, "title": exc.reason, "message": message or exc.text or ""},
            status=exc.status,
        )
    except Exception:
        log.exception("web: %s %s failed", request.method, request.path)
        return await render(
            request,
            "error.html",
            {
                "status": 500,
                "title": "Something went wrong",
                "message": "The page could not be made. The error is in the bot's log.",
            },
            status=500,
        )


def _default_text(exc: web.HTTPException) -> str:
    return f"{exc.status}: {exc.reason}"
