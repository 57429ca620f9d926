"""``python -m bot``: run the bot, check a config, manage the database, preview tiers, backfill
the history, export the data, demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from bot import startup
from bot.config import (
    STAND_IN_ID,
    Config,
    ConfigError,
    ConfigProblem,
    Settings,
    load_config,
    load_offline_config,
    summarize,
)
from bot.config.fields import EXAMPLE_ID, lenient_snowflake
from bot.errors import StartupError

if TYPE_CHECKING:
    from db.export import ExportResult

DEFAULT_CONFIG = "config.toml"
#: What the commands that never talk to Discord read of the config: no server IDs, no token.
DB_SECTIONS = ("database",)
PREVIEW_SECTIONS = tuple(
    name for name in Settings.model_fields if name not in ("discord", "channels", "roles")
)
#: ``web`` shows the program and reads the store; it needs the server's id (every table is keyed
#: by it) but no channels, roles or token.
#: ``web`` reads everything but the channels: the staff pages need ``roles`` (who moderates)
#: and, with ``with_discord``, where Discord is and the token's variable.
WEB_SECTIONS = tuple(name for name in Settings.model_fields if name != "channels")
#: ``import`` reads the program (tiers, points, kinds) and the store, and the server's id.
IMPORT_SECTIONS = PREVIEW_SECTIONS
UPGRADE_HINT = "run `python -m bot db upgrade` to create it"


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("FLYWHEEL_CONFIG", DEFAULT_CONFIG)),
        help=f"TOML configuration file (default: $FLYWHEEL_CONFIG or {DEFAULT_CONFIG})",
    )


def _guild_id(text: str) -> int:
    guild_id = lenient_snowflake(text)
    if guild_id is None:
        raise argparse.ArgumentTypeError(f"must be a server's ID, like {EXAMPLE_ID} (got {text!r})")
    return guild_id


def _config_and_guild_args(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--guild`` for a command that acts on one server."""
    _config_arg(parser)
    parser.add_argument(
        "--guild",
        type=_guild_id,
        metavar="ID",
        help="the server to act on, by its ID; needed when the config serves several servers "
        "([discord] servers_dir)",
    )


