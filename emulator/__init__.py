"""A local Discord emulator for end-to-end tests of the bot with unmodified discord.py.

It serves the REST API (``/api/v10``) and the gateway websocket from one aiohttp
server on 127.0.0.1, keeps Discord's state in memory and emits the gateway events
Discord would. Production code never imports this package.

Quick tour::

    from emulator import Emulator, permissions

    emu = Emulator(bot_token="emulator-token", bot_name="Flywheel", heartbeat_interval=500)
    await emu.start()
    discord.http.Route.BASE = emu.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)

    g = emu.create_guild("Demo Community", owner_name="owner")      # GuildHandle, .id
    bot_role = g.create_role("Flywheel", permissions=permissions.MANAGE_ROLES, position=10)
    g.add_bot(roles=[bot_role])
    text = g.create_text_channel("general")      # also create_category, create_voice_channel,
    forum = g.create_forum_channel("help", tags=["Solved", "Q"])  # create_stage_channel,
    alice = g.add_member("alice", roles=[])    # create_announcement_channel; Member .id

Acting as users (async; state change + gateway events)::

    msg = await emu.post_message(text.id, alice.id, "hi", reply_to=None, embeds=None, files=None)
    await emu.edit_message(text.id, msg["id"], "edited")   # delete_message(text.id, msg["id"])
    await emu.add_reaction(text.id, msg["id"], alice.id, "👍")       # remove_reaction
    thread, first = await emu.create_forum_post(forum.id, alice.id, "Title", "Body", tags=["Q"])
    await emu.create_thread(text.id, alice.id, "name", message_id=None, private=False)
    inv = await emu.create_invite(text.id, alice.id)                 # Invite .code .uses
    bob = await emu.member_join(g.id, "bob", invite_code=inv.code)   # member_leave(g.id, bob.id)
    ev = await emu.create_scheduled_event(g.id, alice.id, "AMA", start, end_time=..., location=...)
    await emu.start_scheduled_event(g.id, ev.id)  # end_/cancel_scheduled_event, event_add_user
    await emu.voice_join(g.id, alice.id, voice.id, self_mute=False)  # voice_leave(g.id, alice.id)
    inter = await emu.invoke_slash_command(g.id, text.id, alice.id, "tier set", options={...})
    body = await inter.wait_response(timeout=5)      # {"type": 4, "data": {...}}
    body = await inter.wait_answer(timeout=5)        # the same, a deferral followed to its answer
    # also invoke_user_command, invoke_message_command, invoke_autocomplete,
    # click_button(message, user_id, custom_id), select_menu(...),
    # submit_modal(inter_or_custom_id, user_id, values={custom_id: value})
    # inter.followups / inter.edits / inter.original, wait_followup(), wait_edit()
    await emu.replay_interaction(inter)   # the same INTERACTION_CREATE again (a resume replay)
    await emu.post_dm(alice.id, "hello bot"); await emu.set_member_roles(g.id, alice.id, [role])

Past history, without gateway events (seed before the bot connects; :mod:`emulator.history`)::

    ids = emu.seed_history(text.id, [(alice.id, "hi", at), (bob.id, "ok", at2, {"✅": [alice.id]})])
    post = emu.seed_thread(forum.id, alice.id, "Q?", at, content="body", tags=["Solved"],
                           archived=True, messages=[(bob.id, "answer", at3)])

World edits after connect also dispatch events: ``g.edit_role(role, permissions=...)``,
``g.set_overwrite(channel, role_or_member, allow=..., deny=...)``, ``g.set_system_channel(c)``,
``g.set_vanity_url("code", channel)`` (joins with ``invite_code="code"`` count in its uses;
``None`` removes it).

Reading back: ``emu.messages(channel_id)``, ``emu.dms(user_id)``, ``emu.member_roles(g, u)``,
``emu.forum_tags(forum_id)`` (``[{"id", "name", "moderated", "emoji_id", "emoji_name"}]``),
``emu.applied_tag_names(thread_id)`` (a post's tag names; rules in ``emulator.forums``),
``emu.role_changes``, ``emu.interaction_responses``, ``emu.request_log``,
``emu.requests(method, path_regex)``, ``emu.commands(guild_id=None)``,
``emu.unknown_routes``, ``emu.gateway_log``, ``emu.identified_intents``, ``emu.sessions``,
``emu.bot_user_id``, ``emu.world`` (raw state).

Waiting: ``await emu.flush()`` waits until queued gateway frames are on the wire. Before
checking that something did *not* happen, wait for the idle barrier instead of sleeping::

    await emu.wait_idle(client, busy=lambda: [...], quiet=0.05, timeout=5.0)

It returns once, for ``quiet`` seconds in a row, no gateway frame is unsent, no REST request is
in flight, the discord.py ``client`` (optional) has read every dispatch of its session and runs
no listener, app command, button or modal handler, and ``busy()`` (your bot's own background
work, as reasons) is empty; otherwise it raises ``TimeoutError`` naming what stayed busy.
``emu.busy(client)`` lists the same right now (``emulator.idle`` has the details).

Discord's spec: every request body and query string is validated against Discord's OpenAPI
spec (``emulator.spec``; vendored with its MIT licence) plus the limits it cannot express
(``emulator.spec.limits``); off-spec requests get 400 ``50035`` and land in
``emu.spec_violations``. ``Emulator(check_responses=True)`` checks 2xx answers too; what
discord.py sends off-spec but Discord accepts is listed once in ``emulator.spec.accepted``.

Rate limits: on by default, as Discord applies them (:mod:`emulator.ratelimits`): per-route
buckets with ``X-RateLimit-*`` headers, counted per channel, guild or webhook; sends and edits
share a bucket, all DMs share one; 50 requests a second in all (interaction callbacks and
follow-ups excepted); over a limit, 429 with ``retry_after`` and ``X-RateLimit-Scope``.
``emu.limiter.served_429`` lists them; 10,000 invalid requests (401, 403, 429) in 10 minutes
get Cloudflare's ban. Tests that need speed raise them explicitly:
``Emulator(rate_limits=RateLimits().raised(10))``; ``RateLimits.off()`` disables them.

Faults (scripted, on top):
``emu.rate_limit(method, path_regex, times=1, retry_after=0.5, global_=False)``,
``emu.fail_requests(method, path_regex, status=500)``, ``emu.drop_gateway(session)``
(resumable), ``emu.invalidate_session(session)``.

The gateway's failure paths (:mod:`emulator.gateway`): no heartbeat for 1.5 intervals closes
the connection with 4009 and ends its session; more than 120 frames a minute close it with
4008; a frame that is not JSON with 4002. The server side is public, for the session given or
every connected one: ``emu.reconnect()`` (op 7), ``emu.request_heartbeat()`` (op 1),
``emu.invalid_session(resumable=True)`` (op 9). ``Emulator(chaos=Chaos(seed))``
(:mod:`emulator.chaos`) does drops, op 7, resumable op 9 and op 1 at random moments;
``emu.chaos.made`` counts them.

Sharding (:mod:`emulator.sharding`, as Discord): each guild's events go only to sessions of
shard ``(guild_id >> 22) % count``, DMs only to shard 0; READY lists only the shard's guilds.
``Emulator(max_guilds_per_shard=2500, max_concurrency=1, identify_window=5.0,
session_start_total=1000, recommended_shards=None)``: past ``max_guilds_per_shard`` an IDENTIFY
closes with 4011; a second IDENTIFY on a rate-limit key (``shard_id % max_concurrency``) within
``identify_window`` gets op 9; a spent session start budget resets ``emu.bot_token`` and closes
every connection with 4004 (``emu.session_starts.advance(s)`` ages the 24-hour budget). Guilds on
a chosen shard: ``emu.create_guild("Name", shard=(shard_id, shard_count))``.

Realism notes: GUILD_CREATE carries the full member list only with GUILD_PRESENCES
on a non-large guild (otherwise discord.py chunks via op 8, which is served);
INVITE_CREATE/DELETE need MANAGE_CHANNELS; interaction callbacks after
``interaction_ack_timeout`` (3 s) get 10062; follow-ups and ``@original`` edits after
``interaction_token_lifetime`` (15 min; ``emu.advance_interaction_time(s)`` ages
interactions) get 401/50027; the first follow-up after a deferral edits
the "thinking" message; embeds sent without EMBED_LINKS are dropped; without the
MESSAGE_CONTENT intent approved (``privileged_intents``) others' messages arrive and are
read back over REST with their content emptied (the bot's own, DMs and mentions of the bot
excepted); a clean client
close (1000/1001) ends the gateway session; actors raise ``EmulatorError`` for things a
real client could not do (unknown command/option, posting without permission).
"""

from __future__ import annotations

from . import intents, permissions
from .builder import GuildHandle
from .chaos import Chaos
from .errors import ApiError, EmulatorError
from .gateway import GatewaySession
from .interactions import InteractionRecord
from .ops import RoleChange
from .ratelimits import RateLimits
from .rest import RequestRecord
from .server import Emulator

__all__ = [
    "ApiError",
    "Chaos",
    "Emulator",
    "EmulatorError",
    "GatewaySession",
    "GuildHandle",
    "InteractionRecord",
    "RateLimits",
    "RequestRecord",
    "RoleChange",
    "intents",
    "permissions",
]
