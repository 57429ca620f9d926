"""The signed-in part of the web, as one plugin for :func:`~bot.web.create_app`.

Built by the composition root with what differs between processes: how rights are read
(the gateway's members in the bot, Discord's REST API standalone) and how a review decision
reaches its Discord card (the bot's review desk, or only the store standalone).
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.attempts import AttemptLimiter
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
from bot.web.state import STATE

log = logging.getLogger(__name__)


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
    services: Services, *, rights: RightsSource | None, decide: Decider | None
) -> Plugin:
    """Sign-in, member and staff pages; cookies are signed with the app's key (``[web]
    secret_env``, see :func:`bot.web.app.signing_key`)."""

    def install(app: web.Application) -> None:
        state = app[STATE]
        accounts = Accounts(
            signer=SessionSigner(state.secret, services.clock),
            rights=rights,
            decide=decide,
            secure_cookie=(state.config.public_url or "").startswith("https://"),
            limiter=AttemptLimiter(SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW_SECONDS),
        )
        plugin(accounts)(app)
        app.router.add_routes(member.routes)
        app.router.add_routes(staff.routes)

    return install
