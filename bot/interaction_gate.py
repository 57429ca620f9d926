"""Every interaction passes one gate before any handler runs: replays are dropped, and every
handler is answered in time however slow the store is.

Discord refuses an interaction's first response after 3 seconds (10062) and may deliver the
same INTERACTION_CREATE twice (a resumed gateway session replays what it thinks was missed).
Both are rules about interactions, not about one command, so they live here once, where
discord.py turns the gateway event into an :class:`discord.Interaction` and routes it to the
command tree, a view, a dynamic item, a modal and the ``on_interaction`` listeners:

* **Replays** (:class:`Replays`): an interaction id seen before is ignored (no handler runs,
  nothing is answered). The ids are kept in memory for an interaction token's lifetime
  (15 minutes), bounded. That suffices: a replay comes from a RESUME, which continues a
  session inside the same process; a restarted process IDENTIFYs anew and Discord replays
  nothing to it. Replays that could still reach a restarted bot (a test re-dispatching an old
  payload) meet the ledger's own idempotency (thanks, accepted answers, contributions).
* **The 3-second window** (:class:`TimelyResponse`): if a handler has not answered after
  :data:`ACK_AFTER` seconds, the gate defers for it — a command "thinking" (privately, or
  publicly for a command marked :data:`PUBLIC_ANSWER`), a click or a form submission as a
  silent update. The handler does not need to know: its ``interaction.response`` still looks
  unanswered, and its first answer becomes the follow-up (or the edit of the clicked message)
  that completes the deferral, with the visibility it asked for. A modal cannot follow a
  deferral: a handler that opens one must do so before any store work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import discord
from discord.interactions import InteractionResponse

log = logging.getLogger(__name__)

#: Seconds a handler has before the gate acknowledges for it: half of Discord's window is
#: left for the gateway's delivery and the deferral's own round trip.
ACK_AFTER = 1.5
#: An interaction token lives 15 minutes; a replay later than that cannot be answered anyway.
REMEMBER_SECONDS = 15 * 60
#: More interactions than a community makes in 15 minutes.
REMEMBER_AT_MOST = 10_000
#: ``extras`` of an app command whose answer is public (``/thanks``): deferred publicly.
PUBLIC_ANSWER = {"deferral": "public"}
#: ``extras`` of an app command whose first answer is a form (``/feedback submit``): a form
#: cannot follow a deferral, so nothing may hold the handler back (see ``opens_form``).
OPENS_FORM = {"deferral": "impossible"}

#: How long a handler about to open a form may wait for the store (the form must still be
#: the first answer within Discord's window).
BEFORE_FORM = 1.0

APPLICATION_COMMAND, COMPONENT, MODAL_SUBMIT = 2, 3, 5

T = TypeVar("T")

Spawn = Callable[[Coroutine[Any, Any, None]], None]


class Replays:
    """Interaction ids of the last :data:`REMEMBER_SECONDS`, at most :data:`REMEMBER_AT_MOST`."""

    def __init__(
        self,
        *,
        keep: float = REMEMBER_SECONDS,
        limit: int = REMEMBER_AT_MOST,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keep, self.limit, self.now = keep, limit, now
        self._seen: OrderedDict[int, float] = OrderedDict()

    def seen_before(self, interaction_id: int) -> bool:
        """True if ``interaction_id`` came before; remembers it otherwise."""
        now = self.now()
        while self._seen and (
            len(self._seen) >= self.limit or next(iter(self._seen.values())) < now - self.keep
        ):
            self._seen.popitem(last=False)
        if interaction_id in self._seen:
            return True
        self._seen[interaction_id] = now
        return False


class TimelyResponse(InteractionResponse[Any]):
    """``interaction.response`` that the gate can defer behind the handler's back.

    Until the handler answers, it looks unanswered (``is_done()`` is False); the handler's
    first answer then completes the gate's deferral instead of failing with 40060. All answers
    go through one lock, so the gate's deferral and the handler's answer never cross.
    """

    def __init__(self, parent: discord.Interaction[Any], *, public: bool) -> None:
        super().__init__(parent)
        self.public = public
        self._lock = asyncio.Lock()
        #: The gate deferred; the handler has not answered since.
        self._covering = False
        #: The gate deferred with "thinking" (a loading message whose visibility is fixed).
        self._thinking_ephemeral: bool | None = None

    def is_done(self) -> bool:
        return super().is_done() and not self._covering

    async def acknowledge(self) -> bool:
        """Defer if nothing has answered yet (the gate's part); True if this deferred."""
        async with self._lock:
            if super().is_done():
                return False
            parent = self._parent
            if parent.type is discord.InteractionType.application_command or (
                parent.type is discord.InteractionType.modal_submit and parent.message is None
            ):
                ephemeral = not self.public
                await super().defer(ephemeral=ephemeral, thinking=True)
                self._thinking_ephemeral = ephemeral
            else:
                await super().defer()  # a click or a card's form: the message updates later
            self._covering = True
            return True

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        async with self._lock:
            if not self._covering:
                await super().defer(ephemeral=ephemeral, thinking=thinking)
                return
            self._covering = False
            wants_ephemeral = ephemeral and (
                thinking or self._parent.type is discord.InteractionType.application_command
            )
            if self._thinking_ephemeral is not None and wants_ephemeral != self._thinking_ephemeral:
                # The loading message shows the wrong visibility: the next follow-up is a new
                # message with the visibility it asks for.
                await self._parent.delete_original_response()
                self._thinking_ephemeral = None

    async def send_message(self, content: Any = None, **message: Any) -> Any:
        async with self._lock:
            if not self._covering:
                return await super().send_message(content, **message)
            self._covering = False
            ephemeral = bool(message.get("ephemeral", False))
            if self._thinking_ephemeral is not None and ephemeral != self._thinking_ephemeral:
                await self._parent.delete_original_response()
            delete_after = message.pop("delete_after", None)
            sent = await self._parent.followup.send(
                content if content is not None else discord.utils.MISSING, wait=True, **message
            )
            if delete_after is not None:
                await sent.delete(delay=delete_after)
            return None

    async def edit_message(self, **fields: Any) -> Any:
        async with self._lock:
            if not self._covering:
                return await super().edit_message(**fields)
            self._covering = False
            fields.pop("delete_after", None)
            fields.pop("suppress_embeds", None)
            await self._parent.edit_original_response(**fields)
            return None

    async def send_modal(self, modal: discord.ui.Modal, /) -> Any:
        async with self._lock:
            if self._covering:
                log.error(
                    "interaction %s: a form can only be the first answer, and this handler took "
                    "longer than %ss to open it (store work before send_modal?)",
                    self._parent.id,
                    ACK_AFTER,
                )
                raise discord.InteractionResponded(self._parent)
            return await super().send_modal(modal)


async def if_quick(work: Awaitable[T], *, within: float = BEFORE_FORM) -> T | None:
    """``work``'s result if it comes ``within`` seconds, else None: what a handler that opens a
    form may learn first (a refusal, a prefill) without missing Discord's window.

    A late ``work`` is left to finish (a store call is not cancelled midway); its outcome is
    dropped, so the form's submission must check again.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=within)
    if done:
        return task.result()
    task.add_done_callback(_drop_outcome)
    log.info("the store took longer than %ss before a form; it opens without waiting", within)
    return None


def _drop_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a look-up before a form failed late: %r", task.exception())


class InteractionGate:
    """Installed on the bot's connection in place of discord.py's INTERACTION_CREATE parser."""

    def __init__(
        self,
        spawn: Spawn,
        *,
        ack_after: float = ACK_AFTER,
        on_late: Callable[[], object] | None = None,
    ) -> None:
        self.spawn = spawn
        self.ack_after = ack_after
        #: Called for each interaction the gate deferred for (``interactions answered late``).
        self.on_late = on_late
        self.replays = Replays()

    def install(self, client: discord.Client) -> None:
        # discord.py routes an interaction in ConnectionState.parse_interaction_create; the
        # gate does the same routing (tests/test_interaction_gate.py checks it still matches)
        # with the replay check and the timely response in front.
        state = client._connection
        state.parsers["INTERACTION_CREATE"] = lambda data: self.parse(state, data)

    def parse(self, state: Any, data: dict[str, Any]) -> None:
        interaction_id = int(data["id"])
        if self.replays.seen_before(interaction_id):
            log.info(
                "interaction %s was delivered again (a gateway replay): ignored", interaction_id
            )
            return
        interaction: discord.Interaction[Any] = discord.Interaction(data=data, state=state)  # type: ignore[arg-type]
        kind = data["type"]
        timely = kind in (APPLICATION_COMMAND, COMPONENT, MODAL_SUBMIT)
        if timely:
            response = TimelyResponse(interaction, public=_answers_publicly(state, data))
            interaction._cs_response = response  # type: ignore[attr-defined]
        before = asyncio.all_tasks()
        _route(state, interaction, data)
        handlers = asyncio.all_tasks() - before
        if timely and handlers:
            self.spawn(self._answer_in_time(response, handlers))

    async def _answer_in_time(
        self, response: TimelyResponse, handlers: set[asyncio.Task[Any]]
    ) -> None:
        _, running = await asyncio.wait(handlers, timeout=self.ack_after)
        if not running:
            return
        try:
            if await response.acknowledge():
                if self.on_late is not None:
                    self.on_late()
                log.info(
                    "interaction %s: not answered within %ss, deferred",
                    response._parent.id,
                    self.ack_after,
                )
        except discord.HTTPException as exc:
            log.warning("could not defer interaction %s: %s", response._parent.id, exc)


def _route(state: Any, interaction: discord.Interaction[Any], data: dict[str, Any]) -> None:
    """discord.py's own routing of an interaction (``ConnectionState.parse_interaction_create``)."""
    if data["type"] in (2, 4) and state._command_tree:
        state._command_tree._from_interaction(interaction)
    elif data["type"] == 3:
        inner = data["data"]
        state._view_store.dispatch_view(inner["component_type"], inner["custom_id"], interaction)
    elif data["type"] == 5:
        inner = data["data"]
        state._view_store.dispatch_modal(
            inner["custom_id"], interaction, inner["components"], inner.get("resolved", {})
        )
    state.dispatch("interaction", interaction)


def opens_form(command: Any) -> bool:
    """True for an app command marked :data:`OPENS_FORM`."""
    return _deferral(command) == OPENS_FORM["deferral"]


def _deferral(command: Any) -> object:
    extras = getattr(command, "extras", None) or {}
    return extras.get("deferral")


def _answers_publicly(state: Any, data: dict[str, Any]) -> bool:
    """True for an app command marked :data:`PUBLIC_ANSWER` (looked up by its root name)."""
    tree = state._command_tree
    if tree is None or data["type"] != APPLICATION_COMMAND:
        return False
    inner = data.get("data") or {}
    guild = discord.Object(int(data["guild_id"])) if data.get("guild_id") else None
    kind = discord.AppCommandType(int(inner.get("type", 1)))
    command = tree.get_command(inner.get("name", ""), guild=guild, type=kind)
    if command is None and guild is not None:
        command = tree.get_command(inner.get("name", ""), type=kind)
    return _deferral(command) == PUBLIC_ANSWER["deferral"]
