"""Message ingestion: the full Flywheel bot against a bare discord.py client, on the emulator.

    python bench/ingest.py [--messages 100000] [--members 5000] [--channels 10] [--rounds 5]
                           [--inject dispatch|post] [--seed 1] [--database URL] [--profile DIR]

The emulator runs in a child process with a guild of ``--members`` members; each client in
turn, in a fresh process of its own, connects to it (same intents as the bot) and receives the
same ``--messages`` messages from random members in ``--channels`` chat channels, sent as fast
as the emulator can (with the socket's back-pressure). Throughput is messages per second from
the first message sent until the client has handled the last one:

* bare: a ``discord.Client`` whose ``on_message`` only counts (discord.py's default: a task
  per message);
* tracked: the real bot (every cog, default settings, a fresh store: a temporary SQLite file,
  or a fresh database on the server of ``--database``), counted by a message hook registered
  after the bot's own, so the last message has been through the activity cog when it is seen.
  The bot runs its message hooks as the gateway event is parsed, with no task per message
  (``Flywheel.dispatch``): that is the product's design, not a tuning the bare client lacks.
  The final flush of the activity buffer (rollups, presence and the day credits still waiting
  out the uncount window) is timed separately.

Both get the process tuning ``python -m bot run`` applies (``bot.runtime``: the start-up heap
frozen once ready), so the comparison is on equal terms. Besides the wall-clock throughput,
each client's CPU time over the timed window is divided by the messages: on a small machine
where the emulator shares the cores, the CPU ratio is far steadier than the wall-clock one.

The emulator's full ``post_message`` path costs about as much per message as the bare client,
so by default the messages are created and rendered before the clock starts and only the
gateway's own work is timed (``--inject dispatch``); see ``Injection``. The last two lines are
``ratio <median tracked/bare throughput>`` and ``cpu_ratio <median bare/tracked CPU per
message>``. ``--profile DIR`` writes each client's timed window as cProfile statistics.
Results, the method and the machine are in bench/README.md. A benchmark, not a test: nothing
here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.child import EmulatorProcess, reply  # noqa: E402
from bot import endpoints  # noqa: E402
from bot.client import required_intents  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.demo.community import (  # noqa: E402
    EMULATOR_TOKEN,
    SampleCommunity,
    build_sample_community,
    community_config,
)
from bot.emulated import running_bot  # noqa: E402
from bot.runtime import freeze_startup_heap  # noqa: E402
from db.models import ActivityDay, ChannelPresence, Contribution  # noqa: E402
from emulator import Emulator, intents, messaging, payloads  # noqa: E402

#: Let the gateway writer run after this many messages, and wait for it to drain after
#: DRAIN_EVERY: found fastest for both injection modes on the reference machine.
YIELD_EVERY = 50
DRAIN_EVERY = 2000
#: Quiet time after a client is ready, before the messages start.
SETTLE_SECONDS = 2.0

WORDS = (
    "sync", "release", "config", "migration", "guide", "cache", "windows", "linux", "path",
    "error", "plugin", "docs", "api", "token", "channel", "thread", "forum", "review", "build",
    "test", "deploy", "version", "branch", "merge", "commit", "issue", "question", "answer",
    "idea", "workshop", "meetup", "talk", "video", "blog", "tutorial", "benchmark", "python",
)  # fmt: skip
NOISE = ("ok", "lol", "+1", "thanks!", "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉", "hahahahahahahaha", "same here")


def contents(rng: random.Random, count: int) -> list[str]:
    """A mix like a real chat: mostly sentences, some noise that never counts."""
    texts = []
    for _ in range(count):
        if rng.random() < 0.25:
            texts.append(rng.choice(NOISE))
        else:
            words = rng.choices(WORDS, k=rng.randint(4, 24))
            texts.append(" ".join(words).capitalize() + rng.choice(".?!"))
    return texts


# --- The emulator's side (a child process) -------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """Build the guild, report its ids, then post messages on request (JSON lines on stdin)."""
    emu = Emulator(bot_token=EMULATOR_TOKEN, bot_name="Flywheel")
    await emu.start()
    started = time.perf_counter()
    community = build_sample_community(emu, bot_role_position=10)
    guild = emu.guild(community.guild_id)
    chat = [guild.create_text_channel(f"chat-{i}").id for i in range(args.channels)]
    members = [guild.add_member(f"member{i}").id for i in range(args.members)]
    built = time.perf_counter() - started
    reply({
        "api_base": emu.api_base,
        "gateway_url": emu.gateway_url,
        "community": community.__dict__,
        "chat": chat,
        "build_seconds": built,
        "guild_members": len(guild.guild.members),
    })  # fmt: skip
    loop = asyncio.get_running_loop()
    prepared: Injection | None = None
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        request = json.loads(line)
        if request["op"] == "prepare":
            started = time.perf_counter()
            prepared = Injection(emu, community.guild_id, args.inject)
            prepared.prepare(chat, members, request["count"], request["seed"])
            # The emulator keeps every message and gateway log entry of every run: unfrozen,
            # its full collections grow with each run and pause the sending in the same
            # rounds every time (bench/README.md). Frozen, each run is paced alike.
            freeze_startup_heap()
            reply({"prepare_seconds": time.perf_counter() - started})
        elif request["op"] == "send" and prepared is not None:
            reply(await prepared.send())
            prepared = None
        else:
            break
    await emu.stop()


class Injection:
    """The messages for one run, and the fastest honest way to push them to the client.

    ``dispatch`` (default): each message is created in the emulator's world and rendered as
    Discord's MESSAGE_CREATE beforehand; the timed part is the gateway's own work per message
    (sequence number, JSON, zlib-stream, websocket write). ``post``: the timed part is the full
    ``emu.post_message`` path (validation, permissions, storage, rendering, then the same).
    """

    def __init__(self, emu: Emulator, guild_id: int, mode: str) -> None:
        self.emu = emu
        self.guild_id = guild_id
        self.mode = mode
        self.plan: list[tuple[int, int, str]] = []
        self.frames: list[dict[str, Any]] = []

    def prepare(self, chat: list[int], members: list[int], count: int, seed: int) -> None:
        rng = random.Random(seed)
        texts = contents(rng, 2000)
        self.plan = [
            (rng.choice(chat), rng.choice(members), texts[i % len(texts)]) for i in range(count)
        ]
        if self.mode == "dispatch":
            world = self.emu.world
            for channel, author, text in self.plan:
                message = messaging.create_message(
                    world, world.channels[channel], author, {"content": text},
                    base_url=self.emu.http_base,
                )  # fmt: skip
                self.frames.append(payloads.message(world, message, with_member=True))

    async def send(self) -> dict[str, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        if self.mode == "dispatch":
            dispatch = self.emu.gateway.dispatch
            for i, frame in enumerate(self.frames, start=1):
                dispatch(
                    "MESSAGE_CREATE", frame, guild_id=self.guild_id, intent=intents.GUILD_MESSAGES
                )
                await self._pace(i)
        else:
            for i, (channel, author, text) in enumerate(self.plan, start=1):
                await self.emu.post_message(channel, author, text)
                await self._pace(i)
        await self.emu.flush(timeout=120)
        return {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}

    async def _pace(self, sent: int) -> None:
        """Let the gateway writer run, and keep the frames queued in memory bounded."""
        if sent % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        if sent % DRAIN_EVERY == 0:
            await self.emu.flush(timeout=120)


# --- The clients' side ---------------------------------------------------------------------


@dataclass
class Run:
    name: str
    messages: int
    seconds: float
    cpu_seconds: float
    emulator_seconds: float
    emulator_cpu_seconds: float
    extra: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_per_message(self) -> float:
        return self.cpu_seconds / self.messages


class Tally:
    """Counts chat messages and fires when the last one is in."""

    def __init__(self, channels: set[int]) -> None:
        self.channels = channels
        self.seen = 0
        self.target = 0
        self.done = asyncio.Event()

    def expect(self, count: int) -> None:
        self.seen, self.target = 0, count
        self.done.clear()

    def count(self, message: discord.Message) -> None:
        if message.channel.id in self.channels:
            self.seen += 1
            if self.seen == self.target:
                self.done.set()

    async def on_message(self, message: discord.Message) -> None:
        self.count(message)


class EmulatorControl(Protocol):
    """Requests to the emulator process: JSON objects out, JSON replies in."""

    def send(self, data: dict[str, Any]) -> None: ...

    async def read(self) -> dict[str, Any]: ...


class RelayedEmulator:
    """The emulator as a client process sees it: requests go through the parent (stdout/stdin)."""

    def send(self, data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps({"emulator": data}) + "\n")
        sys.stdout.flush()

    async def read(self) -> dict[str, Any]:
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if not line:
            raise RuntimeError("the parent process went away")
        data: dict[str, Any] = json.loads(line)
        return data


class CollectorClock:
    """CPU time spent in the garbage collector, by generation, while installed."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __enter__(self) -> CollectorClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.seconds[info["generation"]] += time.thread_time() - self._started


