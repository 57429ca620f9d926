"""Discord's limits that the OpenAPI spec cannot express (or states for users, not bots).

Each is from Discord's developer docs as the spec's descriptions or discord.py repeat them;
the validator applies them after the schema, to the operations that carry a message or a
modal, and reports them in the same 50035 tree.
"""

from __future__ import annotations

from typing import Any

#: The spec allows 4,000 (Nitro users); a bot's message content is capped at 2,000.
BOT_CONTENT = 2000
#: Sum of title, description, field names and values, footer text and author name.
EMBED_TOTAL = 6000
#: Top-level components of a modal (the spec's 40 is the message limit for components v2).
MODAL_COMPONENTS = 5
#: Top-level action rows of a legacy (non components-v2) message.
MESSAGE_ROWS = 5
#: Components in one message or modal, nested ones included (components v2).
TOTAL_COMPONENTS = 40
#: Ids in `allowed_mentions.users` / `.roles`.
ALLOWED_MENTION_IDS = 100
SELECT_OPTIONS = 25

FLAG_IS_COMPONENTS_V2 = 1 << 15

ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, LABEL = 1, 2, 3, 4, 18
LINK, PREMIUM = 5, 6

#: Operations whose body is a message (interaction callbacks carry one in ``data``).
MESSAGE_OPERATIONS = frozenset(
    {
        "create_message",
        "update_message",
        "execute_webhook",
        "update_webhook_message",
        "update_original_webhook_message",
    }
)