def one_server(config: Config, guild_id: int | None) -> Config:
    """``config`` narrowed to the one server a command acts on (``--guild``); ConfigError
    naming the configured servers when it is not said which, or names none of them.

    A single-server config without ``discord.guild_id`` (read offline) takes ``--guild`` as
    its server; one with several servers needs it.
    """
    if guild_id is None:
        if len(config.communities) == 1:
            return config
        message = (
            f"this config serves {len(config.communities)} servers: say which with --guild "
            f"({config.listing()})"
        )
        raise ConfigError(
            [ConfigProblem("--guild", message, f"--guild {config.settings.discord.guild_id}")],
            config.source,
        )
    settings = config.community(guild_id)
    if settings is None and not config.servers and config.settings.discord.guild_id == STAND_IN_ID:
        discord = config.settings.discord.model_copy(update={"guild_id": guild_id})
        settings = config.settings.model_copy(update={"discord": discord})
    if settings is None:
        example = config.communities[0].discord.guild_id
        raise ConfigError(
            [
                ConfigProblem(
                    "--guild",
                    f"no server {guild_id} in this config; its servers: {config.listing()}",
                    f"--guild {example}",
                )
            ],
            config.source,
        )
    return dataclasses.replace(config, settings=settings, servers=(), server_files=())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Flywheel: a Discord bot that runs a community-led growth program.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="connect to Discord and serve (token from the environment)")
    _config_arg(run)
    run.add_argument(
        "--standby",
        action="store_true",
        help="wait until the process running these servers stops or dies, then take over "
        "(PostgreSQL; see README: Running at scale)",
    )

    web = sub.add_parser(
        "web",
        help="serve the web pages, /healthz and /metrics alone, against the bot's database "
        "(no token, no gateway; [web] bind says where)",
    )
    _config_arg(web)

    check = sub.add_parser("check-config", help="validate a configuration file and summarise it")
    _config_arg(check)

    db = sub.add_parser(
        "db", help="database migrations and backups (reads only [database]; no token)"
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    for name, text in (
        ("upgrade", "create the database or apply pending migrations"),
        (
            "current",
            "show the database's migration revision; exit 2 if migrations are pending or there "
            "is no database yet (never creates one)",
        ),
    ):
        _config_arg(db_sub.add_parser(name, help=text))
    backup = db_sub.add_parser("backup", help="consistent online copy of a SQLite store")
    backup.add_argument("path", type=Path, help="where to write the copy")
    _config_arg(backup)

    tiers = sub.add_parser("tiers", help="the tier ladder")
    tiers_sub = tiers.add_subparsers(dest="tiers_command", required=True, metavar="TIERS_COMMAND")
    _config_and_guild_args(
        tiers_sub.add_parser(
            "preview",
            help="what-if: who would be promoted, warned or demoted under the config's rules "
            "and the database's data (changes nothing; needs no token and no server IDs)",
        )
    )

    backfill = sub.add_parser(
        "backfill",
        help="credit what the bot would have credited from the server's history (run once "
        "after installing; resumes where it stopped; needs the token)",
    )
    backfill.add_argument(
        "--since", default="180d", help="how far back to read, in days or weeks (default 180d)"
    )
    backfill.add_argument(
        "--channels", type=int, nargs="+", metavar="ID", help="only these channel IDs"
    )
    backfill.add_argument(
        "--dry-run", action="store_true", help="read history and print what would be credited"
    )
    _config_and_guild_args(backfill)

    export = sub.add_parser(
        "export",
        help="write every table of the server's data as CSV, plus manifest.json (reads only "
        "[database] and discord.guild_id; no token)",
        description="Write the server's data as one CSV file per table (header row; NULL as an "
        "empty field; booleans true/false; timestamps ISO-8601 UTC) and a manifest.json with "
        "the schema revision, row counts, column types and a sha256 per file. The export is "
        "one consistent snapshot, written beside DIR and renamed into place when complete; "
        "members who erased their data stay erased. Without discord.guild_id in the config "
        "(or --guild), the one server the database holds is exported; a config serving "
        "several servers needs --guild.",
    )
    export.add_argument("directory", type=Path, metavar="DIR", help="a new or empty directory")
    _config_and_guild_args(export)

    from bot.import_cli import add_parser as add_import

    add_import(sub, _config_and_guild_args)

    demo = sub.add_parser("demo", help="run Flywheel against a local Discord emulator (no token)")
    demo.add_argument("--quiet", action="store_true", help="print only the transcript, no logs")
    demo.add_argument(
        "--config",
        type=Path,
        default=None,
        help="try your own config's program settings and tiers on the sample community "
        "(its server IDs are replaced by the emulator's)",
    )
    demo.add_argument(
        "--serve",
        nargs="?",
        const="127.0.0.1:8080",
        default=None,
        metavar="HOST:PORT",
        help="after the transcript, keep the community, the bot and the web dashboard running "
        "(default 127.0.0.1:8080) and print a sign-in link for the demo moderator; Ctrl-C stops",
    )
    return parser


def _report(path: Path, err: ConfigError) -> int:
    print(f"{path}: {len(err.problems)} problem(s) to fix:", file=sys.stderr)
    for problem in err.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config, require_token=True)
    except ConfigError as err:
        return _report(args.config, err)
    print(summarize(config))
    print("\nconfiguration OK")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import serve
    from bot.leases import LeasesLost
    from bot.logging_setup import configure_logging

    try:
        config = load_config(args.config, require_token=True)
    except ConfigError as err:
        print(f"not starting: {err}", file=sys.stderr)
        return 1
    logging_settings = config.settings.logging
    try:
        configure_logging(
            logging_settings.level,
            logging_settings.file,
            secrets=[config.token.get_secret_value()] if config.token else [],
        )
    except OSError as exc:
        print(
            f"not starting: cannot write the log file {logging_settings.file} "
            f"({exc.strerror or exc}): set logging.file to a path in a writable directory, "
            "or leave it out to log to the console only",
            file=sys.stderr,
        )
        return 1
    try:
        asyncio.run(serve(config, standby=args.standby))
    except StartupError as err:
        logging.getLogger("bot").error("not starting: %s", err)
        return 1
    except LeasesLost as err:
        logging.getLogger("bot").error("stopped: %s", err)
        return 3
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from bot.app import serve_web
    from bot.logging_setup import configure_logging

    try:
        config = load_offline_config(args.config, WEB_SECTIONS, with_discord=True)
    except ConfigError as err:
        return _report(args.config, err)
    if config.settings.discord.guild_id == STAND_IN_ID:
        return _fail(f"{args.config}: set discord.guild_id, the server whose program to show")
    url = config.settings.database.url
    missing = _store_missing(url)  # opening a missing file would create an empty store
    if missing:
        return _fail(f"{missing}, then run the bot to fill it")
    try:
        configure_logging(config.settings.logging.level, config.settings.logging.file)
    except OSError as exc:
        return _fail(f"cannot write the log file {config.settings.logging.file} ({exc})")
    try:
        asyncio.run(serve_web(config))
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
        await migrate.check_writable(engine)  # ready for the bot, which writes
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
    source_path = startup.sqlite_file(url)
    if source_path is None:
        backend = url.split(":", 1)[0].split("+", 1)[0]
        raise StartupError(
            f"db backup copies SQLite files; for {backend} use its own tools (e.g. pg_dump)"
        )
    missing = _store_missing(url)
    if missing:
        raise StartupError(missing)
    if destination.exists():
        raise StartupError(f"{destination} already exists; choose a new path")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(source_path, destination)
    except (OSError, sqlite3.Error) as exc:
        raise StartupError(
            f"cannot write the backup {destination} ({getattr(exc, 'strerror', None) or exc}): "
            "choose a path in a writable directory"
        ) from None


