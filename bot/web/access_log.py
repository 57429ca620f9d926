"""The access log without query strings: a sign-in address carries its token there.

aiohttp's default format prints the request line with its query (``/sign-in?token=…``); this
logs the method, the path alone, the status and the time taken, at INFO on ``bot.web.access``.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from aiohttp.abc import AbstractAccessLogger

ACCESS_LOG: Final = logging.getLogger("bot.web.access")


class PathOnlyAccessLogger(AbstractAccessLogger):
    def log(self, request: Any, response: Any, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.1fms",
            request.remote or "-",
            request.method,
            request.path,
            response.status,
            time * 1000,
        )
