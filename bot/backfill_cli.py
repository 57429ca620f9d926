"""What ``python -m bot backfill`` needs beyond the service: posting over HTTP without the
gateway, and progress as a bar in a terminal or as log lines otherwise."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from collections.abc import Iterator

import discord

from bot.config import Settings
from bot.services.backfill import OnProgress, Progress
from bot.services.effects import Offline

log = logging.getLogger(__name__)


class HttpEffects(Offline):
    """Posts the summary and the mod-log report over HTTP; roles wait for the live bot, whose
    role queue gives members their tier roles at its next start or daily sweep."""

    def __init__(self, client: discord.Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    async def mod_log(self, text: str) -> bool:
        channel = self.settings.channels.mod_log
        return bool(channel) and await self.post(channel, text)

    async def post(self, channel_id: int, text: str, *, mention: int | None = None) -> bool:
        try:
            await self.client.http.send_message(
                channel_id,
                params=discord.http.handle_message_parameters(
                    content=text[:2000], allowed_mentions=discord.AllowedMentions.none()
                ),
            )
        except discord.HTTPException as exc:
            log.warning("backfill: could not post in channel %s: %s", channel_id, exc)
            return False
        return True


@contextlib.contextmanager
def progress_printer() -> Iterator[OnProgress]:
    """A tqdm bar (channels done, messages read, ETA) on a terminal; log lines otherwise."""
    if not sys.stderr.isatty():

        async def lines(progress: Progress) -> None:
            log.info(
                "backfill: %d/%d channel(s), %d message(s) read",
                progress.channels_done,
                progress.channels_total,
                progress.messages_read,
            )

        yield lines
        return
    from tqdm import tqdm  # type: ignore[import-untyped]

    # A terminal reporting no size (some containers') would get a bar of no width at all.
    sized = shutil.get_terminal_size((0, 0)).columns > 0
    bar = tqdm(unit="channel", desc="backfill", file=sys.stderr, ncols=None if sized else 80)
    try:

        async def update(progress: Progress) -> None:
            bar.total = progress.channels_total
            bar.n = progress.channels_done
            bar.set_postfix(messages=progress.messages_read)
            bar.refresh()

        yield update
    finally:
        bar.close()
