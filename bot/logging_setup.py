"""Logging on the standard library, with discord.py's own setup as the base."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import discord


class RedactSecrets(logging.Filter):
    """Replace known secrets in every record, whichever library logged them."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def configure_logging(level: str, file: Path | None, *, secrets: list[str] | None = None) -> None:
    discord.utils.setup_logging(level=getattr(logging, level.upper()), root=True)
    root = logging.getLogger()
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    redactor = RedactSecrets(secrets or [])
    for handler in root.handlers:
        handler.addFilter(redactor)
