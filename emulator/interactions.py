"""Interactions: building the INTERACTION_CREATE payloads and tracking replies.

Tests get an :class:`InteractionRecord` back from every invoke; the callback and
webhook routes fill it in (initial response, follow-ups, edits) and wake waiters.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import payloads
from . import permissions as perms
from .commands import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER_OPT,
)
from .errors import EmulatorError
from .messaging import FLAG_EPHEMERAL
from .world import Channel, Guild, Member, User

if TYPE_CHECKING:
    from .server import Emulator

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

# Callback types
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9


class InteractionRecord:
    """One interaction sent to the bot and everything the bot answered."""

    def __init__(self, emu: Emulator, payload: dict[str, Any], *, user_id: int) -> None:
        self.emu = emu
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.data: dict[str, Any] = payload.get("data") or {}
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.channel_id = int(payload["channel_id"]) if payload.get("channel_id") else None
        self.user_id = user_id
        self.created_at = asyncio.get_running_loop().time()
        self.response: dict[str, Any] | None = None
        self.response_type: int | None = None
        self.original_message_id: int | None = None
        self.component_message_id: int | None = (
            int(payload["message"]["id"]) if payload.get("message") else None
        )
        self.followup_ids: list[int] = []
        self.edits: list[dict[str, Any]] = []
        self.original_deleted = False
        self.modal: dict[str, Any] | None = None
        self.choices: list[dict[str, Any]] | None = None
        self._changed = asyncio.Event()

    # ---------------------------------------------------------------- state
    @property
    def responded(self) -> bool:
        return self.response is not None

    @property
    def ephemeral(self) -> bool:
        data = (self.response or {}).get("data") or {}
        return bool(int(data.get("flags") or 0) & 64)

    @property
    def original(self) -> dict[str, Any] | None:
        """Current state of the original response message (after edits)."""
        if self.original_message_id is None or self.original_deleted:
            return None
        msg = self.emu.world.messages.get(self.original_message_id)
        return payloads.message(self.emu.world, msg) if msg else None

    @property
    def followups(self) -> list[dict[str, Any]]:
        out = []
        for mid in self.followup_ids:
            msg = self.emu.world.messages.get(mid)
            if msg is not None:
                out.append(payloads.message(self.emu.world, msg))
        return out

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[InteractionRecord], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"interaction {self.id}: condition not met in {timeout}s")
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_response(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The initial callback body ``{"type": ..., "data": ...}``."""
        await self.wait_for(lambda r: r.responded, timeout)
        assert self.response is not None
        return self.response

    async def wait_answer(self, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The bot's answer as if it had come in time: ``{"type": ..., "data": ...}`` like
        :meth:`wait_response`, with a deferral followed to what completed it.

        A bot may defer first and answer later (Discord's 3-second window on a busy machine).
        A deferred command ("thinking", type 5) is completed by editing its loading message,
        or by a follow-up: that reads as a message (type 4) with the visibility it ended with.
        A deferred click (type 6) is completed by editing the clicked message (an update, type
        7) or by a follow-up (type 4). Read answers through this unless the deferral itself is
        what a test checks.
        """
        body = await self.wait_response(timeout)
        if body["type"] not in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE):
            return body
        await self.wait_for(lambda r: bool(r.edits or r.followup_ids), timeout)
        if not self.edits:
            return {"type": CHANNEL_MESSAGE, "data": self.followups[0]}
        data = dict(self.edits[0])
        if body["type"] == DEFERRED_UPDATE:
            return {"type": UPDATE_MESSAGE, "data": data}
        thinking_flags = int((body.get("data") or {}).get("flags") or 0)
        data["flags"] = int(data.get("flags") or 0) | (thinking_flags & FLAG_EPHEMERAL)
        return {"type": CHANNEL_MESSAGE, "data": data}

    async def wait_followup(self, count: int = 1, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The ``count``-th follow-up message (1-based)."""
        await self.wait_for(lambda r: len(r.followup_ids) >= count, timeout)
        return self.followups[count - 1]

    async def wait_edit(self, count: int = 1, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The ``count``-th edit body sent for the original response."""
        await self.wait_for(lambda r: len(r.edits) >= count, timeout)
        return self.edits[count - 1]

    def __repr__(self) -> str:
        return f"<InteractionRecord id={self.id} type={self.type} responded={self.responded}>"


class InteractionBuilder:
    """Builds interaction payloads from test inputs and the synced commands."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    @property
    def world(self):
        return self.emu.world

    def base(self, itype: int, guild: Guild | None, channel: Channel, user: User) -> dict[str, Any]:
        world = self.world
        app = world.application
        assert app is not None
        payload: dict[str, Any] = {
            "id": str(world.new_id()),
            "application_id": str(app.id),
            "type": itype,
            "token": "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "channel_id": str(channel.id),
        }
        if guild is not None:
            member = guild.members.get(user.id)
            if member is None:
                raise EmulatorError(f"user {user.id} is not a member of guild {guild.id}")
            bot = world.bot_member(guild)
            user_perms = perms.channel_permissions(guild, member, channel)
            app_perms = perms.channel_permissions(guild, bot, channel) if bot else 0
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": {
                        "id": str(guild.id),
                        "locale": guild.preferred_locale,
                        "features": list(guild.features),
                    },
                    "guild_locale": guild.preferred_locale,
                    "member": payloads.member_with_permissions(world, guild, member, channel),
                    "app_permissions": str(app_perms),
                    "channel": payloads.partial_channel_with_permissions(
                        world, channel, user_perms
                    ),
                    "authorizing_integration_owners": {"0": str(guild.id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": payloads.user(user),
                    "app_permissions": str(perms.ALL),
                    "channel": payloads.channel(world, channel),
                    "authorizing_integration_owners": {"0": str(0)},
                    "context": 1,
                }
            )
        return payload

    # ------------------------------------------------------------ options
    def resolve_path(
        self, command: dict[str, Any], path: list[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Walk "group sub" names; returns (nesting wrappers, leaf option schema)."""
        schema = command.get("options") or []
        wrappers: list[dict[str, Any]] = []
        for name in path:
            match = next(
                (
                    o
                    for o in schema
                    if o["name"] == name and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if match is None:
                raise EmulatorError(f"/{command['name']} has no subcommand {name!r}")
            wrappers.append({"type": match["type"], "name": name})
            schema = match.get("options") or []
        if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema):
            names = [o["name"] for o in schema]
            raise EmulatorError(f"/{command['name']} needs a subcommand: one of {names}")
        return wrappers, schema

    def build_options(
        self,
        guild: Guild | None,
        schema: list[dict[str, Any]],
        values: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None = None,
        invoker: Member | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema}
        unknown = set(values) - set(by_name)
        if unknown:
            raise EmulatorError(f"unknown option(s) {sorted(unknown)}; known: {sorted(by_name)}")
        out = []
        for opt in schema:
            name = opt["name"]
            if name not in values:
                if opt.get("required") and focused is None:
                    raise EmulatorError(f"missing required option {name!r}")
                continue
            value = self._coerce(
                guild,
                opt,
                values[name],
                resolved,
                autocomplete=focused is not None,
                invoker=invoker,
            )
            entry: dict[str, Any] = {"name": name, "type": opt["type"], "value": value}
            if focused == name:
                entry["focused"] = True
            out.append(entry)
        return out

    def _coerce(
        self,
        guild: Guild | None,
        opt: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        *,
        autocomplete: bool,
        invoker: Member | None,
    ) -> Any:
        world = self.world
        otype = opt["type"]
        name = opt["name"]
        if otype == STRING:
            value = str(value)
            if not autocomplete:
                if opt.get("min_length") is not None and len(value) < opt["min_length"]:
                    raise EmulatorError(f"{name}: shorter than min_length")
                if opt.get("max_length") is not None and len(value) > opt["max_length"]:
                    raise EmulatorError(f"{name}: longer than max_length")
        elif otype == INTEGER:
            if autocomplete and isinstance(value, str):
                return value
            if isinstance(value, bool) or not isinstance(value, int):
                raise EmulatorError(f"{name}: expected an integer, got {value!r}")
        elif otype == NUMBER:
            if autocomplete and isinstance(value, str):
                return value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EmulatorError(f"{name}: expected a number, got {value!r}")
        elif otype == BOOLEAN and not isinstance(value, bool):
            raise EmulatorError(f"{name}: expected a bool, got {value!r}")
        if otype in (INTEGER, NUMBER) and not autocomplete:
            low, high = opt.get("min_value"), opt.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise EmulatorError(f"{name}: {value} is outside [{low}, {high}]")
        if otype in (STRING, INTEGER, NUMBER) and opt.get("choices") and not autocomplete:
            allowed = [c["value"] for c in opt["choices"]]
            if value not in allowed:
                raise EmulatorError(f"{name}: {value!r} is not one of the choices {allowed}")
        if otype in (USER_OPT, MENTIONABLE, ROLE, CHANNEL):
            target_id = int(getattr(value, "id", value))
            if otype in (USER_OPT, MENTIONABLE) and target_id in world.users:
                resolved.setdefault("users", {})[str(target_id)] = payloads.user(
                    world.users[target_id]
                )
                if guild is not None and target_id in guild.members:
                    m = payloads.member_with_permissions(
                        world, guild, guild.members[target_id], None
                    )
                    m.pop("user", None)
                    resolved.setdefault("members", {})[str(target_id)] = m
                return str(target_id)
            if otype in (ROLE, MENTIONABLE) and guild is not None and target_id in guild.roles:
                resolved.setdefault("roles", {})[str(target_id)] = payloads.role(
                    guild.roles[target_id]
                )
                return str(target_id)
            if otype == CHANNEL and target_id in world.channels:
                channel = world.channels[target_id]
                wanted = opt.get("channel_types")
                if wanted and channel.type not in wanted:
                    raise EmulatorError(f"{name}: channel type {channel.type} not in {wanted}")
                bits = perms.ALL
                if guild is not None and invoker is not None:
                    bits = perms.channel_permissions(guild, invoker, channel)
                data = payloads.partial_channel_with_permissions(world, channel, bits)
                resolved.setdefault("channels", {})[str(target_id)] = data
                return str(target_id)
            raise EmulatorError(f"{name}: {target_id} does not resolve to a valid target")
        if otype == ATTACHMENT:
            return self._attachment(value, resolved)
        return value

    def _attachment(self, value: Any, resolved: dict[str, dict[str, Any]]) -> str:
        """``value`` is ``{"filename": ..., "content": bytes}`` (or with ``size``)."""
        if not isinstance(value, dict) or "filename" not in value:
            raise EmulatorError("attachment options take {'filename': ..., 'content': b'...'}")
        world = self.world
        att_id = world.new_id()
        content = value.get("content", b"")
        if isinstance(content, str):
            content = content.encode()
        world.attachment_blobs[att_id] = content
        url = f"{self.emu.http_base}/attachments/0/{att_id}/{value['filename']}"
        resolved.setdefault("attachments", {})[str(att_id)] = {
            "id": str(att_id),
            "filename": value["filename"],
            "size": int(value.get("size", len(content))),
            "url": url,
            "proxy_url": url,
            "content_type": value.get("content_type", "application/octet-stream"),
            "ephemeral": True,
        }
        return str(att_id)


def message_components_find(components: list[dict[str, Any]], custom_id: str) -> dict | None:
    """Depth-first search for the component with ``custom_id`` in a message."""
    for comp in components:
        if comp.get("custom_id") == custom_id:
            return comp
        for key in ("components",):
            found = message_components_find(comp.get(key) or [], custom_id)
            if found is not None:
                return found
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                found = message_components_find([child], custom_id)
                if found is not None:
                    return found
    return None


def modal_submit_components(
    modal_components: list[dict[str, Any]], values: dict[str, Any]
) -> list[dict[str, Any]]:
    """Mirror the modal's structure with the user's input, as Discord sends it."""
    used: set[str] = set()

    def fill(comp: dict[str, Any]) -> dict[str, Any] | None:
        ctype = comp.get("type")
        if ctype == 1:
            children = [c for c in (fill(x) for x in comp.get("components") or []) if c]
            return {"type": 1, "components": children}
        if ctype == 18:
            inner = fill(comp["component"]) if isinstance(comp.get("component"), dict) else None
            out = {"type": 18, "component": inner}
            if "id" in comp:
                out["id"] = comp["id"]
            return out if inner else None
        if ctype == 10:
            return {"type": 10, "id": comp.get("id", 0), "content": comp.get("content", "")}
        custom_id = comp.get("custom_id")
        if custom_id is None:
            return None
        used.add(custom_id)
        entry: dict[str, Any] = {"type": ctype, "custom_id": custom_id}
        if "id" in comp:
            entry["id"] = comp["id"]
        given = values.get(custom_id)
        if ctype == 4:
            entry["value"] = "" if given is None else str(given)
        elif ctype == 23:
            entry["value"] = bool(given)
        elif ctype == 21:
            entry["value"] = given
        else:
            entry["values"] = [str(v) for v in (given or [])]
        return entry

    out = [c for c in (fill(c) for c in modal_components) if c]
    unknown = set(values) - used
    if unknown:
        raise EmulatorError(f"modal has no inputs named {sorted(unknown)}")
    return out
