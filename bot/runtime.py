"""Process tuning for a long-running bot."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Take every object alive now out of the garbage collector's full passes; return the count.

    After start-up the heap holds the libraries, the cogs and the member cache: objects that
    live as long as the process. CPython's full collections walk them all again every few
    thousand messages (bench/README.md: a fifth of ingestion time at 5,000 members). Frozen
    objects are still freed by reference counting; only reference cycles among them are kept
    until exit, which for start-up objects is their lifetime anyway.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
