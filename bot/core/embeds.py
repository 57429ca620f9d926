"""Discord's embed limits, applied before anything is sent.

Discord rejects a whole message when one embed breaks a limit, so posts are shaped here first:
:func:`fit` turns any :class:`EmbedSpec` into embeds that are valid on their own, and
:func:`paginate` groups them into messages that are valid too. Nothing is dropped silently: a
long description is split at line breaks into continuation embeds, surplus fields move on to the
next embed, and only text that must fit one slot (title, field name or value, footer) is
shortened, always ending in "…".

Pure: the cog turns the specs into ``discord.Embed`` objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

__all__ = [
    "DESCRIPTION_MAX",
    "ELLIPSIS",
    "EMBEDS_PER_MESSAGE",
    "EMBED_TOTAL_MAX",
    "FIELDS_MAX",
    "FIELD_NAME_MAX",
    "FIELD_VALUE_MAX",
    "FOOTER_MAX",
    "TITLE_MAX",
    "EmbedField",
    "EmbedSpec",
    "embed_chars",
    "fit",
    "line_fields",
    "message_chars",
    "paginate",
    "truncate",
]

TITLE_MAX: Final = 256
DESCRIPTION_MAX: Final = 4096
FIELDS_MAX: Final = 25
FIELD_NAME_MAX: Final = 256
FIELD_VALUE_MAX: Final = 1024
FOOTER_MAX: Final = 2048
EMBED_TOTAL_MAX: Final = 6000
EMBEDS_PER_MESSAGE: Final = 10

ELLIPSIS: Final = "…"
CONTINUED: Final = " (continued)"
#: Discord refuses empty field names and values; this shows as nothing.
BLANK: Final = "\u200b"
#: Joins an embed's own footer and the part footer :func:`paginate` adds.
FOOTER_SEPARATOR: Final = " · "
#: How far back from the cut :func:`truncate` looks for a space to cut at instead.
_WORD_BOUNDARY_WINDOW: Final = 40


@dataclass(frozen=True)
class EmbedField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class EmbedSpec:
    title: str = ""
    description: str = ""
    fields: tuple[EmbedField, ...] = field(default=())
    footer: str = ""
    url: str | None = None
    image_url: str | None = None
    color: int | None = None


def embed_chars(spec: EmbedSpec) -> int:
    """Characters Discord counts towards the 6000 limit (title, description, fields, footer)."""
    return (
        len(spec.title)
        + len(spec.description)
        + sum(len(f.name) + len(f.value) for f in spec.fields)
        + len(spec.footer)
    )


def message_chars(specs: Iterable[EmbedSpec]) -> int:
    """Characters of all embeds of one message: Discord applies the 6000 limit to the sum."""
    return sum(embed_chars(spec) for spec in specs)


def truncate(text: str, limit: int) -> str:
    """``text`` if it fits, else a prefix ending in "…" of at most ``limit`` characters.

    Cuts at a space near the limit when there is one, so words are not chopped in half.
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    if limit == 1:
        return ELLIPSIS
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= max(1, len(cut) - _WORD_BOUNDARY_WINDOW):
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def fit(spec: EmbedSpec) -> list[EmbedSpec]:
    """``spec`` as one or more embeds that each respect every Discord limit. Never raises.

    The first embed keeps the title, URL and image; continuation embeds are titled
    "<title> (continued)"; the footer goes on the last one and the colour on all.
    """
    return _fit(spec, reserve=0)


def paginate(
    specs: Sequence[EmbedSpec], *, footer: Callable[[int, int], str] | None = None
) -> list[list[EmbedSpec]]:
    """Fitted embeds grouped into messages of at most 10 embeds and 6000 characters.

    ``footer(i, n)`` (part ``i`` of ``n``, 1-based) is added to the footer of the last embed of
    each message, after the embed's own footer, and counted in the limits. An empty string
    leaves the footer as it is.
    """
    if not specs:
        return []
    if footer is None:
        return _group([e for spec in specs for e in _fit(spec, reserve=0)], reserve=0)
    parts = 1
    for _ in range(6):
        texts = [footer(i, parts) for i in range(1, parts + 1)]
        reserve = min(FOOTER_MAX, max(len(FOOTER_SEPARATOR) + len(text) for text in texts))
        groups = _group([e for spec in specs for e in _fit(spec, reserve=reserve)], reserve)
        if len(groups) == parts:
            return _with_footers(groups, footer)
        parts = len(groups)
    # A footer whose length swings with the part count: reserve the most a footer can take.
    groups = _group([e for spec in specs for e in _fit(spec, reserve=FOOTER_MAX)], FOOTER_MAX)
    return _with_footers(groups, footer)


