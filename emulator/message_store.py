"""A channel's messages in id order, with a compact form for seeded history.

Live messages (sent through REST, actors or interactions) are :class:`~emulator.world.Message`
objects. History placed by :mod:`emulator.history` is kept as parallel arrays (id, author,
content) plus a sparse dict of extras, because a million ``Message`` dataclasses would cost
close to a gigabyte. A seeded row becomes a ``Message`` the first time something asks for it
by id through the mapping (and stays one, so edits and reactions stick); history pages and
payload rendering use :meth:`MessageStore.peek`, which builds a throwaway copy instead.

``order`` holds every id, live and seeded, ascending, so pages are bisections, not sorts.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from .snowflake import iso, snowflake_time

if TYPE_CHECKING:
    from .world import Message

#: Seeded ids carry this worker id; live ids come from worker 1, so the two never collide.
SEED_WORKER = 2


def is_seeded_id(message_id: int) -> bool:
    return (message_id >> 17) & 0x1F == SEED_WORKER


class MessageStore(MutableMapping[int, "Message"]):
    """``id -> Message`` for one channel; iteration is in id order (oldest first)."""

    __hash__ = object.__hash__  # identity, like any channel-owned container

    def __eq__(self, other: object) -> bool:
        return self is other

    def __init__(self) -> None:
        self.channel_id = 0
        self.guild_id: int | None = None
        self._live: dict[int, Message] = {}
        self.order = array("q")
        self._seed_ids = array("q")
        self._seed_authors = array("q")
        self._seed_content: list[str] = []
        self._seed_extra: dict[int, dict[str, Any]] = {}
        self._gone: set[int] = set()  # seeded ids deleted since

    # --------------------------------------------------------------- mapping
    def __getitem__(self, message_id: int) -> Message:
        msg = self._live.get(message_id)
        if msg is not None:
            return msg
        row = self._seed_row(message_id)
        if row is None:
            raise KeyError(message_id)
        msg = self._build(message_id, row)
        self._live[message_id] = msg
        return msg

    def __setitem__(self, message_id: int, msg: Message) -> None:
        if message_id not in self:
            if not self.order or message_id > self.order[-1]:
                self.order.append(message_id)
            else:
                insort(self.order, message_id)
        self._live[message_id] = msg

    def __delitem__(self, message_id: int) -> None:
        if message_id not in self:
            raise KeyError(message_id)
        self._live.pop(message_id, None)
        if self._seed_row(message_id) is not None:
            self._gone.add(message_id)
        del self.order[bisect_left(self.order, message_id)]

    def __contains__(self, message_id: object) -> bool:
        if not isinstance(message_id, int):
            return False
        return message_id in self._live or self._seed_row(message_id) is not None

    def __iter__(self) -> Iterator[int]:
        return iter(list(self.order))

    def __len__(self) -> int:
        return len(self.order)

    # ----------------------------------------------------------------- reads
    def peek(self, message_id: int) -> Message | None:
        """The message, without turning a seeded row into a kept object (for reads)."""
        msg = self._live.get(message_id)
        if msg is not None:
            return msg
        row = self._seed_row(message_id)
        return None if row is None else self._build(message_id, row)

    def page(
        self,
        limit: int,
        *,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> list[int]:
        """Ids of one history page, newest first, as ``GET /channels/{id}/messages`` answers."""
        order = self.order
        if around is not None:
            # Discord centres the page on ``around`` (included when it exists).
            mid = bisect_right(order, around)
            chosen = order[max(0, mid - (limit // 2 + limit % 2)) : mid + limit // 2]
        elif after is not None:
            start = bisect_right(order, after)
            chosen = order[start : start + limit]
        else:
            end = len(order) if before is None else bisect_left(order, before)
            chosen = order[max(0, end - limit) : end]
        return list(reversed(chosen))

    @property
    def objects(self) -> int:
        """How many messages are held as ``Message`` objects (the rest are seeded rows)."""
        return len(self._live)

    def last_id(self) -> int | None:
        return self.order[-1] if self.order else None

    # --------------------------------------------------------------- seeding
    def seed(self, rows: list[tuple[int, int, str, dict[str, Any] | None]]) -> None:
        """Add ``(id, author_id, content, extra)`` rows (ids new, any order) in one go."""
        if not rows:
            return
        rows.sort(key=lambda r: r[0])
        ids = array("q", (r[0] for r in rows))
        appending = not self._seed_ids or ids[0] > self._seed_ids[-1]
        if appending:
            self._seed_ids.extend(ids)
            self._seed_authors.extend(r[1] for r in rows)
            self._seed_content.extend(r[2] for r in rows)
        else:
            merged = sorted(
                [
                    *zip(self._seed_ids, self._seed_authors, self._seed_content, strict=True),
                    *((r[0], r[1], r[2]) for r in rows),
                ]
            )
            self._seed_ids = array("q", (r[0] for r in merged))
            self._seed_authors = array("q", (r[1] for r in merged))
            self._seed_content = [r[2] for r in merged]
        for r in rows:
            if r[3]:
                self._seed_extra[r[0]] = r[3]
        if not self.order or ids[0] > self.order[-1]:
            self.order.extend(ids)
        else:
            self.order = array("q", sorted([*self.order, *ids]))

    def annotate(self, message_id: int, **fields: Any) -> None:
        """Set fields (``thread_id``, ``flags``, ...) on a message, seeded row or not."""
        msg = self._live.get(message_id)
        if msg is not None:
            for key, value in fields.items():
                setattr(msg, key, value)
        elif self._seed_row(message_id) is not None:
            self._seed_extra.setdefault(message_id, {}).update(fields)
        else:
            raise KeyError(message_id)

    def _seed_row(self, message_id: int) -> tuple[int, str, dict[str, Any] | None] | None:
        ids = self._seed_ids
        if not ids or not is_seeded_id(message_id):
            return None
        i = bisect_left(ids, message_id)
        if i == len(ids) or ids[i] != message_id or message_id in self._gone:
            return None
        return self._seed_authors[i], self._seed_content[i], self._seed_extra.get(message_id)

    def _build(self, message_id: int, row: tuple[int, str, dict[str, Any] | None]) -> Message:
        from .world import Message, Reaction

        author_id, content, extra = row
        msg = Message(
            id=message_id,
            channel_id=self.channel_id,
            guild_id=self.guild_id,
            author_id=author_id,
            content=content,
            timestamp=iso(snowflake_time(message_id)),
        )
        if extra:
            msg.type = extra.get("type", msg.type)
            msg.flags = extra.get("flags", msg.flags)
            msg.message_reference = extra.get("message_reference")
            msg.thread_id = extra.get("thread_id")
            msg.mention_ids = list(extra.get("mention_ids", ()))
            for key, (emoji, users) in extra.get("reactions", {}).items():
                msg.reactions[key] = Reaction(dict(emoji), list(users))
        return msg


class MessageIndex(dict[int, "Message"]):
    """The world's ``id -> Message`` for every live message, which also finds seeded ones.

    Lookups by id (``get``, ``[]``, ``in``) reach seeded history by asking the stores that
    hold some; iterating (``values()``, ``items()``) lists only messages sent while the
    emulator ran, never seeded history.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seeded: list[MessageStore] = []

    def _store_of(self, message_id: int) -> MessageStore | None:
        if is_seeded_id(message_id):
            for store in self.seeded:
                if message_id in store:
                    return store
        return None

    def __missing__(self, message_id: int) -> Message:
        store = self._store_of(message_id)
        if store is None:
            raise KeyError(message_id)
        return store[message_id]

    def get(self, message_id: int, default: Any = None) -> Any:
        try:
            return self[message_id]
        except KeyError:
            return default

    def __contains__(self, message_id: object) -> bool:
        if super().__contains__(message_id):
            return True
        return isinstance(message_id, int) and self._store_of(message_id) is not None

    def peek(self, message_id: int) -> Message | None:
        """Like ``get``, without keeping a seeded message as an object (for rendering)."""
        msg = super().get(message_id)
        if msg is not None:
            return msg
        store = self._store_of(message_id)
        return None if store is None else store.peek(message_id)
