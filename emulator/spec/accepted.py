"""What discord.py sends and Discord accepts although the spec does not declare it.

This is the ONE list of deliberate leniencies. The validator widens exactly these spec
nodes (``targets``, JSON pointer patterns, filtered by ``only_if``)
with ``anyOf: [original, widen]`` before compiling, so everything else stays as strict as
the spec. The README's emulator section shows the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Deviation:
    where: str
    accepts: str
    reason: str
    #: JSON pointers; a segment may be an fnmatch pattern, ``**`` matches any depth.
    targets: tuple[str, ...]
    widen: dict[str, Any]
    #: Only nodes whose items include all of these (e.g. ``{"type": "boolean"}``).
    only_if: dict[str, Any] = field(default_factory=dict)
    #: A query parameter the spec does not declare: ``(operationId, name)``, schema ``widen``.
    query_param: tuple[str, str] | None = None


_OVERWRITE = (
    "/paths/~1channels~1{channel_id}~1permissions~1{overwrite_id}/put/requestBody/content/"
    "application~1json/schema"
)

ACCEPTED: tuple[Deviation, ...] = (
    Deviation(
        where="role create/edit `permissions`, channel overwrite `allow` / `deny`",
        accepts="a decimal string",
        reason=(
            "discord.py sends `str(permissions.value)`; Discord documents permissions as a "
            "string-serialised bitfield, the spec types the request field as integer"
        ),
        targets=(
            "/components/schemas/CreateRoleRequest/properties/permissions",
            "/components/schemas/UpdateRoleRequestPartial/properties/permissions",
            f"{_OVERWRITE}/properties/allow",
            f"{_OVERWRITE}/properties/deny",
        ),
        widen={"type": "string", "pattern": r"^[0-9]+$"},
    ),
    Deviation(
        where="message `attachments[].id`",
        accepts="an integer (the upload's index in `files[n]`)",
        reason=(
            "discord.py numbers new uploads 0, 1, … and Discord matches them to `files[n]`; "
            "the spec declares only the snowflake string of an existing attachment"
        ),
        targets=("/components/schemas/MessageAttachmentRequest/properties/id",),
        widen={"type": "integer", "minimum": 0},
    ),
    Deviation(
        where="snowflakes in request bodies (`recipient_id`, `allowed_mentions.users`, "
        "a member's `roles`, …)",
        accepts="JSON integers",
        reason=(
            "discord.py puts a model's `int` id in request bodies and Discord coerces it; "
            "the spec declares snowflakes as strings (responses must still send strings)"
        ),
        targets=("/components/schemas/*Request*/**", "/paths/**/requestBody/**"),
        only_if={"$ref": "#/components/schemas/SnowflakeType"},
        widen={"type": "integer", "minimum": 0},
    ),
    Deviation(
        where="boolean query parameters (`with_counts`, `with_user_count`, `with_member`, …)",
        accepts="'1' / '0'",
        reason=(
            "discord.py sends `int(flag)`; Discord parses these like booleans, "
            "the spec declares JSON booleans, which a query string cannot carry"
        ),
        targets=("/paths/*/*/parameters/*/schema", "/paths/*/parameters/*/schema"),
        only_if={"type": "boolean"},
        widen={"type": "string", "enum": ["0", "1"]},
    ),
    Deviation(
        where="ban: `delete_message_seconds` in the query string",
        accepts="a decimal integer",
        reason=(
            "discord.py sends it as a query parameter, which Discord still honours; "
            "the spec declares it in the JSON body only"
        ),
        targets=(),
        query_param=("ban_user_from_guild", "delete_message_seconds"),
        widen={"type": "string", "pattern": "^[0-9]+$"},
    ),
    Deviation(
        where="forum post: `use_nested_fields=1` in the query string",
        accepts="'1'",
        reason=(
            "discord.py adds it to every forum post so the first message's fields may be "
            "nested under `message`; Discord's own client sends it, the spec does not list it"
        ),
        targets=(),
        query_param=("create_thread", "use_nested_fields"),
        widen={"type": "string", "enum": ["1"]},
    ),
)


def table_markdown() -> str:
    """The table as the README shows it (a test keeps the two in step)."""
    rows = ["| Where | Accepted | Why |", "| --- | --- | --- |"]
    rows += [f"| {d.where} | {d.accepts} | {d.reason} |" for d in ACCEPTED]
    return "\n".join(rows)
