"""Contribution kinds as slash-command choices: autocomplete from the server's kind table.

Static choices are fixed when commands sync and cap at 25; a server's ``[[kinds]]`` can add
more, so every kind parameter autocompletes from ``Settings.kinds`` instead, and the command
checks the value it gets (autocomplete only suggests) with :func:`chosen_kind`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from discord import app_commands

from bot.core.kinds import Kind, KindTable
from bot.errors import UserFacingError

#: Discord shows at most 25 suggestions.
MAX_CHOICES = 25


def matching(rows: Iterable[Kind], current: str, name: Callable[[Kind], str]) -> list[Kind]:
    """The kinds whose key or shown name contains ``current`` (any case), in table order."""
    needle = current.strip().lower()
    return [row for row in rows if needle in row.key or needle in name(row).lower()]


def kind_choices(
    rows: Iterable[Kind],
    current: str,
    *,
    name: Callable[[Kind], str] = lambda row: row.label,
    first: tuple[app_commands.Choice[str], ...] = (),
) -> list[app_commands.Choice[str]]:
    """Up to 25 choices for what the member typed so far (``first`` always leads)."""
    needle = current.strip().lower()
    lead = [choice for choice in first if needle in choice.name.lower() or needle in choice.value]
    found = [
        app_commands.Choice(name=name(row)[:100], value=row.key)
        for row in matching(rows, current, name)
    ]
    return (lead + found)[:MAX_CHOICES]


def key_of(rows: Iterable[Kind], value: str) -> str:
    """The key of the kind ``value`` names (its key or its label, any case), else ``value``
    as typed, for the service to refuse with its own message."""
    wanted = value.strip().lower()
    return next((row.key for row in rows if wanted in (row.key, row.label.lower())), value)


def chosen_kind(table: KindTable, value: str) -> Kind:
    """The kind a member picked (by key or label), or a message naming every kind."""
    found = table.find(key_of(table, value))
    if found is not None:
        return found
    names = ", ".join(row.label for row in table)
    raise UserFacingError(f"There is no kind {value[:50]!r} here. Pick one of: {names}.")
