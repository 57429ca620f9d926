"""``python -m bot import mee6|csv FILE…``: points from another bot, checked, then one transaction.

Never connects to Discord. Every bad row is reported as ``FILE:LINE: what is wrong`` and
nothing is written while any is left. ``--dry-run`` does the import and ``tiers preview`` in
one transaction that is rolled back (on SQLite, in a scratch copy of the store), so the preview
is the ladder's own verdict on the real store plus the file, and nothing is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path

from bot.config import STAND_IN_ID, Config, ConfigError, Settings
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
from bot.services.imports import SOURCE, ImportResult

SOURCES = {
    "mee6": "MEE6 leaderboard pages saved as JSON",
    "csv": "a CSV with the header user_id,points[,messages][,note]; points taken as they are "
    "unless --points-per-xp converts another bot's XP",
}


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: object
) -> None:
    command = sub.add_parser(
        "import",
        help="carry points over from another bot (MEE6 pages or a CSV); idempotent, no token",
        description="Import points from another bot as one 'imported' contribution per member "
        "and source, dated today. Re-importing the same file changes nothing; a member "
        "imported before with other points is refused (correct it with /contribution add). "
        "Any bad row: nothing is written. Members the bot knows are placed on the ladder "
        "quietly (no announcement or DM each); roles follow at the bot's next start or daily "
        "sweep. Never connects to Discord.",
    )
    kinds = command.add_subparsers(dest="format", required=True, metavar="FORMAT")
    mee6 = kinds.add_parser("mee6", help=SOURCES["mee6"])
    mee6.add_argument("files", type=Path, nargs="+", metavar="FILE")
    mee6.set_defaults(source="mee6")
    mee6.add_argument(
        "--points-per-xp",
        default=str(DEFAULT_POINTS_PER_XP),
        help=f"points per MEE6 XP, rounded half up (default {DEFAULT_POINTS_PER_XP})",
    )
    csv = kinds.add_parser("csv", help=SOURCES["csv"])
    csv.add_argument("files", type=Path, nargs=1, metavar="FILE")
    csv.add_argument(
        "--points-per-xp",
        default="1",
        help="points per unit of the points column, rounded half up (default 1: taken as "
        "they are); when it holds another bot's XP, e.g. 0.01",
    )
    csv.add_argument(
        "--source",
        default="csv",
        help="where the points come from, e.g. tatsu or arcane (default csv): one imported "
        "credit per member and source, so two bots' exports are two credits",
    )
    for parser in (mee6, csv):
        parser.add_argument(
            "--dry-run", action="store_true", help="check the files and preview the tiers"
        )
        config_arg(parser)  # type: ignore[operator]


def read_rows(args: argparse.Namespace, guild_id: int) -> tuple[list[ImportRow], list[Problem]]:
    """Every file's rows, one per member, and every problem found."""
    factor = points_per_xp(args.points_per_xp)
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    for path in args.files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), f"cannot read it ({exc})"))
            continue
        found, bad = (
            parse_mee6(str(path), text, factor, guild_id=guild_id)
            if args.format == "mee6"
            else parse_csv(str(path), text, factor)
        )
        rows.extend(found)
        problems.extend(bad)
    merged, conflicts = merge(rows)
    return merged, problems + conflicts


async def run_import(
    config: Config, source: str, rows: list[ImportRow], *, dry_run: bool
) -> tuple[ImportResult, list[str]]:
    """The import, or (``dry_run``) the import and ``tiers preview`` in a rolled-back
    transaction: the preview shows exactly what the import would do, and nothing is kept.

    On SQLite the dry run works on a scratch copy: a rolled-back transaction still holds the
    file's one write lock while the preview runs (seconds for 20,000 members), which would
    make a running bot's writes wait past their busy timeout. PostgreSQL blocks nobody.
    """
    from bot.cli import backup_sqlite
    from db.engine import is_sqlite

    url = config.settings.database.url
    if not (dry_run and is_sqlite(url)):
        return await _run(config.settings, source, rows, dry_run=dry_run)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "store.db"
        backup_sqlite(url, copy)
        database = config.settings.database.model_copy(
            update={"url": f"sqlite+aiosqlite:///{copy}"}
        )
        settings = config.settings.model_copy(update={"database": database})
        return await _run(settings, source, rows, dry_run=True)


