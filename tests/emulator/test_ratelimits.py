"""Discord's rate limits in the emulator: the table, the buckets and the 429s discord.py meets."""

from __future__ import annotations

import asyncio
import datetime
import re
from dataclasses import replace
from pathlib import Path

import aiohttp
import discord
import pytest

from emulator import Emulator, permissions
from emulator.ratelimits import (
    DEFAULT_LIMIT,
    DISCORD_LIMITS,
    Limit,
    Limiter,
    RateLimits,
    bucket_hash,
)

from .conftest import TOKEN, make_client, running

SEND = "POST /channels/{channel_id}/messages"
EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"
ROLE_ADD = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
ROLE_REMOVE = "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
CALLBACK = "POST /interactions/{interaction_id}/{interaction_token}/callback"
FOLLOW_UP = "POST /webhooks/{webhook_id}/{webhook_token}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(limits: RateLimits | None = None) -> tuple[Limiter, Clock]:
    clock = Clock()
    return Limiter(limits or RateLimits(), monotonic=clock, wall=lambda: 1_700_000_000.0), clock


def test_message_sends_are_five_per_five_seconds_per_channel():
    limits, clock = limiter()
    answers = [limits.check(SEND, {"channel_id": "1"}) for _ in range(6)]
    assert [a.allowed for a in answers] == [True] * 5 + [False]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "5"
    assert answers[0].headers["X-RateLimit-Reset-After"] == "5.000"
    assert answers[0].headers["X-RateLimit-Reset"] == "1700000005.000"
    limited = answers[5]
    assert limited.scope == "user" and limited.retry_after == pytest.approx(5.0)
    assert limited.headers["X-RateLimit-Scope"] == "user"
    assert limited.headers["Retry-After"] == "5"
    assert limited.body() == {
        "message": "You are being rate limited.",
        "retry_after": 5.0,
        "global": False,
        "code": 0,
    }
    # Another channel has its own bucket (the channel is a major parameter) ...
    assert limits.check(SEND, {"channel_id": "2"}).allowed
    # ... and the window reopens once its reset time has passed.
    clock.now += 5.0
    assert limits.check(SEND, {"channel_id": "1"}).headers["X-RateLimit-Remaining"] == "4"


def test_sends_and_edits_share_one_bucket():
    limits, _ = limiter()
    for _ in range(3):
        assert limits.check(SEND, {"channel_id": "1"}).allowed
    edits = [limits.check(EDIT, {"channel_id": "1", "message_id": "9"}) for _ in range(3)]
    assert [e.allowed for e in edits] == [True, True, False]
    bucket = {e.headers["X-RateLimit-Bucket"] for e in edits}
    assert bucket == {limits.check(SEND, {"channel_id": "2"}).headers["X-RateLimit-Bucket"]}


def test_direct_messages_share_one_limit_across_channels_on_top_of_their_buckets():
    limits, _ = limiter()
    answers = [limits.check(SEND, {"channel_id": str(c)}, dm=True) for c in range(1, 7)]
    assert [a.allowed for a in answers] == [True] * 5 + [False]
    limited = answers[5]
    assert limited.scope == "shared" and limited.headers["X-RateLimit-Scope"] == "shared"
    assert limited.body()["message"] == "The resource is being rate limited."
    # The headers are the channel's own bucket, the same hash as any message send: the shared
    # limit has no bucket a client could track (so discord.py's bookkeeping stays right).
    guild_send = limits.check(SEND, {"channel_id": "100"})
    assert limited.headers["X-RateLimit-Bucket"] == guild_send.headers["X-RateLimit-Bucket"]
    assert limited.headers["X-RateLimit-Remaining"] == "5"
    assert guild_send.allowed, "guild channels are not part of the DM limit"


def test_role_changes_share_a_bucket_per_guild():
    limits, _ = limiter()
    params = {"guild_id": "5", "user_id": "7", "role_id": "8"}
    allowed = [limits.check(ROLE_ADD if i % 2 else ROLE_REMOVE, params).allowed for i in range(11)]
    assert allowed == [True] * 10 + [False]
    assert limits.check(ROLE_ADD, {**params, "guild_id": "6"}).allowed


