"""The whole-server export on SQLite and PostgreSQL: every table, one snapshot, erased stays erased.

The table list is derived from ``Base.metadata`` here too, so a table added later that the
exporter skipped (or could not write) fails these tests.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import db.export as export_module
from db import migrate
from db.base import Base
from db.export import (
    MANIFEST,
    ExportError,
    column_type,
    export_store,
    read_manifest,
    snapshot,
    text_value,
)
from db.models import ActivityDay, Member, Thanks
from db.repositories.feedback import FeedbackRepository
from db.repositories.ledger import Credit, LedgerRepository
from db.repositories.members import MemberRepository, SeenMember
from db.repositories.nominations import NominationRepository
from db.repositories.privacy import NOT_MEMBER_TEXT, PrivacyRepository
from db.repositories.thanks import ThanksRepository
from db.repositories.tiers import TierRepository
from tests.conftest import engine_for
from tests.db import test_privacy_store as privacy

GUILD, OTHER_GUILD = 111111111111111111, 222222222222222222
ADA, BEA, CY, STAFF = 1001, 1002, 1003, 2001
CHANNEL = 5001
NOW = datetime(2026, 11, 23, 12, 0, 0, 250000, tzinfo=UTC)
EXPORTED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
#: Names with everything CSV must quote or keep: commas, quotes, a line break, non-ASCII.
ADA_NAME, BEA_NAME = 'Ada "the, answerer"', "Béa\nLovelace ✨"


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """Where exports go: apart from the SQLite file (and its -wal, -shm) in ``tmp_path``."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


async def run_export(engine, target: Path, guild_id: int | None = GUILD):
    return await export_store(
        engine, target, exported_at=EXPORTED_AT, flywheel_version="9.9.9", guild_id=guild_id
    )


async def seed_community(sessions, guild: int = GUILD) -> None:
    """A little of everything, written through the repositories the bot uses."""
    async with sessions() as session, session.begin():
        members = MemberRepository(session, guild)
        await members.seen_many(
            [
                SeenMember(ADA, ADA_NAME, False, NOW - timedelta(days=400)),
                SeenMember(BEA, BEA_NAME, False, None),
                SeenMember(CY, "cy", True, NOW - timedelta(days=3)),
            ],
            now=NOW,
        )
        await members.left(CY, now=NOW)
        ledger = LedgerRepository(session, guild)
        for n in range(5):
            await ledger.record(
                Credit(ADA, "answer", 10, f"thread:{n}", NOW - timedelta(days=n)), now=NOW
            )
        thanked = await ledger.record(
            Credit(BEA, "thanks_received", 2, "thanks:1", NOW, actor_id=ADA), now=NOW
        )
        assert thanked is not None
        await ledger.reverse(thanked, actor_id=STAFF, reason="self-dealing, per the rules", now=NOW)
        row = await ThanksRepository(session, guild).add(
            giver_id=ADA,
            receiver_id=BEA,
            channel_id=CHANNEL,
            reason="saved my deploy",
            day=NOW.date(),
            created_at=NOW,
        )
        await ThanksRepository(session, guild).link_contribution(row, thanked.id)
        session.add(ActivityDay(guild_id=guild, user_id=ADA, day=date(2026, 11, 20), messages=4))
        tiers = TierRepository(session, guild)
        state = await tiers.state_for_update(ADA, now=NOW)
        await tiers.change(state, to_tier="champion", reason="met", actor_id=None, now=NOW)
        nominations = NominationRepository(session, guild)
        nomination = await nominations.create(
            nominee_id=BEA, tier_key="ambassador", nominated_by=STAFF, reason="mentors", now=NOW
        )
        await nominations.decide(nomination, approve=True, decided_by=STAFF, note=None, now=NOW)
        feedback = FeedbackRepository(session, guild)
        item = await feedback.create(
            author_id=BEA,
            title="Dark mode",
            problem="Too bright",
            wanted="A dark theme",
            area="General",
            now=NOW,
        )
        await feedback.toggle_vote(item.id, ADA, now=NOW)
        await feedback.set_status(item, status="planned", note="Soon", actor_id=STAFF, now=NOW)


