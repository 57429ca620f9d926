"""A server's history as the backfill reads it, through discord.py's HTTP layer only.

Works with the live bot's connected client or with one that only logged in (``client.login``,
no gateway), so ``python -m bot backfill`` can run beside the bot. Pacing: several channels
are read at once (each channel's history is a bucket of its own), but together at most
GLOBAL_SHARE requests a second: nine tenths of Discord's global limit of 50, which discord.py
only learns of from a 429, so the live bot's sends, role changes and interaction answers
(other buckets) always have the rest. A channel's history bucket is used up to what its
``X-RateLimit-Remaining`` allows; a reader whose bucket is spent waits for its reset before it
takes a global slot, so requests never pile up inside discord.py and go out together. The live
bot rarely reads history, and when it does it waits at most one window (5 s). discord.py itself
honours 429s and buckets.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Collection

import discord
from discord.http import Route

from bot.services.backfill import PAGE, PastChannel, PastMessage

#: Requests per second the backfill allows itself: Discord allows a bot 50.
GLOBAL_SHARE = 45

Readable = discord.TextChannel | discord.Thread


class DiscordHistory:
    def __init__(self, guild: discord.Guild, me: discord.Member) -> None:
        self.guild = guild
        self.me = me
        self._channels: dict[int, Readable] = {}
        self._next_slot = 0.0
        self._sent: deque[float] = deque()

    async def channels(self, wanted: Collection[int] | None) -> list[PastChannel]:
        """Text channels, then every thread of text channels and forums the server still
        lists (active, and archived public ones), oldest first within each."""
        parents: dict[int, discord.TextChannel | discord.ForumChannel] = {}
        found: list[PastChannel] = []
        await self._space()
        for channel in sorted(await self.guild.fetch_channels(), key=lambda c: c.id):
            if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
                continue
            if wanted is not None and channel.id not in wanted:
                continue
            parents[channel.id] = channel
            if isinstance(channel, discord.TextChannel):
                self._channels[channel.id] = channel
                found.append(
                    PastChannel(channel.id, None, channel.category_id, self._readable(channel))
                )
        await self._space()
        threads = {t.id: t for t in await self.guild.active_threads() if t.parent_id in parents}
        for parent in parents.values():
            if not self._readable(parent):
                continue  # reported with its own history (a forum has none: its posts say it)
            await self._space()
            async for thread in parent.archived_threads(limit=None):
                threads.setdefault(thread.id, thread)
        for thread in sorted(threads.values(), key=lambda t: t.id):
            parent = parents[thread.parent_id]
            self._channels[thread.id] = thread
            found.append(
                PastChannel(
                    thread.id,
                    parent.id,
                    parent.category_id,
                    self._readable(parent),
                    owner_id=thread.owner_id,
                    title=thread.name,
                    created_at=thread.created_at or discord.utils.snowflake_time(thread.id),
                    tags=self._tags(parent, thread),
                )
            )
        return found

    def _readable(self, channel: discord.TextChannel | discord.ForumChannel) -> bool:
        return channel.permissions_for(self.me).read_message_history

    @staticmethod
    def _tags(parent: discord.abc.GuildChannel, thread: discord.Thread) -> tuple[str, ...]:
        if not isinstance(parent, discord.ForumChannel):
            return ()
        # thread.applied_tags looks the forum up in a cache an HTTP-only client doesn't have.
        applied = set(getattr(thread, "_applied_tags", ()))
        return tuple(tag.name for tag in parent.available_tags if tag.id in applied)

    async def page(self, channel_id: int, before: int) -> list[PastMessage]:
        channel = self._channels[channel_id]
        await self._bucket_ready(channel)
        await self._space()
        return [
            PastMessage(
                m.id,
                m.author.id,
                m.author.bot,
                m.webhook_id is not None,
                m.is_system(),
                m.content,
                m.created_at,
                tuple(str(r.emoji) for r in m.reactions),
            )
            async for m in channel.history(limit=PAGE, before=discord.Object(before))
        ]

    async def reacted(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        http = self._channels[channel_id]._state.http
        after: int | None = None
        while True:  # 100 users a page, by id
            await self._space()
            users = await http.get_reaction_users(channel_id, message_id, emoji, 100, after=after)
            if any(int(u["id"]) == user_id for u in users):
                return True
            if len(users) < 100:
                return False
            after = int(users[-1]["id"])

    async def _bucket_ready(self, channel: Readable) -> None:
        """Wait out the channel's spent history bucket *before* taking a global slot: a request
        that took its slot and then waited inside discord.py would go out late, together with
        others, and overrun the global limit."""
        http = channel._state.http
        route = Route("GET", "/channels/{channel_id}/messages", channel_id=channel.id)
        bucket_hash = http._bucket_hashes.get(route.key, route.key)
        limit = http._buckets.get(f"{bucket_hash}:{route.major_parameters}")
        if limit is None or limit.remaining > 0 or limit.expires is None:
            return
        wait = limit.expires - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _space(self) -> None:
        """Wait for this request's slot. Slots are handed out 1/GLOBAL_SHARE s apart, so the
        readers together keep an even pace; and a request also waits while GLOBAL_SHARE of ours
        went out in the last second, so readers the event loop wakes late (after a busy
        stretch) cannot fire together. Discord's global limit is never overrun: a global 429
        stalls the live bot too."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(self._next_slot, now)
        self._next_slot = slot + 1 / GLOBAL_SHARE
        if slot > now:
            await asyncio.sleep(slot - now)
        sent = self._sent
        while True:
            now = loop.time()
            while sent and sent[0] <= now - 1.0:
                sent.popleft()
            if len(sent) < GLOBAL_SHARE:
                sent.append(now)
                return
            await asyncio.sleep(sent[0] + 1.0 - now)
