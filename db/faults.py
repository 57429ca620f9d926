"""Store faults for tests: a slow disk and a busy database, injected at the driver.

The emulator can make Discord slow or refuse requests; this does the same for the store, so a
test can prove the bot answers within Discord's 3 seconds however slow the database is, and
that nothing is lost or doubled when a write fails after a message went out::

    faults = StoreFaults.attach(app.engine)
    faults.slow(4.0, match=r"INSERT INTO thanks")          # every matching statement waits
    faults.fail(match=r"UPDATE scheduled_posts", times=1)  # "database is locked", once
    ...
    faults.detach()

Rules match the SQL text (a regular expression, case-insensitive); every matching rule
applies (their waits add up). The wait happens where the
driver would block on a real slow disk: the statement is held back without blocking the event
loop (SQLAlchemy's ``await_only`` inside its async bridge), so the bot's other work, its
heartbeats and Discord's clock go on. A failure raises the ``OperationalError`` SQLAlchemy
raises for a locked SQLite database or a dropped PostgreSQL connection.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only


@dataclass(eq=False)
class StoreFault:
    """One rule: statements matching ``pattern`` wait ``delay`` seconds and/or fail."""

    pattern: re.Pattern[str]
    delay: float = 0.0
    error: str | None = None
    #: Uses left; ``None`` for every matching statement until removed.
    times: int | None = None
    #: Matching statements to let through first (fail the third write: ``skip=2``).
    skip: int = 0
    hits: int = 0

    def takes(self, statement: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if not self.pattern.search(statement):
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        return True


@dataclass(eq=False)
class StoreFaults:
    """The rules of one engine; :meth:`attach` hooks them in, :meth:`detach` takes them out."""

    engine: AsyncEngine
    rules: list[StoreFault] = field(default_factory=list)

    @classmethod
    def attach(cls, engine: AsyncEngine) -> StoreFaults:
        faults = cls(engine)
        event.listen(engine.sync_engine, "before_cursor_execute", faults._before)
        return faults

    def detach(self) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._before)
        self.rules.clear()

    def slow(self, seconds: float, *, match: str = "", times: int | None = None) -> StoreFault:
        """Matching statements (all, by default) take ``seconds`` longer."""
        return self._add(StoreFault(re.compile(match, re.I), delay=seconds, times=times))

    def fail(
        self,
        *,
        match: str = "",
        times: int | None = 1,
        skip: int = 0,
        error: str = "database is locked",
        after: float = 0.0,
    ) -> StoreFault:
        """Matching statements, past the first ``skip``, fail with ``error`` (after waiting
        ``after`` seconds)."""
        rule = StoreFault(re.compile(match, re.I), delay=after, error=error, times=times, skip=skip)
        return self._add(rule)

    def clear(self) -> None:
        self.rules.clear()

    def _add(self, rule: StoreFault) -> StoreFault:
        self.rules.append(rule)
        return rule

    def _before(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        taken = [rule for rule in self.rules if rule.takes(statement)]
        for rule in taken:
            rule.hits += 1
            if rule.times is not None:
                rule.times -= 1
        delay = sum(rule.delay for rule in taken)
        if delay:
            await_only(asyncio.sleep(delay))
        errors = [rule.error for rule in taken if rule.error is not None]
        if errors:
            raise OperationalError(statement, parameters, sqlite3.OperationalError(errors[0]))