def _err(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def _put(errors: dict[str, Any], path: list[str], code: str, message: str) -> None:
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node.setdefault(path[-1], {"_errors": []})["_errors"].append({"code": code, "message": message})


def check(operation_id: str, body: Any) -> dict[str, Any]:
    """The 50035 ``errors`` tree for Discord-only limits (empty when within them)."""
    errors: dict[str, Any] = {}
    if not isinstance(body, dict):
        return errors
    if operation_id in MESSAGE_OPERATIONS:
        _message(body, [], errors)
    elif operation_id == "create_interaction_response" and isinstance(body.get("data"), dict):
        if body.get("type") in (4, 7):
            _message(body["data"], ["data"], errors)
        elif body.get("type") == 9:
            _modal(body["data"], ["data"], errors)
    return errors


def _message(msg: dict[str, Any], at: list[str], errors: dict[str, Any]) -> None:
    content = msg.get("content")
    if isinstance(content, str) and len(content) > BOT_CONTENT:
        _put(
            errors,
            [*at, "content"],
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {BOT_CONTENT} or fewer in length.",
        )
    embeds = msg.get("embeds")
    if isinstance(embeds, list):
        total = sum(_embed_size(e) for e in embeds if isinstance(e, dict))
        if total > EMBED_TOTAL:
            _put(
                errors,
                [*at, "embeds"],
                "MESSAGE_EMBEDS_LENGTH_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_TOTAL}",
            )
    allowed = msg.get("allowed_mentions")
    if isinstance(allowed, dict):
        for kind in ("users", "roles"):
            ids = allowed.get(kind)
            if isinstance(ids, list) and len(ids) > ALLOWED_MENTION_IDS:
                _put(
                    errors,
                    [*at, "allowed_mentions", kind],
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {ALLOWED_MENTION_IDS} or fewer in length.",
                )
    components = msg.get("components")
    if isinstance(components, list):
        flags = msg.get("flags")
        v2 = isinstance(flags, int) and bool(flags & FLAG_IS_COMPONENTS_V2)
        if not v2 and len(components) > MESSAGE_ROWS:
            _put(
                errors,
                [*at, "components"],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {MESSAGE_ROWS} or fewer in length.",
            )
        _components(components, [*at, "components"], errors)


def _modal(data: dict[str, Any], at: list[str], errors: dict[str, Any]) -> None:
    components = data.get("components")
    if not isinstance(components, list):
        return
    if len(components) > MODAL_COMPONENTS:
        _put(
            errors,
            [*at, "components"],
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {MODAL_COMPONENTS} or fewer in length.",
        )
    _components(components, [*at, "components"], errors, modal=True)


def _embed_size(embed: dict[str, Any]) -> int:
    def text(value: Any) -> int:
        return len(value) if isinstance(value, str) else 0

    size = text(embed.get("title")) + text(embed.get("description"))
    for key, sub in (("footer", "text"), ("author", "name")):
        if isinstance(embed.get(key), dict):
            size += text(embed[key].get(sub))
    for field in embed.get("fields") or []:
        if isinstance(field, dict):
            size += text(field.get("name")) + text(field.get("value"))
    return size


def _components(
    items: list[Any], at: list[str], errors: dict[str, Any], *, modal: bool = False
) -> None:
    seen: set[str] = set()
    count = 0

    def walk(node: Any, path: list[str], *, in_label: bool) -> None:
        nonlocal count
        if not isinstance(node, dict):
            return
        count += 1
        ctype = node.get("type")
        custom_id = node.get("custom_id")
        if isinstance(custom_id, str):
            if custom_id in seen:
                _put(
                    errors,
                    [*path, "custom_id"],
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
        if ctype == BUTTON:
            _button(node, path, errors)
        elif ctype == STRING_SELECT:
            _select(node, path, errors)
        elif ctype == TEXT_INPUT:
            _text_input(node, path, errors, in_label=in_label)
        for i, child in enumerate(node.get("components") or []):
            walk(child, [*path, "components", str(i)], in_label=False)
        for key in ("component", "accessory"):
            if isinstance(node.get(key), dict):
                walk(node[key], [*path, key], in_label=ctype == LABEL)

    for i, item in enumerate(items):
        walk(item, [*at, str(i)], in_label=False)
    if count > TOTAL_COMPONENTS:
        _put(
            errors,
            at,
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {TOTAL_COMPONENTS} or fewer components in total.",
        )


def _button(node: dict[str, Any], path: list[str], errors: dict[str, Any]) -> None:
    style = node.get("style")
    if style == LINK:
        if not node.get("url"):
            _put(errors, [*path, "url"], "BASE_TYPE_REQUIRED", "This field is required")
        if node.get("custom_id"):
            _put(
                errors,
                [*path, "custom_id"],
                "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                "A link button cannot have a custom id",
            )
    elif style != PREMIUM:
        if not node.get("custom_id"):
            _put(errors, [*path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
        if not node.get("label") and not node.get("emoji"):
            _put(
                errors,
                [*path, "label"],
                "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                "A button needs a label or an emoji",
            )


def _select(node: dict[str, Any], path: list[str], errors: dict[str, Any]) -> None:
    options = node.get("options")
    if not isinstance(options, list):
        return
    low, high = node.get("min_values"), node.get("max_values")
    low = low if isinstance(low, int) else 1
    high = high if isinstance(high, int) else 1
    if low > high:
        _put(
            errors,
            [*path, "min_values"],
            "SELECT_COMPONENT_MIN_VALUES_TOO_LARGE",
            "min_values must be less than or equal to max_values",
        )
    if high > len(options):
        _put(
            errors,
            [*path, "max_values"],
            "BASE_TYPE_MAX",
            f"max_values must be {len(options)} or fewer (the number of options).",
        )
    values = [o.get("value") for o in options if isinstance(o, dict)]
    if len(set(values)) != len(values):
        _put(
            errors,
            [*path, "options"],
            "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
            "Select option values must be unique",
        )
    defaults = sum(1 for o in options if isinstance(o, dict) and o.get("default"))
    if defaults > high:
        _put(
            errors,
            [*path, "options"],
            "SELECT_COMPONENT_TOO_MANY_DEFAULT_VALUES",
            "More options are marked default than max_values allows",
        )


def _text_input(
    node: dict[str, Any], path: list[str], errors: dict[str, Any], *, in_label: bool
) -> None:
    label = node.get("label")
    if in_label and label is not None:
        _put(
            errors,
            [*path, "label"],
            "TEXT_INPUT_LABEL_NOT_ALLOWED",
            "A text input inside a label component cannot have its own label",
        )
    if not in_label and not label:
        _put(errors, [*path, "label"], "BASE_TYPE_REQUIRED", "This field is required")
    low, high = node.get("min_length"), node.get("max_length")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        _put(
            errors,
            [*path, "min_length"],
            "TEXT_INPUT_MIN_LENGTH_TOO_LARGE",
            "min_length must be less than or equal to max_length",
        )
    value = node.get("value")
    if isinstance(value, str) and value and isinstance(high, int) and len(value) > high:
        _put(
            errors, [*path, "value"], "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length."
        )
