"""The emulator refereed by Discord's OpenAPI spec: requests, query strings and responses."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from emulator import permissions
from emulator.spec import ACCEPTED, load
from emulator.spec.accepted import table_markdown

from .conftest import TOKEN, make_client, running

README = Path(__file__).resolve().parents[2] / "README.md"

#: The routes the bot calls (collected from the e2e suite's request log), each answered below.
BOT_ROUTES = {
    ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"),
    ("DELETE", "/guilds/{guild_id}/roles/{role_id}"),
    ("GET", "/channels/{channel_id}/messages"),
    ("GET", "/guilds/{guild_id}/invites"),
    ("GET", "/guilds/{guild_id}/scheduled-events/{event_id}/users"),
    ("GET", "/guilds/{guild_id}/vanity-url"),
    ("GET", "/invites/{invite_code}"),
    ("GET", "/oauth2/applications/@me"),
    ("GET", "/users/@me"),
    ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    ("PATCH", "/channels/{channel_id}"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    ("POST", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/messages/{message_id}/crosspost"),
    ("POST", "/channels/{channel_id}/messages/{message_id}/threads"),
    ("POST", "/channels/{channel_id}/threads"),
    ("POST", "/guilds/{guild_id}/channels"),
    ("POST", "/guilds/{guild_id}/roles"),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"),
    ("POST", "/users/@me/channels"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("PUT", "/channels/{channel_id}/thread-members/{user_id}"),
    ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"),
}


class Api:
    """Raw HTTP to the emulator, so each test controls the exact body on the wire."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    async def __call__(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self.session.request(
            method,
            self.base + path,
            json=body,
            params=params,
            headers={"Authorization": f"Bot {TOKEN}"},
        ) as resp:
            data = await resp.json() if resp.status != 204 else None
            return resp.status, data


@pytest.fixture
async def api(emu):
    async with aiohttp.ClientSession() as session:
        yield Api(session, emu.api_base)


def button_row(*custom_ids: str) -> list[dict[str, Any]]:
    buttons = [{"type": 2, "style": 1, "label": c, "custom_id": c} for c in custom_ids]
    return [{"type": 1, "components": buttons}]


# ----------------------------------------------------------------- requests
async def test_a_malformed_embeds_object_is_a_400_not_a_crash(emu, world, api):
    status, body = await api(
        "POST", f"/channels/{world.general.id}/messages", {"embeds": {"title": "x"}}
    )
    assert status == 400, body
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert body["errors"]["embeds"]["_errors"][0]["code"] == "BASE_TYPE_BAD_TYPE"
    assert [v.operation for v in emu.spec_violations] == ["create_message"]


