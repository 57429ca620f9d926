"""Sync application commands only when their definitions changed.

Syncing on every start burns a rate-limited endpoint and, on Discord's side, can briefly hide
commands; instead a hash of the definitions is stored per guild and application.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from db.repositories import GuildSettingsRepository

log = logging.getLogger(__name__)


def fingerprint(payloads: list[dict[str, Any]]) -> str:
    """A stable hash of command payloads, independent of their order."""
    canonical = sorted(json.dumps(p, sort_keys=True, default=str) for p in payloads)
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()


async def sync_if_changed(
    tree: app_commands.CommandTree[Any],
    guild: discord.abc.Snowflake,
    *,
    application_id: int | None,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> bool:
    """Copy the global commands to ``guild`` and sync them if they changed; True if synced."""
    tree.copy_global_to(guild=guild)
    payloads = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    digest = fingerprint(payloads)
    key = f"commands_hash:{application_id}"
    async with sessions() as session, session.begin():
        settings = GuildSettingsRepository(session, guild.id)
        if await settings.get(key) == digest:
            log.info("application commands unchanged; not syncing")
            return False
        synced = await tree.sync(guild=guild)
        await settings.set(key, digest, now=clock.now())
    log.info("synced %d application commands to guild %s", len(synced), guild.id)
    return True