def test_every_other_route_has_its_own_bucket():
    limits, _ = limiter()
    route = "GET /guilds/{guild_id}/roles"
    assert [limits.check(route, {"guild_id": "1"}).allowed for _ in range(11)] == [True] * 10 + [
        False
    ]
    other = limits.check("GET /guilds/{guild_id}/channels", {"guild_id": "1"})
    assert other.allowed and other.headers["X-RateLimit-Remaining"] == "9"


def test_the_global_limit_is_fifty_a_second_and_spares_interactions():
    limits, clock = limiter()
    route = "GET /channels/{channel_id}"
    answers = [limits.check(route, {"channel_id": str(c)}) for c in range(51)]
    assert [a.allowed for a in answers] == [True] * 50 + [False]
    limited = answers[50]
    assert limited.is_global and limited.body()["global"] is True
    assert limited.headers == {
        "Retry-After": "1",
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
    }
    # Interaction callbacks and follow-ups are not bound by the global limit.
    assert limits.check(CALLBACK, {"interaction_id": "1", "interaction_token": "t"}).allowed
    assert limits.check(FOLLOW_UP, {"webhook_id": "1", "webhook_token": "t"}).allowed
    clock.now += 1.0
    assert limits.check(route, {"channel_id": "1"}).allowed


def test_raised_limits_keep_the_buckets_and_multiply_the_counts():
    raised = RateLimits().raised(10)
    assert raised.limit_for(SEND).requests == 50
    shared = raised.shared_for(SEND)
    assert shared is not None and shared.requests == 50
    assert raised.default.requests == 100 and raised.global_per_second == 500
    limits, _ = limiter(raised)
    assert all(limits.check(SEND, {"channel_id": "1"}).allowed for _ in range(50))
    assert not limits.check(SEND, {"channel_id": "1"}).allowed


def test_off_allows_everything_without_headers():
    limits, _ = limiter(RateLimits.off())
    answers = [limits.check(SEND, {"channel_id": "1"}) for _ in range(100)]
    assert all(a.allowed and a.headers == {} for a in answers)


def test_each_route_has_one_limit_per_kind_of_channel():
    seen: dict[tuple[str, str], Limit] = {}
    for limit in DISCORD_LIMITS:
        for route in limit.routes:
            key = (route, limit.scope)
            assert key not in seen, f"{route} is in {seen.get(key)} and {limit.name}"
            seen[key] = limit


async def test_thirty_rapid_posts_are_paced_by_the_bucket(emu: Emulator, world):
    """The point of the table: a burst does not all succeed at once (it used to)."""
    headers = {"Authorization": f"Bot {TOKEN}"}
    url = f"{emu.api_base}/channels/{world.general.id}/messages"
    async with aiohttp.ClientSession(headers=headers) as session:
        statuses = []
        for i in range(30):
            async with session.post(url, json={"content": f"post {i}"}) as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    body = await resp.json()
                    assert resp.headers["X-RateLimit-Remaining"] == "0"
                    assert resp.headers["X-RateLimit-Scope"] == "user"
                    assert 0 < body["retry_after"] <= 5 and body["global"] is False
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    # Nothing limited was posted.
    assert len(emu.messages(world.general.id)) == 5
    assert [r.status for r in emu.requests("POST", r"/messages$")].count(429) == 25


async def test_discord_py_meets_the_limits_without_losing_a_message(emu: Emulator, world):
    """discord.py reads the headers and waits, so a burst arrives whole and in order."""
    client = make_client()
    async with running(client):
        channel = client.get_channel(world.general.id)
        assert isinstance(channel, discord.TextChannel)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for i in range(7):
            await channel.send(f"burst {i}")
        took = loop.time() - started
    contents = [m["content"] for m in emu.messages(world.general.id)]
    assert contents == [f"burst {i}" for i in range(7)]
    # Five go at once; the sixth waits for the 5-second window, as it would on Discord.
    assert took >= 4.5
    assert not emu.limiter.served_429


def test_the_readme_table_states_the_enforced_limits():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {
        m["name"]: m["limit"]
        for m in re.finditer(
            r"^\s*\| (?P<name>[a-z ]+?)(?: \([^)]*\))? \| [^|]+ \| (?P<limit>[^|]+) \|",
            readme,
            re.M,
        )
    }

    def stated(requests: int, per: float) -> str:
        return f"{requests} / {per:g} s"

    for limit in DISCORD_LIMITS:
        assert rows.get(limit.name) == stated(limit.requests, limit.per), limit.name
    assert rows["every other route"] == stated(DEFAULT_LIMIT.requests, DEFAULT_LIMIT.per)
    assert rows["global"] == f"{RateLimits().global_per_second} / s"


