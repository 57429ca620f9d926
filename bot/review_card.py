"""Review cards: the one approve/reject flow for everything moderators decide on a card.

Content submissions and nominations are decided on a card in the review channel: Approve and
Reject buttons, and a form asking why on Reject. The custom ids carry the kind and the record id
(``content:approve:12``, ``nomination:reject-reason:7``), so a card — and a form opened before a
restart — keeps working after one. Only moderators decide: the button checks before anything
runs, and the form (which anyone could forge) checks again.

The flow lives here once (:class:`ReviewDesk`, carried by the bot as ``bot.reviews``); a kind
brings only what differs, as a :class:`ReviewKind` its cog registers at load: its service calls,
how its card looks and whom the decision is told.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import discord
from discord.ext import commands

from bot.checks import MODERATORS_ONLY, is_moderator
from bot.config import Settings
from bot.core.text import day_label
from bot.interaction_gate import if_quick
from bot.outbox import NO_MENTIONS, Outbox, member_name
from bot.routing import community_of
from bot.tree import follow_up, handled

if TYPE_CHECKING:
    from bot.community import Community

log = logging.getLogger(__name__)

D = TypeVar("D")

REASON_INPUT = "reason"
_REASON_FORM = re.compile(r"(?P<kind>[a-z]+):reject-reason:(?P<id>[0-9]+)")


@dataclass(frozen=True)
class CardState:
    """What the flow needs to know of a record, whatever its kind."""

    record_id: int
    status: str
    #: False when someone had decided before this click (``decided_by`` says who).
    decided_now: bool
    decided_by: int | None
    decided_at: datetime | None
    #: Where the card is, once posted.
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True)
class Notice:
    """The DM a decision sends; ``unreachable`` (if any) is noted on the card when it fails."""

    user_id: int
    text: str
    unreachable: str | None = None


class ReviewKind(Protocol[D]):
    """One kind of review card; ``D`` is its service's decision type."""

    #: The custom ids' prefix ("content").
    key: str
    #: What a card is about, in messages ("submission": "Reject submission #12").
    noun: str
    #: The rejection form's field, saying who reads the reason.
    reason_label: str
    reason_min: int
    reason_max: int
    #: Approving does more than store the decision (roles, announcements): the flow checks,
    #: acknowledges the click, then approves.
    approval_is_slow: bool

    async def check(self, record_id: int, moderator_id: int) -> D:
        """Where the record stands; raises UserFacingError if this moderator may not decide."""
        ...

    async def approve(self, record_id: int, moderator_id: int) -> D: ...

    async def reject(self, record_id: int, moderator_id: int, reason: str) -> D: ...

    async def waiting(self) -> list[D]:
        """Pending records whose card could not be posted yet."""
        ...

    async def current(self, record_id: int) -> D | None:
        """The record as decided (by another process, the web), for its card; None if gone."""
        ...

    async def card_posted(self, record_id: int, channel_id: int, message_id: int) -> None: ...

    def state(self, decision: D) -> CardState: ...

    def card(self, guild: discord.Guild | None, decision: D, *, note: str = "") -> dict[str, Any]:
        """The card's message fields (content, embed, view, allowed_mentions) as it stands."""
        ...

    def notice(self, guild: discord.Guild | None, decision: D, moderator_id: int) -> Notice | None:
        """Whom a decision is told by DM, if anyone."""
        ...


