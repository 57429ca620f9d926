"""`python -m bot run` that cannot start says so in one line, with the fix, and no traceback.

Each case runs the real CLI in a subprocess against an emulator set up to refuse it the way
Discord would (a wrong token, privileged intents not enabled), or against a store or an
address it cannot use.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.demo.community import EMULATOR_TOKEN, build_sample_community, community_config
from emulator import Emulator
from emulator import intents as I
from tests.helpers import write_config

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


async def run_bot(config: Path, token: str = EMULATOR_TOKEN) -> tuple[int, list[str]]:
    """Exit status and stderr lines of ``python -m bot run``, which must stop by itself."""
    env = {**os.environ, "DISCORD_TOKEN": token}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr.decode().splitlines()


def config_for(emu: Emulator, tmp_path: Path, **overrides: Any) -> Path:
    community = build_sample_community(emu, member_count=3)
    database = overrides.pop("database_url", f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    data = community_config(community, emu, database_url=database, **overrides)
    return write_config(tmp_path / "config.toml", data)


def the_one_line(status: int, lines: list[str]) -> str:
    """The failure's single stderr line (logging is at WARNING, so nothing else is there)."""
    assert status == 1, lines
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    assert len(lines) == 1, "\n".join(lines)
    return lines[0]


@pytest.fixture
async def emulator(request) -> Any:
    emu = Emulator(bot_token=EMULATOR_TOKEN, **getattr(request, "param", {}))
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


async def test_a_wrong_token_says_to_reset_it(emulator, tmp_path):
    status, lines = await run_bot(config_for(emulator, tmp_path), token="not-the-token")
    line = the_one_line(status, lines)
    assert "Discord refused the bot token in DISCORD_TOKEN" in line
    assert "Reset Token" in line
    assert "not-the-token" not in line


@pytest.mark.parametrize(
    ("emulator", "missing", "approved"),
    [
        ({"privileged_intents": 0}, ["Server Members Intent", "Message Content Intent"], []),
        (
            {"privileged_intents": I.GUILD_MEMBERS | I.GUILD_PRESENCES},
            ["Message Content Intent"],
            ["Server Members Intent"],
        ),
    ],
    indirect=["emulator"],
)
async def test_missing_privileged_intents_name_the_toggles_to_switch_on(
    emulator, tmp_path, missing, approved
):
    status, lines = await run_bot(config_for(emulator, tmp_path))
    line = the_one_line(status, lines)
    assert "Developer Portal" in line
    for toggle in missing:
        assert toggle in line
    for toggle in [*approved, "Presence Intent"]:
        assert toggle not in line


# A read-only file (chmod) is the same refusal as read-only mode, and CI runs as root, who
# writes to read-only files anyway: read-only mode is the case that tests it everywhere.
@pytest.mark.parametrize("where", ["missing directory", "read-only mode"])
async def test_an_unusable_database_says_which_file_and_why(emulator, tmp_path, where):
    db = tmp_path / "f.db"
    url = f"sqlite+aiosqlite:///{db}"
    if where == "missing directory":
        url = f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'f.db'}"
    else:
        # A store at the current revision: the bot would start, then fail its first write.
        migrated = config_for(emulator, tmp_path, database_url=url)
        status, lines = await run_bot(migrated, token="wrong")  # migrates, then login fails
        assert status == 1 and db.exists(), lines
        url = f"sqlite+aiosqlite:///file:{db}?mode=ro&uri=true"
    config = config_for(emulator, tmp_path, database_url=url)
    status, lines = await run_bot(config)
    line = the_one_line(status, lines)
    assert "database" in line and "f.db" in line
    assert "database.url" in line
    assert not emulator.identified_intents, "the bot must not connect with an unusable store"


async def test_nothing_listening_says_it_cannot_reach_discord(emulator, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = config_for(
        emulator,
        tmp_path,
        discord={
            "api_base": f"http://127.0.0.1:{port}/api/v10",
            "gateway_url": f"ws://127.0.0.1:{port}/",
        },
    )
    status, lines = await run_bot(config)
    line = the_one_line(status, lines)
    assert f"cannot reach Discord at http://127.0.0.1:{port}/api/v10" in line
    assert "network" in line
