"""Discord JSON error bodies.

Handlers raise :class:`ApiError`; the REST layer turns it into the exact
``{"code": ..., "message": ...}`` body discord.py parses into ``HTTPException``.
"""

from __future__ import annotations

from typing import Any

# code -> (http status, message) as Discord words them.
KNOWN: dict[int, tuple[int, str]] = {
    0: (400, "400: Bad Request"),
    10003: (404, "Unknown Channel"),
    10004: (404, "Unknown Guild"),
    10006: (404, "Unknown Invite"),
    10007: (404, "Unknown Member"),
    10008: (404, "Unknown Message"),
    10011: (404, "Unknown Role"),
    10013: (404, "Unknown User"),
    10014: (404, "Unknown Emoji"),
    10015: (404, "Unknown Webhook"),
    10062: (404, "Unknown interaction"),
    10063: (404, "Unknown application command"),
    10070: (404, "Unknown Guild Scheduled Event"),
    10071: (404, "Unknown Guild Scheduled Event User"),
    40001: (401, "Unauthorized"),
    40060: (400, "Interaction has already been acknowledged."),
    50001: (403, "Missing Access"),
    50003: (403, "Cannot execute action on a DM channel"),
    50005: (403, "Cannot edit a message authored by another user"),
    50006: (400, "Cannot send an empty message"),
    50007: (403, "Cannot send messages to this user"),
    50008: (400, "Cannot send messages in a non-text channel"),
    50013: (403, "Missing Permissions"),
    50016: (
        400,
        "Provided too few or too many messages to delete. "
        "Must provide at least 2 and fewer than 100 messages to delete.",
    ),
    50021: (400, "Cannot execute action on a system message"),
    50024: (400, "Cannot execute action on this channel type"),
    50027: (401, "Invalid Webhook Token"),
    50028: (400, "Invalid Role"),
    50034: (400, "You can only bulk delete messages that are under 14 days old."),
    50035: (400, "Invalid Form Body"),
    50083: (400, "Thread is archived"),
    160004: (400, "A thread has already been created for this message"),
}


class ApiError(Exception):
    """An error response with Discord's body shape."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        status: int | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        default_status, default_message = KNOWN.get(code, (400, "Bad Request"))
        self.code = code
        self.status = status or default_status
        self.message = message or default_message
        self.errors = errors
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def field_error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def form_error(errors: dict[str, Any]) -> ApiError:
    """50035 Invalid Form Body with the nested ``errors`` tree."""
    return ApiError(50035, errors=errors)


def not_found_route() -> ApiError:
    return ApiError(0, "404: Not Found", status=404)


def unauthorized() -> ApiError:
    return ApiError(0, "401: Unauthorized", status=401)


def method_not_allowed() -> ApiError:
    return ApiError(0, "405: Method Not Allowed", status=405)


class EmulatorError(RuntimeError):
    """Raised to the *test* when an actor call is impossible (e.g. unknown command)."""
