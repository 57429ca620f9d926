"""Member text as services accept it: normalised (:mod:`bot.core.member_text`), then bounded.

Every title, reason and comment a member or moderator types goes through :func:`required`
or :func:`optional`, so an invisible title, a full-width duplicate or a reason made only of
zero-width spaces is refused (or dropped) the same way everywhere, with one wording.
"""

from __future__ import annotations

from bot.core.member_text import clean_line, clean_text
from bot.errors import UserFacingError


def required(raw: str, *, what: str, low: int, high: int, one_line: bool = False) -> str:
    """The cleaned text, or a UserFacingError saying how long it must be."""
    if one_line and ("\n" in raw.strip() or "\r" in raw.strip()):
        raise UserFacingError(f"The {what} must fit on one line.")
    text = clean_line(raw) if one_line else clean_text(raw)
    if not low <= len(text) <= high:
        # A title is short: saying how long it came out helps; a reason is simply too short.
        has = f" (it has {len(text)})" if one_line else ""
        raise UserFacingError(f"The {what} must be {low} to {high} characters long{has}.")
    return text


def optional(raw: str | None, *, what: str, high: int) -> str | None:
    """The cleaned text, None when nothing visible is left; too long is refused."""
    text = clean_text(raw) if raw is not None else ""
    if len(text) > high:
        raise UserFacingError(f"Keep the {what} under {high} characters.")
    return text or None
