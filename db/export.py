"""One server's whole store as CSV files and a JSON manifest: a community can leave with its data.

Every table of ``Base.metadata`` is written, filtered to the server, one ``<table>.csv`` each,
in dependency order (a table after the tables it refers to) and rows in primary-key order.
Values are plain text a spreadsheet or a warehouse loader reads without guessing:

- CSV as RFC 4180 (UTF-8, no byte-order mark, CRLF line ends, a header row of column names);
- NULL as an empty field (so an empty text and NULL look the same: the manifest says which
  columns are nullable);
- booleans as ``true``/``false``; integers (Discord ids included) in decimal;
- timestamps as ISO-8601 in UTC with microseconds (``2026-11-23T12:00:00.000000Z``), dates as
  ``YYYY-MM-DD``.

Nothing is joined in from elsewhere: the export is what the store holds, so whatever a
member's erasure deleted or anonymised stays so (a member who erased their data while still in
the server keeps the bare tombstone row erasure leaves: their id, no name, no dates).

Consistency: every table is read in one read-only transaction. PostgreSQL runs it at REPEATABLE
READ, one snapshot for all tables; SQLite (in WAL mode) holds one read snapshot from the first
read to the end, while the bot keeps writing. The files go to a hidden directory beside the
target, renamed into place only once complete, so a failed export leaves no half-written one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Table,
    Text,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import db.models  # noqa: F401  (registers every table on Base.metadata)
from db import migrate
from db.base import Base
from db.types import TZDateTime

FORMAT = "flywheel-export/1"
MANIFEST = "manifest.json"
#: Rows fetched per round trip: memory stays flat whatever the size of a table.
BATCH_ROWS = 1000


class ExportError(Exception):
    """Why the export could not be made; the message is for the person running it."""


@dataclass(frozen=True)
class TableFile:
    table: str
    file: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    guild_id: int
    schema_revision: str
    tables: tuple[TableFile, ...]

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def installed_version() -> str:
    """Flywheel's version, for the manifest ("unknown" in a source tree never installed)."""
    try:
        return version("flywheel")
    except PackageNotFoundError:
        return "unknown"


def exported_tables() -> list[Table]:
    """Every table of the store, parents before the tables that refer to them."""
    return list(Base.metadata.sorted_tables)


def text_value(value: Any) -> str:
    """A stored value in the export's text form (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive timestamp {value.isoformat()} in the store")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"no export text form for {type(value).__name__}")


def column_type(column: Column[Any]) -> str:
    """A portable name for a column's type, for the manifest."""
    kind = column.type
    if isinstance(kind, TZDateTime):
        return "timestamp"
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, BigInteger):
        return "bigint"
    if isinstance(kind, Integer):
        return "integer"
    if isinstance(kind, Text):
        return "text"
    if isinstance(kind, String):
        return f"string({kind.length})" if kind.length else "text"
    raise TypeError(f"{column.table.name}.{column.name}: no export type for {kind!r}")


def _table_entry(table: Table, written: TableFile) -> dict[str, Any]:
    return {
        "name": table.name,
        "file": written.file,
        "rows": written.rows,
        "sha256": written.sha256,
        "primary_key": [column.name for column in table.primary_key.columns],
        "columns": [
            {"name": column.name, "type": column_type(column), "nullable": bool(column.nullable)}
            for column in table.columns
        ],
    }


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose reads all see the store as it was at the first one."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            await conn.begin()
        elif conn.dialect.name == "sqlite":
            await conn.begin()
            # The driver only opens a transaction before a write: without this BEGIN every
            # SELECT would see the store as it is at that moment.
            await conn.exec_driver_sql("BEGIN")
        else:  # pragma: no cover - Flywheel supports SQLite and PostgreSQL
            await conn.begin()
        try:
            yield conn
        finally:
            await conn.rollback()  # read only: nothing to keep


async def _revision(conn: AsyncConnection) -> str:
    current = await conn.run_sync(
        lambda sync: MigrationContext.configure(sync).get_current_revision()
    )
    head = migrate.head_revision()
    if current is None:
        raise ExportError(
            "the database has no Flywheel schema yet: run `python -m bot db upgrade` "
            "(and the bot) first; there is nothing to export"
        )
    if current != head:
        if current in migrate.known_revisions():
            raise ExportError(
                f"the database is at schema revision {current}, this Flywheel expects {head}: "
                "run `python -m bot db upgrade`, then export"
            )
        raise ExportError(
            f"the database is at schema revision {current}, which this Flywheel (at {head}) "
            "does not know: export with the Flywheel version that migrated it"
        )
    return current


async def stored_guilds(conn: AsyncConnection) -> list[int]:
    """Every server with a row anywhere in the store."""
    query = union(*(select(table.c.guild_id) for table in exported_tables()))
    return sorted(int(guild) for guild in (await conn.execute(query)).scalars())


