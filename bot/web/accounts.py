"""Signing in to the web: the link from ``/dashboard``, the session cookie, CSRF and rights.

``GET /sign-in?token=…`` redeems the single-use token (rate-limited per client address), sets
a signed, HttpOnly, SameSite=Lax cookie (Secure when ``public_url`` is https) and redirects
(303) to ``/me``, so the token leaves the address bar and the history. ``POST /sign-out``
(with the CSRF token) clears it. :class:`~bot.web.WebServer`'s access log prints paths
without their query string, and nothing here logs a token or a cookie.

A middleware reads the session on every request and asks the :class:`RightsSource` for the
member's rights *now*; pages call :func:`member_of` or :func:`staff_of`, and every form is
checked with :func:`checked_form`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiDictProxy

from bot.core.attempts import AttemptLimiter
from bot.services.web_sessions import SESSION_TTL, SessionSigner, WebSession
from bot.services.web_sign_in import Refusal
from bot.web.rights import NO_RIGHTS, Rights, RightsSource
from bot.web.state import STATE, NavLink, state_of
from bot.web.templating import render

log = logging.getLogger(__name__)

COOKIE: Final = "flywheel_session"
#: Sign-in attempts (with a token) per client address per minute.
SIGN_IN_ATTEMPTS: Final = 10
SIGN_IN_WINDOW_SECONDS: Final = 60.0
#: Paths that never need the session (files, probes): no rights lookup for them.
NO_SESSION_PREFIXES: Final = ("/static/", "/healthz", "/metrics")

MODERATORS_ONLY: Final = "Only moderators can use this page."
STAFF_ONLY: Final = "Only moderators and the product team can see this page."
FORM_EXPIRED: Final = (
    "This form has expired or did not come from this site. Go back, reload the page and try again."
)


class Decider(Protocol):
    """Decides a review card (``nomination``/``content``) the way its Discord buttons do."""

    async def __call__(
        self, key: str, record_id: int, moderator_id: int, *, approve: bool, reason: str
    ) -> tuple[str, bool]:
        """The record's status afterwards (``approved``…) and whether this call decided it."""
        ...


@dataclass
class Accounts:
    signer: SessionSigner
    #: None when the process cannot see Discord roles at all: nobody gets the staff pages.
    rights: RightsSource | None
    #: None: the web stores decisions through the services only (no card to update here).
    decide: Decider | None
    secure_cookie: bool
    limiter: AttemptLimiter


ACCOUNTS: Final = web.AppKey("flywheel_accounts", Accounts)


@dataclass(frozen=True)
class Visitor:
    """The signed-in member of this request, with their rights as Discord has them now."""

    session: WebSession
    rights: Rights
    name: str
    csrf: str

    @property
    def user_id(self) -> int:
        return self.session.user_id


VISITOR: Final = web.RequestKey("flywheel_visitor", Visitor)


def accounts_of(request: web.Request) -> Accounts:
    for app in reversed(request.match_info.apps):
        if ACCOUNTS in app:
            return app[ACCOUNTS]
    return request.app[ACCOUNTS]


def visitor_of(request: web.Request) -> Visitor | None:
    visitor = request.get(VISITOR)
    return visitor if isinstance(visitor, Visitor) else None


def member_of(request: web.Request) -> Visitor:
    """The signed-in member, or a redirect to the page that says how to sign in."""
    visitor = visitor_of(request)
    if visitor is None:
        raise web.HTTPSeeOther("/sign-in")
    return visitor


def staff_of(request: web.Request, *, moderators_only: bool = False) -> Visitor:
    """The signed-in staff member (checked against their roles now), or a 403 page."""
    visitor = member_of(request)
    allowed = visitor.rights.moderator if moderators_only else visitor.rights.staff
    if not allowed:
        raise web.HTTPForbidden(text=MODERATORS_ONLY if moderators_only else STAFF_ONLY)
    return visitor


