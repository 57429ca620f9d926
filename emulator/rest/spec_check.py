"""The REST layer's hook into :mod:`emulator.spec`: requests refused, violations recorded.

Kept apart from :mod:`emulator.rest.router` so the router only calls two functions.
A request off the spec is answered like Discord (400 ``50035 Invalid Form Body``) *and*
recorded in ``emu.spec_violations``, so a caller that swallows the error still fails the
test that checks the list. Responses are checked only when ``emu.check_responses`` is on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from multidict import MultiMapping

from ..errors import form_error
from ..spec import load

if TYPE_CHECKING:
    from ..server import Emulator

log = logging.getLogger("emulator.spec")


@dataclass(frozen=True)
class SpecViolation:
    """One request or response that the spec (or a Discord limit) refuses."""

    kind: str  # "request" | "response"
    method: str
    path: str
    operation: str
    errors: dict[str, Any]
    body: Any = None
    status: int | None = None

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        return f"{self.kind} {self.method} {self.path} ({self.operation}){status}: {self.errors}"


def check_request(
    emu: Emulator, method: str, template: str, path: str, body: Any, query: MultiMapping[str]
) -> None:
    """Raise Discord's 50035 if the request is off the spec (routes the spec lacks pass)."""
    if not emu.validate_requests:
        return
    op = load().operation(method, template)
    if op is None:
        return
    params = {name: query.getall(name) for name in query}
    errors = load().request_errors(op, body, params)
    if errors:
        violation = SpecViolation("request", method, path, op.operation_id, errors, body)
        emu.spec_violations.append(violation)
        log.warning("emulator: off-spec %s", violation)
        raise form_error(errors)


def check_response(
    emu: Emulator, method: str, template: str | None, path: str, status: int, body: Any
) -> None:
    """Record a response the spec does not describe (when ``emu.check_responses``)."""
    if not emu.check_responses or template is None or (status >= 400 and status != 429):
        return
    op = load().operation(method, template)
    if op is None:
        return
    errors = load().response_errors(op, status, body)
    if errors:
        violation = SpecViolation("response", method, path, op.operation_id, errors, body, status)
        emu.spec_violations.append(violation)
        log.warning("emulator: off-spec %s", violation)
