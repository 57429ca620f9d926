"""``python -m bot tiers preview``: the what-if report on a real store, run as users run it."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import FakeClock
from bot.config import parse_config
from bot.demo.community import TIERS
from bot.services.contributions import Contributions
from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import ActivityDay
from db.repositories.members import MemberRepository, SeenMember
from db.repositories.tiers import TierRepository
from tests.helpers import copied_example, minimal_config, write_config
from tests.test_cli import flywheel

GUILD = 111111111111111111
ADA, GRACE, LINUS, KEN, GONE, MARGARET = 501, 502, 503, 504, 505, 506


def tiers_config(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    tiers = [{**tier, "role_id": 900 + n} for n, tier in enumerate(TIERS)]
    url = f"sqlite+aiosqlite:///{tmp_path / 'flywheel.db'}"
    return minimal_config(database_url=url, tiers=tiers, **sections)


async def build_store(data: dict[str, Any]) -> None:
    """A migrated store with members, contributions, activity and tiers, written directly."""
    settings = parse_config(data, require_token=False).settings
    now = datetime.now(UTC)
    contributions = Contributions(settings, FakeClock(now))
    engine = create_engine(settings.database.url)
    try:
        await migrate.upgrade(engine)
        sessions = create_session_factory(engine)
        async with sessions() as session, session.begin():
            members = MemberRepository(session, GUILD)
            joined = now - timedelta(days=400)
            await members.seen_many(
                [
                    SeenMember(uid, name, False, joined)
                    for uid, name in [
                        (ADA, "ada"),
                        (GRACE, "grace"),
                        (LINUS, "linus"),
                        (KEN, "ken"),
                        (GONE, "gone"),
                        (MARGARET, "margaret"),
                    ]
                ],
                now=now,
            )
            await members.left(GONE, now=now)
            # ada meets Champion: 5 answers, active in 2 weeks. So would gone, who left.
            for user_id in (ADA, GONE):
                for n in range(5):
                    credit = contributions.credit("answer", user_id, f"answer:{user_id}:{n}")
                    await contributions.record(session, credit)
                today = now.date()
                for day in (today, today - timedelta(days=7)):
                    session.add(ActivityDay(guild_id=GUILD, user_id=user_id, day=day, messages=2))
            # grace, margaret and linus hold Champion with nothing to show: grace is early in
            # her grace period, margaret's ends within the notice days, linus's has passed.
            tiers = TierRepository(session, GUILD)
            for user_id, since, below in ((GRACE, 40, 5), (MARGARET, 40, 25), (LINUS, 90, 45)):
                state = await tiers.state_for_update(user_id, now=now)
                await tiers.change(
                    state, to_tier="champion", reason="seeded", actor_id=None, now=now
                )
                state.tier_since = now - timedelta(days=since)
                state.below_since = now - timedelta(days=below)
    finally:
        await engine.dispose()


def tier_rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        states = conn.execute(
            "SELECT user_id, tier_key, below_since FROM tier_states ORDER BY user_id"
        ).fetchall()
        changes = conn.execute("SELECT count(*) FROM tier_changes").fetchall()
    return [*states, *changes]


def test_preview_reports_promotions_warnings_and_demotions_and_changes_nothing(tmp_path):
    data = tiers_config(tmp_path)
    asyncio.run(build_store(data))
    config = write_config(tmp_path / "c.toml", data)
    before = tier_rows(tmp_path / "flywheel.db")

    result = flywheel("tiers", "preview", "--config", str(config))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "What-if under the current rules and data: 5 member(s) evaluated; 1 promoted, "
        "1 warned, 1 at risk, 1 demoted. Nothing was changed."
    )
    promoted = lines.index("Would be promoted (1):")
    assert lines[promoted + 1 : promoted + 6] == [
        f"  ada ({ADA}): no tier → Champion",
        "    Promoted to Champion: every criterion is met.",
        "    - 50/50 points ✓",
        "    - 5/3 accepted answers ✓",
        "    - 2/2 active weeks ✓",
    ]
    warned = lines.index("Would get an at-risk notice now (1):")
    assert lines[warned + 1] == f"  margaret ({MARGARET}): Champion"
    assert lines[warned + 2].startswith("    At risk of losing Champion")
    at_risk = lines.index("At risk, no notice due now (1):")
    assert lines[at_risk + 1] == f"  grace ({GRACE}): Champion"
    demoted = lines.index("Would be demoted (1):")
    assert lines[demoted + 1] == f"  linus ({LINUS}): Champion → no tier"
    assert lines[demoted + 2].startswith("    Demoted from Champion to no tier")
    assert "ken" not in result.stdout and "gone" not in result.stdout
    assert tier_rows(tmp_path / "flywheel.db") == before


def test_preview_follows_the_config_thresholds(tmp_path):
    asyncio.run(build_store(tiers_config(tmp_path)))
    # A community trying a lower bar and a longer grace period before changing it for real.
    tiers = [{**tier, "role_id": 900 + n} for n, tier in enumerate(TIERS)]
    tiers[0] = {**tiers[0], "min_points": 0, "min_counts": {}, "min_active_weeks": 0}
    data = tiers_config(tmp_path, ladder={"demotion_grace_days": 60})
    data["tiers"] = tiers
    config = write_config(tmp_path / "c.toml", data)

    result = flywheel("tiers", "preview", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "What-if under the current rules and data: 5 member(s) evaluated; 2 promoted, "
        "0 warned, 0 at risk, 0 demoted. Nothing was changed."
    )
    assert f"  ken ({KEN}): no tier → Champion" in result.stdout


def test_preview_needs_no_token_but_a_migrated_store(tmp_path):
    data = tiers_config(tmp_path)
    config = write_config(tmp_path / "c.toml", data)
    missing = flywheel("tiers", "preview", "--config", str(config))
    assert missing.returncode == 1
    assert f"no database at {tmp_path / 'flywheel.db'}" in missing.stderr
    assert "run `python -m bot db upgrade`" in missing.stderr
    assert not (tmp_path / "flywheel.db").exists()

    sqlite3.connect(tmp_path / "flywheel.db").close()
    empty = flywheel("tiers", "preview", "--config", str(config))
    assert empty.returncode == 1
    assert "run `python -m bot db upgrade` first" in empty.stderr

    bad = write_config(tmp_path / "bad.toml", tiers_config(tmp_path, ladder={"low_water_ratio": 2}))
    refused = flywheel("tiers", "preview", "--config", str(bad))
    assert refused.returncode == 1 and "ladder.low_water_ratio" in refused.stderr


def test_preview_without_tiers_says_so(tmp_path):
    config = write_config(tmp_path / "c.toml", minimal_config())
    result = flywheel("tiers", "preview", "--config", str(config))
    assert result.returncode == 0
    assert "no [[tiers]] configured" in result.stdout


def test_preview_with_the_copied_example_needs_only_its_database_and_tiers(tmp_path):
    asyncio.run(build_store(tiers_config(tmp_path)))
    url = f"sqlite+aiosqlite:///{tmp_path / 'flywheel.db'}"
    config = copied_example(tmp_path / "config.toml", database_url=url)

    result = flywheel("tiers", "preview", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("What-if under the current rules and data: 5 member(s)")
    assert f"  linus ({LINUS}): Champion" in result.stdout
