"""Seeding the past: messages, threads and forum posts that existed before the bot looked.

Tests and benchmarks of a history backfill need a channel with months of messages without
posting them one by one through the gateway. ``emu.seed_history`` and ``emu.seed_thread``
write straight into the world: no gateway event is sent (the past already happened), so
seed before the bot connects if its cache should know seeded threads.

Ids are snowflakes of the given moments (discord.py reads ``created_at`` from the id), from
worker :data:`~emulator.message_store.SEED_WORKER` so they never meet a live id; within a
millisecond the low 17 bits count up (per millisecond, across every seed call and channel), so
ids are unique and follow the input order for equal moments.
A million messages seed in a few seconds: rows become parallel arrays
(:mod:`emulator.message_store`), not objects.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import messaging
from .errors import EmulatorError
from .message_store import SEED_WORKER, is_seeded_id
from .snowflake import DISCORD_EPOCH_MS, iso, snowflake_time
from .world import (
    FORUM,
    MEDIA,
    MESSAGEABLE_TYPES,
    NEWS,
    NEWS_THREAD,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Channel,
    World,
)

_LOW_BITS = (1 << 17) - 1


def _ms(at: Any) -> int:
    """Milliseconds since the Discord epoch for a datetime or a Unix time in seconds."""
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            raise EmulatorError(f"naive datetime {at!r}: give a timezone")
        seconds = at.timestamp()
    elif isinstance(at, int | float):
        seconds = float(at)
    else:
        raise EmulatorError(f"not a moment: {at!r} (a datetime or Unix seconds)")
    return int(seconds * 1000) - DISCORD_EPOCH_MS


def _moment(at: Any) -> dt.datetime:
    """A datetime or Unix seconds as an aware datetime, to the microsecond."""
    _ms(at)  # the same checks
    return at if isinstance(at, dt.datetime) else dt.datetime.fromtimestamp(at, dt.UTC)


def _id(obj: Any) -> int:
    if isinstance(obj, Mapping):
        return int(obj["id"])
    return int(getattr(obj, "id", obj))


class Seeder:
    """Writes past messages and threads into one :class:`~emulator.world.World`."""

    def __init__(self, world: World) -> None:
        self.world = world
        #: Milliseconds seeded so far -> the next free low bits of that millisecond.
        self._taken: dict[int, int] = {}

    # -------------------------------------------------------------- messages
    def messages(self, channel: Channel, rows: Iterable[Any]) -> list[int]:
        """Seed ``rows`` into ``channel``; their ids, in the order given.

        A row is ``(author, content, at)``, ``(author, content, at, reactions)`` or a mapping
        with ``author``, ``content``, ``at`` and optionally ``reactions``
        (``{emoji: [user, ...]}``), ``reply_to`` (an already seeded or sent message of this
        channel), ``mentions`` (user ids) and ``type`` (a message type). ``at`` is an aware
        datetime or Unix seconds.
        """
        if channel.type not in MESSAGEABLE_TYPES:
            raise EmulatorError(f"#{channel.name} holds no messages (type {channel.type})")
        world = self.world
        users = world.users
        now_ms = _ms(time.time())
        floor = _ms(snowflake_time(channel.id)) if channel.is_thread else 0
        parsed: list[tuple[int, int, int, str, dict[str, Any] | None]] = []
        for n, row in enumerate(rows):
            if isinstance(row, Mapping):
                author, content, at = row["author"], row.get("content", ""), row["at"]
                extra = self._extra(channel, row)
            else:
                author, content, at = row[0], row[1], row[2]
                reactions = row[3] if len(row) > 3 else None
                extra = {"reactions": self._reactions(reactions)} if reactions else None
            author_id = author if type(author) is int else _id(author)
            if author_id not in users:
                raise EmulatorError(f"row {n}: unknown author {author!r}")
            if not isinstance(content, str) or len(content) > messaging.MAX_CONTENT:
                raise EmulatorError(f"row {n}: content must be a str of at most 2000 chars")
            ms = _ms(at)
            if not floor <= ms <= now_ms:
                raise EmulatorError(
                    f"row {n}: {at!r} is not in the past of this channel (after its creation)"
                )
            parsed.append((ms, n, author_id, content, extra))
        parsed.sort(key=lambda r: (r[0], r[1]))
        out: list[int] = [0] * len(parsed)
        store_rows: list[tuple[int, int, str, dict[str, Any] | None]] = []
        for ms, n, author_id, content, extra in parsed:
            message_id = self._next_id(ms)
            out[n] = message_id
            store_rows.append((message_id, author_id, content, extra))
        self._store(channel, store_rows)
        return out

    def _next_id(self, ms: int) -> int:
        low = self._taken.get(ms, 0)
        if low > _LOW_BITS:
            raise EmulatorError("more than 131,072 seeded ids in one millisecond")
        self._taken[ms] = low + 1
        return (ms << 22) | (SEED_WORKER << 17) | low

    def _store(
        self, channel: Channel, rows: list[tuple[int, int, str, dict[str, Any] | None]]
    ) -> None:
        if not rows:
            return
        store = channel.messages
        store.channel_id, store.guild_id = channel.id, channel.guild_id
        store.seed(rows)
        if not any(s is store for s in self.world.messages.seeded):
            self.world.messages.seeded.append(store)
        newest = store.last_id()
        if newest is not None and (channel.last_message_id or 0) < newest:
            channel.last_message_id = newest
        if channel.is_thread:
            channel.message_count += len(rows)
            channel.total_message_sent += len(rows)

    def _reactions(self, raw: Mapping[Any, Iterable[Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for emoji_raw, who in raw.items():
            emoji = messaging.parse_emoji(emoji_raw)
            user_ids = sorted({_id(u) for u in who})
            unknown = [u for u in user_ids if u not in self.world.users]
            if unknown:
                raise EmulatorError(f"reaction {emoji_raw!r} by unknown users {unknown}")
            if user_ids:
                out[messaging.emoji_key(emoji)] = (emoji, user_ids)
        return out

    def _extra(self, channel: Channel, row: Mapping[str, Any]) -> dict[str, Any] | None:
        extra: dict[str, Any] = {}
        if row.get("reactions"):
            extra["reactions"] = self._reactions(row["reactions"])
        if row.get("type") is not None:
            extra["type"] = int(row["type"])  # e.g. 7, a member's join notice
        if row.get("mentions"):
            extra["mention_ids"] = [_id(u) for u in row["mentions"]]
        if row.get("reply_to") is not None:
            ref = _id(row["reply_to"])
            if ref not in channel.messages:
                raise EmulatorError(f"reply_to {ref}: no such message in #{channel.name}")
            extra["type"] = messaging.REPLY
            extra["message_reference"] = {
                "type": 0,
                "message_id": str(ref),
                "channel_id": str(channel.id),
                "guild_id": str(channel.guild_id),
            }
        return extra or None

    # --------------------------------------------------------------- threads
    def thread(
        self,
        parent: Channel,
        owner: Any,
        name: str,
        created_at: Any,
        *,
        content: str | None = None,
        tags: Sequence[Any] = (),
        archived: bool = False,
        archived_at: Any = None,
        locked: bool = False,
        private: bool = False,
        from_message: Any = None,
        messages: Iterable[Any] = (),
        members: Iterable[Any] = (),
        auto_archive_duration: int = 1440,
    ) -> Channel:
        """A thread (or forum post) opened at ``created_at``, with its history.

        In a forum, ``content`` is the post's starter message (its id is the thread's, as on
        Discord) and ``tags`` are tag names or ids. In a text channel the thread hangs off
        ``from_message`` (its id becomes the thread's) or is announced by a "started a thread"
        system message in the parent. An archived thread's ``archived_at`` defaults to its
        last message plus ``auto_archive_duration`` minutes (capped at now).
        """
        world = self.world
        owner_id = _id(owner)
        if owner_id not in world.users:
            raise EmulatorError(f"unknown thread owner {owner!r}")
        forum = parent.type in (FORUM, MEDIA)
        if (not forum and parent.type not in MESSAGEABLE_TYPES) or parent.is_thread:
            raise EmulatorError(f"#{parent.name} cannot hold threads")
        if forum and (content is None or private or from_message is not None):
            raise EmulatorError("a forum post needs content, is public, has no parent message")
        if tags and not forum:
            raise EmulatorError("only forum posts carry tags")
        by_name = {t.name: t.id for t in parent.available_tags}
        tag_ids = []
        for tag in tags:
            tid = by_name.get(tag) if isinstance(tag, str) else _id(tag)
            if tid is None or tid not in by_name.values():
                raise EmulatorError(f"#{parent.name} has no tag {tag!r}")
            tag_ids.append(tid)
        start_ms = _ms(created_at)
        if from_message is not None:
            thread_id = _id(from_message)
            if thread_id not in parent.messages:
                raise EmulatorError(f"no message {thread_id} in #{parent.name}")
            start_ms = thread_id >> 22
        else:
            thread_id = self._next_id(start_ms)
        if start_ms > _ms(time.time()):
            raise EmulatorError(f"{created_at!r} is in the future")
        created = iso(snowflake_time(thread_id))
        kind = PRIVATE_THREAD if private else (NEWS_THREAD if parent.type == NEWS else None)
        thread = Channel(
            id=thread_id,
            type=kind or PUBLIC_THREAD,
            guild_id=parent.guild_id,
            name=name,
            parent_id=parent.id,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
            create_timestamp=created,
            archive_timestamp=created,
            applied_tags=tag_ids,
        )
        thread.thread_members[owner_id] = created
        for member in members:
            thread.thread_members.setdefault(_id(member), created)
        world.add_channel(thread)
        if forum:
            self._store(thread, [(thread_id, owner_id, content or "", None)])
            parent.last_message_id = max(parent.last_message_id or 0, thread_id)
        elif from_message is not None:
            flags = parent.messages.peek(thread_id)
            assert flags is not None
            parent.messages.annotate(
                thread_id, thread_id=thread_id, flags=flags.flags | messaging.FLAG_HAS_THREAD
            )
        elif not private:
            note = {
                "type": messaging.THREAD_CREATED,
                "message_reference": {
                    "type": 0,
                    "channel_id": str(thread_id),
                    "guild_id": str(parent.guild_id),
                },
            }
            self._store(parent, [(self._next_id(start_ms), owner_id, name, note)])
        self.messages(thread, messages)
        if archived:
            if archived_at is None:
                last = thread.messages.last_id() or thread_id
                when = snowflake_time(last) + dt.timedelta(minutes=auto_archive_duration)
                archived_at = min(when, dt.datetime.now(dt.UTC))
            thread.archived, thread.locked = True, locked
            thread.archive_timestamp = iso(_moment(archived_at))
        return thread


class HistoryMixin:
    """``emu.seed_history`` / ``emu.seed_thread``, mixed into :class:`~emulator.Emulator`."""

    world: World
    _seeder: Seeder | None = None

    @property
    def seeder(self) -> Seeder:
        if self._seeder is None or self._seeder.world is not self.world:
            self._seeder = Seeder(self.world)
        return self._seeder

    def seed_history(self, channel_id: Any, rows: Iterable[Any]) -> list[int]:
        """Place past messages in a channel or thread at once; their ids in input order.

        Rows: ``(author, content, at[, reactions])`` or mappings (see
        :meth:`Seeder.messages`). No gateway event is sent.
        """
        channel = self._history_channel(channel_id)
        return self.seeder.messages(channel, rows)

    def seed_thread(
        self, parent_id: Any, owner: Any, name: str, created_at: Any, **kw: Any
    ) -> Channel:
        """A past thread or forum post (see :meth:`Seeder.thread`); returns the channel."""
        return self.seeder.thread(self._history_channel(parent_id), owner, name, created_at, **kw)

    def _history_channel(self, channel_id: Any) -> Channel:
        try:
            return self.world.channels[_id(channel_id)]
        except KeyError:
            raise EmulatorError(f"unknown channel {channel_id!r}") from None


__all__ = ["HistoryMixin", "Seeder", "is_seeded_id"]
