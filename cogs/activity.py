"""Message activity: every guild message is handed to the activity service, without awaiting.

The hook is on the hot path of the bot (every message in the server passes through it), so it
runs synchronously, only reads plain values off the message and calls the in-memory counter;
the service's flusher writes.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.community import Community
from bot.core.activity import MessageFacts

log = logging.getLogger(__name__)


def placement(channel: object) -> tuple[int | None, int | None]:
    """(parent channel, category) of a message's channel: a thread answers for its parent's."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return channel.parent_id, parent.category_id if parent is not None else None
    return None, getattr(channel, "category_id", None)


def message_facts(message: discord.Message, guild_id: int) -> MessageFacts:
    """What the counter needs to know about a message."""
    parent_id, category_id = placement(message.channel)
    return MessageFacts(
        message_id=message.id,
        guild_id=guild_id,
        channel_id=message.channel.id,
        category_id=category_id,
        parent_channel_id=parent_id,
        author_id=message.author.id,
        author_is_bot=message.author.bot,
        is_webhook=message.webhook_id is not None,
        is_system=message.is_system(),
        content=message.content,
        created_at=message.created_at,
    )


class Activity(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.activity
        self.guild_id = bot.guild_id

    async def cog_load(self) -> None:
        self.bot.on_every_message(self.observe)

    async def cog_unload(self) -> None:
        self.bot.remove_message_hook(self.observe)

    def observe(self, message: discord.Message) -> None:
        guild = message.guild
        if guild is None or guild.id != self.guild_id:
            return  # DMs and other servers never count
        author = message.author
        if author.bot or message.webhook_id is not None or message.is_system():
            verdict = self.service.observe(message_facts(message, guild.id))
        else:
            # A member's post (nearly every message): plain values, since building MessageFacts
            # would cost as much as deciding. ``placement`` inline: its tuple was one of the two
            # objects per message that made the collector run more often than a bare client's.
            channel = message.channel
            if isinstance(channel, discord.Thread):
                parent_id = channel.parent_id
                parent = channel.parent
                category_id = parent.category_id if parent is not None else None
            else:
                parent_id, category_id = None, getattr(channel, "category_id", None)
            verdict = self.service.observe_post(
                message.id,
                author.id,
                channel.id,
                parent_id,
                category_id,
                message.created_at,
                message.content,
            )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("message %s by %s: %s", message.id, author.id, verdict.reason)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if payload.guild_id == self.bot.guild_id:
            self.service.deleted(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if payload.guild_id == self.bot.guild_id:
            for message_id in payload.message_ids:
                self.service.deleted(message_id)


async def setup(bot: Community) -> None:
    await bot.add_cog(Activity(bot))
