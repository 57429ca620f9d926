"""What services need of Discord, as one small interface with no discord import.

Services decide; the Discord side of a decision (a role edit, a DM, a post, a mod-log line)
goes through a :class:`DiscordEffects`. The bot implements it once (``bot.outbox.Outbox``); a
process with no connection (the CLI, a future web process) gets :class:`Offline`, which
refuses every effect and says so in the log, so the same services run without a bot.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Literal, Protocol

from bot.core.embeds import EmbedSpec

log = logging.getLogger(__name__)

EditOutcome = Literal["done", "forbidden", "gone", "failed"]
"""``forbidden``: Discord refused (403); ``gone``: the member or role no longer exists."""


class DiscordEffects(Protocol):
    def guild_name(self) -> str:
        """The community's name as plain text (markdown escaped), for messages."""
        ...

    async def mod_log(self, text: str) -> bool:
        """Post to ``channels.mod_log`` (clipped, nobody pinged); False if it could not."""
        ...

    async def dm(
        self, user_id: int, text: str | None = None, *, embeds: Sequence[EmbedSpec] = ()
    ) -> bool:
        """DM a member (nobody pinged); False if refused (closed DMs) or failed."""
        ...

    async def post(self, channel_id: int, text: str, *, mention: int | None = None) -> bool:
        """Post in a channel; only ``mention`` (if any) can be pinged. False if it could not."""
        ...

    def member_roles(self, user_id: int) -> Sequence[int] | None:
        """The member's role ids, or None if they are not in the server."""
        ...

    def all_member_roles(self, role_ids: Collection[int]) -> Mapping[int, Sequence[int]]:
        """Which of ``role_ids`` every human member wears (empty before the server is known)."""
        ...

    async def edit_role(self, user_id: int, role_id: int, *, add: bool, reason: str) -> EditOutcome:
        """Give or take one role; a refusal is an outcome, never an exception."""
        ...

    def role_refused_text(self, role_id: int) -> str:
        """The moderators' alert for a role Discord refuses, with the fix."""
        ...


class Offline:
    """Effects for a process without a Discord connection: nothing is sent, all is logged."""

    def guild_name(self) -> str:
        return "the server"

    async def mod_log(self, text: str) -> bool:
        log.info("offline: not posted to mod_log: %s", text)
        return False

    async def dm(
        self, user_id: int, text: str | None = None, *, embeds: Sequence[EmbedSpec] = ()
    ) -> bool:
        log.info("offline: no DM sent to member %s", user_id)
        return False

    async def post(self, channel_id: int, text: str, *, mention: int | None = None) -> bool:
        log.info("offline: not posted in channel %s: %s", channel_id, text)
        return False

    def member_roles(self, user_id: int) -> Sequence[int] | None:
        return None

    def all_member_roles(self, role_ids: Collection[int]) -> Mapping[int, Sequence[int]]:
        return {}

    async def edit_role(self, user_id: int, role_id: int, *, add: bool, reason: str) -> EditOutcome:
        return "failed"

    def role_refused_text(self, role_id: int) -> str:
        return f"Discord refused an edit of role {role_id}."
