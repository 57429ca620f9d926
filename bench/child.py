"""A benchmark's emulator in a child process: JSON lines on its stdin and stdout.

The emulator's own work (storing, rendering, rate limiting) then neither shares the measured
client's event loop nor shows in its memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any


def reply(data: dict[str, Any]) -> None:
    """The child's answer: one JSON line on stdout."""
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


class EmulatorProcess:
    """The parent's end of the pipes: requests out, JSON replies in."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, script: Path, *args: str) -> tuple[EmulatorProcess, dict[str, Any]]:
        """Run ``script --serve args…``; returns it with its first reply (what it built)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(script), "--serve", *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**24,
        )  # fmt: skip
        emulator = cls(process)
        return emulator, await emulator.read()

    async def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process stopped")
        data: dict[str, Any] = json.loads(line)
        return data

    def send(self, data: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(data) + "\n").encode())

    async def ask(self, op: str) -> dict[str, Any]:
        self.send({"op": op})
        return await self.read()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.send({"op": "quit"})
        try:
            await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
