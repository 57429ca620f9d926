"""Listening on ``[web] bind``: start and stop the app with aiohttp's runner, cleanly."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import split_bind
from bot.errors import StartupError

log = logging.getLogger(__name__)

#: How long stopping waits for requests in flight before closing their connections.
SHUTDOWN_TIMEOUT = 5.0


class WebServer:
    """One app on one address; ``start`` then ``stop`` (idempotent)."""

    def __init__(self, app: web.Application, bind: str) -> None:
        self.app = app
        self.host, self.port = split_bind(bind)
        self._runner: web.AppRunner | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def url(self) -> str:
        """The address it listens on (the real port when ``bind`` asked for port 0)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(
                f"cannot listen on {self.host}:{self.port} (web.bind): "
                f"{exc.strerror or exc}; choose a free port, or stop what is using it"
            ) from None
        self._runner = runner
        addresses = runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("web: serving on %s", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("web: stopped")
