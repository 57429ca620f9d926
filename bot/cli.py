"""``python -m bot``: run the bot, check a config, manage the database, preview tiers, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Config, ConfigError, load_config, summarize
from bot.errors import StartupError

DEFAULT_CONFIG = "config.toml"


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("FLYWHEEL_CONFIG", DEFAULT_CONFIG)),
        help=f"TOML configuration file (default: $FLYWHEEL_CONFIG or {DEFAULT_CONFIG})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Flywheel: a Discord bot that runs a community-led growth program.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="connect to Discord and serve (token from the environment)")
    _config_arg(run)

    check = sub.add_parser("check-config", help="validate a configuration file and summarise it")
    _config_arg(check)

    db = sub.add_parser("db", help="database migrations and backups")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    for name, text in (
        ("upgrade", "apply pending migrations"),
        ("current", "show the database's migration revision and whether it is up to date"),
    ):
        _config_arg(db_sub.add_parser(name, help=text))
    backup = db_sub.add_parser("backup", help="consistent online copy of a SQLite store")
    backup.add_argument("path", type=Path, help="where to write the copy")
    _config_arg(backup)

    tiers = sub.add_parser("tiers", help="the tier ladder")
    tiers_sub = tiers.add_subparsers(dest="tiers_command", required=True, metavar="TIERS_COMMAND")
    _config_arg(
        tiers_sub.add_parser(
            "preview",
            help="what-if: who would be promoted, warned or demoted under the config's rules "
            "and the database's data (changes nothing; needs no token)",
        )
    )

    demo = sub.add_parser("demo", help="run Flywheel against a local Discord emulator (no token)")
    demo.add_argument("--quiet", action="store_true", help="print only the transcript, no logs")
    demo.add_argument(
        "--config",
        type=Path,
        default=None,
        help="try your own config's program settings and tiers on the sample community "
        "(its server IDs are replaced by the emulator's)",
    )
    return parser


def _load(path: Path, *, require_token: bool) -> Config:
    return load_config(path, require_token=require_token)


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = _load(args.config, require_token=True)
    except ConfigError as err:
        print(f"{args.config}: {len(err.problems)} problem(s) to fix:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(summarize(config))
    print("\nconfiguration OK")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import serve
    from bot.logging_setup import configure_logging

    try:
        config = _load(args.config, require_token=True)
    except ConfigError as err:
        print(f"not starting: {err}", file=sys.stderr)
        return 1
    logging_settings = config.settings.logging
    configure_logging(
        logging_settings.level,
        logging_settings.file,
        secrets=[config.token.get_secret_value()] if config.token else [],
    )
    try:
        asyncio.run(serve(config))
    except StartupError as err:
        logging.getLogger("bot").error("not starting: %s", err)
        return 1
    return 0


async def _db_upgrade(config: Config) -> str:
    from db import migrate
    from db.engine import create_engine

    engine = create_engine(config.settings.database.url)
    try:
        pending = await migrate.pending_revisions(engine)
        await migrate.upgrade(engine)
        return f"applied {len(pending)} migration(s); at {await migrate.current_revision(engine)}"
    finally:
        await engine.dispose()


async def _db_current(config: Config) -> tuple[str, bool]:
    from db import migrate
    from db.engine import create_engine

    engine = create_engine(config.settings.database.url)
    try:
        current = await migrate.current_revision(engine)
        pending = await migrate.pending_revisions(engine)
    finally:
        await engine.dispose()
    state = "up to date" if not pending else f"behind: pending {', '.join(pending)}"
    return f"{current or '(empty database)'} ({state})", not pending


def backup_sqlite(url: str, destination: Path) -> None:
    """Copy a live SQLite store with the backup API: consistent even while the bot writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise StartupError(
            f"db backup copies SQLite stores; for {parsed.get_backend_name()} use its own tools "
            "(e.g. pg_dump)"
        )
    source_path = parsed.database
    if not source_path or source_path == ":memory:" or not Path(source_path).exists():
        raise StartupError(f"no SQLite database file at {source_path!r} (database.url)")
    if destination.exists():
        raise StartupError(f"{destination} already exists; choose a new path")
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path)
    try:
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def cmd_db(args: argparse.Namespace) -> int:
    try:
        config = _load(args.config, require_token=False)
    except ConfigError as err:
        print(str(err), file=sys.stderr)
        return 1
    try:
        if args.db_command == "upgrade":
            print(asyncio.run(_db_upgrade(config)))
            return 0
        if args.db_command == "current":
            text, up_to_date = asyncio.run(_db_current(config))
            print(text)
            return 0 if up_to_date else 2
        backup_sqlite(config.settings.database.url, args.path)
        print(f"backed up to {args.path}")
        return 0
    except StartupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


async def _tiers_preview(config: Config) -> list[str]:
    from bot.clock import SystemClock
    from bot.services.container import build_services
    from bot.services.ladder_views import build_report, render
    from db import migrate
    from db.engine import create_engine, create_session_factory
    from db.repositories.members import MemberRepository

    settings = config.settings
    engine = create_engine(settings.database.url)
    try:
        pending = await migrate.pending_revisions(engine)
        if pending:
            raise StartupError(
                f"the database needs migration(s) {', '.join(pending)}: run "
                "`python -m bot db upgrade` first"
            )
        sessions = create_session_factory(engine)
        services = build_services(settings, SystemClock(), sessions)  # no Discord: Offline
        report = build_report(await services.ladder.plan(None))
        names: dict[int, str] = {}
        async with sessions() as session:
            members = MemberRepository(session, settings.discord.guild_id)
            for entry in report.entries:
                member = await members.get(entry.user_id)
                names[entry.user_id] = (
                    member.display_name if member and member.display_name else str(entry.user_id)
                )
    finally:
        await engine.dispose()
    return render(
        report,
        name_of=lambda user_id: f"{names[user_id]} ({user_id})",
        tier_names={tier.key: tier.name for tier in settings.tiers},
    )


def cmd_tiers(args: argparse.Namespace) -> int:
    try:
        config = _load(args.config, require_token=False)
    except ConfigError as err:
        print(f"{args.config}: {len(err.problems)} problem(s) to fix:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    if not config.settings.tiers:
        print(f"{args.config}: no [[tiers]] configured, so there is nothing to preview")
        return 0
    url = make_url(config.settings.database.url)
    sqlite_file = url.database if url.get_backend_name() == "sqlite" else None
    if sqlite_file not in (None, "", ":memory:") and not Path(str(sqlite_file)).exists():
        # Opening it would create an empty store; say what is wrong instead.
        print(f"error: no SQLite database file at {sqlite_file!r} (database.url)", file=sys.stderr)
        return 1
    try:
        lines = asyncio.run(_tiers_preview(config))
    except StartupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    try:
        return asyncio.run(run_demo(quiet=args.quiet, config_path=args.config))
    except ConfigError as err:
        print(f"{args.config}: {len(err.problems)} problem(s) to fix:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "check-config": cmd_check_config,
        "run": cmd_run,
        "db": cmd_db,
        "demo": cmd_demo,
        "tiers": cmd_tiers,
    }
    return handlers[args.command](args)
