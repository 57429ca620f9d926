"""``python -m bot demo``: Flywheel against a local Discord emulator, no token needed.

Starts the emulator with a sample community, runs the real bot (built by the same composition
root as ``run``), plays a scripted stretch of community life as its members, and prints what
the bot did, read back from the emulator's request log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import func, make_url, select

from bot.clock import FakeClock
from bot.config import Settings, load_config, parse_config, read_toml
from bot.demo.community import (
    EMULATOR_TOKEN,
    TIERS,
    SampleCommunity,
    build_sample_community,
    community_config,
    split_user_config,
)
from bot.demo.scenes.referrals import VANITY_CODE
from bot.emulated import running_bot
from bot.errors import StartupError
from bot.leases import SqliteLock
from db.models import ActivityDay
from emulator import Emulator

CALLBACKS = {4: "replied", 5: "deferred", 6: "acknowledged", 7: "updated", 9: "opened a form"}


class Transcript:
    """Turns the bot's REST requests into readable lines, step by step."""

    def __init__(
        self,
        emu: Emulator,
        community: SampleCommunity,
        out: Callable[[str], None],
        *,
        clock: FakeClock,
    ):
        self.emu = emu
        #: The settings the bot runs with (set once they are built): scenes adapt to them.
        self.settings: Settings | None = None
        #: The bot's clock: scenes move it forward to let time pass (a call, a week).
        self.clock = clock
        self.out = out
        self.seen = 0
        self.names: dict[int, str] = {}
        for kind in (community.channels, community.members, community.moderators):
            self.names.update({v: k for k, v in kind.items()})
        roles = {v: k.title() for k, v in community.tier_role_ids.items()}
        self.roles = roles

    def step(self, title: str) -> None:
        self.out(f"\n== {title}")

    def say(self, line: str) -> None:
        self.out(f"   {line}")

    def flush(self) -> None:
        """Print what the bot did since the last flush."""
        records = self.emu.request_log[self.seen :]
        self.seen = len(self.emu.request_log)
        for record in records:
            line = self.describe(record)
            if line:
                self.out(f"   bot> {line}")

    def describe(self, record: Any) -> str | None:
        method, path, body, status = record.method, record.path, record.json or {}, record.status
        failed = f" -> refused {status}: {_error(record)}" if status >= 400 else ""
        if method == "PUT" and path.endswith("/commands"):
            names = (
                ", ".join(
                    sorted(f"/{c['name']}" if c.get("type", 1) == 1 else c["name"] for c in body)
                )
                or "none"
            )
            return f"synced {len(body)} application command(s): {names}{failed}"
        files = _files(record)
        if method == "POST" and (match := re.search(r"/channels/(\d+)/messages$", path)):
            return f"posted in {self.place(int(match[1]))}:{self.content(body)}{files}{failed}"
        if method == "POST" and path.endswith("/crosspost"):
            return f"published its post to following servers{failed}"
        if method == "POST" and (match := re.search(r"/channels/(\d+)/threads$", path)):
            message = body.get("message") or {}
            where = self.place(int(match[1]))
            return (
                f"opened a post in {where}: {body.get('name', '')}{self.content(message)}{failed}"
            )
        if method == "PATCH" and (match := re.search(r"/channels/(\d+)$", path)):
            return self.channel_edit(int(match[1]), body, failed)
        if method == "PATCH" and (match := re.search(r"/channels/(\d+)/messages/\d+$", path)):
            return f"edited its message in {self.place(int(match[1]))}:{self.content(body)}"
        if match := re.search(r"/members/(\d+)/roles/(\d+)$", path):
            verb = "gave" if method == "PUT" else "removed"
            who = self.names.get(int(match[1]), match[1])
            role = self.roles.get(int(match[2]), match[2])
            return f"{verb} role {role} {'to' if verb == 'gave' else 'from'} {who}{failed}"
        if "/interactions/" in path and path.endswith("/callback"):
            data = body.get("data") or {}
            if body.get("type") in (5, 6) and not failed:
                return None  # "thinking…" acknowledgements: the follow-up says what happened
            private = " (only visible to them)" if int(data.get("flags", 0)) & 64 else ""
            verb = CALLBACKS.get(body.get("type"), "answered")
            return f"{verb}{private}:{self.content(data)}{files}{failed}"
        if method in ("POST", "PATCH") and re.search(r"/webhooks/\d+/[^/]+(/messages/.+)?$", path):
            return f"followed up:{self.content(body)}{files}{failed}"
        return f"{method} {path}{failed}" if status >= 400 else None

    def place(self, channel_id: int) -> str:
        """``#general``, ``DMs with ada``, or a thread's name."""
        channel = self.emu.world.channels.get(channel_id)
        recipients = getattr(channel, "recipient_ids", None)
        if recipients:
            return f"DMs with {self.names.get(recipients[0], recipients[0])}"
        if channel_id not in self.names and channel is not None:
            return f"'{channel.name}'"
        return f"#{self.names.get(channel_id, channel_id)}"

    def channel_edit(self, channel_id: int, body: dict[str, Any], failed: str) -> str | None:
        """A forum's tags created, or a post's tags set (other channel edits go unsaid)."""
        channel = self.emu.world.channels.get(channel_id)
        if channel is None:
            return None
        if "available_tags" in body:
            names = ", ".join(str(tag.get("name")) for tag in body["available_tags"] or [])
            return f"set the tags of {self.place(channel_id)}: {names}{failed}"
        if "applied_tags" in body:
            forum = self.emu.world.channels.get(channel.parent_id or 0)
            known = {tag.id: tag.name for tag in getattr(forum, "available_tags", [])}
            names = ", ".join(known.get(int(t), str(t)) for t in body["applied_tags"] or [])
            return f"tagged {self.place(channel_id)}: {names}{failed}"
        return None

    def content(self, body: dict[str, Any]) -> str:
        """Message text and embeds, with mentions shown as the names Discord would display."""
        return _MENTION.sub(self._mention, _content(body))

    def _mention(self, match: re.Match[str]) -> str:
        names = self.roles if match[1] == "&" else self.names
        return "@" + str(names.get(int(match[2]), match[2]))


