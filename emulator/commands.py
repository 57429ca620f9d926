"""Application command registry: validation, id/version assignment, lookup.

Validation mirrors Discord's so a bad ``tree.sync()`` fails here the way it would
in production (50035 with the offending path), instead of passing silently.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ApiError, field_error, form_error
from .world import World

CHAT_INPUT, USER, MESSAGE = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER_OPT, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
NAME_RE = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")
LIMITS = {CHAT_INPUT: 100, USER: 15, MESSAGE: 15}
KEEP_KEYS = (
    "name_localizations",
    "description_localizations",
    "default_member_permissions",
    "nsfw",
    "contexts",
    "integration_types",
    "handler",
)


def _bad_name(name: Any, *, lowercase: bool) -> bool:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return True
    return lowercase and name != name.lower()


def _option_errors(options: list[dict[str, Any]], depth: int) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    if len(options) > 25:
        return {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}
            ]
        }
    seen: set[str] = set()
    optional_seen = False
    for i, opt in enumerate(options):
        e: dict[str, Any] = {}
        otype = opt.get("type")
        name = opt.get("name")
        if _bad_name(name, lowercase=True):
            e["name"] = field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif name in seen:
            e["name"] = field_error(
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option name already exists"
            )
        seen.add(str(name))
        desc = opt.get("description")
        if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
            e["description"] = field_error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if otype in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if depth >= (1 if otype == SUB_COMMAND_GROUP else 2):
                e["type"] = field_error(
                    "APPLICATION_COMMAND_OPTION_TYPE_INVALID_NESTING", "Invalid nesting"
                )
            sub = _option_errors(opt.get("options") or [], depth + 1)
            if sub:
                e["options"] = sub
        elif otype in range(3, 12):
            if opt.get("required"):
                if optional_seen:
                    e["required"] = field_error(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True
            choices = opt.get("choices") or []
            if len(choices) > 25:
                e["choices"] = field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if choices and opt.get("autocomplete"):
                e["autocomplete"] = field_error(
                    "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                    "Autocomplete cannot be set with choices",
                )
        else:
            e["type"] = field_error("BASE_TYPE_CHOICES", "Value must be one of {1..11}.")
        if e:
            errors[str(i)] = e
    return errors


def validate(cmd: dict[str, Any]) -> dict[str, Any]:
    """Field errors for one command payload (empty dict when valid)."""
    errors: dict[str, Any] = {}
    ctype = int(cmd.get("type") or CHAT_INPUT)
    name = cmd.get("name")
    if ctype == CHAT_INPUT:
        if _bad_name(name, lowercase=True):
            errors["name"] = field_error(
                "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        desc = cmd.get("description")
        if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
            errors["description"] = field_error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        opt_errors = _option_errors(cmd.get("options") or [], 0)
        if opt_errors:
            errors["options"] = opt_errors
    elif ctype in (USER, MESSAGE):
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            errors["name"] = field_error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
        if cmd.get("description"):
            errors["description"] = field_error(
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            )
        if cmd.get("options"):
            errors["options"] = field_error(
                "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
                "Context menu commands cannot have options",
            )
    else:
        errors["type"] = field_error("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.")
    return errors


def _clean_option(opt: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in opt.items() if v is not None}
    if out.get("required") is False:
        del out["required"]
    if "options" in out:
        out["options"] = [_clean_option(o) for o in out["options"]]
    return out


class CommandRegistry:
    """Commands per scope: ``None`` for global, else a guild id."""

    def __init__(self, world: World) -> None:
        self.world = world

    @property
    def app_id(self) -> int:
        assert self.world.application is not None
        return self.world.application.id

    def scope(self, guild_id: int | None) -> dict[int, dict[str, Any]]:
        return self.world.commands.setdefault(guild_id, {})

    def _build(
        self, body: dict[str, Any], guild_id: int | None, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        ctype = int(body.get("type") or CHAT_INPUT)
        cmd: dict[str, Any] = {
            "id": existing["id"] if existing else str(self.world.new_id()),
            "application_id": str(self.app_id),
            "version": str(self.world.new_id()),
            "type": ctype,
            "name": body["name"],
            "description": body.get("description") or "",
            "default_member_permissions": None,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
        }
        for key in KEEP_KEYS:
            if key in body:
                cmd[key] = body[key]
        if cmd["integration_types"] is None:  # sent as null: Discord answers the default
            cmd["integration_types"] = [0]
        if cmd.get("default_member_permissions") is not None:
            cmd["default_member_permissions"] = str(cmd["default_member_permissions"])
        if body.get("options"):
            cmd["options"] = [_clean_option(o) for o in body["options"]]
        if guild_id is not None:
            cmd["guild_id"] = str(guild_id)
        else:
            cmd["dm_permission"] = body.get("dm_permission", True) is not False
        if existing and _same_definition(existing, cmd):
            cmd["version"] = existing["version"]
        return cmd

    def bulk_overwrite(self, guild_id: int | None, bodies: list[dict[str, Any]]) -> list[dict]:
        if not isinstance(bodies, list):
            raise form_error(
                {"_errors": [{"code": "BASE_TYPE_ARRAY", "message": "Must be an array."}]}
            )
        errors: dict[str, Any] = {}
        seen: set[tuple[int, str]] = set()
        counts: dict[int, int] = {}
        for i, body in enumerate(bodies):
            e = validate(body)
            key = (int(body.get("type") or CHAT_INPUT), str(body.get("name")))
            if key in seen and "name" not in e:
                e["name"] = field_error(
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[1]}",
                )
            seen.add(key)
            counts[key[0]] = counts.get(key[0], 0) + 1
            if e:
                errors[str(i)] = e
        for ctype, count in counts.items():
            if count > LIMITS.get(ctype, 100):
                errors.setdefault("_errors", []).append(
                    {
                        "code": "APPLICATION_COMMAND_TOO_MANY",
                        "message": "Too many application commands",
                    }
                )
        if errors:
            raise form_error(errors)
        scope = self.scope(guild_id)
        by_key = {(c["type"], c["name"]): c for c in scope.values()}
        new_scope: dict[int, dict[str, Any]] = {}
        for body in bodies:
            ctype = int(body.get("type") or CHAT_INPUT)
            cmd = self._build(body, guild_id, by_key.get((ctype, body["name"])))
            new_scope[int(cmd["id"])] = cmd
        self.world.commands[guild_id] = new_scope
        return list(new_scope.values())

    def upsert(self, guild_id: int | None, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        e = validate(body)
        if e:
            raise form_error(e)
        scope = self.scope(guild_id)
        ctype = int(body.get("type") or CHAT_INPUT)
        existing = next(
            (c for c in scope.values() if (c["type"], c["name"]) == (ctype, body["name"])), None
        )
        cmd = self._build(body, guild_id, existing)
        scope[int(cmd["id"])] = cmd
        return cmd, existing is None

    def get(self, guild_id: int | None, command_id: int | str) -> dict[str, Any]:
        try:
            return self.scope(guild_id)[int(command_id)]
        except (KeyError, ValueError):
            raise ApiError(10063) from None

    def edit(self, guild_id: int | None, command_id: int | str, body: dict[str, Any]) -> dict:
        current = self.get(guild_id, command_id)
        merged = {**current, **{k: v for k, v in body.items() if k != "id"}}
        e = validate(merged)
        if e:
            raise form_error(e)
        cmd = self._build(merged, guild_id, current)
        self.scope(guild_id)[int(cmd["id"])] = cmd
        return cmd

    def delete(self, guild_id: int | None, command_id: int | str) -> None:
        self.get(guild_id, command_id)
        del self.scope(guild_id)[int(command_id)]

    def find(self, guild_id: int | None, name: str, ctype: int) -> dict[str, Any] | None:
        """Guild command first, then global - what a Discord client would show."""
        scopes = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for cmd in self.world.commands.get(scope, {}).values():
                if cmd["name"] == name and cmd["type"] == ctype:
                    return cmd
        return None


def _same_definition(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ignore = {"id", "version", "application_id"}
    return {k: v for k, v in a.items() if k not in ignore} == {
        k: v for k, v in b.items() if k not in ignore
    }
