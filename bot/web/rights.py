"""Who may see the staff pages, decided on every request from the member's current roles.

Nothing about rights is kept in the session: a moderator whose role is taken away loses the
staff pages on their next request (within :data:`MEMBER_TTL_SECONDS` standalone). The rule
is the bot's own (``bot.checks.is_moderator``: Manage Server, Administrator or a
``roles.moderators`` role; the product role from ``feedback.product_role``), applied to the
member as Discord has them now:

* in the bot's process, the member the gateway keeps up to date (:class:`GatewayRights`);
* in a standalone ``python -m bot web``, which has no gateway, the member and the server's
  roles read from Discord's REST API with the bot's token (:class:`RestRights`): the member
  asked again once :data:`MEMBER_TTL_SECONDS` have passed (the requests meanwhile share one
  answer), the roles' permissions cached a minute. The store keeps no roles, so this is
  the closest thing to what the bot sees. When Discord can't be asked, the answer is "no
  rights" (closed, never open).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import discord

from bot.checks import is_moderator
from bot.clock import Clock
from bot.config import Settings
from bot.services.shared_copy import SharedCopies

log = logging.getLogger(__name__)

#: How long a standalone web process reuses the server's roles (permissions) from REST.
GUILD_TTL_SECONDS = 60.0
#: How long a standalone web process reuses a member's rights: a page and the requests right
#: after it (a form, the next page) ask Discord once, and twenty staff pages at once do not
#: queue behind its rate limit; a demoted moderator loses the pages within this time.
MEMBER_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class Rights:
    in_server: bool
    moderator: bool
    product: bool

    @property
    def staff(self) -> bool:
        return self.moderator or self.product


NO_RIGHTS = Rights(in_server=False, moderator=False, product=False)


class RightsSource(Protocol):
    async def rights(self, user_id: int) -> Rights: ...


def rights_of(member: discord.Member | None, settings: Settings) -> Rights:
    if member is None:
        return NO_RIGHTS
    product = settings.feedback.product_role
    return Rights(
        in_server=True,
        moderator=is_moderator(member, settings),
        product=product is not None and any(role.id == product for role in member.roles),
    )


class GatewayRights:
    """In the bot's process: the member from the gateway's cache (REST if not cached)."""

    def __init__(self, client: discord.Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    async def rights(self, user_id: int) -> Rights:
        guild = self.client.get_guild(self.settings.discord.guild_id)
        if guild is None:
            return NO_RIGHTS
        member = guild.get_member(user_id)
        if member is None and not guild.chunked:
            try:
                member = await guild.fetch_member(user_id)
            except discord.NotFound:
                member = None
            except discord.HTTPException as exc:
                log.warning("web: could not look up a member's roles: %s", exc)
                return NO_RIGHTS
        return rights_of(member, self.settings)


class RestRights:
    """In a standalone web process: the member from Discord's REST API, asked again once
    :data:`MEMBER_TTL_SECONDS` have passed (requests meanwhile share one answer)."""

    def __init__(self, client: discord.Client, settings: Settings, clock: Clock) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self._guild: discord.Guild | None = None
        self._guild_read_at = 0.0
        self._members = SharedCopies(clock, self._ask, "member rights", stale_limit=1)

    async def _server(self) -> discord.Guild:
        now = self.clock.monotonic()
        if self._guild is None or now - self._guild_read_at > GUILD_TTL_SECONDS:
            self._guild = await self.client.fetch_guild(self.settings.discord.guild_id)
            self._guild_read_at = now
        return self._guild

    async def rights(self, user_id: int) -> Rights:
        return await self._members.get(user_id, MEMBER_TTL_SECONDS)

    async def _ask(self, user_id: int) -> Rights:
        try:
            guild = await self._server()
            member = await guild.fetch_member(user_id)
        except discord.NotFound:
            return NO_RIGHTS
        except (discord.HTTPException, OSError) as exc:
            log.warning("web: could not ask Discord for a member's roles: %s", exc)
            return NO_RIGHTS
        return rights_of(member, self.settings)