_MENTION = re.compile(r"<@([!&]?)(\d+)>")


def _error(record: Any) -> str:
    response = record.response if isinstance(record.response, dict) else {}
    return f"{response.get('message', '')} (code {response.get('code', '?')})"


def _files(record: Any) -> str:
    """``| [file] name (size)`` lines for the files a request uploaded (posts and follow-ups)."""
    return "".join(
        f"\n        | [file] {f['filename']} ({f['size'] // 1024 or 1} KB)"
        for f in record.files or []
    )


def _content(body: dict[str, Any]) -> str:
    parts = []
    if body.get("content"):
        parts.append(body["content"])
    for embed in body.get("embeds") or []:
        parts.append(f"[embed] {embed.get('title', '')}")
        if embed.get("description"):
            parts.append(embed["description"])
        for field in embed.get("fields") or []:
            parts.append(f"{field['name']}: {field['value']}")
    text = "\n".join(parts) or "(empty)"
    return "".join(f"\n        | {line}".rstrip() for line in text.splitlines())


async def _settle(emu: Emulator, seconds: float = 0.3) -> None:
    """Give the bot a moment to react to what the members just did."""
    await asyncio.sleep(seconds)


async def play(
    emu: Emulator, community: SampleCommunity, transcript: Transcript, *, sample_ladder: bool
) -> None:
    """The scripted stretch of community life, one scene per feature, in story order.

    The ladder and nomination scenes are written for the sample ladder (Champion, Ambassador,
    Advisor); with a user's own tiers (``--config``) they are skipped, saying so. A scene that
    depends on what the user's rules let happen says itself why it is skipped (``skipped``).
    """
    from bot.demo.scenes import (
        activity,
        answers,
        backfill,
        content,
        events,
        feedback,
        health,
        ladder,
        nominations,
        operations,
        profile,
        programs,
        recognition,
        referrals,
        thanks,
    )

    story = (
        activity,
        answers,
        thanks,
        content,
        events,
        referrals,
        ladder,
        nominations,
        profile,
        recognition,
        operations,
        feedback,
        programs,
        health,
        backfill,
    )
    for module in story:
        reason: str | None = None
        if module in (ladder, nominations) and not sample_ladder:
            reason = "it is written for the sample ladder, and your config has its own tiers"
        elif hasattr(module, "skipped"):
            reason = module.skipped(emu, community, transcript)
        if reason:
            transcript.step(f"({module.__name__.rsplit('.', 1)[-1]} scene skipped: {reason})")
            continue
        await module.scene(emu, community, transcript)
        await _settle(emu)
        transcript.flush()