def _copy_sqlite(source_path: Path, destination: Path) -> None:
    source = sqlite3.connect(source_path)
    try:
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _store_missing(url: str) -> str | None:
    """Why there is no store to read at ``url`` (None: there may be), without creating one."""
    path = startup.sqlite_file(url)
    if path is None:
        return None
    if path.is_dir():
        return startup.store_unusable(url, IsADirectoryError("it is a directory"))
    if not path.exists():
        return f"no database at {path} (database.url): {UPGRADE_HINT}"
    return None


def cmd_db(args: argparse.Namespace) -> int:
    try:
        config = load_offline_config(args.config, DB_SECTIONS, servers=False)
    except ConfigError as err:
        return _report(args.config, err)
    url = config.settings.database.url
    try:
        if args.db_command == "upgrade":
            problem = startup.sqlite_unwritable(url)
            if problem:
                return _fail(problem)
            print(asyncio.run(_db_upgrade(config)))
            return 0
        if args.db_command == "current":
            return _db_current_command(config)
        backup_sqlite(url, args.path)
        print(f"backed up to {args.path}")
        return 0
    except StartupError as err:
        return _fail(str(err))
    except (DBAPIError, OSError) as exc:
        return _fail(startup.store_unusable(url, exc))


def _db_current_command(config: Config) -> int:
    """Exit 0 when up to date, 2 when migrations are pending or there is no store yet."""
    url = config.settings.database.url
    path = startup.sqlite_file(url)
    if path is not None and not path.exists():
        print(f"no database at {path} (database.url): {UPGRADE_HINT}")
        return 2
    missing = _store_missing(url)
    if missing:
        return _fail(missing)
    text, up_to_date = asyncio.run(_db_current(config))
    print(text)
    return 0 if up_to_date else 2


async def _tiers_preview(config: Config) -> list[str]:
    from bot.clock import SystemClock
    from bot.services.container import build_services
    from db import migrate
    from db.engine import create_engine, create_session_factory

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
        if settings.discord.guild_id == STAND_IN_ID:
            settings = await _with_the_stored_guild(settings, sessions)
        services = build_services(settings, SystemClock(), sessions)  # no Discord: Offline
        return await _preview_lines(services)
    finally:
        await engine.dispose()


async def _preview_lines(services: Any) -> list[str]:
    """The what-if report of ``tiers preview`` from a built container's ladder and store."""
    from bot.services.ladder_views import build_report, render
    from db.repositories.members import MemberRepository

    settings = services.settings
    report = build_report(await services.ladder.plan(None))
    names: dict[int, str] = {}
    async with services.sessions() as session:
        members = MemberRepository(session, settings.discord.guild_id)
        for entry in report.entries:
            member = await members.get(entry.user_id)
            names[entry.user_id] = (
                member.display_name if member and member.display_name else str(entry.user_id)
            )
    return render(
        report,
        name_of=lambda user_id: f"{names[user_id]} ({user_id})",
        tier_names={tier.key: tier.name for tier in settings.tiers},
    )


async def _with_the_stored_guild(settings: Settings, sessions: Any) -> Settings:
    """``settings`` for the one server whose data the store holds (no discord.guild_id set)."""
    from sqlalchemy import select

    from db.models import Member

    async with sessions() as session:
        guilds = list((await session.scalars(select(Member.guild_id).distinct())).all())
    if len(guilds) > 1:
        raise StartupError(
            f"the database holds {len(guilds)} servers' data: set discord.guild_id (or give "
            "--guild) to the one to preview"
        )
    if not guilds:
        return settings  # an empty store: nobody to evaluate
    discord = settings.discord.model_copy(update={"guild_id": guilds[0]})
    return settings.model_copy(update={"discord": discord})


