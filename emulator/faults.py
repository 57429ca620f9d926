"""Fault injection rules: scripted 429s and error responses for matching requests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class FaultRule:
    method: str  # "*" matches any
    pattern: re.Pattern[str]
    times: int
    kind: str  # "rate_limit" | "error"
    retry_after: float = 0.5
    global_: bool = False
    scope: str = "user"
    status: int = 500
    body: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        if self.method not in ("*", method.upper()):
            return False
        return bool(self.pattern.search(path) or self.pattern.search("/api/v10" + path))


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume one use of the first matching rule."""
        for rule in self.rules:
            if rule.matches(method, path):
                rule.times -= 1
                rule.hits += 1
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()