def test_every_table_has_a_guild_key_a_primary_key_and_a_typed_text_form():
    """What lets the exporter walk any table: a new one without these fails here first."""
    for name, t in Base.metadata.tables.items():
        assert "guild_id" in t.c, f"{name}: every table is keyed by guild"
        assert list(t.primary_key.columns), f"{name}: rows are written in primary-key order"
        for column in t.columns:
            assert column_type(column), f"{name}.{column.name}"


def test_values_have_one_stable_text_form():
    assert [text_value(v) for v in (None, True, False, 0, -3, 123456789012345678)] == [
        "",
        "true",
        "false",
        "0",
        "-3",
        "123456789012345678",
    ]
    assert text_value(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    paris = datetime(2026, 7, 1, 16, tzinfo=timezone(timedelta(hours=2)))
    assert text_value(paris) == "2026-07-01T14:00:00.000000Z"
    assert text_value(date(2026, 2, 28)) == "2026-02-28"
    with pytest.raises(ValueError, match="naive"):
        text_value(datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="float"):
        text_value(1.5)


async def test_every_table_is_written_with_its_rows_and_a_manifest(
    engine, sessions, tmp_path, monkeypatch
):
    monkeypatch.setattr(export_module, "BATCH_ROWS", 2)  # several round trips per table
    await seed_community(sessions)
    await seed_community(sessions, OTHER_GUILD)
    target = tmp_path / "export"
    result = await run_export(engine, target)

    manifest = read_manifest(target)
    assert manifest["format"] == "flywheel-export/1"
    assert manifest["flywheel_version"] == "9.9.9"
    assert manifest["schema_revision"] == migrate.head_revision() == result.schema_revision
    assert manifest["guild_id"] == str(GUILD)
    assert manifest["exported_at"] == "2026-12-01T09:30:00.000000Z"
    entries = {entry["name"]: entry for entry in manifest["tables"]}
    assert set(entries) == set(Base.metadata.tables), "every table, none invented"
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [MANIFEST, *(f"{name}.csv" for name in Base.metadata.tables)]
    )
    async with sessions() as session:
        for name, t in Base.metadata.tables.items():
            entry = entries[name]
            path = target / entry["file"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            header, *rows = csv_rows(path)
            assert header == [c.name for c in t.columns] == [c["name"] for c in entry["columns"]]
            assert entry["primary_key"] == [c.name for c in t.primary_key.columns]
            stored = (
                await session.execute(
                    select(t).where(t.c.guild_id == GUILD).order_by(*t.primary_key.columns)
                )
            ).all()
            assert rows == [[text_value(v) for v in row] for row in stored], name
            assert entry["rows"] == len(rows)
            assert all(row[header.index("guild_id")] == str(GUILD) for row in rows), name
    assert entries["contributions"]["rows"] == 7  # 5 answers, a thanks and its reversal
    assert result.rows == sum(entry["rows"] for entry in entries.values())
    assert result.guild_id == GUILD

    header, *members = csv_rows(target / "members.csv")
    by_id = {row[header.index("user_id")]: dict(zip(header, row, strict=True)) for row in members}
    assert by_id[str(ADA)]["display_name"] == ADA_NAME
    assert by_id[str(BEA)]["display_name"] == BEA_NAME, "quoted line break survives"
    assert by_id[str(BEA)]["joined_at"] == "", "NULL is an empty field"
    assert by_id[str(CY)]["is_bot"] == "true" and by_id[str(ADA)]["is_bot"] == "false"
    assert by_id[str(ADA)]["first_seen_at"] == "2026-11-23T12:00:00.250000Z"
    assert by_id[str(CY)]["left_at"] == "2026-11-23T12:00:00.250000Z"
    raw = (target / "members.csv").read_bytes()
    assert raw.startswith(b"guild_id,user_id,") and b"\r\n" in raw, "no BOM, CRLF rows"
    types = {c["name"]: c for c in entries["members"]["columns"]}
    assert types["user_id"] == {"name": "user_id", "type": "bigint", "nullable": False}
    assert types["display_name"]["type"] == "string(100)"
    assert types["joined_at"] == {"name": "joined_at", "type": "timestamp", "nullable": True}
    assert types["is_bot"]["type"] == "boolean"
    names = [entry["name"] for entry in manifest["tables"]]
    assert names.index("contributions") < names.index("thanks"), "parents first"
    assert names.index("user_groups") < names.index("group_members")


async def test_without_a_guild_the_one_server_in_the_store_is_exported(engine, sessions, tmp_path):
    await seed_community(sessions)
    result = await run_export(engine, tmp_path / "one", guild_id=None)
    assert result.guild_id == GUILD
    await seed_community(sessions, OTHER_GUILD)
    with pytest.raises(ExportError, match=r"2 servers' data: set discord\.guild_id"):
        await run_export(engine, tmp_path / "two", guild_id=None)
    assert not (tmp_path / "two").exists()


async def test_an_empty_store_has_nothing_to_export_without_a_guild(engine, tmp_path):
    with pytest.raises(ExportError, match="no server's data yet"):
        await run_export(engine, tmp_path / "out", guild_id=None)
    result = await run_export(engine, tmp_path / "out", guild_id=GUILD)
    assert result.rows == 0, "a named server exports its (empty) tables"


async def test_the_export_reads_one_snapshot_while_the_bot_writes(engine, sessions):
    await seed_community(sessions)
    async with snapshot(engine) as conn:
        before = await conn.scalar(select(func.count()).select_from(Member))
        async with sessions() as session, session.begin():
            await MemberRepository(session, GUILD).seen(
                9999, display_name="late", is_bot=False, now=NOW
            )
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Member)) == before + 1
        assert await conn.scalar(select(func.count()).select_from(Member)) == before
        if conn.dialect.name == "postgresql":
            assert await conn.scalar(text("SHOW transaction_isolation")) == "repeatable read"
            assert await conn.scalar(text("SHOW transaction_read_only")) == "on"