def cmd_tiers(args: argparse.Namespace) -> int:
    try:
        config = one_server(load_offline_config(args.config, PREVIEW_SECTIONS), args.guild)
    except ConfigError as err:
        return _report(args.config, err)
    if not config.settings.tiers:
        print(f"{args.config}: no [[tiers]] configured, so there is nothing to preview")
        return 0
    url = config.settings.database.url
    missing = _store_missing(url)  # opening a missing file would create an empty store
    if missing:
        return _fail(f"{missing}, then run the bot to fill it")
    try:
        lines = asyncio.run(_tiers_preview(config))
    except StartupError as err:
        return _fail(str(err))
    except (DBAPIError, OSError) as exc:
        return _fail(startup.store_unusable(url, exc))
    print("\n".join(lines))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from bot.core.backfill import parse_span

    try:
        span = parse_span(args.since)
    except ValueError as err:
        return _fail(f"--since {err}")
    try:
        config = one_server(load_config(args.config, require_token=True), args.guild)
    except ConfigError as err:
        return _report(args.config, err)
    from bot.logging_setup import configure_logging

    assert config.token is not None
    try:
        configure_logging(
            config.settings.logging.level,
            config.settings.logging.file,
            secrets=[config.token.get_secret_value()],
        )
    except OSError as exc:
        return _fail(f"cannot write the log file {config.settings.logging.file} ({exc})")
    try:
        lines = asyncio.run(_backfill(config, span, args.channels, args.dry_run))
    except StartupError as err:
        return _fail(str(err))
    print("\n".join(lines))
    return 0


async def _backfill(
    config: Config, span: Any, channels: list[int] | None, dry_run: bool
) -> list[str]:
    """Log in over HTTP only (no gateway: the live bot may be connected) and backfill.

    A dry run does the real backfill where nothing is kept (SQLite: a scratch copy of the
    store; PostgreSQL: a transaction rolled back) and prints ``tiers preview`` from it.
    """
    import tempfile

    import discord

    from bot import endpoints
    from bot.backfill_cli import HttpEffects, progress_printer
    from bot.history import DiscordHistory
    from bot.services.members import MemberInfo

    settings = config.settings
    assert config.token is not None
    endpoints.point_at(settings.discord.api_base, settings.discord.gateway_url)
    # Never connected: the intents only unlock the member list over HTTP (the bot has them).
    client = discord.Client(intents=discord.Intents(guilds=True, members=True))
    try:
        await client.login(config.token.get_secret_value())
        guild = await client.fetch_guild(settings.discord.guild_id)
        assert client.user is not None
        history = DiscordHistory(guild, await guild.fetch_member(client.user.id))
        present = [
            MemberInfo(m.id, m.display_name, m.bot, m.joined_at)
            async for m in guild.fetch_members(limit=None)
        ]
        if dry_run and startup.sqlite_file(settings.database.url) is not None:
            with tempfile.TemporaryDirectory(prefix="flywheel-dry-run-") as scratch:
                return await _what_if(config, history, present, span, channels, Path(scratch))
        if dry_run:
            from db.engine import create_what_if_engine

            engine = create_what_if_engine(settings.database.url)
            try:
                return await what_if_backfill(settings, engine, history, present, span, channels)
            finally:
                await engine.dispose()
        async with _store(config, HttpEffects(client, settings)) as services:
            # the ladder evaluates the members the store knows are here
            await services.members.sync(present)
            with progress_printer() as on_progress:
                report = await services.backfill.run(
                    history, span=span, channel_ids=channels, on_progress=on_progress
                )
    finally:
        await client.close()
    return _report_lines(report)


def _report_lines(report: Any, *, verb: str = "credited") -> list[str]:
    p = report.progress
    return [
        f"{verb} {report.active_days} active day(s) to {report.members} member(s), "
        f"{report.questions} question thread(s), {report.answers} accepted answer(s), from "
        f"{p.messages_read} message(s) in {p.channels_done} channel(s)",
        *(f"not read: {problem}" for problem in p.problems),
        *([report.summary] if report.summary else []),
    ]


@contextlib.asynccontextmanager
async def _store(config: Config, effects: Any = None) -> AsyncIterator[Any]:
    from bot.app import open_store
    from bot.clock import SystemClock
    from bot.services.container import build_services
    from db.engine import create_session_factory

    engine = await open_store(config)
    try:
        yield build_services(
            config.settings, SystemClock(), create_session_factory(engine), effects=effects
        )
    finally:
        await engine.dispose()