async def test_errors_are_nested_by_path_like_discords(emu, world, api):
    body = {
        "content": "hi",
        "embeds": [{"title": "t", "fields": [{"name": "n", "value": "v" * 1025}]}],
        "components": button_row("a" * 101),
    }
    status, out = await api("POST", f"/channels/{world.general.id}/messages", body)
    assert status == 400
    errors = out["errors"]
    assert errors["embeds"]["0"]["fields"]["0"]["value"]["_errors"] == [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 1024 or fewer in length."}
    ]
    custom_id = errors["components"]["0"]["components"]["0"]["custom_id"]["_errors"]
    assert custom_id[0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert emu.messages(world.general.id) == []


async def test_a_bot_message_is_capped_at_2000_characters(emu, world, api):
    """The spec allows 4,000 (what Nitro users get); bots get 2,000."""
    status, out = await api(
        "POST", f"/channels/{world.general.id}/messages", {"content": "x" * 2001}
    )
    assert status == 400
    assert out["errors"]["content"]["_errors"][0]["message"] == "Must be 2000 or fewer in length."
    status, _ = await api("POST", f"/channels/{world.general.id}/messages", {"content": "x" * 2000})
    assert status == 200


async def test_select_options_and_duplicate_custom_ids(emu, world, api):
    options = [{"label": str(i), "value": str(i)} for i in range(26)]
    select = {"type": 1, "components": [{"type": 3, "custom_id": "s", "options": options}]}
    status, out = await api(
        "POST", f"/channels/{world.general.id}/messages", {"components": [select]}
    )
    assert status == 400
    options_error = out["errors"]["components"]["0"]["components"]["0"]["options"]
    assert options_error["_errors"][0]["message"] == "Must be 25 or fewer in length."
    status, out = await api(
        "POST", f"/channels/{world.general.id}/messages", {"components": button_row("a", "a")}
    )
    assert status == 400
    dup = out["errors"]["components"]["0"]["components"]["1"]["custom_id"]["_errors"]
    assert dup[0]["code"] == "COMPONENT_CUSTOM_ID_DUPLICATED"


async def test_query_parameters_are_validated(emu, world, api):
    path = f"/channels/{world.general.id}/messages"
    status, out = await api("GET", path, params={"limit": "500"})
    assert status == 400 and "limit" in out["errors"]
    status, out = await api("GET", path, params={"limit": "ten"})
    assert status == 400 and "limit" in out["errors"]
    status, out = await api("GET", path, params={"limt": "10"})
    assert status == 400 and out["errors"]["limt"]["_errors"][0]["code"] == "UNKNOWN_FIELD"
    status, _ = await api("GET", path, params={"limit": "10"})
    assert status == 200


async def test_what_discord_py_sends_off_spec_is_accepted(emu, world, api):
    """Each entry of the accepted list, as discord.py sends it, gets through."""
    status, role = await api(
        "POST", f"/guilds/{world.guild.id}/roles", {"name": "r", "permissions": "1024"}
    )
    assert status == 200, role
    status, _ = await api("GET", f"/guilds/{world.guild.id}", params={"with_counts": "1"})
    assert status == 200
    status, _ = await api("POST", "/users/@me/channels", {"recipient_id": world.alice.id})
    assert status == 200
    status, _ = await api(
        "POST",
        f"/channels/{world.general.id}/messages",
        {"content": "hi", "allowed_mentions": {"parse": [], "users": [world.alice.id]}},
    )
    assert status == 200
    assert emu.spec_violations == []
    # …and nothing looser: a word is still not a permission bitfield.
    status, _ = await api(
        "POST", f"/guilds/{world.guild.id}/roles", {"name": "r", "permissions": "all"}
    )
    assert status == 400


async def test_a_text_input_label_over_45_characters_is_refused(emu, world):
    """The nomination reject form's 47-character label passed here until the spec checked it."""
    client = make_client()
    tree = app_commands.CommandTree(client)
    failures: list[discord.HTTPException] = []

    class Form(discord.ui.Modal, title="Reject nomination #1"):
        reason = discord.ui.TextInput(
            label="Reason (shown on the card and to the nominator)", custom_id="reason"
        )

    @tree.command(name="reject", description="Open the form", guild=discord.Object(world.guild.id))
    async def reject(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_modal(Form())
        except discord.HTTPException as exc:
            failures.append(exc)

    async with running(client):
        await tree.sync(guild=discord.Object(world.guild.id))
        inter = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "reject"
        )
        await emu.wait_idle(client, timeout=5)
    assert inter.modal is None
    assert [(f.status, f.code) for f in failures] == [(400, 50035)]
    [violation] = emu.spec_violations
    label = violation.errors["data"]["components"]["0"]["components"]["0"]["label"]
    assert label["_errors"] == [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 45 or fewer in length."}
    ]


def test_readme_shows_the_accepted_list():
    text = README.read_text(encoding="utf-8")
    assert table_markdown() in text
    assert len(ACCEPTED) >= 4


def test_validation_cost_per_request_stays_small():
    """The benchmarks run the emulator hard: a typical message body validates in about 1 ms
    (pure-Python jsonschema); a regression such as an unrewritten ``oneOf`` of components
    (3 ms and up) fails here."""
    spec = load()
    op = spec.operation("POST", "/channels/{channel_id}/messages")
    assert op is not None
    body = {
        "content": "Nominated <@1> for Champion",
        "embeds": [
            {
                "title": "Nomination",
                "description": "x" * 200,
                "color": 5,
                "fields": [{"name": "Why", "value": "y" * 100, "inline": False}] * 3,
            }
        ],
        "components": button_row("approve:1", "reject:1"),
        "allowed_mentions": {"parse": [], "users": [1]},
    }
    spec.request_errors(op, body, {})
    rounds = 300
    start = time.perf_counter()
    for _ in range(rounds):
        assert spec.request_errors(op, body, {}) == {}
    per_request = (time.perf_counter() - start) / rounds
    assert per_request < 0.005, f"{per_request * 1e6:.0f} µs per request"


# ---------------------------------------------------------------- responses
async def test_every_route_the_bot_uses_answers_on_spec(emu, world, api):
    """One call per bot route, each response checked against the spec's response schema."""
    emu.check_responses = True
    g, general = world.guild, world.general
    status, cmds = await api(
        "PUT",
        f"/applications/{emu.application_id}/guilds/{g.id}/commands",
        [{"name": "ping", "description": "Ping", "type": 1}],
    )
    assert status == 200, cmds
    ok = [
        await api("GET", "/users/@me"),
        await api("GET", "/oauth2/applications/@me"),
    ]
    status, msg = await api(
        "POST",
        f"/channels/{general.id}/messages",
        {
            "content": "hello",
            "embeds": [{"title": "t", "fields": [{"name": "a", "value": "b"}]}],
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 2,
                            "style": 1,
                            "label": "Go",
                            "custom_id": "go",
                            "emoji": {"name": "👍"},
                        },
                    ],
                }
            ],
        },
    )
    assert status == 200, msg
    assert msg["components"][0]["id"] == 1 and msg["components"][0]["components"][0]["id"] == 2
    assert msg["embeds"][0]["fields"][0]["inline"] is False
    ok += [
        await api("PATCH", f"/channels/{general.id}/messages/{msg['id']}", {"content": "edited"}),
        await api("GET", f"/channels/{general.id}/messages", params={"limit": "5"}),
        await api("POST", f"/channels/{world.announcements.id}/messages", {"content": "news"}),
    ]
    _, news = ok[-1]
    ok.append(
        await api("POST", f"/channels/{world.announcements.id}/messages/{news['id']}/crosspost")
    )
    ok.append(
        await api(
            "POST", f"/channels/{general.id}/messages/{msg['id']}/threads", {"name": "thread"}
        )
    )
    status, thread = await api(
        "POST", f"/channels/{general.id}/threads", {"name": "private", "type": 12}
    )
    ok.append((status, thread))
    ok.append(await api("PUT", f"/channels/{thread['id']}/thread-members/{world.alice.id}"))
    ok.append(await api("PATCH", f"/channels/{general.id}", {"topic": "new topic"}))
    ok.append(await api("POST", f"/guilds/{g.id}/channels", {"name": "new", "type": 0}))
    status, role = await api("POST", f"/guilds/{g.id}/roles", {"name": "Champion"})
    ok.append((status, role))
    member_role = f"/guilds/{g.id}/members/{world.alice.id}/roles/{role['id']}"
    ok += [
        await api("PUT", member_role),
        await api("DELETE", member_role),
        await api("DELETE", f"/guilds/{g.id}/roles/{role['id']}"),
        await api("POST", "/users/@me/channels", {"recipient_id": str(world.alice.id)}),
        await api("GET", f"/guilds/{g.id}/invites"),
        await api("GET", f"/guilds/{g.id}/vanity-url"),
    ]
    invite = await emu.create_invite(general.id, world.alice.id)
    ok.append(await api("GET", f"/invites/{invite.code}", params={"with_counts": "true"}))
    start = datetime.now(UTC) + timedelta(days=1)
    event = await emu.create_scheduled_event(
        g.id, world.owner.id, "AMA", start, location="Here", end_time=start + timedelta(hours=1)
    )
    await emu.event_add_user(g.id, event.id, world.alice.id)
    ok.append(
        await api(
            "GET",
            f"/guilds/{g.id}/scheduled-events/{event.id}/users",
            params={"with_member": "true", "limit": "100"},
        )
    )

    replies: dict[int, dict[str, Any]] = {}
    for callback in (
        {"type": 4, "data": {"content": "pong", "components": button_row("again")}},
        {"type": 5},
        {
            "type": 9,
            "data": {
                "custom_id": "f",
                "title": "Form",
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 4, "custom_id": "r", "style": 1, "label": "Reason"},
                        ],
                    },
                ],
            },
        },
    ):
        inter = await emu.invoke_slash_command(g.id, general.id, world.alice.id, "ping")
        status, out = await api(
            "POST",
            f"/interactions/{inter.id}/{inter.token}/callback",
            callback,
            params={"with_response": "true"},
        )
        ok.append((status, out))
        replies[callback["type"]] = out
        if callback["type"] == 5:
            webhook = f"/webhooks/{emu.application_id}/{inter.token}"
            ok += [
                await api("POST", webhook, {"content": "follow-up"}),
                await api("GET", f"{webhook}/messages/@original"),
                await api("PATCH", f"{webhook}/messages/@original", {"content": "done"}),
            ]
    assert replies[4]["resource"]["type"] == 4 and "message" in replies[4]["resource"]
    assert "resource" not in replies[5] and "resource" not in replies[9]

    assert [s for s, _ in ok if s >= 300] == []
    hit = {(r.method, r.route) for r in emu.request_log if r.status < 300}
    assert hit >= BOT_ROUTES, BOT_ROUTES - hit
    assert [str(v) for v in emu.spec_violations] == []