async def measure(name: str, emulator: EmulatorControl, tally: Tally, args: Any) -> Run:
    """Time the messages from the first sent to the last handled: wall clock and CPU.

    The CPU is the whole process's (the store's driver thread included); the main thread's
    share is kept apart. With ``args.profile`` the window runs under cProfile.
    """
    count = args.messages
    emulator.send({"op": "prepare", "count": count, "seed": args.seed})
    await emulator.read()
    tally.expect(count)
    profiler = cProfile.Profile() if args.profile else None
    collections = [generation["collections"] for generation in gc.get_stats()]
    with CollectorClock() as collector:
        cpu, thread_cpu = time.process_time(), time.thread_time()
        wall = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        emulator.send({"op": "send"})
        await asyncio.wait_for(tally.done.wait(), timeout=max(120.0, count / 200))
        if profiler is not None:
            profiler.disable()
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        thread_cpu_seconds = time.thread_time() - thread_cpu
    collections = [g["collections"] - c for g, c in zip(gc.get_stats(), collections, strict=True)]
    sent = await emulator.read()
    if profiler is not None:
        profiler.dump_stats(args.profile)
    extra = {
        "gc_seconds": collector.seconds,
        "gc_collections": collections,
        "frozen": gc.get_freeze_count(),
        "main_thread_cpu_seconds": thread_cpu_seconds,
    }
    return Run(name, count, seconds, cpu_seconds, sent["seconds"], sent["cpu_seconds"], extra)


