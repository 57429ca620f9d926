"""Once-per-period posts on Discord: send a claimed post, and finish one a crash interrupted.

Every part of a post carries ``ref <nonce>`` in its last embed's footer (and the nonce is sent as
the message nonce too). After a crash between sending and recording, the claim is still
``claimed``: recovery reads the channel for the bot's messages carrying that ref, records what
was sent and sends only the parts that are missing — so a post is never doubled. Once a part
is out, nothing frees the period again: a record the store refuses is retried in the background
(:meth:`Poster.record_later`), and the next start-up finishes what is still unrecorded.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.core.embeds import EmbedSpec, paginate
from bot.core.periods import Period
from bot.services.recognition import Claim, RecognitionService
from bot.services.retry import RetryPolicy, retried

log = logging.getLogger(__name__)

#: How many of a channel's newest messages recovery reads for an interrupted post's parts.
RECOVERY_HISTORY_LIMIT = 200
#: Retrying the record of a post the store refused (after that, start-up recovery does).
RECORD_RETRY = RetryPolicy(attempts=8, first_wait=1.0, max_wait=300.0)
_REF = re.compile(r"ref ([0-9a-f]+)(?: · (\d+)/(\d+))?")


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes


@dataclass
class Draft:
    """What to post for one period, as plain embed specs."""

    kind: str
    period: Period
    embeds: Sequence[EmbedSpec]
    named: frozenset[int] = frozenset()
    content: str | None = None
    attachments: Sequence[Attachment] = field(default_factory=tuple)


class PostFailed(Exception):
    """Discord refused the post; ``fix`` says what a moderator should change."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class PostUnrecorded(Exception):
    """Every part is in the channel, but the store refused the record: the claim must stay."""

    def __init__(self, message: discord.Message, error: Exception) -> None:
        super().__init__(f"posted, but the record failed: {error}")
        self.message = message
        self.error = error

    @property
    def reason(self) -> str:
        """The store's own words, without SQL (a driver error wrapped by SQLAlchemy: its cause)."""
        cause = getattr(self.error, "orig", None) or self.error
        text = str(cause).splitlines()[0][:200] if str(cause) else ""
        return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def to_embed(spec: EmbedSpec) -> discord.Embed:
    embed = discord.Embed(
        title=spec.title or None,
        description=spec.description or None,
        url=spec.url,
        color=spec.color,
    )
    for item in spec.fields:
        embed.add_field(name=item.name, value=item.value, inline=item.inline)
    if spec.footer:
        embed.set_footer(text=spec.footer)
    if spec.image_url:
        embed.set_image(url=spec.image_url)
    return embed


def mentions_for(named: frozenset[int]) -> discord.AllowedMentions:
    """Only the members a post names can be pinged: never @everyone, @here or a role."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        users=[discord.Object(user_id) for user_id in sorted(named)],
        replied_user=False,
    )


def footer_text(period: Period, claim: Claim, part: int, parts: int) -> str:
    late = " · posted late (the bot was offline when it was due)" if claim.delayed else ""
    number = f" · {part}/{parts}" if parts > 1 else ""
    return f"{period.label}{late} · ref {claim.nonce}{number}"


def parts_of(draft: Draft, claim: Claim) -> list[list[EmbedSpec]]:
    return paginate(list(draft.embeds), footer=lambda i, n: footer_text(draft.period, claim, i, n))


def ref_in(message: discord.Message) -> tuple[str, int] | None:
    """(nonce, part) from a message's footer ref, or None."""
    for embed in message.embeds:
        match = _REF.search(embed.footer.text or "")
        if match is not None:
            return match.group(1), int(match.group(2) or 1)
    return None