class ReviewDesk:
    """The review kinds of one bot, by key, and the one flow that decides their cards."""

    def __init__(self, settings: Settings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox
        self._kinds: dict[str, ReviewKind[Any]] = {}
        #: Cards this process has sent or is sending, by (kind, record): claimed before the
        #: send, so the ready catch-up (which read a record before its card was recorded) and
        #: the command that just created it never both post it.
        self._claimed: set[tuple[str, int]] = set()

    def install(self, bot: commands.Bot | Community) -> None:
        """Route every card's buttons and forms here (once, before the cogs load)."""
        bot.add_dynamic_items(ReviewButton)
        bot.add_listener(self.on_interaction)
        bot.add_listener(self.on_flywheel_ready)

    def register(self, kind: ReviewKind[Any]) -> None:
        self._kinds[kind.key] = kind

    def unregister(self, key: str) -> None:
        self._kinds.pop(key, None)

    def kind(self, key: str) -> ReviewKind[Any]:
        try:
            return self._kinds[key]
        except KeyError:
            raise LookupError(
                f"no review kind {key!r} is registered (is its cog loaded?)"
            ) from None

    # ------------------------------------------------------------------ posting
    async def post_card(
        self, guild: discord.Guild | None, kind: ReviewKind[D], decision: D
    ) -> bool:
        """Post a pending record's card in ``channels.review``; False (logged) if it can't be."""
        state = kind.state(decision)
        channel_id = self.settings.channels.review
        channel = guild.get_channel(channel_id) if guild is not None else None
        if not isinstance(channel, discord.TextChannel):
            log.error(
                "channels.review (%s) is not a text channel the bot can see; %s #%s is waiting "
                "without a review card",
                channel_id,
                kind.noun,
                state.record_id,
            )
            return False
        claim = (kind.key, state.record_id)
        if claim in self._claimed:
            return True  # sent, or being sent, by this process
        self._claimed.add(claim)
        try:
            message = await channel.send(**kind.card(guild, decision))
        except discord.HTTPException as exc:
            self._claimed.discard(claim)  # not sent: the next try (or start) posts it
            log.error(
                "could not post the review card of %s #%s in channels.review (#%s, %s): %s. Give "
                "the bot View Channel, Send Messages and Embed Links there; waiting cards are "
                "posted at the next start",
                kind.noun,
                state.record_id,
                channel.name,
                channel_id,
                exc,
            )
            return False
        except BaseException:
            self._claimed.discard(claim)  # cancelled or failed before it was sent
            raise
        await kind.card_posted(state.record_id, channel.id, message.id)
        return True

    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        """Post the cards that could not be posted before (e.g. the permission is fixed now)."""
        for kind in list(self._kinds.values()):
            for decision in await kind.waiting():
                if not await self.post_card(guild, kind, decision):
                    break

    # ------------------------------------------------------------------ deciding
    async def approve(
        self, interaction: discord.Interaction[Any], key: str, record_id: int
    ) -> None:
        async with handled(interaction, f"approving {key} #{record_id}"):
            kind = self.kind(key)
            user_id = interaction.user.id
            if kind.approval_is_slow:
                if not await self._undecided(
                    interaction, kind, await kind.check(record_id, user_id)
                ):
                    return
                await interaction.response.defer()
            decision = await kind.approve(record_id, user_id)
            if await self._undecided(interaction, kind, decision):
                await self._decided(interaction, kind, decision)

    async def open_rejection_form(
        self, interaction: discord.Interaction[Any], key: str, record_id: int
    ) -> None:
        async with handled(interaction, f"opening the rejection form for {key} #{record_id}"):
            kind = self.kind(key)
            # A form can only be the first answer, within Discord's 3 seconds: a slow store
            # does not hold it back (the submission checks again).
            checked = await if_quick(kind.check(record_id, interaction.user.id))
            if checked is not None and not await self._undecided(interaction, kind, checked):
                return
            form = reason_form(
                kind.key,
                record_id,
                title=f"Reject {kind.noun} #{record_id}",
                label=kind.reason_label,
                min_length=kind.reason_min,
                max_length=kind.reason_max,
            )
            await interaction.response.send_modal(form)
            # The submission is handled from its custom id (on_interaction), which also works
            # for a form opened before a restart; nothing needs to wait in memory for it.
            form.stop()

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """A rejection form's submission, of any kind (a modal has no DynamicItem)."""
        submitted = rejection_reason(interaction)
        if submitted is None:
            return
        key, record_id, reason = submitted
        async with handled(interaction, f"rejecting {key} #{record_id}"):
            kind = self.kind(key)
            if not is_moderator(interaction.user, self.settings):
                await refuse(interaction, MODERATORS_ONLY)
                return
            decision = await kind.reject(record_id, interaction.user.id, reason)
            if await self._undecided(interaction, kind, decision):
                await self._decided(interaction, kind, decision)

    async def decide_off_discord(
        self, key: str, record_id: int, moderator_id: int, *, approve: bool, reason: str = ""
    ) -> CardState:
        """A decision made elsewhere (the web dashboard), with what a click does after it.

        The same service call as the card's buttons; then, if this decided it, the card shows
        the decision and whom it concerns is told by DM, as for a click. The caller checks
        that ``moderator_id`` is a moderator; the service refuses a record already decided.
        """
        kind = self.kind(key)
        if approve:
            decision = await kind.approve(record_id, moderator_id)
        else:
            decision = await kind.reject(record_id, moderator_id, reason)
        state = kind.state(decision)
        if state.decided_now:
            await self._show(kind, decision, moderator_id)
        return state

    async def show_decided_elsewhere(self, key: str, record_id: int, moderator_id: int) -> Any:
        """A decision another process stored (a standalone web): the card shows it and whom
        it concerns is told, as after a click. The decision (None if the record is gone)."""
        kind = self.kind(key)
        decision = await kind.current(record_id)
        if decision is not None and kind.state(decision).status != "pending":
            await self._show(kind, decision, moderator_id)
        return decision

    async def _show(self, kind: ReviewKind[D], decision: D, moderator_id: int) -> None:
        state = kind.state(decision)
        guild = self.outbox.bot.get_guild(self.settings.discord.guild_id)
        await self._edit_card(kind, state, kind.card(guild, decision))
        notice = kind.notice(guild, decision, moderator_id)
        if notice is None or await self.outbox.dm(notice.user_id, notice.text):
            return
        if notice.unreachable is not None:
            await self._edit_card(kind, state, kind.card(guild, decision, note=notice.unreachable))

    async def _undecided(
        self, interaction: discord.Interaction[Any], kind: ReviewKind[D], decision: D
    ) -> bool:
        """True if this click decides the record; else the moderator is told who did, when."""
        state = kind.state(decision)
        if state.decided_now:
            return True
        when = (
            day_label(state.decided_at, self.settings.schedule.tz)
            if state.decided_at
            else "earlier"
        )
        by = member_name(interaction.guild, state.decided_by)
        await refuse(interaction, f"Already {state.status} by {by} on {when}.")
        return False

    async def _decided(
        self, interaction: discord.Interaction[Any], kind: ReviewKind[D], decision: D
    ) -> None:
        """Show the decision on the card, then DM whom it concerns (noted on the card if not)."""
        state = kind.state(decision)
        card = kind.card(interaction.guild, decision)
        if interaction.message is not None and not interaction.response.is_done():
            await interaction.response.edit_message(**card)
        elif interaction.message is not None:
            await interaction.edit_original_response(**card)
        else:
            await refuse(
                interaction, f"{kind.noun.capitalize()} #{state.record_id} is {state.status}."
            )
            await self._edit_card(kind, state, card)
        notice = kind.notice(interaction.guild, decision, interaction.user.id)
        if notice is None or await self.outbox.dm(notice.user_id, notice.text):
            return
        if notice.unreachable is not None:
            noted = kind.card(interaction.guild, decision, note=notice.unreachable)
            await self._edit_card(kind, state, noted)

    async def _edit_card(
        self, kind: ReviewKind[Any], state: CardState, card: dict[str, Any]
    ) -> None:
        if state.channel_id is None or state.message_id is None:
            return
        channel = self.outbox.bot.get_channel(state.channel_id)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await channel.get_partial_message(state.message_id).edit(**card)
        except discord.HTTPException as exc:
            log.warning("could not update the card of %s #%s: %s", kind.noun, state.record_id, exc)


async def refuse(interaction: discord.Interaction[Any], text: str) -> None:
    """Answer privately, whether or not the click was already acknowledged."""
    if interaction.response.is_done():
        await follow_up(interaction, text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _desk(interaction: discord.Interaction[Any]) -> ReviewDesk:
    return community_of(interaction).reviews


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"(?P<kind>[a-z]+):(?P<action>approve|reject):(?P<id>[0-9]+)",
):
    def __init__(self, kind: str, action: str, record_id: int) -> None:
        approve = action == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Reject",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"{kind}:{action}:{record_id}",
            )
        )
        self.kind, self.action, self.record_id = kind, action, record_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReviewButton:
        return cls(match["kind"], match["action"], int(match["id"]))

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Moderators only, checked on the server: anyone in the channel sees the buttons."""
        if is_moderator(interaction.user, _desk(interaction).settings):
            return True
        async with handled(interaction, f"refusing a {self.kind} review click"):
            await refuse(interaction, MODERATORS_ONLY)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        desk = _desk(interaction)
        if self.action == "approve":
            await desk.approve(interaction, self.kind, self.record_id)
        else:
            await desk.open_rejection_form(interaction, self.kind, self.record_id)


def review_buttons(kind: str, record_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton(kind, "approve", record_id))
    view.add_item(ReviewButton(kind, "reject", record_id))
    return view


def reason_form(
    kind: str, record_id: int, *, title: str, label: str, min_length: int, max_length: int
) -> discord.ui.Modal:
    """The rejection form; its submission is routed by custom id, not kept in memory."""
    modal = discord.ui.Modal(title=title, custom_id=f"{kind}:reject-reason:{record_id}")
    modal.add_item(
        discord.ui.TextInput(
            label=label,
            custom_id=REASON_INPUT,
            style=discord.TextStyle.paragraph,
            min_length=min_length,
            max_length=max_length,
        )
    )
    return modal


def rejection_reason(interaction: discord.Interaction[Any]) -> tuple[str, int, str] | None:
    """``(kind, record id, reason)`` if this interaction submits a rejection form."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    data: dict[str, Any] = dict(interaction.data or {})
    match = _REASON_FORM.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    reason = _submitted_value(list(data.get("components") or []), REASON_INPUT)
    return match["kind"], int(match["id"]), reason


def _submitted_value(components: list[dict[str, Any]], custom_id: str) -> str:
    """A text input's value from a modal submission (action rows or labels around it)."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return str(component.get("value") or "")
        children = list(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            children.append(component["component"])
        found = _submitted_value(children, custom_id)
        if found:
            return found
    return ""
