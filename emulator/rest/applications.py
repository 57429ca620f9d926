"""Application commands, interaction callbacks and interaction webhooks.

discord.py 2.7 always calls the callback with ``?with_response=1`` and reads the
``InteractionCallbackResponse`` body (``interaction`` + ``resource.message``), so
the response message id it stores views under is the real message id.
"""

from __future__ import annotations

from typing import Any

from .. import messaging, payloads
from ..errors import ApiError, field_error, form_error
from ..interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PING,
    PONG,
    UPDATE_MESSAGE,
    InteractionRecord,
)
from ..world import Message
from .router import Ctx, Reply, Router

#: Callbacks whose ``with_response`` body has a ``resource`` (the spec's
#: ``InteractionCallbackResponse.resource`` is a created or an updated message only).
RESOURCE_TYPES = {CHANNEL_MESSAGE, UPDATE_MESSAGE}

VALID_CALLBACKS = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}


def _app(ctx: Ctx) -> None:
    app = ctx.world.application
    assert app is not None
    if ctx.params.get("application_id") not in (str(app.id), "@me"):
        raise ApiError(10002, "Unknown Application", status=404)


def _scope(ctx: Ctx) -> int | None:
    if "guild_id" not in ctx.params:
        return None
    guild = ctx.world.guild(ctx.params["guild_id"])
    if ctx.world.bot_id not in guild.members:
        raise ApiError(50001)
    return guild.id


def _record_by_token(ctx: Ctx) -> InteractionRecord:
    app = ctx.world.application
    assert app is not None
    if ctx.params["webhook_id"] != str(app.id):
        raise ApiError(10015)
    emu = ctx.emu
    rec = emu.interactions_by_token.get(ctx.params["webhook_token"])
    if rec is None:
        raise ApiError(50027)
    lifetime = emu.interaction_token_lifetime
    if lifetime is not None and emu.interaction_age(rec) > lifetime:
        raise ApiError(50027)  # the token lived its 15 minutes: follow-ups and edits fail
    return rec


def _message_type(rec: InteractionRecord) -> int:
    if rec.type == APPLICATION_COMMAND:
        return (
            messaging.CHAT_INPUT_COMMAND
            if rec.data.get("type", 1) == 1
            else messaging.CONTEXT_MENU_COMMAND
        )
    return messaging.DEFAULT


def _metadata(ctx: Ctx, rec: InteractionRecord) -> dict[str, Any]:
    world = ctx.world
    data: dict[str, Any] = {
        "id": str(rec.id),
        "type": rec.type,
        "user": payloads.user(world.users[rec.user_id]),
        "authorizing_integration_owners": rec.payload.get("authorizing_integration_owners", {}),
    }
    if rec.type == APPLICATION_COMMAND:
        data["name"] = rec.data.get("name")
        data["command_type"] = rec.data.get("type", 1)
        if rec.data.get("type") == 2:
            data["target_user"] = payloads.user(world.users[int(rec.data["target_id"])])
        elif rec.data.get("type") == 3:
            data["target_message_id"] = rec.data["target_id"]
    elif rec.type == MESSAGE_COMPONENT and rec.component_message_id:
        data["interacted_message_id"] = str(rec.component_message_id)
    elif rec.id in ctx.emu.modal_origins:
        data["triggering_interaction_metadata"] = _metadata(ctx, ctx.emu.modal_origins[rec.id])
    if rec.original_message_id:
        data["original_response_message_id"] = str(rec.original_message_id)
    return data


