"""Pydantic's validation errors turned into problems an operator can act on.

Each error becomes one :class:`ConfigProblem`: the dotted key path, what is wrong in plain
words (with a hint where a value is found, such as copying a Discord ID), and an example from
the schema. Values that may be secret are never repeated back.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import ValidationError

from bot.config.examples import FALLBACK_EXAMPLE, example_for
from bot.config.fields import EXAMPLE_ID
from bot.config.problems import PROBLEM, SNOWFLAKE, ConfigProblem, number, show
from bot.config.schema import Settings, model_at, model_in

# Keys whose values are never repeated back in messages.
_NO_ECHO: Final = frozenset({"discord.token_env", "database.url"})


def _format_key(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "config"


def _plain(parts: Sequence[str | int]) -> tuple[str, ...]:
    return tuple(part for part in parts if isinstance(part, str))


def _where_key_lives() -> dict[str, list[str]]:
    homes: dict[str, list[str]] = {}
    for section, field in Settings.model_fields.items():
        model = model_in(field.annotation)
        if model is None:
            continue
        label = "[[tiers]]" if section == "tiers" else f"[{section}]"
        for name in model.model_fields:
            homes.setdefault(name, []).append(label)
    return homes


_KEY_HOMES: Final = _where_key_lives()


def _id_hint(names: tuple[str, ...]) -> tuple[str, str] | None:
    """(what the ID is, how to copy it) for a snowflake key; None for other keys."""
    dev = "enable Developer Mode"
    path = ".".join(names)
    if path == "discord.guild_id":
        return "your server's ID", f"{dev}, right-click the server, Copy Server ID"
    if path in ("roles.moderators", "tiers.role_id"):
        return (
            "a role ID",
            f"{dev}, open Server Settings → Roles, right-click the role, Copy Role ID",
        )
    if path == "activity.ignored_categories":
        return "a category ID", f"{dev}, right-click the category, Copy Category ID"
    if path == "channels.help_forums":
        return "a forum channel ID", f"{dev}, right-click the forum channel, Copy Channel ID"
    if path.startswith("channels.") or path == "activity.ignored_channels":
        return "a channel ID", f"{dev}, right-click the channel, Copy Channel ID"
    return None


def _unknown_key(parts: Sequence[str | int], value: object) -> tuple[str, str]:
    """Message and example for a key no model accepts."""
    *parent, name = parts
    names = _plain(parent)
    top = not names
    word = "unknown section" if top and isinstance(value, Mapping) else "unknown key"
    if names == ("discord",) and str(name).lower() == "token":
        return (
            "unknown key: keep the bot token out of this file — put it in the environment "
            "variable named by token_env (DISCORD_TOKEN unless you changed it)",
            example_for(("discord", "token_env")),
        )
    model = model_at(parent)
    allowed = list(model.model_fields) if model is not None else []
    close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
    if close:
        return f"{word} (did you mean '{close[0]}'?)", example_for([*parent, close[0]])
    homes = _KEY_HOMES.get(str(name), [])
    if homes and not top:
        return f"{word}: '{name}' belongs in {' or '.join(homes)}", example_for(parent)
    if top and homes:
        return (
            f"{word}: '{name}' belongs in {' or '.join(homes)} — put it below that header",
            FALLBACK_EXAMPLE,
        )
    if names == ("points",):
        return (
            f"{word}; [points] sets the built-in kinds ({', '.join(allowed)}); a kind of your "
            "own takes its points in its [[kinds]] entry (points = …)",
            example_for(parent),
        )
    return f"{word}; allowed here: {', '.join(allowed)}", example_for(parent)


_TYPE_WORDS: Final[dict[str, str]] = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be text in quotes",
    "bool_type": "must be true or false (without quotes)",
    "bool_parsing": "must be true or false (without quotes)",
    "list_type": "must be a list in square brackets",
    "tuple_type": "must be a list in square brackets",
    "set_type": "must be a list in square brackets",
    "dict_type": "must be a table",
    "mapping_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dataclass_type": "must be a table",
    "path_type": "must be a file path in quotes",
}


def _message(error: Mapping[str, Any], parts: list[str | int], is_mapping_key: bool) -> str:
    kind: str = error["type"]
    context: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    names = _plain(parts)
    echo = ".".join(names) not in _NO_ECHO
    got = f" (got {show(value)})" if echo else ""

    if kind == PROBLEM:
        return str(context["message"])
    if kind == SNOWFLAKE:
        what, how = _id_hint(names) or (
            "a Discord ID",
            "enable Developer Mode, right-click it, Copy ID",
        )
        reason = context.get("reason")
        if reason == "zero":
            return f"must be {what} — {how}"
        if reason == "negative":
            return f"must be {what}, a positive whole number{got} — {how}"
        if reason == "range":
            return f"is too large to be a Discord ID{got}"
        return f"must be {what}, a whole number like {EXAMPLE_ID}{got} — {how}"
    if kind == "missing":
        id_hint = _id_hint(names)
        if id_hint is not None:
            return f"is required: {id_hint[0]} — {id_hint[1]}"
        return "is required"
    if kind == "literal_error":
        expected = str(context.get("expected", "?")).replace("'", "")
        return f"must be one of {expected}{got}"
    if kind == "value_error":
        return str(context.get("error", error.get("msg", "is not valid")))
    if kind in _TYPE_WORDS:
        words = _TYPE_WORDS[kind]
        if kind in ("model_type", "dict_type", "model_attributes_type") and len(parts) == 1:
            words = f"must be a section: write [{parts[0]}] on a line of its own"
        elif kind == "model_type" and names == ("tiers",):
            words = "must be a table: write each tier under its own [[tiers]] header"
        elif kind == "tuple_type" and names == ("tiers",):
            words = "must be an array of tables: write each tier under its own [[tiers]] header"
        if isinstance(value, bool) and kind.startswith(("int", "float")):
            return f"{words}, not {show(value)}"
        return f"{words}{got}"
    if kind == "greater_than_equal":
        return f"must be {number(context['ge'])} or more{got}"
    if kind == "greater_than":
        return f"must be more than {number(context['gt'])}{got}"
    if kind == "less_than_equal":
        return f"must be {number(context['le'])} or less{got}"
    if kind == "less_than":
        return f"must be less than {number(context['lt'])}{got}"
    if kind == "string_pattern_mismatch":
        if names[-1:] == ("key",):
            return (
                "must be a short lowercase name: a letter, then letters, digits or _ "
                f"(at most 32 characters){got}"
            )
        return f"must match the pattern {context.get('pattern')}{got}"
    if kind == "string_too_short":
        return "must not be empty"
    msg = str(error.get("msg", "is not valid"))
    return (msg[:1].lower() + msg[1:]) + got


def problems_from(exc: ValidationError) -> list[ConfigProblem]:
    """One problem per error in ``exc``, in pydantic's order."""
    problems: list[ConfigProblem] = []
    for error in exc.errors(include_url=False):
        context = error.get("ctx") or {}
        parts: list[str | int] = list(error["loc"])
        if error["type"] == PROBLEM and context.get("field"):
            parts.append(str(context["field"]))
        is_mapping_key = bool(parts) and parts[-1] == "[key]"
        if is_mapping_key:
            parts.pop()
        if error["type"] == "extra_forbidden":
            message, example = _unknown_key(parts, error.get("input"))
        else:
            message, example = _message(error, parts, is_mapping_key), example_for(parts)
        problems.append(ConfigProblem(_format_key(parts), message, example))
    return problems
