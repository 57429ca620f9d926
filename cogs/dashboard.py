"""/dashboard: a single-use link to the web dashboard, shown only to the member who asked;
and the relay that shows in Discord what a standalone web process decided.

The link carries a token the web redeems once (``WebSignInService``); it is sent with embeds
suppressed so Discord's link preview does not fetch, and so spend, it before the member does.

``python -m bot web`` has no gateway: a nomination or submission decided there is stored and
recorded (``WebDecisionsService``). Every few seconds this process takes those records, shows
each decision on its review card and sends its DM (the review desk, as after a click), and
tells of the promotion an approval made there as the bot's ladder does (the tier role, the
announcement, the welcome DM), which that process could not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlencode

import discord
from discord import app_commands
from discord.ext import commands

from bot.community import Community
from bot.config import Settings
from bot.outbox import NO_MENTIONS
from bot.services.ladder import Change
from bot.services.nominations import NominationInfo

log = logging.getLogger(__name__)

#: How often the bot looks for decisions made on a standalone web process.
RELAY_SECONDS = 2.0

SIGN_IN = (
    "Your sign-in link to the web dashboard (only you can see this; it works once, for 10 "
    "minutes; don't share it):\n{link}"
)
NOT_SET_UP = (
    "The web dashboard isn't set up in this server. A server admin sets `[web] public_url` "
    "(the address people reach it at) in the bot's config, with `enabled = true` to serve it "
    "from the bot, or runs `python -m bot web` beside it."
)


def sign_in_link(settings: Settings, token: str) -> str:
    base = settings.web.public_url
    assert base is not None
    return f"{base}/sign-in?{urlencode({'token': token})}"


class Dashboard(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.sign_in = bot.services.web_sign_in
        self.decisions = bot.services.web_decisions
        self._relay: asyncio.Task[None] | None = None

    async def cog_unload(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay

    @commands.Cog.listener()
    async def on_flywheel_ready(self, _guild: discord.Guild) -> None:
        # No web address, no sign-in: nothing can be decided on the web, nothing to relay.
        if self.bot.settings.web.public_url is None:
            return
        if self._relay is None or self._relay.done():
            self._relay = asyncio.create_task(self._relay_forever(), name="web-decisions-relay")

    async def _relay_forever(self) -> None:
        while True:
            try:
                await self.relay_once()
            except Exception:
                log.exception("web: could not relay the web's review decisions; trying again")
            await asyncio.sleep(RELAY_SECONDS)

    async def relay_once(self) -> int:
        """Show each waiting web decision in Discord; how many were handled.

        Each is claimed before it is shown, so a relay that stops halfway (or a second
        process) never edits a card or sends a DM twice; a failure to show is logged, as a
        click's would be.
        """
        handled = 0
        for decision in await self.decisions.waiting():
            try:
                self.bot.reviews.kind(decision.kind)
            except LookupError:
                log.warning("web: a %s decision waits for its cog to be loaded", decision.kind)
                continue
            if not await self.decisions.claim(decision.id):
                continue
            handled += 1
            try:
                shown = await self.bot.reviews.show_decided_elsewhere(
                    decision.kind, decision.record_id, decision.moderator_id
                )
                nomination = getattr(shown, "nomination", None)
                if nomination is not None and nomination.status == "approved":
                    await self._tell_promotion(nomination)
            except Exception:
                # The decision itself is stored; only its showing in Discord is lost.
                log.exception("web: could not show %s #%s in Discord", decision.kind,
                              decision.record_id)  # fmt: skip
        return handled

    async def _tell_promotion(self, nomination: NominationInfo) -> None:
        """The role, announcement and welcome DM of the promotion the approval made (the web
        process's ladder promoted with no Discord to tell); only the role if it made none."""
        services = self.bot.services
        history = await services.ladder.history(nomination.nominee_id)
        latest = history[-1] if history else None
        if nomination.applied_at is None or latest is None or latest.to_tier != nomination.tier_key:
            services.tiers.roles.enqueue([nomination.nominee_id])
            return
        preferences = await services.members.preferences(nomination.nominee_id)
        change = Change(
            user_id=nomination.nominee_id,
            from_tier=latest.from_tier,
            to_tier=latest.to_tier,
            action="promote",
            reasons=(latest.reason,),
            actor_id=latest.actor_id,
            public=not preferences.recognition_opt_out,
        )
        await services.tiers.deliver([change])

    @app_commands.command(
        name="dashboard", description="A sign-in link to the web dashboard, only for you"
    )
    @app_commands.guild_only()
    async def dashboard(self, interaction: discord.Interaction[Any]) -> None:
        settings = self.bot.settings
        if settings.web.public_url is None:
            await interaction.response.send_message(NOT_SET_UP, ephemeral=True)
            return
        token = await self.sign_in.issue(interaction.user.id)
        await interaction.response.send_message(
            SIGN_IN.format(link=sign_in_link(settings, token)),
            ephemeral=True,
            suppress_embeds=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: Community) -> None:
    await bot.add_cog(Dashboard(bot))
