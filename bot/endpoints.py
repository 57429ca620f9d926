"""Where discord.py connects: Discord itself, or a local emulator for tests and the demo.

discord.py reads its REST base from ``Route.BASE`` and, when not sharded, connects straight to
``DiscordWebSocket.DEFAULT_GATEWAY`` without asking ``/gateway``; both are class attributes, so
this sets them once per process before the client starts.
"""

from __future__ import annotations

import yarl
from discord import gateway, http

DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"


def point_at(api_base: str, gateway_url: str | None) -> None:
    http.Route.BASE = api_base.rstrip("/")
    gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url or DISCORD_GATEWAY)
