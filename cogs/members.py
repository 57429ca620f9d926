"""Members table glue: start-up sync, joins, leaves and name changes.

After the start-up sync it dispatches ``flywheel_members_synced(guild)``, and after recording
a join or a leave ``flywheel_member_join(member, kind)`` and ``flywheel_member_leave(user_id)``,
so features that read the table (referrals) run once it is up to date and learn whether a
join was a first join or a rejoin.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.community import Community
from bot.services.members import MemberInfo

log = logging.getLogger(__name__)


def member_info(member: discord.Member) -> MemberInfo:
    return MemberInfo(member.id, member.display_name, member.bot, member.joined_at)


class Members(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.members

    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        if not guild.chunked:
            # Marking absent members as left needs the full list, not a partial cache.
            await guild.chunk()
        result = await self.service.sync([member_info(m) for m in guild.members])
        log.info("members: %d present, %d marked as left", result.present, result.marked_left)
        self.bot.dispatch("flywheel_members_synced", guild)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if member.guild.id != self.bot.guild_id:
            return
        kind = await self.service.joined(member_info(member))
        self.bot.dispatch("flywheel_member_join", member, kind)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if payload.guild_id != self.bot.guild_id:
            return
        await self.service.left(payload.user.id)
        self.bot.dispatch("flywheel_member_leave", payload.user.id)

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if after.guild.id == self.bot.guild_id and before.display_name != after.display_name:
            await self.service.updated(member_info(after))

    @commands.Cog.listener()
    async def on_user_update(self, before: discord.User, after: discord.User) -> None:
        """A global name change shows as the display name wherever there is no nickname."""
        guild = self.bot.get_guild(self.bot.guild_id)
        member = guild.get_member(after.id) if guild is not None else None
        if member is not None and before.display_name != after.display_name:
            await self.service.updated(member_info(member))


async def setup(bot: Community) -> None:
    await bot.add_cog(Members(bot))