async def test_a_store_behind_the_code_is_refused_with_the_fix(engine, place):
    await migrate.downgrade(engine, "-1")
    with pytest.raises(ExportError, match=r"python -m bot db upgrade"):
        await run_export(engine, place / "out")
    assert list(place.iterdir()) == [], "nothing written, nothing left behind"


async def test_a_store_without_a_schema_or_from_a_newer_flywheel_is_refused(db_url, place):
    engine = engine_for(db_url)
    try:
        with pytest.raises(ExportError, match="no Flywheel schema yet"):
            await run_export(engine, place / "out")
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
        with pytest.raises(ExportError, match=r"revision ffff, which this Flywheel .* not know"):
            await run_export(engine, place / "out")
    finally:
        await engine.dispose()
    assert list(place.iterdir()) == []


async def test_a_non_empty_directory_is_refused_and_an_empty_one_used(engine, sessions, place):
    await seed_community(sessions)
    taken = place / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty: choose a new directory"):
        await run_export(engine, taken)
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    a_file = place / "file"
    a_file.write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        await run_export(engine, a_file)
    with pytest.raises(ExportError, match="cannot create the export beside"):
        await run_export(engine, a_file / "out")
    empty = place / "empty"
    empty.mkdir()
    await run_export(engine, empty)
    assert (empty / MANIFEST).exists()
    assert sorted(p.name for p in place.iterdir()) == ["empty", "file", "taken"]


