"""What pages built on top get: routes, plugins, header links, template context, the key."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import WebConfig
from bot.web import (
    SECURITY_HEADERS,
    STATE,
    NavLink,
    bad_request,
    render,
    signing_key,
    state_of,
)

extra = web.RouteTableDef()


@extra.get("/hello")
async def hello(request: web.Request) -> web.StreamResponse:
    if request.query.get("name") == "":
        raise bad_request("Give a name.")
    return await render(request, "hello.html", {"name": request.query.get("name", "you")})


async def account_links(request: web.Request) -> list[NavLink]:
    return [NavLink("Sign in", "/signin")]


async def csrf(request: web.Request) -> dict[str, str]:
    return {"csrf_token": f"token-for-{request.path}"}


def sign_in_plugin(app: web.Application) -> None:
    state = app[STATE]
    state.account_links = account_links
    state.context_processors.append(csrf)
    state.nav.append(NavLink("Hello", "/hello"))

    async def signin(request: web.Request) -> web.StreamResponse:
        assert len(state_of(request).secret) == 32
        return web.Response(text="sign in here")

    app.router.add_get("/signin", signin)


async def test_routes_plugins_and_templates_from_outside(client_for, services, tmp_path):
    (tmp_path / "hello.html").write_text(
        '{% extends "base.html" %}{% block title %}Hello{% endblock %}'
        "{% block content %}<p>Hello {{ name }} ({{ csrf_token }})</p>{% endblock %}",
        encoding="utf-8",
    )
    client = await client_for(
        services,
        extra_routes=extra,
        plugins=[sign_in_plugin],
        template_dirs=[tmp_path],
        secret=b"k" * 32,
    )

    hello_page = await client.get("/hello?name=<b>Ada</b>")
    html = await hello_page.text()
    board = await (await client.get("/leaderboard")).text()
    refused = await client.get("/hello?name=")
    signin = await client.get("/signin")

    assert hello_page.status == 200
    assert "Hello &lt;b&gt;Ada&lt;/b&gt; (token-for-/hello)" in html
    assert '<a href="/hello" aria-current="page">Hello</a>' in html
    assert '<a href="/signin">Sign in</a>' in board and '<a href="/hello">Hello</a>' in board
    assert refused.status == 400 and "Give a name." in await refused.text()
    assert signin.status == 200
    for response in (hello_page, refused, signin):
        assert (
            response.headers["Content-Security-Policy"]
            == (SECURITY_HEADERS["Content-Security-Policy"])
        )


def test_the_signing_key_comes_from_the_environment(caplog):
    config = WebConfig(secret_env="MY_WEB_KEY")
    long_enough = "s" * 40

    with caplog.at_level(logging.WARNING, logger="bot.web.app"):
        from_env = signing_key(config, {"MY_WEB_KEY": long_enough})
        quiet = list(caplog.records)
        unset = signing_key(config, {})
        other = signing_key(config, {})
        short = signing_key(config, {"MY_WEB_KEY": "tiny-secret"})

    assert from_env == long_enough.encode() and quiet == []
    assert len(unset) == 32 and unset != other and short not in (b"tiny-secret", unset)
    messages = [record.getMessage() for record in caplog.records]
    assert any("MY_WEB_KEY is not set" in m for m in messages)
    assert any("MY_WEB_KEY is shorter than 32 characters" in m for m in messages)
    assert all("tiny-secret" not in m for m in messages)  # never the value
