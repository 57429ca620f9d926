"""Members table glue: joins, leaves and name changes (the start-up sync is
:func:`bot.roster.sync_members`, a start-up step of the client).

After recording a join or a leave it dispatches ``flywheel_member_join(member, kind)`` and
``flywheel_member_leave(user_id)``, so features that read the table (referrals) learn whether a
join was a first join or a rejoin.
"""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.community import Community
from bot.roster import member_info


class Members(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.members

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