async def checked_form(request: web.Request) -> tuple[Visitor, MultiDictProxy[Any]]:
    """A POSTed form of the signed-in member whose CSRF token belongs to their session."""
    visitor = member_of(request)
    form = await request.post()
    token = form.get("csrf")
    if not accounts_of(request).signer.csrf_ok(visitor.session, str(token) if token else None):
        raise web.HTTPForbidden(text=FORM_EXPIRED)
    return visitor, form


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is signed in, and what they may do right now (asked on every request)."""
    if request.path.startswith(NO_SESSION_PREFIXES):
        return await handler(request)
    accounts = accounts_of(request)
    session = accounts.signer.read(request.cookies.get(COOKIE))
    if session is not None:
        services = state_of(request).services
        rights = NO_RIGHTS
        if accounts.rights is not None:
            rights = await accounts.rights.rights(session.user_id)
        names = await services.members.display_names([session.user_id])
        request[VISITOR] = Visitor(
            session=session,
            rights=rights,
            name=names.get(session.user_id, "you"),
            csrf=accounts.signer.csrf_token(session),
        )
    response = await handler(request)
    if session is not None:
        # Pages for one member are never kept by a shared cache.
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


async def account_links(request: web.Request) -> Sequence[NavLink]:
    visitor = visitor_of(request)
    if visitor is None:
        return (NavLink("Sign in", "/sign-in"),)
    links = [NavLink("My progress", "/me")]
    if visitor.rights.staff:
        links.append(NavLink("Staff", "/staff"))
    links.append(NavLink("Sign out", "/sign-out"))
    return links


async def template_values(request: web.Request) -> Mapping[str, Any]:
    visitor = visitor_of(request)
    return {"visitor": visitor, "csrf_token": visitor.csrf if visitor else ""}


def client_address(request: web.Request) -> str:
    """The peer's address (a reverse proxy's, behind one: all its clients share a limit)."""
    return request.remote or "unknown"


routes = web.RouteTableDef()


@routes.get("/sign-in")
async def sign_in(request: web.Request) -> web.StreamResponse:
    token = request.query.get("token")
    if token is None:
        return await _sign_in_page(request, None, status=200)
    accounts = accounts_of(request)
    state = state_of(request)
    wait = accounts.limiter.attempt(client_address(request), state.services.clock.monotonic())
    if wait is not None:
        seconds = max(int(wait) + 1, 1)
        response = await _sign_in_page(
            request,
            f"Too many sign-in attempts from your address. Try again in {seconds} seconds.",
            status=429,
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    outcome = await state.services.web_sign_in.redeem(token)
    if isinstance(outcome, Refusal):
        log.info("web: a sign-in link was refused (%s)", outcome.value)
        return await _sign_in_page(request, outcome.message, status=400)
    _, value = accounts.signer.open(outcome.user_id)
    response = see_other("/me")
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=accounts.secure_cookie,
    )
    _no_referrer(response)
    log.info("web: a member signed in")
    return response


async def _sign_in_page(request: web.Request, problem: str | None, *, status: int) -> web.Response:
    response = await render(request, "sign_in.html", {"problem": problem}, status=status)
    _no_referrer(response)
    return response


def see_other(location: str) -> web.Response:
    """A 303 to ``location`` (after a form or sign-in: the browser GETs it)."""
    return web.Response(status=303, headers={"Location": location})


def _no_referrer(response: web.StreamResponse) -> None:
    # The sign-in address holds a token: never send it on as a Referer, never cache it.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"


@routes.get("/sign-out")
async def sign_out_page(request: web.Request) -> web.StreamResponse:
    member_of(request)
    return await render(request, "sign_out.html")


@routes.post("/sign-out")
async def sign_out(request: web.Request) -> web.StreamResponse:
    await checked_form(request)
    response = see_other("/")
    response.del_cookie(COOKIE, path="/")
    return response


def plugin(accounts: Accounts) -> Callable[[web.Application], None]:
    """Install sign-in, the session middleware and the header's account links in ``app``."""

    def install(app: web.Application) -> None:
        app[ACCOUNTS] = accounts
        state = app[STATE]
        state.account_links = account_links
        state.context_processors.append(template_values)
        app.middlewares.append(sessions)
        app.router.add_routes(routes)

    return install
