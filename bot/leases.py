"""Which process runs each server: leases on PostgreSQL, one process on SQLite.

Work that must happen once per server (scheduled posts, the sweeps, the retention purge, role
reconciliation, campaign DMs) runs only in the process holding that server's lease. A process
takes the leases of all its servers at once or none (``run`` refuses to start beside a live
holder; ``run --standby`` waits), renews them every ``ttl / 3``, and gives them back when it
stops. A holder that cannot renew (killed, or cut off from the database) loses them once they
expire, and a standby takes over. Claims check the lease in their own transaction
(:func:`db.repositories.leases.check_fence`), so a process that lost its lease never sends.

SQLite serves one process: an exclusive lock on a file beside the database keeps a second
process out, and the operating system releases it when the process dies, however it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import socket
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import IO

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.errors import StartupError
from db.repositories.leases import Holding, LeaseRepository

log = logging.getLogger(__name__)

#: A lease lives this long unless renewed: the longest a dead process keeps its servers.
LEASE_TTL = timedelta(seconds=15)
#: How often a standby asks for the leases.
STANDBY_POLL_SECONDS = 2.0


class _TakenMeanwhile(Exception):
    """Another process took a lease between the look and the take: take none."""


class LeasesLost(Exception):
    """The process lost its servers' leases and stopped: another process runs them now."""


def holder_name() -> str:
    """Unique to this run of this process, and telling an operator where it runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Leases:
    """This process's leases on its servers (PostgreSQL)."""

    def __init__(
        self,
        engine: AsyncEngine,
        guild_ids: Sequence[int],
        *,
        ttl: timedelta = LEASE_TTL,
        holder: str | None = None,
    ) -> None:
        self.guild_ids = tuple(guild_ids)
        self.holder = holder or holder_name()
        self.ttl = ttl
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self._keeper: asyncio.Task[None] | None = None
        #: Set when the leases are lost: the process must stop its once-per-server work.
        self.lost = asyncio.Event()
        self.epochs: dict[int, int] = {}

    async def take(self) -> list[Holding]:
        """Take every lease, or none: returns who holds those we could not take."""
        try:
            async with self._sessions() as session, session.begin():
                repo = LeaseRepository(session)
                held = await repo.holders(self.guild_ids, self.holder)
                if held:
                    return held
                taken = await repo.take(self.guild_ids, self.holder, self.ttl)
                if taken is None:
                    raise _TakenMeanwhile  # rolls back the leases taken so far
        except _TakenMeanwhile:
            return await self.holders()
        self.epochs = taken
        return []

    async def holders(self) -> list[Holding]:
        async with self._sessions() as session, session.begin():
            return await LeaseRepository(session).holders(self.guild_ids, self.holder)

    async def take_or_refuse(self) -> None:
        held = await self.take()
        if held:
            raise StartupError(refusal(held))
        log.info("leases: this process (%s) runs %d server(s)", self.holder, len(self.guild_ids))

    async def wait_and_take(self, *, poll: float = STANDBY_POLL_SECONDS) -> None:
        """Standby: wait until every lease is free (its holder stopped or died), then take."""
        announced = False
        while True:
            try:
                held = await self.take()
            except (DBAPIError, OSError) as exc:
                log.warning("standby: the database is unreachable (%s); trying again", exc)
                held = None
            if held == []:
                log.info("standby: took over %d server(s) as %s", len(self.guild_ids), self.holder)
                return
            if held and not announced:
                log.info("standby: waiting; %s", refusal(held))
                announced = True
            await asyncio.sleep(poll)

    def keep(self, on_lost: Callable[[], None]) -> None:
        """Renew the leases in the background; on losing them, set ``lost`` and call
        ``on_lost`` (which must stop the once-per-server work at once)."""
        self._keeper = asyncio.create_task(self._renew_forever(on_lost), name="lease-keeper")

    async def _renew_forever(self, on_lost: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        every = self.ttl.total_seconds() / 3
        renewed = loop.time()
        while True:
            await asyncio.sleep(every)
            try:
                async with self._sessions() as session, session.begin():
                    kept = await LeaseRepository(session).renew(
                        self.guild_ids, self.holder, self.ttl
                    )
            except (DBAPIError, OperationalError, OSError) as exc:
                # Cut off from the database: the leases hold until they expire, no longer.
                if loop.time() - renewed < self.ttl.total_seconds() - every:
                    log.warning("leases: could not renew (%s); trying again", exc)
                    continue
                kept = set()
            lost = set(self.guild_ids) - kept
            if lost:
                log.error(
                    "leases: this process lost the lease of %d server(s) (%s) to another "
                    "process or to an expiry; stopping its once-per-server work now",
                    len(lost),
                    ", ".join(map(str, sorted(lost))),
                )
                self.lost.set()
                on_lost()
                return
            renewed = loop.time()

    async def release(self) -> None:
        """Stop renewing and give the leases back, so a standby takes over at once."""
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        if self.lost.is_set():
            return
        try:
            async with self._sessions() as session, session.begin():
                await LeaseRepository(session).release(self.guild_ids, self.holder)
        except (DBAPIError, OSError) as exc:
            log.warning("leases: could not give the leases back (%s); they expire soon", exc)


def refusal(held: Sequence[Holding]) -> str:
    first = held[0]
    return (
        f"{len(held)} of this process's server(s) are run by another process ({first.holder}; "
        f"its lease of server {first.guild_id} runs {max(first.expires_in.total_seconds(), 0):.0f}"
        " s more unless renewed). Start this one with --standby to take over when that one "
        "stops, or give each process its own shards ([discord] shard_ids)"
    )


class SqliteLock:
    """One process per SQLite database: an exclusive lock on ``<database>.lock``."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def take(self) -> None:
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "another process"
            handle.close()
            raise StartupError(
                f"another Flywheel process ({other}) is using {self.path.with_suffix('')}: "
                "SQLite serves one process. Stop that one, or move to PostgreSQL to run "
                "several (README: Running at scale)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
