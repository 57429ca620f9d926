"""Forum (and media) channel tag rules, shared by every route that sets tags.

From Discord's docs (Channel resource, "Forum Tag Object" and "Modify Channel"):

* a forum has at most 20 ``available_tags``; a tag's name is 1–20 characters (the spec
  says 0–50, the docs 0–20; an empty name is refused here); at most one of ``emoji_id``
  and ``emoji_name`` is set;
* a thread has at most 5 ``applied_tags``, each one of its parent forum's tags;
* a ``moderated`` tag can only be added to or removed from a thread by a member with
  MANAGE_THREADS;
* a forum with the REQUIRE_TAG flag needs at least one tag on every post.

Editing ``available_tags`` keeps the ids sent with existing tags; a tag that is left out is
deleted, and it is taken off every thread that carried it (no THREAD_UPDATE is sent per
thread; clients resolve the ids against the forum's tags, as discord.py does).
"""

from __future__ import annotations

from typing import Any

from . import permissions as P
from .errors import ApiError, form_error
from .world import FORUM, MEDIA, Channel, ForumTag, World

MAX_AVAILABLE_TAGS = 20
MAX_APPLIED_TAGS = 5
TAG_NAME_MIN, TAG_NAME_MAX = 1, 20
REQUIRE_TAG = 1 << 4


def _errors(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def _snowflake(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_available_tags(world: World, forum: Channel | None, raw: Any) -> list[ForumTag]:
    """The tag list a create or edit sets, or 400 50035 naming each bad entry.

    ``forum`` is the channel being edited (its tags' ids may be sent back) or ``None`` when
    the forum is being created (no id can be known yet).
    """
    raw = raw or []
    if not isinstance(raw, list):
        raise form_error({"available_tags": _errors("BASE_TYPE_LIST", "Must be a list.")})
    if len(raw) > MAX_AVAILABLE_TAGS:
        raise form_error(
            {
                "available_tags": _errors(
                    "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_AVAILABLE_TAGS} or fewer in length."
                )
            }
        )
    existing = {t.id: t for t in forum.available_tags} if forum is not None else {}
    errors: dict[str, Any] = {}
    tags: list[ForumTag] = []
    seen: set[int] = set()
    for i, entry in enumerate(raw):
        where: dict[str, Any] = {}
        if not isinstance(entry, dict):
            errors[str(i)] = _errors("DICT_TYPE_CONVERT", "Only dictionaries may be used.")
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            where["name"] = (
                _errors("BASE_TYPE_REQUIRED", "This field is required")
                if name is None
                else _errors(
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between {TAG_NAME_MIN} and {TAG_NAME_MAX} in length.",
                )
            )
        elif len(name) > TAG_NAME_MAX:
            where["name"] = _errors(
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between {TAG_NAME_MIN} and {TAG_NAME_MAX} in length.",
            )
        if entry.get("emoji_id") is not None and entry.get("emoji_name") is not None:
            where["emoji_id"] = _errors(
                "FORUM_TAG_EMOJI_INVALID", "Only one of emoji_id and emoji_name may be set."
            )
        tag_id = None
        if entry.get("id") is not None:
            tag_id = _snowflake(entry["id"])
            if tag_id is None or tag_id not in existing or tag_id in seen:
                where["id"] = _errors("INVALID_FORUM_TAG", "Invalid forum tag(s)")
        if where:
            errors[str(i)] = where
            continue
        if tag_id is None:
            tag_id = world.new_id()
        seen.add(tag_id)
        emoji_id = entry.get("emoji_id")
        tags.append(
            ForumTag(
                tag_id,
                name,
                bool(entry.get("moderated")),
                _snowflake(emoji_id) if emoji_id is not None else None,
                entry.get("emoji_name"),
            )
        )
    if errors:
        raise form_error({"available_tags": errors})
    return tags


def set_available_tags(world: World, forum: Channel, tags: list[ForumTag]) -> None:
    """Replace ``forum``'s tags; deleted tags come off the threads that carried them."""
    kept = {t.id for t in tags}
    forum.available_tags = tags
    for channel in world.channels.values():
        if channel.is_thread and channel.parent_id == forum.id and channel.applied_tags:
            channel.applied_tags = [t for t in channel.applied_tags if t in kept]


def check_applied_tags(
    forum: Channel | None,
    raw: Any,
    have: int,
    *,
    before: list[int] | None = None,
) -> list[int]:
    """The tag ids a post is created or edited with, or Discord's refusal.

    ``forum`` is the thread's parent (``None`` or a non-forum: no tags can be applied);
    ``before`` the thread's current tags when editing (moderated tags kept are fine).
    """
    raw = raw or []
    if not isinstance(raw, list):
        raise form_error({"applied_tags": _errors("BASE_TYPE_LIST", "Must be a list.")})
    if forum is None or forum.type not in (FORUM, MEDIA):
        raise form_error(
            {
                "applied_tags": _errors(
                    "INVALID_FORUM_TAG", "Tags can only be applied to forum posts"
                )
            }
        )
    if len(raw) > MAX_APPLIED_TAGS:
        raise form_error(
            {
                "applied_tags": _errors(
                    "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_APPLIED_TAGS} or fewer in length."
                )
            }
        )
    ids = [_snowflake(t) for t in raw]
    known = {t.id: t for t in forum.available_tags}
    if any(t is None or t not in known for t in ids):
        raise form_error({"applied_tags": _errors("INVALID_FORUM_TAG", "Invalid forum tag(s)")})
    tags: list[int] = [t for t in ids if t is not None]
    old = set(before or [])
    changed = old.symmetric_difference(tags)
    moderated = {t.id for t in forum.available_tags if t.moderated}
    if changed & moderated and not have & P.MANAGE_THREADS:
        raise ApiError(50013)
    if forum.flags & REQUIRE_TAG and not tags:
        raise form_error(
            {
                "applied_tags": _errors(
                    "FORUM_POST_TAG_REQUIRED",
                    "A tag is required to create a forum post in this channel",
                )
            }
        )
    return tags


def tag_names(forum: Channel, ids: list[int]) -> list[str]:
    """Names of the tags ``ids`` of ``forum``, in order (unknown ids skipped)."""
    names = {t.id: t.name for t in forum.available_tags}
    return [names[i] for i in ids if i in names]
