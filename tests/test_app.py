"""The composition root's store policy: migrate at start, or refuse clearly when told not to."""

import pytest

from bot.app import open_store
from bot.config import parse_config
from bot.errors import StartupError
from db import migrate
from tests.helpers import minimal_config


def config_for(tmp_path, **database):
    url = f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"
    data = minimal_config(database_url=url, database=database)
    return parse_config(data, env={"DISCORD_TOKEN": "t"})


async def test_start_applies_pending_migrations(tmp_path):
    engine = await open_store(config_for(tmp_path))
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


async def test_start_refuses_a_database_behind_when_auto_migrate_is_off(tmp_path):
    with pytest.raises(StartupError) as info:
        await open_store(config_for(tmp_path, auto_migrate=False))
    assert "python -m bot db upgrade" in str(info.value)
    assert "0001, 0002, 0003, 0004, 0005" in str(info.value)


async def test_start_accepts_an_up_to_date_database_when_auto_migrate_is_off(tmp_path):
    engine = await open_store(config_for(tmp_path))
    await engine.dispose()
    engine = await open_store(config_for(tmp_path, auto_migrate=False))
    await engine.dispose()


def test_the_production_bot_never_imports_the_emulator_or_the_demo():
    """What ``python -m bot run`` loads (CLI, composition root, every cog) leaves both out."""
    import subprocess
    import sys

    probe = (
        "import importlib, sys\n"
        "import bot.cli, bot.app\n"
        "from bot.client import all_extensions\n"
        "for name in all_extensions(): importlib.import_module(name)\n"
        "prefixes = ('emulator.', 'bot.demo')\n"
        "loaded = [m for m in sys.modules if m == 'emulator' or m.startswith(prefixes)]\n"
        "print(','.join(sorted(loaded)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", result.stdout
