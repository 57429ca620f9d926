"""``python -m bot export DIR``: a whole server's data out of a real store, as users run it."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from pathlib import Path

from db import migrate
from db.base import Base
from db.engine import create_engine, create_session_factory
from tests.db.test_export_store import ADA, ADA_NAME, BEA_NAME, GUILD, seed_community
from tests.helpers import minimal_config, write_config
from tests.test_cli import HEAD, REVISIONS, flywheel


def store_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'flywheel.db'}"


async def build_store(url: str, *, revision: str = "head") -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        await seed_community(create_session_factory(engine))
        if revision != "head":
            await migrate.downgrade(engine, revision)
    finally:
        await engine.dispose()


def read_back(directory: Path) -> tuple[dict, dict[str, list[dict[str, str]]]]:
    """The manifest and every CSV, read with nothing but the standard library."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    tables = {}
    for entry in manifest["tables"]:
        with (directory / entry["file"]).open(newline="", encoding="utf-8") as handle:
            tables[entry["name"]] = list(csv.DictReader(handle))
    return manifest, tables


def test_export_writes_csvs_that_round_trip_and_a_manifest_that_matches(tmp_path):
    url = store_url(tmp_path)
    asyncio.run(build_store(url))
    config = write_config(tmp_path / "c.toml", minimal_config(database_url=url))
    out = tmp_path / "leaving" / "flywheel-export"

    result = flywheel("export", str(out), "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert f"of server {GUILD} from {len(Base.metadata.tables)} table(s) (schema {HEAD})" in (
        result.stdout
    )
    assert "  contributions.csv: 7" in result.stdout
    manifest, tables = read_back(out)
    assert manifest["schema_revision"] == HEAD and manifest["guild_id"] == str(GUILD)
    assert set(tables) == set(Base.metadata.tables)
    for entry in manifest["tables"]:
        assert len(tables[entry["name"]]) == entry["rows"], entry["name"]
        data = (out / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert sum(e["rows"] for e in manifest["tables"]) == int(result.stdout.split()[1])
    names = {row["user_id"]: row["display_name"] for row in tables["members"]}
    assert names[str(ADA)] == ADA_NAME and BEA_NAME in names.values()
    assert [row["status"] for row in tables["nominations"]] == ["approved"]
    assert [row["points"] for row in tables["contributions"] if row["user_id"] != str(ADA)] == [
        "2",
        "-2",
    ]
    assert [p.name for p in out.parent.iterdir()] == ["flywheel-export"], "no partial left"

    again = flywheel("export", str(out), "--config", str(config))
    assert again.returncode == 1
    assert f"error: {out} is not empty: choose a new directory" in again.stderr
    assert read_back(out) == (manifest, tables), "the first export is untouched"


def test_export_without_a_guild_id_takes_the_one_server_in_the_store(tmp_path):
    url = store_url(tmp_path)
    asyncio.run(build_store(url))
    config = write_config(tmp_path / "c.toml", {"database": {"url": url}})
    result = flywheel("export", str(tmp_path / "out"), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert read_back(tmp_path / "out")[0]["guild_id"] == str(GUILD)


def test_export_refuses_a_missing_store_without_creating_one(tmp_path):
    url = store_url(tmp_path)
    config = write_config(tmp_path / "c.toml", minimal_config(database_url=url))
    result = flywheel("export", str(tmp_path / "out"), "--config", str(config))
    assert result.returncode == 1
    assert "no database at" in result.stderr and "python -m bot db upgrade" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_export_refuses_a_store_behind_the_code_with_the_fix(tmp_path):
    url = store_url(tmp_path)
    asyncio.run(build_store(url, revision=REVISIONS[-2]))
    config = write_config(tmp_path / "c.toml", minimal_config(database_url=url))
    result = flywheel("export", str(tmp_path / "out"), "--config", str(config))
    assert result.returncode == 1
    assert (
        f"error: the database is at schema revision {REVISIONS[-2]}, this Flywheel expects "
        f"{HEAD}: run `python -m bot db upgrade`, then export"
    ) in result.stderr
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_export_help_says_what_it_writes():
    result = flywheel("export", "--help")
    assert result.returncode == 0
    assert "manifest.json" in result.stdout and "erased" in result.stdout
