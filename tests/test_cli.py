"""The command line, run as users run it: ``python -m bot ...`` in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import copied_example, minimal_config, write_config

ROOT = Path(__file__).resolve().parents[1]
REVISIONS = [f"{n:04d}" for n in range(1, 16)]
HEAD = REVISIONS[-1]
TOKEN = "test-token-Zm9vYmFy.never-print-me"


def flywheel(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT):
    environment = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
    )


def test_check_config_on_the_example_lists_what_to_fill_in():
    result = flywheel("check-config", "--config", str(ROOT / "config.example.toml"))
    assert result.returncode == 1
    reported = [
        line.strip()[2:].split(":")[0]
        for line in result.stderr.splitlines()
        if line.strip().startswith("- ")
    ]
    assert reported == [
        "discord.guild_id",
        "channels.announcements",
        "channels.review",
        "channels.mod_log",
        "tiers[0].role_id",
        "tiers[1].role_id",
        "tiers[2].role_id",
        "discord.token_env",
    ]
    assert "Example:" in result.stderr


def test_check_config_accepts_a_valid_file_and_hides_the_token(tmp_path):
    config = write_config(tmp_path / "c.toml", minimal_config())
    result = flywheel("check-config", "--config", str(config), env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert "111111111111111111" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_run_refuses_to_start_without_a_token(tmp_path):
    config = write_config(tmp_path / "c.toml", minimal_config())
    result = flywheel("run", "--config", str(config))
    assert result.returncode == 1
    assert "discord.token_env" in result.stderr and "DISCORD_TOKEN" in result.stderr


def test_run_refuses_a_bad_config_naming_the_key(tmp_path):
    data = minimal_config(activity={"cooldown_seconds": -5})
    config = write_config(tmp_path / "c.toml", data)
    result = flywheel("run", "--config", str(config), env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 1
    assert "activity.cooldown_seconds" in result.stderr
    assert TOKEN not in result.stderr


def test_db_upgrade_current_and_backup(tmp_path):
    db = tmp_path / "store.db"
    config = write_config(
        tmp_path / "c.toml", minimal_config(database_url=f"sqlite+aiosqlite:///{db}")
    )
    before = flywheel("db", "current", "--config", str(config))
    assert before.returncode == 2, before.stderr
    assert f"no database at {db}" in before.stdout
    assert "python -m bot db upgrade" in before.stdout
    assert not db.exists(), "db current must not create the database it reports on"

    upgraded = flywheel("db", "upgrade", "--config", str(config))
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"at {HEAD}" in upgraded.stdout

    after = flywheel("db", "current", "--config", str(config))
    assert after.returncode == 0 and f"{HEAD} (up to date)" in after.stdout

    # A writer holds the database open (WAL) while the backup is taken.
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute(
        "INSERT INTO guild_settings (guild_id, key, value, updated_at) "
        "VALUES (1, 'k', 'v', '2026-01-01 00:00:00')"
    )
    writer.commit()
    try:
        backup = flywheel("db", "backup", str(tmp_path / "copy.db"), "--config", str(config))
    finally:
        writer.close()
    assert backup.returncode == 0, backup.stderr
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("SELECT value FROM guild_settings").fetchall() == [("v",)]
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    finally:
        copy.close()

    again = flywheel("db", "backup", str(tmp_path / "copy.db"), "--config", str(config))
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+asyncpg://u@127.0.0.1/x", "pg_dump"),
        ("sqlite+aiosqlite:///{tmp}/missing.db", "no database at"),
    ],
)
def test_db_backup_refuses_what_it_cannot_copy(tmp_path, url, message):
    config = write_config(
        tmp_path / "c.toml", minimal_config(database_url=url.format(tmp=tmp_path))
    )
    result = flywheel("db", "backup", str(tmp_path / "copy.db"), "--config", str(config))
    assert result.returncode == 1
    assert message in result.stderr


def test_db_commands_need_only_the_database_section_of_the_copied_example(tmp_path):
    db = tmp_path / "store.db"
    config = copied_example(tmp_path / "config.toml", database_url=f"sqlite+aiosqlite:///{db}")
    upgraded = flywheel("db", "upgrade", "--config", str(config))
    assert upgraded.returncode == 0, upgraded.stderr
    current = flywheel("db", "current", "--config", str(config))
    assert current.returncode == 0 and f"{HEAD} (up to date)" in current.stdout, current.stderr
    backup = flywheel("db", "backup", str(tmp_path / "copy.db"), "--config", str(config))
    assert backup.returncode == 0, backup.stderr

    broken = copied_example(tmp_path / "bad.toml", database_url="mysql://nope")
    refused = flywheel("db", "current", "--config", str(broken))
    assert refused.returncode == 1 and "database.url" in refused.stderr
    assert "guild_id" not in refused.stderr


@pytest.mark.parametrize(
    ("command", "store"),
    [
        (["db", "upgrade"], "read-only"),
        (["db", "current"], "a directory"),
        (["tiers", "preview"], "a directory"),
        (["db", "backup", "copy.db"], "a directory"),
    ],
)
def test_db_commands_on_an_unusable_store_say_why_in_one_line(tmp_path, command, store):
    db = tmp_path / "store.db"
    ready = write_config(
        tmp_path / "ok.toml", minimal_config(database_url=f"sqlite+aiosqlite:///{db}")
    )
    assert flywheel("db", "upgrade", "--config", str(ready)).returncode == 0
    url = {
        "read-only": f"sqlite+aiosqlite:///file:{db}?mode=ro&uri=true",
        "a directory": f"sqlite+aiosqlite:///{tmp_path}",
    }[store]
    data = minimal_config(database_url=url, tiers=[{"key": "a", "name": "A", "role_id": 5}])
    config = write_config(tmp_path / "c.toml", data)
    result = flywheel(*command, "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert "database.url" in line


def test_db_backup_to_an_unwritable_place_says_so(tmp_path):
    db = tmp_path / "store.db"
    config = write_config(
        tmp_path / "c.toml", minimal_config(database_url=f"sqlite+aiosqlite:///{db}")
    )
    assert flywheel("db", "upgrade", "--config", str(config)).returncode == 0
    (tmp_path / "file").write_text("not a directory")
    result = flywheel("db", "backup", str(tmp_path / "file" / "copy.db"), "--config", str(config))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert "copy.db" in line


def test_run_with_an_unwritable_log_file_says_so(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    data = minimal_config(logging={"file": str(tmp_path / "file" / "flywheel.log")})
    config = write_config(tmp_path / "c.toml", data)
    result = flywheel("run", "--config", str(config), env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert "logging.file" in line and "flywheel.log" in line