async def test_a_failed_export_leaves_no_half_written_directory(
    engine, sessions, place, monkeypatch
):
    await seed_community(sessions)
    real = export_module.text_value

    def fails_on_feedback(value):
        if value == "Dark mode":  # a feedback item's title: well after the first tables
            raise OSError(28, "No space left on device")
        return real(value)

    monkeypatch.setattr(export_module, "text_value", fails_on_feedback)
    with pytest.raises(OSError, match="No space left"):
        await run_export(engine, place / "out")
    assert list(place.iterdir()) == [], "no DIR, no hidden partial directory"


# --------------------------------------------------------------------------- erased members

VAL_ID = re.compile(rf"(?<!\d){privacy.VAL}(?!\d)")
VAL_NAME = re.compile(r"(?<!\w)(val|valentina)(?!\w)", re.IGNORECASE)


def traces(directory: Path) -> list[str]:
    """Every place the erased member shows in an export: ``file`` or ``table.column``."""
    found = [MANIFEST] if VAL_ID.search((directory / MANIFEST).read_text()) else []
    for path in sorted(directory.glob("*.csv")):
        header, *rows = csv_rows(path)
        for row in rows:
            for column, value in zip(header, row, strict=True):
                where = f"{path.stem}.{column}"
                if VAL_ID.search(value):
                    found.append(f"{where}={value!r}")
                elif VAL_NAME.search(value) and where not in NOT_MEMBER_TEXT:
                    # Group and beta names are the staff's: erasure keeps them by design.
                    found.append(f"{where}={value!r}")
    return found


async def seed_val(sessions) -> None:
    """The privacy tests' seed: VAL in every column of every table that can name a member."""
    await privacy.seed(sessions)
    await privacy.seed(sessions, OTHER_GUILD)
    async with sessions() as session, session.begin():
        session.add(  # explicit id: the seed's explicit ids left PostgreSQL's sequence behind
            Thanks(
                id=9,
                guild_id=GUILD,
                giver_id=privacy.ADA,
                receiver_id=privacy.BEA,
                channel_id=CHANNEL,
                reason=f"like <@{privacy.VAL}> and Valentina said",
                day=NOW.date(),
                created_at=NOW,
            )
        )


async def test_a_departed_member_who_erased_their_data_leaves_no_trace(engine, sessions, tmp_path):
    await seed_val(sessions)
    before = tmp_path / "before"
    await run_export(engine, before)
    assert len(traces(before)) > 40, "the seed names VAL everywhere: the check can see her"
    async with sessions() as session, session.begin():
        await MemberRepository(session, GUILD).left(privacy.VAL, now=NOW)
    async with sessions() as session, session.begin():
        erasure = await PrivacyRepository(session, GUILD).erase(
            privacy.VAL, now=NOW, names=["Valentina"]
        )
    assert erasure.member_row == "deleted"
    after = tmp_path / "after"
    await run_export(engine, after)
    assert traces(after) == []
    for path in after.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert not VAL_ID.search(text), path.name
    header, *thanks = csv_rows(after / "thanks.csv")
    assert any("a former member" in row[header.index("reason")] for row in thanks)


async def test_a_member_still_here_keeps_only_the_bare_tombstone_erasure_leaves(
    engine, sessions, tmp_path
):
    await seed_val(sessions)
    async with sessions() as session, session.begin():
        erasure = await PrivacyRepository(session, GUILD).erase(
            privacy.VAL, now=NOW, names=["Valentina"]
        )
    assert erasure.member_row == "tombstone"
    out = tmp_path / "out"
    await run_export(engine, out)
    header, *members = csv_rows(out / "members.csv")
    [tombstone] = [
        dict(zip(header, row, strict=True))
        for row in members
        if row[header.index("user_id")] == str(privacy.VAL)
    ]
    assert tombstone["display_name"] == "" and tombstone["joined_at"] == ""
    assert tombstone["first_seen_at"] == text_value(NOW), "the erasure's time, not hers"
    assert traces(out) == [f"members.user_id={str(privacy.VAL)!r}"], "the id, nothing more"