async def _the_guild(conn: AsyncConnection) -> int:
    guilds = await stored_guilds(conn)
    if not guilds:
        raise ExportError("the database holds no server's data yet: there is nothing to export")
    if len(guilds) > 1:
        raise ExportError(
            f"the database holds {len(guilds)} servers' data: set discord.guild_id to the one "
            "to export"
        )
    return guilds[0]


class _HashingFile:
    """What ``csv.writer`` writes to: UTF-8 bytes to the file and to a running sha256."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode()
        self.digest.update(data)
        try:
            self.raw.write(data)
        except OSError as exc:
            raise _write_failed(exc) from exc
        return len(text)


def _write_failed(exc: OSError) -> ExportError:
    return ExportError(
        f"cannot write the export ({exc.strerror or exc}): free some space or choose "
        "another directory"
    )


def _sync(path: Path) -> None:
    """Flush a file or directory to disk, so a rename never publishes an unwritten export."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _write_table(
    conn: AsyncConnection, table: Table, guild_id: int, directory: Path
) -> TableFile:
    name = f"{table.name}.csv"
    path = directory / name
    query = (
        select(table)
        .where(table.c.guild_id == guild_id)
        .order_by(*table.primary_key.columns)
        .execution_options(yield_per=BATCH_ROWS)
    )
    rows = 0
    try:
        raw = path.open("wb")
    except OSError as exc:
        raise _write_failed(exc) from exc
    with raw:
        out = _HashingFile(raw)
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([column.name for column in table.columns])
        result = await conn.stream(query)
        async for batch in result.partitions():
            writer.writerows([text_value(value) for value in row] for row in batch)
            rows += len(batch)
        try:
            raw.flush()
            os.fsync(raw.fileno())
        except OSError as exc:
            raise _write_failed(exc) from exc
    return TableFile(table.name, name, rows, out.digest.hexdigest())


def _check_target(directory: Path) -> Path:
    """The target as an absolute path (so "." has a parent), if it is new or empty."""
    directory = Path(os.path.abspath(directory))
    if directory.exists() and not directory.is_dir():
        raise ExportError(f"{directory} is a file: choose a new directory to export to")
    if directory.is_dir() and any(directory.iterdir()):
        raise ExportError(
            f"{directory} is not empty: choose a new directory (an export never overwrites)"
        )
    return directory


def _staging_directory(directory: Path) -> Path:
    """A hidden directory beside the target (same file system, so the final rename is atomic)."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        return Path(
            tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".partial", dir=directory.parent)
        )
    except OSError as exc:
        raise ExportError(
            f"cannot create the export beside {directory} ({exc.strerror or exc}): choose a "
            "path in a writable directory"
        ) from None


def _publish(staging: Path, directory: Path) -> None:
    try:
        # POSIX rename replaces an empty directory and refuses a non-empty one, so an export
        # that appeared meanwhile is never overwritten.
        staging.rename(directory)
    except OSError as exc:
        raise ExportError(
            f"cannot move the export into {directory} ({exc.strerror or exc}): choose a new "
            "directory"
        ) from None
    _sync(directory.parent)


async def export_store(
    engine: AsyncEngine,
    directory: Path,
    *,
    exported_at: datetime,
    guild_id: int | None = None,
    flywheel_version: str | None = None,
) -> ExportResult:
    """Write the server's data to ``directory`` (new or empty): every table and the manifest.

    ``guild_id`` None exports the one server the store holds (and refuses a store holding
    several). ``exported_at`` comes from the caller's clock; ``flywheel_version`` defaults to
    the installed package's.
    """
    directory = _check_target(directory)
    staging = _staging_directory(directory)
    try:
        async with snapshot(engine) as conn:
            revision = await _revision(conn)
            guild = guild_id if guild_id is not None else await _the_guild(conn)
            tables = exported_tables()
            written = [await _write_table(conn, table, guild, staging) for table in tables]
        manifest = {
            "format": FORMAT,
            "flywheel_version": flywheel_version or installed_version(),
            "schema_revision": revision,
            "guild_id": str(guild),
            "exported_at": text_value(exported_at),
            "encoding": {
                "csv": "RFC 4180, UTF-8 without BOM, CRLF line ends, header row",
                "null": "empty field",
                "boolean": "true / false",
                "integer": "decimal (Discord ids included)",
                "timestamp": "ISO-8601 UTC, microseconds: YYYY-MM-DDTHH:MM:SS.ffffffZ",
                "date": "YYYY-MM-DD",
            },
            "tables": [_table_entry(t, w) for t, w in zip(tables, written, strict=True)],
        }
        try:
            (staging / MANIFEST).write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            _sync(staging / MANIFEST)
            _sync(staging)
        except OSError as exc:
            raise _write_failed(exc) from exc
        _publish(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(directory, guild, revision, tuple(written))


def read_manifest(directory: Path) -> dict[str, Any]:
    """An export's manifest (for tools and tests reading an export back)."""
    data: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    return data