def line_fields(name: str, lines: Sequence[str], *, inline: bool = False) -> tuple[EmbedField, ...]:
    """Fields named ``name`` holding ``lines``, as many as needed to keep every line.

    A list too long for one field value continues in fields named "<name> (continued)" instead
    of being cut off; only a single line longer than a field value is truncated.
    """
    values: list[str] = []
    current = ""
    for line in (truncate(line, FIELD_VALUE_MAX) for line in lines):
        if current and len(current) + 1 + len(line) > FIELD_VALUE_MAX:
            values.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not values:
        values.append(current)
    continued = truncate(name, FIELD_NAME_MAX - len(CONTINUED)) + CONTINUED
    return tuple(
        EmbedField(name=name if i == 0 else continued, value=value, inline=inline)
        for i, value in enumerate(values)
    )


# --------------------------------------------------------------------------------------------
# Fitting one spec
# --------------------------------------------------------------------------------------------


def _fit(spec: EmbedSpec, *, reserve: int) -> list[EmbedSpec]:
    """Like :func:`fit`, leaving ``reserve`` characters free in each embed (for a part footer)."""
    title = truncate(spec.title, TITLE_MAX)
    continued = truncate(spec.title, TITLE_MAX - len(CONTINUED)) + CONTINUED if spec.title else ""
    footer = truncate(spec.footer, FOOTER_MAX)
    fields = tuple(_fit_field(f) for f in spec.fields)
    # Every embed may end up last, so each keeps room for the footer (and the part footer).
    budget = EMBED_TOTAL_MAX - len(footer) - reserve
    chunk_max = min(DESCRIPTION_MAX, budget - max(len(title), len(continued)))
    chunks = _split_text(spec.description, chunk_max) or [""]

    pieces: list[EmbedSpec] = [
        EmbedSpec(title=title if i == 0 else continued, description=chunk, color=spec.color)
        for i, chunk in enumerate(chunks)
    ]
    pieces[0] = replace(pieces[0], url=spec.url, image_url=spec.image_url)
    for f in fields:
        current = pieces[-1]
        if len(current.fields) >= FIELDS_MAX or embed_chars(current) + _field_chars(f) > budget:
            current = EmbedSpec(title=continued, color=spec.color)
            pieces.append(current)
        pieces[-1] = replace(current, fields=(*current.fields, f))
    pieces[-1] = replace(pieces[-1], footer=footer)
    return pieces


def _fit_field(f: EmbedField) -> EmbedField:
    name = truncate(f.name, FIELD_NAME_MAX) if f.name.strip() else BLANK
    value = truncate(f.value, FIELD_VALUE_MAX) if f.value.strip() else BLANK
    return EmbedField(name=name, value=value, inline=f.inline)


def _field_chars(f: EmbedField) -> int:
    return len(f.name) + len(f.value)


def _split_text(text: str, limit: int) -> list[str]:
    """``text`` in chunks of at most ``limit`` characters, split at line breaks when possible.

    Lossless apart from the whitespace at chunk edges; chunks of only whitespace are left out.
    """
    chunks: list[str] = []
    current = ""
    for line in _short_lines(text, limit):
        if not current:
            current = line
        elif len(current) + 1 + len(line) <= limit:
            current = f"{current}\n{line}"
        else:
            chunks.append(current)
            current = line
    chunks.append(current)
    stripped = (chunk.strip() for chunk in chunks)
    return [chunk for chunk in stripped if chunk]


def _short_lines(text: str, limit: int) -> Iterable[str]:
    """The lines of ``text``, any longer than ``limit`` broken at spaces (or hard, if none)."""
    for line in text.split("\n"):
        while len(line) > limit:
            space = line.rfind(" ", 1, limit + 1)
            cut = space if space > 0 else limit
            yield line[:cut]
            line = line[cut:].lstrip(" ")
        yield line


# --------------------------------------------------------------------------------------------
# Grouping into messages
# --------------------------------------------------------------------------------------------


def _group(embeds: Sequence[EmbedSpec], reserve: int) -> list[list[EmbedSpec]]:
    groups: list[list[EmbedSpec]] = []
    current: list[EmbedSpec] = []
    total = 0
    for embed in embeds:
        size = embed_chars(embed)
        if current and (
            len(current) >= EMBEDS_PER_MESSAGE or total + size + reserve > EMBED_TOTAL_MAX
        ):
            groups.append(current)
            current, total = [], 0
        current.append(embed)
        total += size
    if current:
        groups.append(current)
    return groups


def _with_footers(
    groups: list[list[EmbedSpec]], footer: Callable[[int, int], str]
) -> list[list[EmbedSpec]]:
    parts = len(groups)
    for index, group in enumerate(groups, start=1):
        text = footer(index, parts)
        if text:
            group[-1] = replace(group[-1], footer=_join_footer(group[-1].footer, text))
    return groups


def _join_footer(own: str, part: str) -> str:
    """``own · part`` in at most FOOTER_MAX characters; ``own`` gives way first."""
    part = truncate(part, FOOTER_MAX)
    if not own:
        return part
    room = FOOTER_MAX - len(FOOTER_SEPARATOR) - len(part)
    if room <= 0:
        return part
    return truncate(own, room) + FOOTER_SEPARATOR + part
