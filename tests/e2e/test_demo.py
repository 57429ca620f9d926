"""`python -m bot demo` as a user runs it: no token, exits 0, shows what the bot did."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip


def test_demo_runs_without_a_token_and_shows_the_setup_check():
    result = run_demo()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "36 members" in out
    assert "posted in #mod-log" in out
    assert "move the Flywheel role above Advisor" in out
    # Program operations: a group, a buddy introduced by DM, the survey held back below 5
    # answers, a member's export; the health report that follows sees the group and the answer.
    assert "gave role Berlin Meetup to katherine" in out
    assert "posted in DMs with ida:" in out
    assert "results appear at 5" in out
    assert "[file] flywheel-data-" in out
    assert "not enough answers (1 of the 5 needed)" in out
    assert "**Berlin Meetup** (local, Berlin)" in out
    # Invites: a vanity URL join, and one buddy note for the newcomers, not one each.
    assert "vanity URL (discord.gg/flywheel-hq)" in out
    assert out.count("nobody could be their buddy") == 1
    # The owner exports everything while the bot runs.
    assert "`python -m bot export DIR`" in out
    assert "manifest.json (schema" in out and "members.csv " in out
    # Day one with history: the backfill puts the long-time helpers on the ladder at once,
    # with one summary post and their roles, no announcement each.
    backfill = out[out.index("== Day one on a community with history") :]
    backfill = backfill[: backfill.index("\n== ")]
    assert "The ladder now reflects the last 90 days of history: 3 Champions." in backfill
    for helper in ("leslie", "shafi", "edsger"):
        assert f"gave role Champion to {helper}" in backfill
    assert "Backfill finished" in backfill and "posted in DMs" not in backfill
    assert "warning: the emulator saw" not in out
    assert out.rstrip().endswith("== Flywheel shuts down cleanly")
    assert "Traceback" not in result.stderr


def test_demo_tries_a_users_config(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text(
        "[activity]\ncooldown_seconds = 30\n\n"
        '[[tiers]]\nkey = "helper"\nname = "Helper"\nrole_id = 0\n\n'
        '[[tiers]]\nkey = "mentor"\nname = "Mentor"\nrole_id = 0\n',
        encoding="utf-8",
    )
    result = run_demo("--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "tiers Helper, Mentor" in result.stdout
    assert "move the Flywheel role above Mentor" in result.stdout
    assert "(operations scene skipped" in result.stdout


def test_demo_plays_the_copied_example_saying_what_its_rules_skip(tmp_path):
    """The README's newcomer path: config.example.toml copied as it is, placeholders and all."""
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_demo("--config", str(config))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in result.stderr
    # Its Champion wants 4 active weeks and 30 days in the server: katherine is not promoted,
    # so nothing calls her a Champion, and the scene that needs a tier member says why not.
    assert "katherine doesn't meet every Champion criterion" in out
    assert "a Champion" not in out
    assert "gave role Champion" not in out
    assert "== (operations scene skipped: katherine did not reach Champion" in out
    assert out.rstrip().endswith("== Flywheel shuts down cleanly")


def test_demo_says_which_parts_the_users_switches_turn_off(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text(
        "[buddies]\nenabled = false\n\n[nps]\nenabled = false\n\n[newsletter]\nchart = false\n",
        encoding="utf-8",
    )
    result = run_demo("--config", str(config))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "gave role Champion to katherine" in out
    assert "== (buddies skipped: they are off in your config, buddies.enabled = false)" in out
    assert "nps.enabled = false)" in out and "katherine presses" not in out
    assert "(no chart: it is off in your config, newsletter.chart = false)" in out
    assert "gave role Berlin Meetup to katherine" in out
    assert out.rstrip().endswith("== Flywheel shuts down cleanly")


def test_demo_refuses_a_broken_config_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[activity]\ncooldown_seconds = -1\n", encoding="utf-8")
    result = run_demo("--config", str(config))
    assert result.returncode == 1
    assert "activity.cooldown_seconds" in result.stderr


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"], ids=["ctrl-c", "sigterm"])
async def test_demo_serve_keeps_the_dashboard_up_with_a_sign_in_link_until_stopped(stop: str):
    """`demo --serve`: after the transcript, the link signs the demo moderator in; Ctrl-C
    (SIGINT) or SIGTERM stops everything cleanly."""
    import asyncio
    import re
    import signal

    import aiohttp

    from tests.e2e.web_util import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--quiet", "--serve", f"127.0.0.1:{port}",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    link = None
    try:
        async with asyncio.timeout(150):
            while link is None:
                line = (await process.stdout.readline()).decode()
                assert line, "the demo ended before printing a sign-in link"
                found = re.search(r"(http://127\.0\.0\.1:\d+/sign-in\?token=\S+)", line)
                link = found.group(1) if found else None
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as web, web.get(link) as page:
            assert page.status == 200 and page.url.path == "/me"
            assert "Hello, morgan" in await page.text()
    finally:
        if process.returncode is None:
            process.send_signal(signal.Signals[stop])
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()[-2000:]
    assert "Flywheel shuts down cleanly" in out.decode()
    assert "Traceback" not in err.decode()
