"""Start-up preflight: check the live guild against the configuration, tell moderators."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands
from discord.flags import alias_flag_value, flag_value

from bot.community import Community
from bot.config import Settings
from bot.core import preflight
from bot.core.preflight import ChannelInfo, GuildSnapshot, Problem, Requirements, RoleInfo
from bot.core.text import clip

log = logging.getLogger(__name__)

#: Every permission name, aliases included: iterating a Permissions object yields only the
#: canonical names (``read_messages``), never aliases such as ``view_channel``.
PERMISSION_NAMES = tuple(
    name
    for name in dir(discord.Permissions)
    if isinstance(getattr(discord.Permissions, name), flag_value | alias_flag_value)
)

_KINDS = {
    discord.ChannelType.text: "text",
    discord.ChannelType.news: "news",
    discord.ChannelType.forum: "forum",
    discord.ChannelType.voice: "voice",
    discord.ChannelType.stage_voice: "stage",
    discord.ChannelType.category: "category",
    discord.ChannelType.media: "media",
}


def requirements(settings: Settings) -> Requirements:
    channels = settings.channels
    needs = [
        preflight.posting_channel("channels.announcements", channels.announcements),
        preflight.posting_channel("channels.newsletter", channels.newsletter),
        preflight.posting_channel("channels.review", channels.review),
        preflight.posting_channel("channels.mod_log", channels.mod_log),
    ]
    needs += [
        preflight.help_forum(f"channels.help_forums[{i}]", forum)
        for i, forum in enumerate(channels.help_forums)
    ]
    if settings.feedback.forum_channel is not None:
        needs.append(
            preflight.feedback_forum("feedback.forum_channel", settings.feedback.forum_channel)
        )
    if settings.feedback.programs_channel is not None:
        needs.append(
            preflight.programs_channel(
                "feedback.programs_channel", settings.feedback.programs_channel
            )
        )
    roles = [
        preflight.RoleNeed(f"roles.moderators[{i}]", role, managed_by_bot=False)
        for i, role in enumerate(settings.roles.moderators)
    ]
    roles += [
        preflight.RoleNeed(f"tiers[{i}].role_id", tier.role_id, managed_by_bot=True)
        for i, tier in enumerate(settings.tiers)
    ]
    return Requirements(channels=tuple(needs), roles=tuple(roles))


def snapshot(guild: discord.Guild) -> GuildSnapshot:
    me = guild.me

    def perms(p: discord.Permissions) -> frozenset[str]:
        return frozenset(name for name in PERMISSION_NAMES if getattr(p, name))

    return GuildSnapshot(
        guild_id=guild.id,
        roles={r.id: RoleInfo(r.id, r.name, r.position, r.managed) for r in guild.roles},
        channels={
            c.id: ChannelInfo(
                c.id, c.name, _KINDS.get(c.type, str(c.type)), perms(c.permissions_for(me))
            )
            for c in guild.channels
        },
        bot_permissions=perms(me.guild_permissions),
        bot_top_role=RoleInfo(me.top_role.id, me.top_role.name, me.top_role.position),
        bot_is_owner=guild.owner_id == me.id,
    )


def report(problems: list[Problem]) -> str:
    lines = [f"**Flywheel found {len(problems)} setup problem(s):**"]
    lines += [f"- **{p.key}**: {p.what}\n  Fix: {p.fix}" for p in problems]
    return clip("\n".join(lines))


class Preflight(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.problems: list[Problem] = []

    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        self.problems = preflight.check(snapshot(guild), requirements(self.bot.settings))
        if not self.problems:
            log.info("preflight: channels, roles and permissions look right")
            return
        for problem in self.problems:
            log.warning("preflight: %s", problem)
        await self.bot.outbox.mod_log(report(self.problems))


async def setup(bot: Community) -> None:
    await bot.add_cog(Preflight(bot))