async def _import(app: Any, community: Any, transcript: Transcript) -> None:
    """What ``python -m bot import mee6 FILE`` does, on a page saved from MEE6's leaderboard."""
    from bot.core.imports import DEFAULT_POINTS_PER_XP, parse_mee6

    transcript.step("The owner carries points over from MEE6: `python -m bot import mee6 FILE`")
    names = list(community.members)[-2:]
    page = json.dumps(
        {"players": [
            {"id": str(community.members[name]), "xp": 42_000 - 9_000 * n, "level": 20 - n}
            for n, name in enumerate(names)
        ]}
    )  # fmt: skip
    rows, _ = parse_mee6("mee6-page0.json", page, DEFAULT_POINTS_PER_XP)
    imports = app.bot.services.imports
    first = await imports.import_rows("mee6", rows)
    transcript.say(
        f"{first.imported} members imported, {first.points} points as one 'imported' credit each "
        f"({DEFAULT_POINTS_PER_XP} point per XP): " + ", ".join(names)
    )
    again = await imports.import_rows("mee6", rows)
    transcript.say(f"the same file again: {again.imported} imported, {again.unchanged} unchanged")


async def _export(settings: Settings, directory: Path, transcript: Transcript) -> None:
    """What ``python -m bot export DIR`` writes, taken while the bot keeps running."""
    from db.engine import create_engine
    from db.export import MANIFEST, export_store

    transcript.step("The owner takes the data out: `python -m bot export DIR`, bot still running")
    engine = create_engine(settings.database.url)
    try:
        result = await export_store(
            engine,
            directory,
            exported_at=transcript.clock.now(),
            guild_id=settings.discord.guild_id,
        )
    finally:
        await engine.dispose()
    transcript.say(
        f"{len(result.tables)} CSV files ({result.rows} rows, one snapshot) and {MANIFEST} "
        f"(schema {result.schema_revision}, columns and types, a sha256 per file)"
    )
    biggest = sorted(result.tables, key=lambda table: -table.rows)[:5]
    transcript.say(", ".join(f"{table.file} {table.rows}" for table in biggest) + ", …")


#: Program settings the demo turns on to show its features; a user's own config overrides them.
DEMO_DEFAULTS: dict[str, dict[str, Any]] = {"buddies": {"enabled": True}}


def _with_demo_defaults(program: dict[str, Any]) -> dict[str, Any]:
    """The user's program settings over the demo's defaults, key by key within a section."""
    merged = dict(program)
    for section, defaults in DEMO_DEFAULTS.items():
        own = program.get(section, {})
        merged[section] = {**defaults, **own} if isinstance(own, dict) else own
    return merged


def _web_section(serve: str) -> dict[str, Any]:
    """``[web]`` for ``--serve HOST:PORT``: the pages on that address, linked to from there."""
    host, _, port = serve.rpartition(":")
    shown = "127.0.0.1" if host.strip("[]") in ("0.0.0.0", "::", "") else host
    return {"enabled": True, "bind": serve, "public_url": f"http://{shown}:{port}"}


