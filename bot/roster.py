"""The guild's member list as the members service records it, and the start-up sync of it.

The sync is a start-up step of every server, beside the command sync: until it has run, the
members table may still miss who joined while the bot was away (or, on a first start, hold no
one), so slash commands wait for it (:meth:`bot.tree.FlywheelTree.interaction_check`).
"""

from __future__ import annotations

import logging

import discord

from bot.community import Community
from bot.services.members import MemberInfo

log = logging.getLogger(__name__)


def member_info(member: discord.Member) -> MemberInfo:
    return MemberInfo(member.id, member.display_name, member.bot, member.joined_at)


async def sync_members(community: Community, guild: discord.Guild) -> None:
    """Reconcile the members table with ``guild``, then open the server's commands.

    ``community.members_synced`` is set even if the sync fails: moderators are told, and the
    commands run on the table as it was rather than not at all. ``flywheel_members_synced``
    goes to the features that read the table (referrals, the ladder's catch-up) on success.
    """
    try:
        if not guild.chunked:
            # Marking absent members as left needs the full list, not a partial cache.
            await guild.chunk()
        result = await community.services.members.sync([member_info(m) for m in guild.members])
    except Exception as exc:
        log.exception("the start-up member sync failed")
        community.members_synced.set()
        await community.outbox.alert(
            f"Flywheel could not reconcile the member list at start-up ({exc}): members who "
            "joined or left while it was away may be missing from /nps send, referrals and the "
            "ladder until it restarts. Check the database, then restart the bot"
        )
        return
    log.info("members: %d present, %d marked as left", result.present, result.marked_left)
    community.members_synced.set()
    community.dispatch("flywheel_members_synced", guild)
