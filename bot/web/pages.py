"""The signed-in part of the web, as one plugin for :func:`~bot.web.create_app`.

Built by the composition root with what differs between processes: how rights are read
(the gateway's members in the bot, Discord's REST API standalone) and how a review decision
reaches its Discord card (the bot's review desk, or only the store standalone).
"""

from __future__ import annotations

import logging
import os
import secrets

from aiohttp import web

from bot.config import Settings
from bot.core.attempts import AttemptLimiter
from bot.errors import StartupError
from bot.review_card import ReviewDesk
from bot.services.container import Services
from bot.services.web_sessions import SessionSigner
from bot.web import member, staff
from bot.web.accounts import (
    SIGN_IN_ATTEMPTS,
    SIGN_IN_WINDOW_SECONDS,
    Accounts,
    Decider,
    plugin,
)
from bot.web.app import Plugin
from bot.web.rights import RightsSource

log = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 16


def session_secret(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The key that signs session cookies, from ``[web] secret_env``; a fresh one if unset."""
    env = os.environ if environ is None else environ
    name = settings.web.secret_env
    value = (env.get(name) or "").strip()
    if not value:
        log.warning(
            "web: %s is not set: sessions are signed with a key made for this run, so everyone "
            "signs in again after a restart (and several web processes don't share sessions)",
            name,
        )
        return secrets.token_urlsafe(32)
    if len(value) < MIN_SECRET_LENGTH:
        raise StartupError(
            f"{name} must be at least {MIN_SECRET_LENGTH} characters (it signs the web's "
            "session cookies): `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return value


def review_decider(desk: ReviewDesk) -> Decider:
    """Web decisions through the bot's review desk: the service, then the card and the DM."""

    async def decide(
        key: str, record_id: int, moderator_id: int, *, approve: bool, reason: str
    ) -> tuple[str, bool]:
        state = await desk.decide_off_discord(
            key, record_id, moderator_id, approve=approve, reason=reason
        )
        return state.status, state.decided_now

    return decide


def signed_in_pages(
    services: Services,
    *,
    secret: str,
    rights: RightsSource | None,
    decide: Decider | None,
) -> Plugin:
    settings = services.settings
    public = settings.web.public_url or ""
    accounts = Accounts(
        signer=SessionSigner(secret, services.clock),
        rights=rights,
        decide=decide,
        secure_cookie=public.startswith("https://"),
        limiter=AttemptLimiter(SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW_SECONDS),
    )
    install_accounts = plugin(accounts)

    def install(app: web.Application) -> None:
        install_accounts(app)
        app.router.add_routes(member.routes)
        app.router.add_routes(staff.routes)

    return install
