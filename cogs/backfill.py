"""/backfill start|status|cancel: the history backfill for administrators (thin glue).

Progress is one message, edited as channels are finished (at most every few seconds); the
work itself is :class:`bot.services.backfill.BackfillService`, the same as the CLI's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.community import Community
from bot.core.backfill import parse_span
from bot.errors import UserFacingError
from bot.history import DiscordHistory
from bot.outbox import NO_MENTIONS
from bot.services.backfill import BackfillReport, Progress

log = logging.getLogger(__name__)

#: Progress edits at most this often (seconds): a message edit has its own rate limit.
EDIT_EVERY = 3.0
ALREADY_RUNNING = "A backfill is already running: `/backfill status` shows how far it got."
NOT_RUNNING = "No backfill is running."


def progress_line(progress: Progress, *, dry_run: bool = False) -> str:
    state = "finished" if progress.finished else "reading history"
    text = (
        f"📜 Backfill{' (dry run)' if dry_run else ''} {state}: "
        f"{progress.channels_done}/{progress.channels_total} channel(s), "
        f"{progress.messages_read} message(s) read"
    )
    if progress.problems:
        text += "\nNot readable: " + ", ".join(progress.problems)
    return text


def report_line(report: BackfillReport) -> str:
    verb = "would credit" if report.dry_run else "credited"
    return (
        f"{progress_line(report.progress, dry_run=report.dry_run)}\n"
        f"{verb.capitalize()} {report.active_days} active day(s) to {report.members} member(s), "
        f"{report.questions} question thread(s), {report.answers} accepted answer(s)."
        + (f"\n{report.summary}" if report.summary else "")
    )


class Backfill(commands.Cog):
    backfill = app_commands.Group(
        name="backfill",
        description="Administrators: credit the server's history",
        guild_only=True,
        default_permissions=discord.Permissions(administrator=True),
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.backfill
        self._task: asyncio.Task[None] | None = None

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @backfill.command(name="start", description="Read the server's history and credit it")
    @app_commands.describe(
        since="How far back: days or weeks, like 180d or 26w (default 180d)",
        dry_run="Only count what would be credited; change nothing",
    )
    async def start(
        self, interaction: discord.Interaction, since: str = "180d", dry_run: bool = False
    ) -> None:
        try:
            span = parse_span(since)
        except ValueError as err:
            raise UserFacingError(str(err)) from None
        if self.service.running or (self._task is not None and not self._task.done()):
            raise UserFacingError(ALREADY_RUNNING)
        guild = interaction.guild
        assert guild is not None and guild.me is not None
        channel = interaction.channel
        assert isinstance(channel, discord.abc.Messageable)
        # A channel message, not the interaction's answer: its token expires in 15 minutes.
        message = await channel.send(
            f"📜 Backfill{' (dry run)' if dry_run else ''} starting…", allowed_mentions=NO_MENTIONS
        )
        await interaction.response.send_message(
            f"Started: progress in {message.jump_url}", ephemeral=True
        )
        # Tracked by the bot: shutting down cancels it, and the checkpoints let it resume.
        self._task = self.bot.services.background.spawn(
            self._run(guild, guild.me, span, dry_run, message), name="backfill"
        )

    async def _run(
        self,
        guild: discord.Guild,
        me: discord.Member,
        span: timedelta,
        dry_run: bool,
        message: discord.Message,
    ) -> None:
        clock = self.bot.services.clock
        last = clock.monotonic()

        async def edit(progress: Progress) -> None:
            nonlocal last
            if clock.monotonic() - last >= EDIT_EVERY:
                last = clock.monotonic()
                await self._edit(message, progress_line(progress, dry_run=dry_run))

        try:
            report = await self.service.run(
                DiscordHistory(guild, me), span=span, dry_run=dry_run, on_progress=edit
            )
        except asyncio.CancelledError:
            await self._edit(
                message,
                progress_line(self.service.progress, dry_run=dry_run)
                + "\nCancelled: `/backfill start` resumes where it stopped.",
            )
            raise
        except Exception:
            log.exception("backfill failed")
            await self._edit(
                message,
                progress_line(self.service.progress, dry_run=dry_run)
                + "\nStopped by an error (logged): `/backfill start` resumes where it stopped.",
            )
            return
        await self._edit(message, report_line(report))

    async def _edit(self, message: discord.Message, text: str) -> None:
        try:
            await message.edit(content=text[:2000])
        except discord.HTTPException as exc:
            log.warning("backfill: could not edit the progress message: %s", exc)

    @backfill.command(name="status", description="How far the backfill got")
    async def status(self, interaction: discord.Interaction) -> None:
        running = self._task is not None and not self._task.done()
        if not running and not self.service.progress.finished:
            raise UserFacingError(NOT_RUNNING)
        await interaction.response.send_message(
            progress_line(self.service.progress), ephemeral=True
        )

    @backfill.command(name="cancel", description="Stop the backfill; start resumes it")
    async def cancel(self, interaction: discord.Interaction) -> None:
        task = self._task
        if task is None or task.done():
            raise UserFacingError(NOT_RUNNING)
        task.cancel()
        await interaction.response.send_message(
            "Cancelled: `/backfill start` resumes where it stopped.", ephemeral=True
        )


async def setup(bot: Community) -> None:
    await bot.add_cog(Backfill(bot))
