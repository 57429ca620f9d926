"""Building, validating and editing messages the way Discord does.

Shared by the REST routes (bot sends), interaction/webhook responses and test
actors (users post), so every path gets the same limits, mention resolution
(honouring ``allowed_mentions``) and attachment handling.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from . import permissions as perms
from .errors import ApiError, field_error, form_error
from .snowflake import now_iso
from .world import Channel, Message, World

if TYPE_CHECKING:
    from .world import Guild

USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)")
CUSTOM_EMOJI = re.compile(r"^<?(a)?:?([A-Za-z0-9_~]{1,32}):(\d{15,21})>?$")

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_FILE_SIZE = 10 * 1024 * 1024
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_HAS_THREAD = 1 << 5
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_VOICE_MESSAGE = 1 << 13
FLAG_IS_COMPONENTS_V2 = 1 << 15
USER_SETTABLE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS
    | FLAG_SUPPRESS_NOTIFICATIONS
    | FLAG_IS_VOICE_MESSAGE
    | FLAG_IS_COMPONENTS_V2
)

# Message types
DEFAULT, USER_JOIN, THREAD_CREATED, REPLY, CHAT_INPUT_COMMAND = 0, 7, 18, 19, 20
THREAD_STARTER_MESSAGE, CONTEXT_MENU_COMMAND = 21, 23


@dataclass
class UploadedFile:
    """A ``files[n]`` multipart part."""

    field: str
    filename: str
    content_type: str | None
    data: bytes

    @property
    def index(self) -> int | None:
        match = re.fullmatch(r"files\[(\d+)\]", self.field)
        return int(match.group(1)) if match else None


# ------------------------------------------------------------------ validation
def _embed_errors(embed: dict[str, Any]) -> tuple[dict[str, Any], int]:
    errors: dict[str, Any] = {}
    total = 0

    def check(path: tuple[str, ...], value: Any, limit: int, required: bool = False) -> None:
        nonlocal total
        node = errors
        if value is None or value == "":
            if required:
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = field_error("BASE_TYPE_REQUIRED", "This field is required")
            return
        text = str(value)
        total += len(text)
        if len(text) > limit:
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = field_error(
                "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
            )

    check(("title",), embed.get("title"), 256)
    check(("description",), embed.get("description"), 4096)
    if isinstance(embed.get("footer"), dict):
        check(("footer", "text"), embed["footer"].get("text"), 2048, required=True)
    if isinstance(embed.get("author"), dict):
        check(("author", "name"), embed["author"].get("name"), 256, required=True)
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errors["fields"] = field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, f in enumerate(fields[:25]):
        check(("fields", str(i), "name"), f.get("name"), 256, required=True)
        check(("fields", str(i), "value"), f.get("value"), 1024, required=True)
    return errors, total


def _component_errors(rows: list[dict[str, Any]], *, v2: bool) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    seen: set[str] = set()
    if not v2 and len(rows) > 5:
        errors["components"] = field_error("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        return errors

    def walk(node: dict[str, Any], path: list[str]) -> None:
        ctype = node.get("type")
        custom_id = node.get("custom_id")
        if custom_id is not None:
            if len(custom_id) > 100:
                _set(
                    errors,
                    [*path, "custom_id"],
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 100 or fewer in length.",
                )
            if custom_id in seen:
                _set(
                    errors,
                    [*path, "custom_id"],
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
        if ctype == 2:
            if node.get("style") == 5:
                if not node.get("url"):
                    _set(errors, [*path, "url"], "BASE_TYPE_REQUIRED", "This field is required")
            elif node.get("style") != 6 and not custom_id:
                _set(errors, [*path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
            if len(node.get("label") or "") > 80:
                _set(
                    errors,
                    [*path, "label"],
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 80 or fewer in length.",
                )
        if ctype == 1:
            children = node.get("components") or []
            if not children or len(children) > 5:
                _set(
                    errors,
                    [*path, "components"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
        for key in ("components",):
            for i, child in enumerate(node.get(key) or []):
                walk(child, [*path, key, str(i)])
        if isinstance(node.get("accessory"), dict):
            walk(node["accessory"], [*path, "accessory"])
        if isinstance(node.get("component"), dict):
            walk(node["component"], [*path, "component"])

    for i, row in enumerate(rows):
        walk(row, ["components", str(i)])
    return errors


def _set(errors: dict[str, Any], path: list[str], code: str, message: str) -> None:
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = field_error(code, message)


def validate_body(
    body: dict[str, Any],
    files: list[UploadedFile],
    *,
    creating: bool,
    existing: Message | None = None,
) -> None:
    """Raise 50035/50006 like Discord for bad message payloads."""
    errors: dict[str, Any] = {}
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        content = str(content)
    if content is not None and len(content) > MAX_CONTENT:
        errors["content"] = field_error(
            "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
        )
    embeds = body.get("embeds")
    total = 0
    if embeds:
        if len(embeds) > MAX_EMBEDS:
            errors["embeds"] = field_error(
                "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length."
            )
        for i, embed in enumerate(embeds[:MAX_EMBEDS]):
            e_errors, size = _embed_errors(embed)
            total += size
            if e_errors:
                errors.setdefault("embeds", {})[str(i)] = e_errors
        if total > 6000 and "embeds" not in errors:
            errors["embeds"] = field_error(
                "MESSAGE_EMBEDS_LENGTH_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
    flags = int(body.get("flags") or 0)
    if existing is not None and body.get("flags") is None:
        flags = existing.flags
    v2 = bool(flags & FLAG_IS_COMPONENTS_V2)
    components = body.get("components")
    if components:
        errors.update(_component_errors(components, v2=v2))
    if v2 and (content or embeds):
        key = "content" if content else "embeds"
        errors[key] = field_error(
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using "
            "MessageFlags.IS_COMPONENTS_V2",
        )
    allowed = body.get("allowed_mentions")
    if isinstance(allowed, dict):
        parse = allowed.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and allowed.get(kind):
                errors.setdefault("allowed_mentions", {})
                errors["allowed_mentions"] = field_error(
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
    for f in files:
        if len(f.data) > MAX_FILE_SIZE:
            raise ApiError(40005, "Request entity too large", status=413)
    if errors:
        raise form_error(errors)
    if creating:
        has_any = (
            bool(content)
            or bool(embeds)
            or bool(files)
            or bool(body.get("sticker_ids"))
            or bool(components)
            or bool(body.get("poll"))
        )
        if not has_any:
            raise ApiError(50006)


# -------------------------------------------------------------------- mentions
def resolve_mentions(
    world: World,
    guild: Guild | None,
    content: str,
    allowed: dict[str, Any] | None,
    *,
    author_perms: int,
    replied_author: int | None,
) -> tuple[list[int], list[int], bool]:
    """(user ids, role ids, mention_everyone) that actually ping, per allowed_mentions."""
    parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
    allow_users = {int(u) for u in (allowed or {}).get("users") or []}
    allow_roles = {int(r) for r in (allowed or {}).get("roles") or []}
    users: list[int] = []
    for match in USER_MENTION.finditer(content or ""):
        uid = int(match.group(1))
        if uid in world.users and uid not in users and ("users" in parse or uid in allow_users):
            users.append(uid)
    roles: list[int] = []
    if guild is not None:
        for match in ROLE_MENTION.finditer(content or ""):
            rid = int(match.group(1))
            role = guild.roles.get(rid)
            if role is None or rid in roles:
                continue
            if not ("roles" in parse or rid in allow_roles):
                continue
            if role.mentionable or author_perms & perms.MENTION_EVERYONE:
                roles.append(rid)
    everyone = bool(
        "everyone" in parse
        and EVERYONE_MENTION.search(content or "")
        and (guild is None or author_perms & perms.MENTION_EVERYONE)
    )
    replied_ok = True if allowed is None else bool(allowed.get("replied_user"))
    if replied_author is not None and replied_ok and replied_author not in users:
        users.append(replied_author)
    return users, roles, everyone


# ------------------------------------------------------------------ attachments
def _content_type(filename: str, fallback: str | None) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    ctype = guessed or (fallback if fallback and fallback != "application/octet-stream" else None)
    ctype = ctype or "application/octet-stream"
    if ctype.startswith("text/"):
        ctype += "; charset=utf-8"
    return ctype


def build_attachments(
    world: World,
    channel: Channel,
    body: dict[str, Any],
    files: list[UploadedFile],
    *,
    base_url: str,
    keep: list[dict[str, Any]] | None = None,
    keep_all: bool = False,
    ephemeral: bool = False,
) -> list[dict[str, Any]]:
    """New attachment objects for uploaded files, plus (on edit) the existing ones the
    body's ``attachments`` list names - or all of them when ``keep_all``."""
    described = {}
    kept_ids: set[str] = set()
    for entry in body.get("attachments") or []:
        try:
            key = int(entry.get("id"))
        except (TypeError, ValueError):
            continue
        described[key] = entry
        kept_ids.add(str(entry.get("id")))
    out: list[dict[str, Any]] = []
    if keep is not None:
        out.extend(a for a in keep if keep_all or a["id"] in kept_ids)
    for position, f in enumerate(files):
        index = f.index if f.index is not None else position
        meta = described.get(index, {})
        filename = meta.get("filename") or f.filename
        att_id = world.new_id()
        world.attachment_blobs[att_id] = f.data
        url = f"{base_url}/attachments/{channel.id}/{att_id}/{quote(filename)}"
        attachment: dict[str, Any] = {
            "id": str(att_id),
            "filename": filename,
            "size": len(f.data),
            "url": url,
            "proxy_url": url,
            "content_type": _content_type(filename, f.content_type),
        }
        if meta.get("description"):
            attachment["description"] = meta["description"]
        if filename.startswith("SPOILER_"):
            attachment["spoiler"] = True
        if ephemeral:
            attachment["ephemeral"] = True
        out.append(attachment)
    return out


