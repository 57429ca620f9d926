"""Recognising a replayed gateway event in memory, before any database work."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """The last ``capacity`` ids seen (interactions, events), oldest forgotten first.

    Discord may deliver an event again after a resume; an id seen here was already handled.
    Bounded, so a long-running bot doesn't grow with every interaction it ever saw.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, id_: int) -> bool:
        """Remember ``id_``; False if it was already remembered (a replay)."""
        if id_ in self._ids:
            return False
        self._ids[id_] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True