async def _serve(app: Any, community: SampleCommunity, transcript: Transcript) -> None:
    """Keep the community, the bot and the dashboard up until SIGINT or SIGTERM."""
    settings = app.bot.settings
    moderator = community.moderators["morgan"]
    token = await app.bot.services.web_sign_in.issue(moderator)
    transcript.step("The dashboard stays up for you to try")
    transcript.say(f"pages at {settings.web.public_url} (leaderboard, ladder, roadmap)")
    transcript.say(
        f"sign in as the moderator morgan (works once): {settings.web.public_url}"
        f"/sign-in?token={token}"
    )
    transcript.say("press Ctrl-C to stop")
    sys.stdout.flush()  # the link is read by whoever started the demo, maybe through a pipe
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _several_servers(
    emu: Emulator,
    community: SampleCommunity,
    data: dict[str, Any],
    tmp: Path,
    transcript: Transcript,
) -> None:
    """The same store, now one process serving two servers: a file per server, one
    connection; and the one-process guard of a SQLite store."""
    transcript.step(
        "One deployment, two servers: `[discord] servers_dir`, a file per server "
        "(README: Running at scale)"
    )
    side = build_sample_community(emu, member_count=4, name="Side Project Community")
    (tmp / "servers").mkdir()
    deployment = {
        "discord": {k: v for k, v in data["discord"].items() if k != "guild_id"},
        "database": data["database"],
        "logging": data["logging"],
    }
    deployment["discord"]["servers_dir"] = "servers"
    (tmp / "config.toml").write_text(tomli_w.dumps(deployment))
    for name, server, settings in (
        ("demo.toml", community, data),
        (
            "side.toml",
            side,
            community_config(
                side, emu, database_url="unused", schedule={"timezone": "America/New_York"}
            ),
        ),
    ):
        own = {k: v for k, v in settings.items() if k not in ("database", "logging", "web")}
        own["discord"] = {"guild_id": server.guild_id}
        (tmp / "servers" / name).write_text(tomli_w.dumps(own))
    config = load_config(tmp / "config.toml", env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    transcript.say(
        "config.toml holds the connection and the database; servers/demo.toml and "
        "servers/side.toml each hold one server's program"
    )
    async with running_bot(config, clock=transcript.clock) as app:
        await _settle(emu)
        transcript.flush()
        for server, name in ((community, "ada"), (side, "grace")):
            await emu.post_message(
                server.channels["general"],
                server.members[name],
                "How do I make the sync engine retry a failed upload?",
            )
        await _settle(emu)
        for each in app.bot.communities:
            await each.services.activity.flush()
            async with each.services.sessions() as session:
                counted = await session.scalar(
                    select(func.coalesce(func.sum(ActivityDay.messages), 0)).where(
                        ActivityDay.guild_id == each.guild_id
                    )
                )
            guild = emu.world.guilds[each.guild_id]
            transcript.say(
                f"{guild.name}: its own commands, schedule ({each.settings.schedule.timezone}) "
                f"and program; {counted} message(s) counted in it"
            )
        transcript.say(
            "both on one gateway connection; with `shard_count` the servers split over shards, "
            "and processes over shards (`shard_ids`)"
        )
        database = Path(str(make_url(data["database"]["url"]).database))
        second = SqliteLock(database)
        running = SqliteLock(database)
        running.take()  # as `python -m bot run` holds it
        try:
            second.take()
        except StartupError as refused:
            transcript.say(f"a second `run` on the same SQLite file: not starting: {refused}")
        finally:
            running.release()
        transcript.say(
            "on PostgreSQL, `run --standby` waits for the leases and takes over within 30 s "
            "of a crash, catching up from history (bench/failover.py)"
        )
    transcript.step("Flywheel shuts down cleanly")


async def run_demo(
    *,
    quiet: bool = False,
    config_path: Path | None = None,
    out: Callable[[str], None] = print,
    serve: str | None = None,
) -> int:
    """Play the demo; with ``config_path``, on that config's program settings and tiers; with
    ``serve`` (``HOST:PORT``), keep everything running with the web dashboard until stopped."""
    logging.basicConfig(level=logging.CRITICAL if quiet else logging.ERROR, stream=sys.stderr)
    tiers, program = split_user_config(read_toml(config_path)) if config_path else (TIERS, {})
    program = _with_demo_defaults(program)
    if serve is not None:
        program["web"] = _web_section(serve)
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel")
    await emu.start()
    try:
        # The bot's role sits below the top tier: the commonest setup mistake, caught at start-up.
        community = build_sample_community(emu, bot_role_position=2 * len(tiers), tiers=tiers)
        emu.guild(community.guild_id).set_vanity_url(VANITY_CODE, community.channels["general"])
        # Real time to start with: the emulator stamps messages with real snowflake times.
        transcript = Transcript(emu, community, out, clock=FakeClock(datetime.now(UTC)))
        transcript.step(
            f"A sample community on the local emulator: {len(community.members)} members, "
            f"{len(community.moderators)} moderators, tiers "
            + ", ".join(str(t.get("name", t.get("key"))) for t in tiers)
        )
        if config_path:
            transcript.say(f"program settings and tiers from {config_path}")
        transcript.say(f"emulator at {emu.api_base}")
        with tempfile.TemporaryDirectory(prefix="flywheel-demo-") as tmp:
            data = community_config(
                community,
                emu,
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}",
                tiers=tiers,
                **program,
            )
            config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
            transcript.settings = config.settings
            transcript.step("Flywheel starts: connects, syncs commands, checks the server setup")
            async with running_bot(config, clock=transcript.clock) as app:
                await _settle(emu)
                transcript.flush()
                await play(
                    emu,
                    community,
                    transcript,
                    sample_ladder=[t["key"] for t in tiers] == [t["key"] for t in TIERS],
                )
                await _import(app, community, transcript)
                await _settle(emu)
                transcript.flush()
                await _export(config.settings, Path(tmp) / "export", transcript)
                if serve is not None:
                    transcript.flush()
                    await _serve(app, community, transcript)
            transcript.step("Flywheel shuts down cleanly")
            await _several_servers(emu, community, data, Path(tmp), transcript)
        unknown = getattr(emu, "unknown_routes", [])
        if unknown:
            out(f"\nwarning: the emulator saw {len(unknown)} request(s) it does not implement")
    finally:
        await emu.stop()
    return 0