async def _what_if(
    config: Config,
    history: Any,
    present: list[Any],
    span: Any,
    channels: list[int] | None,
    scratch: Path,
) -> list[str]:
    """SQLite: the backfill on a copy of the store (a rolled-back transaction would hold the
    file's one write lock for the whole read, and the running bot's writes would time out)."""
    copy = scratch / "store.db"
    if _store_missing(config.settings.database.url) is None:
        backup_sqlite(config.settings.database.url, copy)
    database = config.settings.database.model_copy(
        update={"url": f"sqlite+aiosqlite:///{copy}", "auto_migrate": True}
    )
    scratch_config = dataclasses.replace(
        config, settings=config.settings.model_copy(update={"database": database})
    )
    async with _store(scratch_config) as services:  # Offline: nothing is posted
        return await preview_backfill(services, history, present, span, channels)


async def what_if_backfill(
    settings: Settings,
    engine: Any,
    history: Any,
    present: list[Any],
    span: Any,
    channels: list[int] | None,
    *,
    clock: Any = None,
) -> list[str]:
    """PostgreSQL: the backfill inside one transaction that is rolled back after the preview
    (``engine`` from ``db.engine.create_what_if_engine``). Its checkpoints and the raised
    counts hold row locks until then, never the whole store."""
    from bot.clock import SystemClock
    from bot.services.container import build_services
    from db import migrate
    from db.engine import what_if

    pending = await migrate.pending_revisions(engine)
    if pending:
        raise StartupError(
            f"the database needs migration(s) {', '.join(pending)}: run "
            "`python -m bot db upgrade` first"
        )
    async with what_if(engine) as sessions:
        services = build_services(settings, clock or SystemClock(), sessions)  # Offline
        return await preview_backfill(services, history, present, span, channels)


async def preview_backfill(
    services: Any, history: Any, present: list[Any], span: Any, channels: list[int] | None
) -> list[str]:
    """The real backfill on a store that is thrown away, then ``tiers preview`` of it."""
    from bot.backfill_cli import progress_printer

    await services.members.sync(present)
    with progress_printer() as on_progress:
        report = await services.backfill.run(
            history, span=span, channel_ids=channels, announce=False, on_progress=on_progress
        )
    preview = await _preview_lines(services) if services.settings.tiers else []
    return [
        *_report_lines(report, verb="dry run: would credit"),
        "",
        "tiers preview after the backfill:",
        *preview,
        "",
        "nothing was written; run without --dry-run to credit it",
    ]


async def _export(config: Config, directory: Path) -> ExportResult:
    from bot.clock import SystemClock
    from db.engine import create_engine
    from db.export import export_store

    guild_id = config.settings.discord.guild_id
    engine = create_engine(config.settings.database.url)
    try:
        return await export_store(
            engine,
            directory,
            exported_at=SystemClock().now(),
            guild_id=None if guild_id == STAND_IN_ID else guild_id,
        )
    finally:
        await engine.dispose()


def cmd_export(args: argparse.Namespace) -> int:
    from db.export import MANIFEST, ExportError

    try:
        config = one_server(load_offline_config(args.config, DB_SECTIONS), args.guild)
    except ConfigError as err:
        return _report(args.config, err)
    url = config.settings.database.url
    missing = _store_missing(url)  # opening a missing file would create an empty store
    if missing:
        return _fail(missing)
    try:
        result = asyncio.run(_export(config, args.directory))
    except ExportError as err:
        return _fail(str(err))
    except (DBAPIError, OSError) as exc:
        return _fail(startup.store_unusable(url, exc))
    filled = [table for table in result.tables if table.rows]
    print(
        f"exported {result.rows} row(s) of server {result.guild_id} from {len(result.tables)} "
        f"table(s) (schema {result.schema_revision}) to {result.directory}"
    )
    for table in filled:
        print(f"  {table.file}: {table.rows}")
    print(f"  ({len(result.tables) - len(filled)} empty table(s); see {MANIFEST})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.import_cli import command

    return command(
        args, lambda path: one_server(load_offline_config(path, IMPORT_SECTIONS), args.guild)
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    try:
        return asyncio.run(run_demo(quiet=args.quiet, config_path=args.config, serve=args.serve))
    except ConfigError as err:
        return _report(args.config, err)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "check-config": cmd_check_config,
        "run": cmd_run,
        "web": cmd_web,
        "db": cmd_db,
        "demo": cmd_demo,
        "tiers": cmd_tiers,
        "backfill": cmd_backfill,
        "export": cmd_export,
        "import": cmd_import,
    }
    return handlers[args.command](args)