async def test_guild_preview_and_event_listings_match_the_spec(emu, world, api):
    emu.check_responses = True
    g = world.guild
    event = await emu.create_scheduled_event(
        g.id,
        world.owner.id,
        "AMA",
        datetime.now(UTC) + timedelta(days=1),
        end_time=datetime.now(UTC) + timedelta(days=1, hours=1),
        location="Here",
    )
    await emu.event_add_user(g.id, event.id, world.alice.id)
    calls = [
        await api("GET", f"/guilds/{g.id}/preview"),
        await api("GET", f"/guilds/{g.id}/scheduled-events", params={"with_user_count": "1"}),
        await api("GET", f"/guilds/{g.id}/scheduled-events/{event.id}"),
        await api("GET", f"/guilds/{g.id}/scheduled-events/{event.id}/users"),
        await api("GET", "/applications/@me"),
    ]
    assert [s for s, _ in calls] == [200] * len(calls)
    assert [str(v) for v in emu.spec_violations] == []


async def test_a_429_body_carries_what_the_spec_requires(emu, world, api):
    emu.rate_limit("POST", r"/channels/\d+/messages$", times=1, retry_after=0.01)
    status, body = await api("POST", f"/channels/{world.general.id}/messages", {"content": "x"})
    assert status == 429
    op = load().operation("POST", "/channels/{channel_id}/messages")
    assert op is not None
    assert load().response_errors(op, 429, body) == {}


async def test_discord_py_still_works_end_to_end_with_validation_on(emu, world):
    """A plain discord.py session: sends, edits, roles and DMs raise no spec violation."""
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        message = await channel.send(
            "hi",
            embed=discord.Embed(title="t").add_field(name="a", value="b"),
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(world.alice.id)]),
        )
        await message.edit(content="edited")
        guild = client.get_guild(world.guild.id)
        role = await guild.create_role(
            name="x", permissions=discord.Permissions(permissions.SEND_MESSAGES)
        )
        await role.edit(permissions=discord.Permissions.none())
        await guild.get_member(world.alice.id).send("dm")
        await guild.fetch_scheduled_events(with_counts=True)
    assert [str(v) for v in emu.spec_violations] == []
