"""Invite tracking glue: keep the invite cache, attribute joins, settle referrals hourly."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import discord
from discord.ext import commands

from bot.community import Community
from bot.core.referrals import InviteState
from bot.scheduling import Recurring
from bot.services.members import JoinKind
from bot.services.referrals import InviteSnapshot, ReferralOutcome

log = logging.getLogger(__name__)

SETTLE_JOB_ID = "referrals:settle"
NO_MANAGE_SERVER = (
    "referrals: invite tracking is off because the bot lacks the Manage Server permission, "
    "which Discord requires to read invite use counts; grant Manage Server to the bot's role "
    "and restart the bot to track who invited whom"
)
NO_MANAGE_CHANNELS = (
    "referrals: without Manage Channels Discord sends the bot no invite create/delete events, "
    "so a join that uses up an invite is recorded as unknown (a moderator's deletion would "
    "look the same) and an invite made and used up between two joins goes unseen"
)


def invite_state(invite: discord.Invite) -> InviteState:
    return InviteState(
        code=invite.code,
        inviter_id=invite.inviter.id if invite.inviter is not None else None,
        uses=invite.uses or 0,
        max_uses=invite.max_uses or 0,
        expires_at=invite.expires_at,
    )


def credited_lines(outcomes: Sequence[ReferralOutcome]) -> str | None:
    """Mod-log text for credited referrals (mentions render as names; nobody is pinged)."""
    lines = [
        f"Referral credited to <@{o.inviter_id}> for inviting <@{o.invitee_id}>: {o.reason}."
        for o in outcomes
        if o.status == "credited"
    ]
    if not lines:
        return None
    text = "\n".join(lines)
    return text if len(text) <= 2000 else text[:1990].rsplit("\n", 1)[0] + "\n…"


class Referrals(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.referrals

    async def cog_load(self) -> None:
        self.bot.schedule.add(Recurring(SETTLE_JOB_ID, self.settle, every=timedelta(hours=1)))

    async def cog_unload(self) -> None:
        self.bot.schedule.remove(SETTLE_JOB_ID)

    async def settle(self) -> list[ReferralOutcome]:
        """Decide every pending referral now and tell moderators about credits."""
        decided = await self.service.settle_pending()
        await self._announce(decided)
        return decided

    async def _snapshot(self, guild: discord.Guild) -> InviteSnapshot:
        """The guild's invites now; raises discord.Forbidden without Manage Server."""
        invites = await guild.invites()
        vanity_uses = None
        if "VANITY_URL" in guild.features:
            try:
                vanity = await guild.vanity_invite()
                vanity_uses = vanity.uses if vanity is not None else None
            except discord.HTTPException as exc:
                log.warning("referrals: could not read the vanity URL's uses (%s)", exc)
        return InviteSnapshot({i.code: invite_state(i) for i in invites}, vanity_uses)

    async def _announce(self, outcomes: Sequence[ReferralOutcome]) -> None:
        text = credited_lines(outcomes)
        if text is not None:
            await self.bot.outbox.mod_log(text)

    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        try:
            snapshot = await self._snapshot(guild)
        except discord.Forbidden:
            log.warning(NO_MANAGE_SERVER)
            self.service.disable()
            return
        except discord.HTTPException as exc:
            log.warning("referrals: invite tracking is off: could not read invites (%s)", exc)
            self.service.disable()
            return
        invite_events = guild.me.guild_permissions.manage_channels
        if not invite_events:
            log.info(NO_MANAGE_CHANNELS)
        self.service.start(snapshot, invite_events=invite_events)

    @commands.Cog.listener()
    async def on_flywheel_members_synced(self, guild: discord.Guild) -> None:
        """Catch up once the members table knows who left while the bot was away."""
        await self.settle()

    @commands.Cog.listener()
    async def on_invite_create(self, invite: discord.Invite) -> None:
        if invite.guild is not None and invite.guild.id == self.bot.guild_id:
            self.service.invite_created(invite_state(invite))

    @commands.Cog.listener()
    async def on_invite_delete(self, invite: discord.Invite) -> None:
        if invite.guild is not None and invite.guild.id == self.bot.guild_id:
            self.service.invite_deleted(invite.code)

    @commands.Cog.listener()
    async def on_flywheel_member_join(self, member: discord.Member, kind: JoinKind) -> None:
        if kind == "present":
            return  # a replayed join event: this join is already recorded

        async def fetch() -> InviteSnapshot | None:
            try:
                return await self._snapshot(member.guild)
            except discord.HTTPException as exc:
                log.warning("referrals: could not read invites for a join (%s)", exc)
                return None

        outcome = await self.service.record_join(
            member.id, is_rejoin=kind == "rejoin", is_bot=member.bot, fetch=fetch
        )
        if outcome is not None:
            await self._announce([outcome])

    @commands.Cog.listener()
    async def on_flywheel_member_leave(self, user_id: int) -> None:
        await self._announce(await self.service.settle_pending(user_id))


async def setup(bot: Community) -> None:
    await bot.add_cog(Referrals(bot))
