"""``python -m bot import mee6|csv FILE…``: points from another bot, checked, then one transaction.

Never connects to Discord. Every bad row is reported as ``FILE:LINE: what is wrong`` and
nothing is written while any is left. ``--dry-run`` writes nothing: on SQLite it imports into
a scratch copy of the store and prints ``tiers preview`` from it; on PostgreSQL it checks and
counts (the preview needs a copy it can write to).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from bot.config import STAND_IN_ID, Config, ConfigError
from bot.core.imports import (
    DEFAULT_POINTS_PER_XP,
    ImportRow,
    Problem,
    merge,
    parse_csv,
    parse_mee6,
    points_per_xp,
)
from bot.errors import StartupError
from bot.services.imports import ImportResult

SOURCES = {
    "mee6": "MEE6 leaderboard pages saved as JSON",
    "csv": "user_id,points[,messages][,note]",
}


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: object
) -> None:
    command = sub.add_parser(
        "import",
        help="carry points over from another bot (MEE6 pages or a CSV); idempotent, no token",
        description="Import points from another bot as one 'imported' contribution per member. "
        "Re-importing the same file changes nothing; a member imported before with other "
        "points is refused (correct it with /contribution add). Any bad row: nothing is "
        "written. Roles follow at the bot's next start or daily sweep.",
    )
    kinds = command.add_subparsers(dest="source", required=True, metavar="SOURCE")
    mee6 = kinds.add_parser("mee6", help=SOURCES["mee6"])
    mee6.add_argument("files", type=Path, nargs="+", metavar="FILE")
    mee6.add_argument(
        "--points-per-xp",
        default=str(DEFAULT_POINTS_PER_XP),
        help=f"points per MEE6 XP, rounded half up (default {DEFAULT_POINTS_PER_XP})",
    )
    csv = kinds.add_parser("csv", help=SOURCES["csv"])
    csv.add_argument("files", type=Path, nargs=1, metavar="FILE")
    for parser in (mee6, csv):
        parser.add_argument(
            "--dry-run", action="store_true", help="check the files and preview the tiers"
        )
        config_arg(parser)  # type: ignore[operator]


def read_rows(args: argparse.Namespace) -> tuple[list[ImportRow], list[Problem]]:
    """Every file's rows, one per member, and every problem found."""
    factor = points_per_xp(args.points_per_xp) if args.source == "mee6" else Decimal(1)
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    for path in args.files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), f"cannot read it ({exc})"))
            continue
        found, bad = (
            parse_mee6(str(path), text, factor)
            if args.source == "mee6"
            else parse_csv(str(path), text)
        )
        rows.extend(found)
        problems.extend(bad)
    merged, conflicts = merge(rows)
    return merged, problems + conflicts


async def run_import(
    config: Config, source: str, rows: list[ImportRow], *, dry_run: bool
) -> ImportResult:
    from bot.clock import SystemClock
    from bot.services.container import build_services
    from db import migrate
    from db.engine import create_engine, create_session_factory

    engine = create_engine(config.settings.database.url)
    try:
        pending = await migrate.pending_revisions(engine)
        if pending:
            raise StartupError(
                f"the database needs migration(s) {', '.join(pending)}: run "
                "`python -m bot db upgrade` first"
            )
        services = build_services(config.settings, SystemClock(), create_session_factory(engine))
        return await services.imports.import_rows(source, rows, dry_run=dry_run)
    finally:
        await engine.dispose()


async def preview_after(config: Config, source: str, rows: list[ImportRow]) -> list[str]:
    """``tiers preview`` on a scratch copy of a SQLite store with the rows imported."""
    from bot.cli import _tiers_preview, backup_sqlite

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "store.db"
        backup_sqlite(config.settings.database.url, copy)
        database = config.settings.database.model_copy(
            update={"url": f"sqlite+aiosqlite:///{copy}"}
        )
        settings = config.settings.model_copy(update={"database": database})
        scratch_config = Config(settings=settings, token=None, source=config.source)
        await run_import(scratch_config, source, rows, dry_run=False)
        return await _tiers_preview(scratch_config) if settings.tiers else []


def summary(result: ImportResult, source: str) -> list[str]:
    verb = "would add" if result.dry_run else "added"
    return [
        f"{verb} {result.imported} member(s) from {source}, {result.points} point(s) in all; "
        f"{result.unchanged} already imported with the same points (unchanged)",
        *(
            [
                f"{result.unseen} of them the bot has not seen in the server yet: they are "
                "credited all the same, and the ladder places them (and gives their roles) when "
                "the bot next starts; until then tiers preview leaves them out"
            ]
            if result.unseen
            else []
        ),
    ]


def command(args: argparse.Namespace, load: object) -> int:
    """The ``import`` command; ``load`` reads the offline config (as ``tiers preview`` does)."""
    from bot.cli import _fail, _report, _store_missing

    try:
        config: Config = load(args.config)  # type: ignore[operator]
    except ConfigError as err:
        return _report(args.config, err)
    if config.settings.discord.guild_id == STAND_IN_ID:
        return _fail(f"{args.config}: set discord.guild_id: imported points belong to one server")
    try:
        rows, problems = read_rows(args)
    except ValueError as err:
        return _fail(str(err))
    if problems:
        for problem in problems:
            print(problem)
        return _fail(f"{len(problems)} problem(s) in the file(s): nothing was imported")
    url = config.settings.database.url
    missing = _store_missing(url)
    if missing:
        return _fail(missing)
    try:
        result = asyncio.run(run_import(config, args.source, rows, dry_run=args.dry_run))
        if result.ok and args.dry_run and url.startswith("sqlite"):
            lines = asyncio.run(preview_after(config, args.source, rows))
        else:
            lines = []
    except StartupError as err:
        return _fail(str(err))
    if not result.ok:
        for problem in result.problems:
            print(problem)
        return _fail(f"{len(result.problems)} member(s) refused: nothing was imported")
    print("\n".join(summary(result, args.source)))
    if args.dry_run:
        if lines:
            print("tiers preview after the import:")
            print("\n".join(lines))
        elif not url.startswith("sqlite"):
            print("(the tiers preview of a dry run needs a SQLite store; nothing was written)")
        print("nothing was written; run without --dry-run to import")
    return 0
