"""Review cards: Approve / Reject buttons that survive restarts, and the rejection form.

Content submissions and nominations are both decided by moderators on a card in the review
channel. The custom ids carry the kind and the record id (``content:approve:12``,
``nomination:reject-reason:7``), so a card — and a form opened before a restart — keeps working
after one. The cog that owns a kind sets ``review_kind`` and implements ``approve_clicked`` and
``reject_clicked``; the form's submission is parsed with :func:`rejection_reason`.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

REASON_INPUT = "reason"
_REASON_FORM = re.compile(r"(?P<kind>[a-z]+):reject-reason:(?P<id>[0-9]+)")


class ReviewHandler(Protocol):
    review_kind: str

    async def approve_clicked(
        self, interaction: discord.Interaction[Any], record_id: int
    ) -> None: ...

    async def reject_clicked(
        self, interaction: discord.Interaction[Any], record_id: int
    ) -> None: ...


def _handler(interaction: discord.Interaction[Any], kind: str) -> ReviewHandler:
    for cog in interaction.client.cogs.values():
        if getattr(cog, "review_kind", None) == kind:
            return cog  # type: ignore[no-any-return]
    raise LookupError(f"no cog handles {kind} review cards")


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

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = _handler(interaction, self.kind)
        if self.action == "approve":
            await handler.approve_clicked(interaction, self.record_id)
        else:
            await handler.reject_clicked(interaction, self.record_id)


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


def rejection_reason(interaction: discord.Interaction[Any], kind: str) -> tuple[int, str] | None:
    """``(record id, reason)`` if this interaction submits a ``kind`` rejection form."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    data: dict[str, Any] = dict(interaction.data or {})
    match = _REASON_FORM.fullmatch(str(data.get("custom_id", "")))
    if match is None or match["kind"] != kind:
        return None
    return int(match["id"]), _submitted_value(list(data.get("components") or []), REASON_INPUT)


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