async def _run(
    settings: Settings, source: str, rows: list[ImportRow], *, dry_run: bool
) -> tuple[ImportResult, list[str]]:
    from bot.cli import _preview_lines
    from bot.clock import SystemClock
    from bot.services.container import CLOSE_GRACE_SECONDS, build_services
    from db import migrate
    from db.engine import create_engine, create_session_factory, create_what_if_engine, what_if

    url = settings.database.url
    engine = create_what_if_engine(url) if dry_run else create_engine(url)
    try:
        pending = await migrate.pending_revisions(engine)
        if pending:
            raise StartupError(
                f"the database needs migration(s) {', '.join(pending)}: run "
                "`python -m bot db upgrade` first"
            )
        if dry_run:
            async with what_if(engine) as sessions:
                services = build_services(settings, SystemClock(), sessions)
                result = await services.imports.import_rows(source, rows, place=False)
                lines = await _preview_lines(services) if result.ok and settings.tiers else []
            return replace(result, dry_run=True), lines
        services = build_services(settings, SystemClock(), create_session_factory(engine))
        result = await services.imports.import_rows(source, rows)
        await services.background.finish(CLOSE_GRACE_SECONDS)
        return result, []
    finally:
        await engine.dispose()


def summary(result: ImportResult, source: str, settings: Settings) -> list[str]:
    verb = "would add" if result.dry_run else "added"
    lines = [
        f"{verb} {result.imported} member(s) from {source}, {result.points} point(s) in all; "
        f"{result.unchanged} already imported with the same points (unchanged)"
    ]
    if result.imported and settings.tiers:
        window = max(tier.window_days for tier in settings.tiers)
        lines.append(
            "imported points are dated today: they count toward tiers like any credit and age "
            f"out of each tier's window (up to {window} days) unless members keep contributing"
        )
    if result.promoted:
        names = {tier.key: tier.name for tier in settings.tiers}
        lines.append(
            "the ladder promoted "
            + ", ".join(
                f"{count} to {names.get(key, key)}" for key, count in result.promoted.items()
            )
            + " quietly (no announcement or DM each); the bot gives their roles when it next "
            "starts, or at its daily sweep if it is running"
        )
    if result.unseen:
        lines.append(
            f"{result.unseen} of them the bot has not seen in the server yet: they are credited "
            "all the same; the ladder places them (promotions announced as usual, roles given) "
            "when the bot next starts and sees them"
            + (", so the preview below leaves them out" if result.dry_run else "")
        )
    if result.erased:
        lines.append(
            f"left out {result.erased} member(s) who had their data erased (/privacy delete): "
            "the file holds their past, and erased stays erased"
        )
    return lines


def command(args: argparse.Namespace, load: object) -> int:
    """The ``import`` command; ``load`` reads the offline config (as ``tiers preview`` does)."""
    from bot.cli import _fail, _report, _store_missing

    try:
        config: Config = load(args.config)  # type: ignore[operator]
    except ConfigError as err:
        return _report(args.config, err)
    if config.settings.discord.guild_id == STAND_IN_ID:
        return _fail(
            f"{args.config}: set discord.guild_id (or give --guild): imported points belong to "
            "one server"
        )
    source = args.source.strip().lower()
    if not SOURCE.fullmatch(source):
        return _fail(
            f"--source must be 1-32 lowercase letters, digits, - or _ (got {args.source!r})"
        )
    try:
        rows, problems = read_rows(args, config.settings.discord.guild_id)
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
        result, lines = asyncio.run(run_import(config, source, rows, dry_run=args.dry_run))
    except StartupError as err:
        return _fail(str(err))
    if not result.ok:
        for problem in result.problems:
            print(problem)
        return _fail(f"{len(result.problems)} member(s) refused: nothing was imported")
    print("\n".join(summary(result, source, config.settings)))
    if args.dry_run:
        if lines:
            print("tiers preview after the import:")
            print("\n".join(lines))
        print("nothing was written; run without --dry-run to import")
    return 0