def _respond_message(
    ctx: Ctx, rec: InteractionRecord, body: dict[str, Any], *, loading: bool = False
) -> Message:
    world = ctx.world
    app = world.application
    assert app is not None
    channel = world.channel(rec.channel_id) if rec.channel_id else None
    if channel is None:
        raise ApiError(10003)
    ephemeral = bool(int(body.get("flags") or 0) & messaging.FLAG_EPHEMERAL)
    if not loading:
        return ctx.emu.ops.send_message(
            channel,
            world.bot_id,
            body,
            ctx.files,
            message_type=_message_type(rec),
            webhook_id=app.id,
            application_id=app.id,
            interaction_metadata=_metadata(ctx, rec),
            ephemeral=ephemeral,
        )
    # A deferred response: an empty "thinking" message, filled in by a later edit.
    msg = Message(
        id=world.new_id(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author_id=world.bot_id,
        type=_message_type(rec),
        flags=messaging.FLAG_LOADING | (messaging.FLAG_EPHEMERAL if ephemeral else 0),
        webhook_id=app.id,
        application_id=app.id,
        interaction_metadata=_metadata(ctx, rec),
        ephemeral=ephemeral,
    )
    world.add_message(msg)
    if not ephemeral:
        ctx.events.message_create(msg)
    return msg


def register(r: Router) -> None:
    # ----------------------------------------------------------- commands
    for prefix in (
        "/applications/{application_id}",
        "/applications/{application_id}/guilds/{guild_id}",
    ):

        @r.route("GET", prefix + "/commands")
        async def list_commands(ctx: Ctx):
            _app(ctx)
            return list(ctx.emu.registry.scope(_scope(ctx)).values())

        @r.route("PUT", prefix + "/commands")
        async def bulk_overwrite(ctx: Ctx):
            _app(ctx)
            return ctx.emu.registry.bulk_overwrite(
                _scope(ctx), ctx.json if ctx.json is not None else []
            )

        @r.route("POST", prefix + "/commands")
        async def create_command(ctx: Ctx):
            _app(ctx)
            cmd, created = ctx.emu.registry.upsert(_scope(ctx), ctx.body)
            return Reply(201 if created else 200, cmd)

        @r.route("GET", prefix + "/commands/{command_id}")
        async def get_command(ctx: Ctx):
            _app(ctx)
            return ctx.emu.registry.get(_scope(ctx), ctx.params["command_id"])

        @r.route("PATCH", prefix + "/commands/{command_id}")
        async def edit_command(ctx: Ctx):
            _app(ctx)
            return ctx.emu.registry.edit(_scope(ctx), ctx.params["command_id"], ctx.body)

        @r.route("DELETE", prefix + "/commands/{command_id}")
        async def delete_command(ctx: Ctx):
            _app(ctx)
            ctx.emu.registry.delete(_scope(ctx), ctx.params["command_id"])

    @r.route("GET", "/applications/{application_id}/guilds/{guild_id}/commands/permissions")
    async def all_command_permissions(ctx: Ctx):
        _app(ctx)
        _scope(ctx)
        return []

    @r.route(
        "GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}/permissions"
    )
    async def command_permissions(ctx: Ctx):
        _app(ctx)
        raise ApiError(10066, "Unknown application command permissions", status=404)

    for path in ("entitlements", "skus"):
        r.add("GET", f"/applications/{{application_id}}/{path}", _empty_app_list)

    @r.route("GET", "/applications/{application_id}/emojis")
    async def app_emojis(ctx: Ctx):
        _app(ctx)
        return {"items": []}

    # ------------------------------------------------------ interactions
    @r.route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", auth=False)
    async def callback(ctx: Ctx):
        emu = ctx.emu
        rec = (
            emu.interactions.get(int(ctx.params["interaction_id"]))
            if ctx.params["interaction_id"].isdigit()
            else None
        )
        if rec is None or rec.token != ctx.params["interaction_token"]:
            raise ApiError(10062)
        if rec.responded:
            raise ApiError(40060)
        if emu.interaction_ack_timeout and emu.interaction_age(rec) > emu.interaction_ack_timeout:
            raise ApiError(10062)  # the 3 second window has passed
        body = ctx.body
        ctype = body.get("type")
        if ctype not in VALID_CALLBACKS.get(rec.type, set()):
            raise form_error(
                {
                    "type": field_error(
                        "INTERACTION_RESPONSE_TYPE_INVALID",
                        "Interaction response type is invalid for this interaction",
                    )
                }
            )
        data = body.get("data") or {}
        message: Message | None = None
        if ctype == CHANNEL_MESSAGE:
            message = _respond_message(ctx, rec, data)
            rec.original_message_id = message.id
        elif ctype == DEFERRED_CHANNEL_MESSAGE:
            message = _respond_message(ctx, rec, data, loading=True)
            rec.original_message_id = message.id
        elif ctype in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            target_id = rec.component_message_id
            if target_id is None:
                raise form_error(
                    {
                        "type": field_error(
                            "INTERACTION_RESPONSE_TYPE_INVALID", "No message to update"
                        )
                    }
                )
            target = ctx.world.messages.get(target_id)
            if target is None:
                raise ApiError(10008)
            rec.original_message_id = target.id
            if ctype == UPDATE_MESSAGE:
                ctx.emu.ops.edit_message(target, data, ctx.files)
                message = target
        elif ctype == MODAL:
            errors: dict[str, Any] = {}
            if not data.get("custom_id"):
                errors["custom_id"] = field_error("BASE_TYPE_REQUIRED", "This field is required")
            if not data.get("title") or len(data["title"]) > 45:
                errors["title"] = field_error(
                    "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length."
                )
            if not 1 <= len(data.get("components") or []) <= 5:
                errors["components"] = field_error(
                    "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
                )
            if errors:
                raise form_error({"data": errors})
            rec.modal = data
        elif ctype == AUTOCOMPLETE_RESULT:
            rec.choices = list(data.get("choices") or [])
        rec.response = {"type": ctype, "data": data}
        rec.response_type = ctype
        emu.interaction_responses.append(
            {
                "interaction_id": rec.id,
                "type": ctype,
                "data": data,
                "files": [f.filename for f in ctx.files],
            }
        )
        rec._touch()
        if not ctx.query_bool("with_response"):
            return None
        interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        result: dict[str, Any] = {"interaction": interaction}
        if message is not None:
            interaction["response_message_id"] = str(message.id)
            interaction["response_message_loading"] = bool(message.flags & messaging.FLAG_LOADING)
            interaction["response_message_ephemeral"] = message.ephemeral
            if ctype in RESOURCE_TYPES:
                message_payload = payloads.message(ctx.world, message)
                result["resource"] = {"type": ctype, "message": message_payload}
        return result

    # ----------------------------------------------------------- webhooks
    def _owned_message(ctx: Ctx, rec: InteractionRecord) -> Message:
        raw = ctx.params["message_id"]
        if raw == "@original":
            if rec.original_message_id is None or rec.original_deleted:
                raise ApiError(10008)
            mid = rec.original_message_id
        else:
            mid = int(raw) if raw.isdigit() else -1
            if mid != rec.original_message_id and mid not in rec.followup_ids:
                raise ApiError(10008)
        msg = ctx.world.messages.get(mid)
        if msg is None:
            raise ApiError(10008)
        return msg

    @r.route("POST", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def followup(ctx: Ctx):
        rec = _record_by_token(ctx)
        if not rec.responded:
            raise ApiError(10015)
        body = ctx.body
        original = (
            ctx.world.messages.get(rec.original_message_id) if rec.original_message_id else None
        )
        if (
            rec.response_type == DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.flags & messaging.FLAG_LOADING
        ):
            # Discord: the first follow-up after a deferral edits the loading message.
            ctx.emu.ops.edit_message(original, body, ctx.files)
            rec.edits.append(body)
            msg = original
        else:
            msg = _respond_message(ctx, rec, body)
            rec.followup_ids.append(msg.id)
        rec._touch()
        if ctx.query_bool("wait"):
            return payloads.message(ctx.world, msg)
        return None

    @r.route("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def get_webhook_message(ctx: Ctx):
        rec = _record_by_token(ctx)
        return payloads.message(ctx.world, _owned_message(ctx, rec))

    @r.route("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def edit_webhook_message(ctx: Ctx):
        rec = _record_by_token(ctx)
        msg = _owned_message(ctx, rec)
        ctx.emu.ops.edit_message(msg, ctx.body, ctx.files)
        if msg.id == rec.original_message_id:
            rec.edits.append(ctx.body)
        rec._touch()
        return payloads.message(ctx.world, msg)

    @r.route("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", auth=False)
    async def delete_webhook_message(ctx: Ctx):
        rec = _record_by_token(ctx)
        msg = _owned_message(ctx, rec)
        if msg.ephemeral:
            ctx.world.messages.pop(msg.id, None)
        else:
            ctx.emu.ops.delete_message(msg)
        if msg.id == rec.original_message_id:
            rec.original_deleted = True
        rec._touch()

    @r.route("GET", "/webhooks/{webhook_id}/{webhook_token}", auth=False)
    async def get_webhook_with_token(ctx: Ctx):
        rec = _record_by_token(ctx)
        app = ctx.world.application
        assert app is not None
        return {
            "id": str(app.id),
            "type": 3,
            "name": app.name,
            "avatar": None,
            "channel_id": str(rec.channel_id) if rec.channel_id else None,
            "guild_id": str(rec.guild_id) if rec.guild_id else None,
            "application_id": str(app.id),
        }


async def _empty_app_list(ctx: Ctx):
    _app(ctx)
    return []
