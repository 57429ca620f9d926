"""The web app over a real store (SQLite and PostgreSQL), served by aiohttp's test server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings, parse_config
from bot.services.container import Services, build_services
from bot.web import create_app
from tests.helpers import minimal_config

GUILD = 111111111111111111
CHAMPION_ROLE, MENTOR_ROLE = 666666666666666666, 777777777777777777
FORUM, PRODUCT_ROLE = 555555555555555555, 888888888888888888


def web_settings(**sections: Any) -> Settings:
    data = minimal_config(
        guild_id=GUILD,
        tiers=[
            {
                "key": "champion",
                "name": "Champion",
                "role_id": CHAMPION_ROLE,
                "min_points": 50,
                "min_counts": {"answer": 3},
                "benefits": "Early access to releases",
                "commitment": "Help in the forums a few times a month",
                "resources": ["https://example.org/champions"],
            },
            {
                "key": "mentor",
                "name": "Mentor",
                "role_id": MENTOR_ROLE,
                "min_points": 200,
                "nomination_required": True,
                "seats": 2,
            },
        ],
        kinds=[
            {
                "key": "talk",
                "label": "Talks given",
                "noun": "talk",
                "plural": "talks",
                "points": 15,
                "credited": "review",
            }
        ],
        feedback={"forum_channel": FORUM, "product_role": PRODUCT_ROLE, "areas": ["API", "Docs"]},
        **sections,
    )
    return parse_config(data, env={"DISCORD_TOKEN": "x"}).settings


@pytest.fixture
def settings() -> Settings:
    return web_settings()


@pytest.fixture
def services(settings, clock, sessions) -> Services:
    return build_services(settings, clock, sessions)


ClientFor = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    """Serve ``create_app(services, **options)`` on a free port; closed at teardown."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(services: Services, **options: Any) -> TestClient[web.Request, web.Application]:
        client = TestClient(TestServer(create_app(services, **options), port=0))
        await client.start_server()
        clients.append(client)
        return client

    try:
        yield start
    finally:
        for client in clients:
            await client.close()


@pytest.fixture
async def client(client_for, services) -> TestClient[web.Request, web.Application]:
    return await client_for(services)
