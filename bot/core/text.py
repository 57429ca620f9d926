"""Small text helpers every message shares: clipping to Discord's limits, articles, bullets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

#: Discord's limits on what the bot sends.
MESSAGE_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_LIMIT = 1024


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_article(name: str) -> str:
    """A name with its article: "a Champion", "an Ambassador"."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def day_label(when: datetime, tz: tzinfo) -> str:
    """The local day of ``when``, as messages name it: "3 Mar 2026"."""
    local = when.astimezone(tz)
    return f"{local.day} {local:%b %Y}"


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)