# ---------------------------------------------------------------------- create
def author_permissions(world: World, channel: Channel, author_id: int) -> int:
    guild = world.guild_of(channel)
    if guild is None:
        return perms.ALL
    member = guild.members.get(author_id)
    if member is None:
        return 0
    return perms.channel_permissions(guild, member, channel)


def create_message(
    world: World,
    channel: Channel,
    author_id: int,
    body: dict[str, Any],
    files: list[UploadedFile] | None = None,
    *,
    base_url: str,
    message_type: int | None = None,
    webhook_id: int | None = None,
    application_id: int | None = None,
    interaction_metadata: dict[str, Any] | None = None,
    ephemeral: bool = False,
    message_id: int | None = None,
    extra_flags: int = 0,
) -> Message:
    """Validate ``body`` (a Create Message JSON payload) and store the message."""
    files = files or []
    validate_body(body, files, creating=True)
    guild = world.guild_of(channel)
    reference = body.get("message_reference")
    replied_author = None
    if reference:
        ref_id = reference.get("message_id")
        ref_channel = world.channels.get(int(reference.get("channel_id") or channel.id))
        ref_msg = ref_channel.messages.get(int(ref_id)) if ref_channel and ref_id else None
        if ref_msg is None and reference.get("fail_if_not_exists", True):
            raise form_error(
                {
                    "message_reference": field_error(
                        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                }
            )
        if ref_msg is not None:
            replied_author = ref_msg.author_id
            reference = {
                "type": int(reference.get("type", 0)),
                "message_id": str(ref_msg.id),
                "channel_id": str(ref_msg.channel_id),
                "guild_id": str(ref_msg.guild_id) if ref_msg.guild_id else None,
            }
            if reference["guild_id"] is None:
                del reference["guild_id"]
        else:
            reference = None
    content = body.get("content")
    content = "" if content is None else str(content)
    mentions, roles, everyone = resolve_mentions(
        world,
        guild,
        content,
        body.get("allowed_mentions"),
        author_perms=author_permissions(world, channel, author_id),
        replied_author=replied_author,
    )
    flags = (int(body.get("flags") or 0) & USER_SETTABLE_FLAGS) | extra_flags
    if ephemeral:
        flags |= FLAG_EPHEMERAL
    if message_type is None:
        message_type = REPLY if reference and reference.get("type", 0) == 0 else DEFAULT
    msg = Message(
        id=message_id or world.new_id(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author_id=author_id,
        content=content,
        type=message_type,
        embeds=[_normalize_embed(e) for e in body.get("embeds") or []],
        components=number_components(list(body.get("components") or [])),
        flags=flags,
        tts=bool(body.get("tts")),
        mention_everyone=everyone,
        mention_ids=mentions,
        mention_role_ids=roles,
        message_reference=reference,
        webhook_id=webhook_id,
        application_id=application_id,
        interaction_metadata=interaction_metadata,
        allowed_mentions=body.get("allowed_mentions"),
        nonce=body.get("nonce"),
        poll=body.get("poll"),
        ephemeral=ephemeral,
    )
    msg.attachments = build_attachments(
        world, channel, body, files, base_url=base_url, ephemeral=ephemeral
    )
    world.add_message(msg)
    if channel.is_thread and not ephemeral:
        channel.message_count += 1
        channel.total_message_sent += 1
    return msg


def edit_message(
    world: World,
    msg: Message,
    body: dict[str, Any],
    files: list[UploadedFile] | None = None,
    *,
    base_url: str,
) -> Message:
    files = files or []
    validate_body(body, files, creating=False, existing=msg)
    channel = world.channels[msg.channel_id]
    if "content" in body:
        msg.content = "" if body["content"] is None else str(body["content"])
    if "embeds" in body:
        msg.embeds = [_normalize_embed(e) for e in body["embeds"] or []]
    if "components" in body:
        msg.components = number_components(list(body["components"] or []))
    if "flags" in body and body["flags"] is not None:
        keep = msg.flags & ~USER_SETTABLE_FLAGS
        msg.flags = keep | (int(body["flags"]) & USER_SETTABLE_FLAGS)
    if "allowed_mentions" in body:
        msg.allowed_mentions = body["allowed_mentions"]
    if "attachments" in body or files:
        msg.attachments = build_attachments(
            world,
            channel,
            body,
            files,
            base_url=base_url,
            keep=list(msg.attachments),
            keep_all="attachments" not in body,  # bare files are appended
            ephemeral=msg.ephemeral,
        )
    if "content" in body or "allowed_mentions" in body:
        guild = world.guild_of(channel)
        mentions, roles, everyone = resolve_mentions(
            world,
            guild,
            msg.content,
            msg.allowed_mentions,
            author_perms=author_permissions(world, channel, msg.author_id),
            replied_author=None,
        )
        msg.mention_ids, msg.mention_role_ids, msg.mention_everyone = mentions, roles, everyone
    msg.flags &= ~FLAG_LOADING
    msg.edited_timestamp = now_iso()
    return msg


def _normalize_embed(embed: dict[str, Any]) -> dict[str, Any]:
    data = dict(embed)
    data.setdefault("type", "rich")
    data.setdefault("content_scan_version", 0)
    if data.get("fields"):
        data["fields"] = [{**f, "inline": bool(f.get("inline"))} for f in data["fields"]]
    return data


def _component_emoji(emoji: dict[str, Any]) -> dict[str, Any]:
    """As Discord answers it: a custom emoji's id as a string, no ``id`` for a unicode one."""
    out = {k: v for k, v in emoji.items() if v is not None}
    if "id" in out:
        out["id"] = str(out["id"])
    return out


def number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies as Discord stores them: every component gets an ``id`` (kept if sent, else the
    next free one, depth first) and emoji objects their ids."""
    used: set[int] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), int):
                used.add(node["id"])
            for child in node.get("components") or []:
                collect(child)
            for key in ("accessory", "component"):
                collect(node.get(key))

    for c in components:
        collect(c)
    counter = 0

    def number(node: dict[str, Any]) -> dict[str, Any]:
        nonlocal counter
        out = dict(node)
        if not isinstance(out.get("id"), int):
            counter += 1
            while counter in used:
                counter += 1
            out["id"] = counter
        if isinstance(out.get("emoji"), dict):
            out["emoji"] = _component_emoji(out["emoji"])
        if isinstance(out.get("options"), list):
            out["options"] = [
                {**o, "emoji": _component_emoji(o["emoji"])}
                if isinstance(o.get("emoji"), dict)
                else o
                for o in out["options"]
            ]
        if out.get("components"):
            out["components"] = [number(c) for c in out["components"]]
        for key in ("accessory", "component"):
            if isinstance(out.get(key), dict):
                out[key] = number(out[key])
        return out

    return [number(c) for c in components]


# ---------------------------------------------------------------------- emoji
def parse_emoji(raw: str | dict[str, Any]) -> dict[str, Any]:
    """Route/actor emoji ("👍", "name:id", "<:name:id>", dict) -> partial emoji."""
    if isinstance(raw, dict):
        return {
            "id": raw.get("id"),
            "name": raw.get("name"),
            **({"animated": True} if raw.get("animated") else {}),
        }
    text = unquote(str(raw))
    match = CUSTOM_EMOJI.match(text)
    if match:
        data: dict[str, Any] = {"id": match.group(3), "name": match.group(2)}
        if match.group(1):
            data["animated"] = True
        return data
    return {"id": None, "name": text}


def emoji_key(emoji: dict[str, Any]) -> str:
    return f"{emoji['name']}:{emoji['id']}" if emoji.get("id") else str(emoji["name"])
