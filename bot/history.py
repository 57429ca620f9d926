"""A server's history as the backfill reads it, through discord.py's HTTP layer only.

Works with the live bot's connected client or with one that only logged in (``client.login``,
no gateway), so ``python -m bot backfill`` can run beside the bot. Pacing: several channels
are read at once (each channel's history is a bucket of its own), but a read goes out only
while the whole process sent fewer than GLOBAL_SHARE requests in the last second: nine tenths
of Discord's global limit of 50, which discord.py only learns of from a 429. Every request the
client makes is counted (:class:`RequestWindow`), so inside the bot (``/backfill start``) the
live bot's sends, role changes and interaction answers are never queued behind the backfill:
the busier the bot, the slower the backfill reads, and the bot always has 5 a second to
spare on top. From the command line the backfill cannot see the running bot's requests; it
keeps to GLOBAL_SHARE and the bot has the rest. A channel's history bucket is used up to what
its ``X-RateLimit-Remaining`` allows; a reader whose bucket is spent waits for its reset before
it takes a slot, so requests never pile up inside discord.py and go out together. discord.py
itself honours 429s and buckets.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import discord
from discord.http import Route

from bot.services.backfill import PAGE, PastChannel, PastMessage

#: Requests per second (the bot's own included) up to which the backfill reads: Discord
#: allows a bot 50.
GLOBAL_SHARE = 45

Readable = discord.TextChannel | discord.Thread
#: Set while a backfill request that ``DiscordHistory._space`` counted is made.
_PACED: ContextVar[bool] = ContextVar("flywheel_paced_request", default=False)


class RequestWindow:
    """Start times of the HTTP requests a client made in the last second."""

    def __init__(self) -> None:
        self._sent: deque[float] = deque()
        #: Requests recorded since the window was installed.
        self.recorded = 0

    def record(self, now: float) -> None:
        self._sent.append(now)
        self.recorded += 1

    def in_last_second(self, now: float) -> int:
        sent = self._sent
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        return len(sent)

    def wait(self, now: float, share: int) -> float:
        """Seconds until fewer than ``share`` requests fall in the second before, and half a
        slot (1 / (2 × share) s) has passed since the last one; 0: go.

        The gap keeps readers that an event loop woke together (after a busy stretch) from
        going out as one burst that a server, measuring on arrival, sees as more than its
        limit in a second: spread, they arrive spread.
        """
        count = self.in_last_second(now)
        full = self._sent[count - share] + 1.0 - now if count >= share else 0.0
        gap = self._sent[-1] + 0.5 / share - now if count else 0.0
        return max(full, gap, 0.0)

    @classmethod
    def of(cls, http: discord.http.HTTPClient) -> RequestWindow:
        """The window of ``http``, counting every request it makes from now on (installed once
        per client: the live bot's requests and the backfill's share it)."""
        window: RequestWindow | None = getattr(http, "_flywheel_requests", None)
        if window is None:
            window = cls()
            original = http.request
            loop_time = asyncio.get_running_loop().time

            async def request(route: Route, **kwargs: Any) -> Any:
                if not _PACED.get():  # a backfill read took its place in ``_space`` already
                    window.record(loop_time())
                return await original(route, **kwargs)

            http.request = request  # type: ignore[method-assign]
            http._flywheel_requests = window  # type: ignore[attr-defined]
        return window


class DiscordHistory:
    def __init__(self, guild: discord.Guild, me: discord.Member) -> None:
        self.guild = guild
        self.me = me
        self._channels: dict[int, Readable] = {}
        self._next_slot = 0.0
        self._window = RequestWindow.of(guild._state.http)

    async def channels(self, wanted: Collection[int] | None) -> list[PastChannel]:
        """Text channels, then every thread of text channels and forums the server still
        lists (active, and archived public ones), oldest first within each."""
        parents: dict[int, discord.TextChannel | discord.ForumChannel] = {}
        found: list[PastChannel] = []
        async with self._paced():
            listed = await self.guild.fetch_channels()
        for channel in sorted(listed, key=lambda c: c.id):
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
        async with self._paced():
            active = await self.guild.active_threads()
        threads = {t.id: t for t in active if t.parent_id in parents}
        for parent in parents.values():
            if not self._readable(parent):
                continue  # reported with its own history (a forum has none: its posts say it)
            # One slot for the first page; later pages (100 threads each) are counted on their
            # way out, the first twice: over-counting only slows the backfill.
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
        async with self._paced():
            messages = [m async for m in channel.history(limit=PAGE, before=discord.Object(before))]
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
            for m in messages
        ]

    async def reacted(self, channel_id: int, message_id: int, emoji: str, user_id: int) -> bool:
        http = self._channels[channel_id]._state.http
        after: int | None = None
        while True:  # 100 users a page, by id
            async with self._paced():
                users = await http.get_reaction_users(
                    channel_id, message_id, emoji, 100, after=after
                )
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
        readers together keep an even pace; and a request also waits while GLOBAL_SHARE went
        out in the last second (the live bot's included), so readers the event loop wakes late
        (after a busy stretch) cannot fire together. Discord's global limit is never overrun:
        a global 429 stalls the live bot too."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(self._next_slot, now)
        self._next_slot = slot + 1 / GLOBAL_SHARE
        if slot > now:
            await asyncio.sleep(slot - now)
        while True:
            wait = self._window.wait(loop.time(), GLOBAL_SHARE)
            if not wait:
                break
            await asyncio.sleep(wait)
        self._window.record(loop.time())

    @asynccontextmanager
    async def _paced(self) -> AsyncIterator[None]:
        """Take a slot, then make the request: it counts once (here, not again on its way
        out), so readers woken together cannot all see room before any of them is counted."""
        await self._space()
        token = _PACED.set(True)
        try:
            yield
        finally:
            _PACED.reset(token)
