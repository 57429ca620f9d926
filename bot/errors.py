"""Errors whose message is safe to show to the member who caused them."""

from __future__ import annotations


class UserFacingError(Exception):
    """Raised by a command for a problem the user can fix; the text is shown to them as is.

    Keep the message specific ("that link is not http(s)") and free of internals: the global
    error handler sends it ephemerally without a reference id.
    """


class StartupError(Exception):
    """The bot cannot start in a useful state; the message says what to do."""