class Poster:
    """Sends drafts for claims and records them; the caller chooses what and when."""

    def __init__(self, bot: Any, service: RecognitionService) -> None:
        self.bot = bot
        self.service = service
        #: ``(kind, period)`` -> the first part, for posts that are out but not yet recorded.
        self.unrecorded: dict[tuple[str, str], discord.Message] = {}
        self.record_retry = RECORD_RETRY

    async def channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException as exc:
                raise PostFailed(
                    f"channel {channel_id} can't be found ({exc.status})",
                    "check the channel id in the config, and that I can see that channel",
                ) from exc
        if not isinstance(channel, discord.abc.Messageable):
            raise PostFailed(
                f"channel {channel_id} is not a text channel",
                "point the config at a text or announcement channel",
            )
        return channel

    async def sent_parts(
        self, channel: discord.abc.Messageable, claim: Claim
    ) -> dict[int, discord.Message]:
        """Parts of ``claim``'s post already in the channel (recovery after a crash)."""
        found: dict[int, discord.Message] = {}
        # The newest messages, not "after the claim": the claim's time comes from the injected
        # clock, and the ref is what identifies the post.
        async for message in channel.history(limit=RECOVERY_HISTORY_LIMIT):
            if self.bot.user is None or message.author.id != self.bot.user.id:
                continue
            ref = ref_in(message)
            if ref is not None and ref[0] == claim.nonce:
                found.setdefault(ref[1], message)
        return found

    async def publish(
        self, draft: Draft, claim: Claim, channel_id: int, *, recovering: bool = False
    ) -> discord.Message:
        """Send every part not yet in the channel, then record the post. Returns the first part.

        Raises :class:`PostFailed` (and frees the period) when Discord refuses the first part;
        once anything is posted the claim stays, and recovery completes it. Raises
        :class:`PostUnrecorded` when everything is out but the store refused the record.
        """
        try:
            channel = await self.channel(channel_id)
        except PostFailed as failed:
            await self.service.release(claim, note=f"failed: {failed}")
            raise
        parts = parts_of(draft, claim)
        existing = await self.sent_parts(channel, claim) if recovering else {}
        first: discord.Message | None = existing.get(1)
        for number, specs in enumerate(parts, start=1):
            if number in existing:
                continue
            files = (
                [discord.File(io.BytesIO(a.data), filename=a.filename) for a in draft.attachments]
                if number == 1
                else []
            )
            try:
                message = await channel.send(
                    content=draft.content if number == 1 else None,
                    embeds=[to_embed(spec) for spec in specs],
                    files=files,
                    allowed_mentions=mentions_for(draft.named),
                    nonce=claim.nonce if number == 1 else f"{claim.nonce}{number:02d}",
                )
            except Exception as exc:
                # Discord's refusal of the first part means nothing is out: free the period.
                # Anything else (a dropped connection) may have been delivered: keep the claim,
                # and recovery looks for the nonce before sending again.
                if first is None and isinstance(exc, discord.HTTPException):
                    await self.service.release(claim, note=f"failed: {exc}")
                    raise PostFailed(str(exc), _fix_for(exc)) from exc
                log.error(
                    "posting: part %d/%d of %s %s failed (%s); the next start-up finishes it",
                    number,
                    len(parts),
                    claim.kind,
                    claim.period,
                    exc,
                )
                fix = _fix_for(exc) if isinstance(exc, discord.HTTPException) else RESTART_FIX
                raise PostFailed(str(exc), fix) from exc
            if first is None:
                first = message
        assert first is not None
        try:
            await self.service.mark_posted(claim, channel_id=first.channel.id, message_id=first.id)
        except Exception as exc:
            self.unrecorded[(claim.kind, claim.period)] = first
            raise PostUnrecorded(first, exc) from exc
        return first

    async def record_later(
        self,
        claim: Claim,
        message: discord.Message,
        then: Callable[[discord.Message], Awaitable[None]],
    ) -> bool:
        """Retry the record of a post that is out; run ``then`` once it is through."""

        async def record() -> None:
            await self.service.mark_posted(
                claim, channel_id=message.channel.id, message_id=message.id
            )

        what = f"recording the {claim.kind} post for {claim.period}"
        try:
            await retried(record, what=what, policy=self.record_retry)
        except Exception:
            log.exception(
                "posting: %s %s is posted but still unrecorded; the next start-up records it",
                claim.kind,
                claim.period,
            )
            return False
        self.unrecorded.pop((claim.kind, claim.period), None)
        log.info("posting: recorded %s %s after a retry", claim.kind, claim.period)
        await then(message)
        return True


RESTART_FIX = "restart the bot: its start-up finishes the post without repeating a part"


def _fix_for(exc: discord.HTTPException) -> str:
    if isinstance(exc, discord.Forbidden):
        return (
            "give me View Channel, Send Messages, Embed Links and Attach Files in that channel, "
            "then use the send command to post it"
        )
    if isinstance(exc, discord.NotFound):
        return "the channel is gone: set an existing channel in the config"
    return "Discord had a problem; use the send command to try again"
