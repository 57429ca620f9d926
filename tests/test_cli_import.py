"""``python -m bot import mee6|csv``: other bots' points into a real store, as operators run it."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import Contribution, TierState
from db.repositories.privacy import PrivacyRepository
from tests.helpers import minimal_config, write_config
from tests.test_cli import flywheel

DATA = Path(__file__).resolve().parent / "data"
ADA = 300000000000000001
GUILD = 111111111111111111  # minimal_config's
TIERS = [{"key": "champion", "name": "Champion", "role_id": 900000000000000001, "min_points": 500}]


def store(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flywheel.db'}"

    async def build() -> None:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(build())
    return url


def credits(url: str) -> list[tuple[int, int, str]]:
    async def read() -> list[tuple[int, int, str]]:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                rows = await session.scalars(select(Contribution).order_by(Contribution.user_id))
                return [(r.user_id, r.points, r.source_id) for r in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def config(tmp_path: Path, url: str) -> str:
    return str(write_config(tmp_path / "c.toml", minimal_config(database_url=url, tiers=TIERS)))


def test_a_mee6_page_is_imported_once(tmp_path):
    url = store(tmp_path)
    cfg = config(tmp_path, url)
    page = str(DATA / "mee6_page0.json")
    dry = flywheel("import", "mee6", page, "--dry-run", "--config", cfg)
    assert dry.returncode == 0, dry.stderr
    assert "would add 3 member(s) from mee6, 2013 point(s) in all" in dry.stdout
    assert "nothing was written" in dry.stdout and "tiers preview after the import" in dry.stdout
    assert credits(url) == []

    done = flywheel("import", "mee6", page, "--config", cfg)
    assert done.returncode == 0, done.stderr
    assert "added 3 member(s) from mee6, 2013 point(s)" in done.stdout
    assert "3 of them the bot has not seen in the server yet" in done.stdout
    assert credits(url)[0] == (ADA, 1523, f"import:mee6:{ADA}")

    again = flywheel("import", "mee6", page, "--config", cfg)
    assert "added 0 member(s)" in again.stdout and "3 already imported" in again.stdout
    changed = flywheel("import", "mee6", page, "--points-per-xp", "0.02", "--config", cfg)
    assert changed.returncode == 1
    assert "before with 1523 points, not 3047" in changed.stdout
    assert "3 member(s) refused: nothing was imported" in changed.stderr
    assert len(credits(url)) == 3


def test_a_member_who_erased_their_data_stays_erased_when_the_page_comes_again(tmp_path):
    url = store(tmp_path)
    cfg = config(tmp_path, url)
    page = str(DATA / "mee6_page0.json")
    assert flywheel("import", "mee6", page, "--config", cfg).returncode == 0

    async def erase() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine).begin() as session:
                await PrivacyRepository(session, GUILD).erase(ADA, now=datetime.now(UTC))
        finally:
            await engine.dispose()

    asyncio.run(erase())
    again = flywheel("import", "mee6", page, "--config", cfg)
    assert again.returncode == 0, again.stderr
    assert "left out 1 member(s) who had their data erased (/privacy delete)" in again.stdout
    assert ADA not in [user_id for user_id, _, _ in credits(url)]


def test_a_csv_with_a_bad_row_imports_nothing_and_names_the_line(tmp_path):
    url = store(tmp_path)
    cfg = config(tmp_path, url)
    bad = tmp_path / "points.csv"
    shutil.copy(DATA / "points.csv", bad)
    with bad.open("a", encoding="utf-8") as handle:
        handle.write("300000000000000009,lots,,\n")
    result = flywheel("import", "csv", str(bad), "--config", cfg)
    assert result.returncode == 1
    assert f"{bad}:4: points must be a whole number of 0 or more (got 'lots')" in result.stdout
    assert "1 problem(s) in the file(s): nothing was imported" in result.stderr
    assert credits(url) == []
    good = flywheel("import", "csv", str(DATA / "points.csv"), "--config", cfg)
    assert good.returncode == 0, good.stderr
    assert [points for _, points, _ in credits(url)] == [1500, 220]


def test_overlapping_pages_that_disagree_are_refused(tmp_path):
    url = store(tmp_path)
    cfg = config(tmp_path, url)
    other = tmp_path / "page1.json"
    other.write_text(json.dumps({"players": [{"id": str(ADA), "xp": 1}]}), encoding="utf-8")
    result = flywheel("import", "mee6", str(DATA / "mee6_page0.json"), str(other), "--config", cfg)
    assert result.returncode == 1
    assert f"{other}:players[0]: user {ADA} has 0 points here but 1523 at" in result.stdout
    assert credits(url) == []


def test_the_server_must_be_named_and_the_factor_valid(tmp_path):
    url = store(tmp_path)
    data = minimal_config(database_url=url)
    data["discord"]["guild_id"] = 0
    cfg = write_config(tmp_path / "nog.toml", data)
    page = str(DATA / "mee6_page0.json")
    unnamed = flywheel("import", "mee6", page, "--config", str(cfg))
    assert unnamed.returncode == 1 and "set discord.guild_id" in unnamed.stderr
    bad = flywheel(
        "import", "mee6", page, "--points-per-xp", "0", "--config", config(tmp_path, url)
    )
    assert bad.returncode == 1 and "--points-per-xp must be more than 0" in bad.stderr


def seen(url: str, *user_ids: int) -> None:
    """Members the bot has already seen in the server (its member sync)."""
    from datetime import UTC, datetime

    from db.repositories.members import MemberRepository

    async def write() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                for user_id in user_ids:
                    await MemberRepository(session, 111111111111111111).seen(
                        user_id, display_name="ada", is_bot=False, now=datetime.now(UTC)
                    )
        finally:
            await engine.dispose()

    asyncio.run(write())


def tier_states(url: str) -> list[tuple[int, str | None]]:
    async def read() -> list[tuple[int, str | None]]:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                rows = await session.execute(select(TierState.user_id, TierState.tier_key))
                return [(int(user), tier) for user, tier in rows.all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_dry_run_previews_who_reaches_which_tier_and_the_import_places_them(tmp_path):
    url = store(tmp_path)
    cfg = config(tmp_path, url)
    seen(url, ADA)
    page = str(DATA / "mee6_page0.json")
    dry = flywheel("import", "mee6", page, "--dry-run", "--config", cfg)
    assert dry.returncode == 0, dry.stderr
    assert "1 member(s) evaluated; 1 promoted" in dry.stdout
    assert f"ada ({ADA}): no tier → Champion" in dry.stdout and "1523/500 points ✓" in dry.stdout
    assert (
        "2 of them the bot has not seen" in dry.stdout and "the preview below leaves" in dry.stdout
    )
    assert credits(url) == [] and tier_states(url) == [], "a dry run keeps nothing"

    done = flywheel("import", "mee6", page, "--config", cfg)
    assert done.returncode == 0, done.stderr
    assert "the ladder promoted 1 to Champion quietly (no announcement or DM each)" in done.stdout
    assert "when it next starts" in done.stdout
    assert tier_states(url) == [(ADA, "champion")]


def test_two_bots_exports_are_two_sources(tmp_path):
    url = store(tmp_path)
    cfg = config(tmp_path, url)
    points = str(DATA / "points.csv")
    assert flywheel("import", "csv", points, "--source", "Arcane", "--config", cfg).returncode == 0
    tatsu = flywheel("import", "csv", points, "--source", "tatsu", "--config", cfg)
    assert tatsu.returncode == 0 and "added 2 member(s) from tatsu" in tatsu.stdout
    assert [source for _, _, source in credits(url)] == [
        f"import:arcane:{ADA}",
        f"import:tatsu:{ADA}",
        "import:arcane:300000000000000004",
        "import:tatsu:300000000000000004",
    ]
    bad = flywheel("import", "csv", points, "--source", "my bot", "--config", cfg)
    assert bad.returncode == 1 and "--source must be 1-32 lowercase letters" in bad.stderr


def test_another_server_s_leaderboard_is_refused(tmp_path):
    url = store(tmp_path)
    page = tmp_path / "other.json"
    page.write_text(
        json.dumps({"guild": {"id": "999999999999999999"}, "players": [{"id": str(ADA), "xp": 9}]}),
        encoding="utf-8",
    )
    result = flywheel("import", "mee6", str(page), "--config", config(tmp_path, url))
    assert result.returncode == 1
    assert f"{page}: this is server 999999999999999999's leaderboard" in result.stdout
    assert credits(url) == []


def test_the_help_names_both_formats_and_their_options():
    top = flywheel("import", "--help")
    assert top.returncode == 0 and "mee6" in top.stdout and "csv" in top.stdout
    assert "quietly" in top.stdout
    mee6 = flywheel("import", "mee6", "--help")
    assert "--points-per-xp" in mee6.stdout and "default 0.01" in mee6.stdout
    csv = flywheel("import", "csv", "--help")
    assert "--source" in csv.stdout and "--dry-run" in csv.stdout
    assert "--points-per-xp" in csv.stdout and "default 1" in csv.stdout


def test_a_csv_of_another_bot_s_xp_converts_by_the_factor(tmp_path):
    url = store(tmp_path)
    cfg = config(tmp_path, url)
    points = str(DATA / "points.csv")
    bad = flywheel("import", "csv", points, "--points-per-xp", "none", "--config", cfg)
    assert bad.returncode == 1 and "--points-per-xp must be a number" in bad.stderr
    done = flywheel("import", "csv", points, "--points-per-xp", "0.5", "--config", cfg)
    assert done.returncode == 0, done.stderr
    assert [p for _, p, _ in credits(url)] == [750, 110]
    again = flywheel("import", "csv", points, "--points-per-xp", "0.5", "--config", cfg)
    assert "added 0 member(s)" in again.stdout and "2 already imported" in again.stdout