async def bare_client(info: dict[str, Any], emulator: EmulatorControl, args: Any) -> Run:
    tally = Tally(set(info["chat"]))
    client = discord.Client(intents=required_intents())
    client.event(tally.on_message)
    ready = asyncio.Event()

    @client.event
    async def on_ready() -> None:
        ready.set()

    # Equal terms: the tuning `python -m bot run` gives the bot, before connecting and once
    # it is ready.
    freeze_startup_heap()
    runner = asyncio.create_task(client.start(EMULATOR_TOKEN))
    try:
        await asyncio.wait_for(ready.wait(), timeout=60)
        freeze_startup_heap()
        await asyncio.sleep(SETTLE_SECONDS)
        return await measure("bare discord.py", emulator, tally, args)
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


def remove_sqlite(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def fresh_store(url: str | None) -> AsyncIterator[str]:
    """An empty store for one run: a temporary SQLite file by default, or the SQLite file
    given (deleted before and after the run); for a PostgreSQL URL, a new database on that
    server, dropped afterwards (the tests' schemas are never touched)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        remove_sqlite(path)
        try:
            yield url
        finally:
            remove_sqlite(path)
        return
    import asyncpg

    name = f"flywheel_ingest_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username,
        password=parsed.password, database=parsed.database,
    )  # fmt: skip
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def tracked_bot(info: dict[str, Any], emulator: EmulatorControl, args: Any) -> Run:
    community = SampleCommunity(**info["community"])
    endpoints_ = SimpleNamespace(api_base=info["api_base"], gateway_url=info["gateway_url"])
    async with fresh_store(args.database) as url:
        data = community_config(
            community,
            endpoints_,  # type: ignore[arg-type]
            database_url=url,
            logging={"level": "ERROR"},
        )
        config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
        # The start-up heap frozen once ready, as `python -m bot run` does (bot/runtime.py).
        async with running_bot(
            config, clock=SystemClock(), ready_timeout=60, freeze_heap_when_ready=True
        ) as app:
            tally = Tally(set(info["chat"]))
            # A message hook, registered after the bot's own: it sees each message right after
            # the activity hook, where the bot's hooks run (as the event is parsed, no task).
            app.bot.only.on_every_message(tally.count)
            await asyncio.sleep(SETTLE_SECONDS)  # start-up work (member sync) finishes first
            run = await measure("Flywheel (tracking)", emulator, tally, args)
            activity = app.bot.services.activity  # type: ignore[union-attr]
            started = time.perf_counter()
            flushed = await activity.flush(final=True)
            run.extra["final_flush_seconds"] = time.perf_counter() - started
            run.extra["final_flush_day_credits"] = len(flushed.credited)
            async with app.bot.services.sessions() as session:
                run.extra["stored"] = {
                    "activity_days rows": await session.scalar(
                        select(func.count()).select_from(ActivityDay)
                    ),
                    "counted messages": await session.scalar(select(func.sum(ActivityDay.messages)))
                    or 0,
                    "message_day credits": await session.scalar(
                        select(func.count()).where(Contribution.kind == "message_day")
                    ),
                    "channel_presence rows": await session.scalar(
                        select(func.count()).select_from(ChannelPresence)
                    ),
                }
    return run


CLIENTS = {"bare": bare_client, "tracked": tracked_bot}


async def client_process(args: argparse.Namespace) -> None:
    """One measurement in this fresh process: the guild's ids on stdin, the Run on stdout."""
    logging.basicConfig(level=logging.ERROR)
    emulator = RelayedEmulator()
    info = await emulator.read()
    endpoints.point_at(info["api_base"], info["gateway_url"])
    run = await CLIENTS[args.client](info, emulator, args)
    sys.stdout.write(json.dumps({"run": asdict(run)}) + "\n")
    sys.stdout.flush()


async def run_client(
    kind: str,
    info: dict[str, Any],
    emulator: EmulatorProcess,
    args: argparse.Namespace,
    round_: int,
) -> Run:
    """Measure ``kind`` in a fresh process, relaying its requests to the emulator.

    A fresh interpreter each time: a bare client run in a process that has loaded the bot
    carries the bot's modules in its heap, and the garbage collector's full passes over them
    made it 10-15% slower than the same client in a fresh process.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--client", kind,
        "--messages", str(args.messages), "--seed", str(args.seed),
        *(["--database", args.database] if args.database else []),
        *(["--profile", str(Path(args.profile) / f"{kind}-{round_}.prof")] if args.profile else []),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        limit=2**20,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write((json.dumps(info) + "\n").encode())
        while line := await process.stdout.readline():
            message = json.loads(line)
            if "run" in message:
                return Run(**message["run"])
            emulator.send(message["emulator"])
            reply = await emulator.read()
            process.stdin.write((json.dumps(reply) + "\n").encode())
        raise RuntimeError(f"the {kind} client process stopped without a result")
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.stdin.close()
        await process.wait()


def describe(run: Run) -> str:
    young, middle, full = run.extra["gc_seconds"]
    *young_collections, full_passes = run.extra["gc_collections"]
    young_passes = sum(young_collections)
    others = run.cpu_seconds - run.extra["main_thread_cpu_seconds"]
    return (
        f"{run.name:<20} {run.rate:>8,.0f} msg/s  {run.seconds:6.2f} s  "
        f"client: {run.cpu_per_message * 1e6:5.1f} µs CPU/msg "
        f"({others / run.messages * 1e6:.1f} in other threads), "
        f"{run.cpu_seconds / run.seconds:4.0%} busy  "
        f"emulator: sent in {run.emulator_seconds:.2f} s, "
        f"{run.emulator_cpu_seconds / run.emulator_seconds:4.0%} busy\n"
        f"{'':<20} garbage collector: {young + middle:.2f} s CPU in {young_passes:,} young "
        f"passes, {full:.2f} s in {full_passes} full passes ({run.extra['frozen']:,} objects "
        "frozen)"
    )


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    emulator, info = await EmulatorProcess.start(
        SCRIPT, "--members", str(args.members), "--channels", str(args.channels),
        "--inject", args.inject,
    )  # fmt: skip
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    rates: dict[str, list[float]] = {"bare": [], "tracked": []}
    try:
        endpoints.point_at(info["api_base"], info["gateway_url"])
        print(
            f"emulator: guild of {info['guild_members']:,} members and {len(info['chat'])} chat "
            f"channels built in {info['build_seconds']:.2f} s "
            f"(process ready after {time.perf_counter() - started:.2f} s)"
        )
        store = args.database or "a temporary SQLite file"
        print(
            f"each client receives {args.messages:,} messages from random members "
            f"(injection: {args.inject}); the bot's store: {store}\n"
        )
        # Bare and tracked runs alternate, and the median of the rounds' ratios is reported:
        # on a small shared machine one pair of runs varies by more than the effect measured.
        for round_ in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"round {round_} of {args.rounds}")
            bare = await run_client("bare", info, emulator, args, round_)
            print(describe(bare))
            tracked = await run_client("tracked", info, emulator, args, round_)
            print(describe(tracked))
            print(
                f"{'':<20} then the final flush: {tracked.extra['final_flush_seconds']:.2f} s "
                f"({tracked.extra['final_flush_day_credits']:,} day credits settled)"
            )
            stored = ", ".join(f"{k} {v:,}" for k, v in tracked.extra["stored"].items())
            print(f"{'':<20} stored: {stored}")
            ratios.append(tracked.rate / bare.rate)
            cpu_ratios.append(bare.cpu_per_message / tracked.cpu_per_message)
            rates["bare"].append(bare.rate)
            rates["tracked"].append(tracked.rate)
            bound = [r.name for r in (bare, tracked) if r.emulator_seconds > 0.9 * r.seconds]
            note = f" (emulator-bound: {', '.join(bound)}; the machine slowed)" if bound else ""
            print(
                f"round ratio {ratios[-1]:.2f}{note}, "
                f"CPU per message bare/tracked {cpu_ratios[-1]:.2f}\n"
            )
    finally:
        await emulator.stop()
    if args.profile:
        print(f"cProfile statistics of each timed window: {args.profile}/<client>-<round>.prof")
    if len(ratios) > 1:
        best = max(rates["tracked"]) / max(rates["bare"])
        print(f"best of each, tracked/bare: {best:.2f} (a check on the median)")
        print("ratios by round: " + ", ".join(f"{r:.2f}" for r in ratios))
        print("CPU ratios by round: " + ", ".join(f"{r:.2f}" for r in cpu_ratios))
        print(f"medians of {len(ratios)} rounds:")
    print(f"ratio {statistics.median(ratios):.2f}")
    print(f"cpu_ratio {statistics.median(cpu_ratios):.2f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rounds", type=int, default=5, help="bare/tracked pairs; the median ratio is printed"
    )
    parser.add_argument(
        "--inject",
        choices=("dispatch", "post"),
        default="dispatch",
        help="dispatch: pre-rendered MESSAGE_CREATEs (default); post: emu.post_message",
    )
    parser.add_argument(
        "--database",
        help="the bot's store: a PostgreSQL URL (each run gets a fresh database on that server) "
        "or a SQLite URL (the file is deleted before and after each run); default: a temporary "
        "SQLite file",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="write cProfile statistics of each client's timed window to DIR/<client>-<round>.prof",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=sorted(CLIENTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.profile and not args.client:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        asyncio.run(serve(arguments))
    elif arguments.client:
        asyncio.run(client_process(arguments))
    else:
        asyncio.run(main(arguments))
