"""The emulated REST API (``/api/v10``), one module per resource family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import applications, channels, guilds, misc
from .router import RequestRecord, Rest

if TYPE_CHECKING:
    from ..server import Emulator


def build_rest(emu: Emulator) -> Rest:
    rest = Rest(emu)
    for module in (misc, channels, guilds, applications):
        module.register(rest.router)
    return rest


__all__ = ["RequestRecord", "Rest", "build_rest"]
