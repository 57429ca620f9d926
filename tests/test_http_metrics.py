"""Discord's 429s and 5xx counted by route, with no id or token ever in a label."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.http_metrics import path_template, trace_config
from bot.metrics import Metrics

TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OmV4YW1wbGUtdG9rZW4tdGhhdC1pcy1sb25n"


def test_path_templates_hide_ids_and_tokens():
    assert path_template("/api/v10/channels/123456789012345678/messages") == (
        "/api/v10/channels/{}/messages"
    )
    assert path_template(f"/api/v10/interactions/1234/{TOKEN}/callback") == (
        "/api/v10/interactions/{}/{}/callback"
    )
    assert path_template(f"/api/v10/webhooks/99/{TOKEN}/messages/@original") == (
        "/api/v10/webhooks/{}/{}/messages/@original"
    )


async def test_the_trace_counts_429_and_5xx_by_path_template():
    answers = iter([429, 503, 200, 404])

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    metrics = Metrics()
    session = aiohttp.ClientSession(trace_configs=[trace_config(metrics)])
    async with TestServer(app, port=0) as server, session:
        for path in (
            f"/api/v10/interactions/1/{TOKEN}/callback",
            "/api/v10/channels/987654321/messages",
            "/api/v10/channels/987654321/messages",
            "/api/v10/channels/987654321/messages",
        ):
            async with session.post(server.make_url(path)) as response:
                await response.read()

    text = metrics.exposition().decode()
    registry = metrics.registry
    name = "flywheel_discord_http_errors_total"
    assert (
        registry.get_sample_value(
            name, {"route": "POST /api/v10/interactions/{}/{}/callback", "status": "429"}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            name, {"route": "POST /api/v10/channels/{}/messages", "status": "5xx"}
        )
        == 1
    )
    assert TOKEN not in text and "987654321" not in text
    assert 'status="404"' not in text
