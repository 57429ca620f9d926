"""The web pages inside the real bot, against the emulator: health, metrics, the leaderboard."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Config, parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from tests.e2e.util import eventually, members_synced
from tests.helpers import write_config

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUALIFYING = "The migration guide fixed my sync problem, thank you all!"


@pytest.fixture
def bot_config(emulator, community, database_url) -> Config:
    data = community_config(
        community, emulator, database_url=database_url, web={"enabled": True, "bind": "127.0.0.1:0"}
    )
    return parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})


async def fetch(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_healthz_reports_the_connected_bot(flywheel):
    web = flywheel.web
    assert web is not None and web.running and web.port != 0

    status, report = await fetch(f"{web.url}/healthz")

    assert status == 200, report
    assert report["status"] == "ok"
    assert report["gateway"]["connected"] is True
    assert report["database"]["reachable"] is True
    assert report["scheduler"] == {"running": True}
    assert report["pending_role_changes"] == 0
    # The heartbeat's round trip is known once the first ACK came back.
    latency = await eventually(lambda: _latency(web.url), within=10, interval=0.1)
    assert latency > 0


async def _latency(url: str) -> float | None:
    _, report = await fetch(f"{url}/healthz")
    value = report["gateway"]["latency_ms"]
    return None if value is None else value + 1e-9  # truthy even for 0.0


async def test_healthz_turns_503_while_the_emulator_has_the_websocket_closed(
    flywheel, emulator, monkeypatch
):
    """The emulator closes the websocket and holds the RESUME (a slow Discord): the check fails
    until the session is back."""
    web = flywheel.web
    assert web is not None
    gateway = emulator.gateway
    release = asyncio.Event()
    resume = gateway._resume

    async def held_resume(conn, data):
        await release.wait()
        await resume(conn, data)

    monkeypatch.setattr(gateway, "_resume", held_resume)

    async def status() -> int:
        return (await fetch(f"{web.url}/healthz"))[0]

    assert await status() == 200
    await emulator.drop_gateway(code=4000)
    await eventually(lambda: _is(status(), 503))
    _, report = await fetch(f"{web.url}/healthz")
    assert report["gateway"] == {"connected": False, "latency_ms": None}
    assert report["status"] == "unavailable" and report["database"]["reachable"] is True

    release.set()
    await eventually(lambda: _is(status(), 200))
    assert gateway.sessions and all(s.resumes == 1 for s in gateway.sessions.values())


async def _is(value, expected) -> bool:
    return await value == expected


async def test_metrics_count_messages_credits_and_discord_errors(flywheel, emulator, community):
    web = flywheel.web
    assert web is not None
    ada, general = community.members["ada"], community.channels["general"]
    await emulator.post_message(general, ada, QUALIFYING)
    registry = flywheel.bot.services.metrics.registry
    await eventually(lambda: registry.get_sample_value("flywheel_messages_seen_total") == 1)
    emulator.fail_requests("POST", r"/channels/\d+/messages$", status=502)
    emulator.rate_limit("POST", r"/channels/\d+/messages$", retry_after=0.05)
    channel = flywheel.bot.get_channel(general)
    assert channel is not None
    await channel.send("Heads up: maintenance tonight.")  # retried by discord.py, and sent

    status, text = await fetch(f"{web.url}/metrics")

    assert status == 200
    values = samples(text)
    # Ada's message and the bot's own, as the gateway delivers both.
    assert values[("flywheel_messages_seen_total", ())] == 2
    route = ("route", "POST /channels/{channel_id}/messages")
    errors = "flywheel_discord_http_errors_total"
    assert values[(errors, (route, ("status", "5xx")))] == 1
    assert values[(errors, (route, ("status", "429")))] == 1
    assert values[("flywheel_pending_role_changes", ())] == 0
    assert values[("flywheel_activity_flush_seconds_count", ())] >= 1  # the flusher wrote it
    assert str(general) not in text


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_the_leaderboard_page_of_the_running_bot(flywheel, emulator, community):
    web = flywheel.web
    assert web is not None
    ada = community.members["ada"]
    services = flywheel.bot.services
    await members_synced(flywheel.bot, [ada])  # names come from the members table
    async with services.sessions() as session, session.begin():
        await services.contributions.record(
            session, services.contributions.credit("answer", ada, "answer:web-e2e")
        )

    status, html = await fetch(f"{web.url}/leaderboard?period=all&kind=answer")

    assert status == 200
    member = flywheel.bot.get_guild(community.guild_id).get_member(ada)
    assert member is not None and member.display_name in html
    assert str(ada) not in html


async def test_run_serves_the_web_and_stops_it_on_sigterm(emulator, community, tmp_path):
    """``python -m bot run`` with ``[web] enabled``: the pages come up with the bot and go
    down with it, cleanly."""
    data = community_config(
        community,
        emulator,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}",
        logging={"level": "INFO"},
        web={"enabled": True, "bind": "127.0.0.1:0"},
    )
    config = write_config(tmp_path / "config.toml", data)
    env = {**os.environ, "DISCORD_TOKEN": EMULATOR_TOKEN}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    early = b""
    try:
        assert process.stderr is not None
        while not (found := re.search(rb"web: serving on (http://\S+)", early)):
            line = await asyncio.wait_for(process.stderr.readline(), timeout=20)
            assert line, early.decode()
            early += line
        base = found.group(1).decode()

        async def connected() -> bool:
            status, report = await fetch(f"{base}/healthz")
            return status == 200 and report["gateway"]["connected"] is True

        await eventually(connected, within=20, interval=0.1)
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr_bytes = await asyncio.wait_for(process.communicate(), timeout=20)
        except TimeoutError:  # say how far the shutdown got: the bot's own log
            process.kill()
            _, rest = await process.communicate()
            raise AssertionError(
                "not stopped 20 s after SIGTERM; its log:\n" + (early + rest).decode()
            ) from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    stderr = (early + stderr_bytes).decode()
    assert process.returncode == 0, stderr
    assert "web: stopped" in stderr and "shut down cleanly" in stderr
    with pytest.raises(aiohttp.ClientConnectionError):
        await fetch(f"{base}/healthz")
