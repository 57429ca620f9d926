"""Users, DMs, gateway discovery, the application object and invites."""

from __future__ import annotations

from .. import payloads
from .. import permissions as P
from ..errors import ApiError, field_error, form_error
from .router import Ctx, Router


def register(r: Router) -> None:
    # ---------------------------------------------------------------- users
    @r.route("GET", "/users/@me")
    async def me(ctx: Ctx):
        return payloads.current_user(ctx.world.users[ctx.world.bot_id])

    @r.route("PATCH", "/users/@me")
    async def edit_me(ctx: Ctx):
        user = ctx.world.users[ctx.world.bot_id]
        if ctx.body.get("username"):
            user.username = ctx.body["username"]
        if "avatar" in ctx.body:
            user.avatar = "emulated" if ctx.body["avatar"] else None
        data = payloads.current_user(user)
        ctx.emu.gateway.dispatch("USER_UPDATE", data)
        return data

    @r.route("GET", "/users/@me/guilds")
    async def my_guilds(ctx: Ctx):
        world = ctx.world
        out = []
        for guild in world.guilds.values():
            bot = guild.members.get(world.bot_id)
            if bot is None:
                continue
            out.append(
                {
                    "id": str(guild.id),
                    "name": guild.name,
                    "icon": guild.icon,
                    "banner": None,
                    "owner": guild.owner_id == world.bot_id,
                    "permissions": str(P.base_permissions(guild, bot)),
                    "features": list(guild.features),
                    "approximate_member_count": len(guild.members),
                    "approximate_presence_count": len(guild.members),
                }
            )
        return out

    @r.route("DELETE", "/users/@me/guilds/{guild_id}")
    async def leave_guild(ctx: Ctx):
        guild = ctx.world.guild(ctx.params["guild_id"])
        if ctx.world.bot_id not in guild.members:
            raise ApiError(10004)
        ctx.emu.ops.member_remove(guild, ctx.world.bot_id)

    @r.route("GET", "/users/{user_id}")
    async def get_user(ctx: Ctx):
        return payloads.user(ctx.world.user(ctx.params["user_id"]))

    @r.route("POST", "/users/@me/channels")
    async def open_dm(ctx: Ctx):
        rid = ctx.body.get("recipient_id")
        if rid is None:
            raise form_error(
                {"recipient_id": field_error("BASE_TYPE_REQUIRED", "This field is required")}
            )
        user = ctx.world.user(rid)
        return payloads.channel(ctx.world, ctx.world.dm_channel_for(user))

    # -------------------------------------------------------------- gateway
    @r.route("GET", "/gateway", auth=False)
    async def gateway(ctx: Ctx):
        return {"url": ctx.emu.gateway_url.rstrip("/")}

    @r.route("GET", "/gateway/bot")
    async def gateway_bot(ctx: Ctx):
        return {
            "url": ctx.emu.gateway_url.rstrip("/"),
            "shards": ctx.emu.recommended_shards,
            "session_start_limit": ctx.emu.session_starts.as_payload(),
        }

    # ----------------------------------------------------------- application
    async def application(ctx: Ctx):
        assert ctx.world.application is not None
        return payloads.application(ctx.world, ctx.world.application)

    r.add("GET", "/oauth2/applications/@me", application)
    r.add("GET", "/applications/@me", application)

    @r.route("PATCH", "/applications/@me")
    async def edit_application(ctx: Ctx):
        app = ctx.world.application
        assert app is not None
        if "description" in ctx.body:
            app.description = ctx.body["description"] or ""
        return payloads.application(ctx.world, app)

    @r.route("POST", "/auth/logout")
    async def logout(ctx: Ctx):
        return None

    # --------------------------------------------------------------- invites
    def _invite(ctx: Ctx):
        code = ctx.params["invite_code"].rsplit("/", 1)[-1]
        for guild in ctx.world.guilds.values():
            if code in guild.invites:
                return guild, guild.invites[code]
            if guild.vanity is not None and guild.vanity.code == code:
                return guild, guild.vanity
        raise ApiError(10006)

    @r.route("GET", "/invites/{invite_code}", auth=False)
    async def get_invite(ctx: Ctx):
        _guild, inv = _invite(ctx)
        return payloads.invite(
            ctx.world, inv, with_metadata=False, with_counts=ctx.query_bool("with_counts")
        )

    @r.route("DELETE", "/invites/{invite_code}")
    async def delete_invite(ctx: Ctx):
        guild, inv = _invite(ctx)
        bot = ctx.bot_member(guild)
        channel = ctx.world.channels.get(inv.channel_id)
        have = P.channel_permissions(guild, bot, channel)
        if not (have & P.MANAGE_CHANNELS or P.base_permissions(guild, bot) & P.MANAGE_GUILD):
            raise ApiError(50013)
        ctx.emu.ops.delete_invite(inv)
        return payloads.invite(ctx.world, inv, with_metadata=True)