async def test_too_many_invalid_requests_get_the_client_banned():
    """Discord's Cloudflare ban: after the invalid-request limit, every request is refused."""
    emu = Emulator(bot_token=TOKEN, rate_limits=RateLimits(invalid_per_10_minutes=3))
    await emu.start()
    try:
        async with aiohttp.ClientSession() as anonymous:
            for _ in range(3):
                async with anonymous.get(f"{emu.api_base}/users/@me") as denied:
                    assert denied.status == 401
            async with anonymous.get(
                f"{emu.api_base}/users/@me", headers={"Authorization": f"Bot {TOKEN}"}
            ) as banned:
                assert banned.status == 429 and "Via" not in banned.headers
                assert await banned.text() == "error code: 1015"
    finally:
        await emu.stop()
    assert len(emu.limiter.invalid_at) == 3


def test_shared_429s_do_not_count_as_invalid():
    limits, _ = limiter(RateLimits(invalid_per_10_minutes=1))
    limits.note_status(429, "shared")
    limits.note_status(200)
    limits.note_status(404)
    assert not limits.banned()
    limits.note_status(403)
    assert limits.banned()


def test_history_pages_are_five_per_five_seconds_per_channel_in_their_own_bucket():
    limits, clock = limiter()
    history = "GET /channels/{channel_id}/messages"
    answers = [limits.check(history, {"channel_id": "1"}) for _ in range(6)]
    assert [a.allowed for a in answers] == [True] * 5 + [False]
    assert answers[0].headers["X-RateLimit-Limit"] == "5"
    assert limits.check(history, {"channel_id": "2"}).allowed  # per channel
    assert limits.check(SEND, {"channel_id": "1"}).allowed  # reading does not spend sends
    bucket = answers[0].headers["X-RateLimit-Bucket"]
    assert bucket != limits.check(SEND, {"channel_id": "3"}).headers["X-RateLimit-Bucket"]
    clock.now += 5.0
    assert limits.check(history, {"channel_id": "1"}).allowed


async def test_discord_py_honours_a_429_on_history_and_reads_every_page():
    """Another reader empties the channel's history bucket; discord.py, which has not seen
    its headers yet, meets the 429, waits ``retry_after`` and reads on to the end."""
    history = "GET /channels/{channel_id}/messages"
    quick = Limit("message history", 2, 0.5, (history,))
    limits = RateLimits(limits=tuple(lim for lim in DISCORD_LIMITS if history not in lim.routes))
    emu = Emulator(bot_token=TOKEN, rate_limits=replace(limits, limits=(*limits.limits, quick)))
    await emu.start()
    old = discord.http.Route.BASE
    discord.http.Route.BASE = emu.api_base
    try:
        guild = emu.create_guild("Community", owner_name="owner")
        guild.add_bot(roles=[guild.create_role("Flywheel", permissions=permissions.ADMINISTRATOR)])
        channel = guild.create_text_channel("general")
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        ids = emu.seed_history(
            channel.id,
            [(guild.owner.id, f"m{i}", start + datetime.timedelta(minutes=i)) for i in range(450)],
        )
        url = f"{emu.api_base}/channels/{channel.id}/messages"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as other:
            for left in ("1", "0"):
                async with other.get(url) as drained:
                    assert drained.status == 200
                    assert drained.headers["X-RateLimit-Limit"] == "2"
                    assert drained.headers["X-RateLimit-Remaining"] == left
                    assert drained.headers["X-RateLimit-Bucket"] == bucket_hash("message history")
        client = discord.Client(intents=discord.Intents.none())
        await client.login(TOKEN)  # REST only: the history walk a backfill does
        try:
            target = client.get_partial_messageable(channel.id)
            messages = [m async for m in target.history(limit=None)]
        finally:
            await client.close()
    finally:
        discord.http.Route.BASE = old
        await emu.stop()
    assert [m.id for m in messages] == ids[::-1]
    served = [r for r in emu.limiter.served_429 if r[0] == history]
    assert served and all(scope == "user" for _, scope, _ in served)
    pages = [r.status for r in emu.requests("GET", rf"/channels/{channel.id}/messages$")]
    assert pages.count(429) == len(served) and pages.count(200) == 2 + 5
