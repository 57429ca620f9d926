"""/dashboard through the emulator, and the web deciding a review card the bot posted."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from typing import Any

import aiohttp
import pytest

from bot.app import build_web
from bot.config import Config, parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from bot.web.accounts import COOKIE
from cogs.dashboard import NOT_SET_UP
from tests.e2e.test_nominations import (
    bot_dms,
    button_ids,
    card_for,
    give_advisor_minimums,
    status,
    tier_of,
)
from tests.e2e.util import bot_posts, eventually, members_synced, settled
from tests.e2e.web_util import EPHEMERAL, dashboard_link, free_port, web_config
from tests.helpers import write_config
from tests.test_cli import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture
def bot_config(emulator, community, database_url):
    return web_config(emulator, community, database_url)


async def promotion_told(emulator, community, bot, member: int, tier_name: str) -> None:
    """The promotion as a click makes it: announced in the channel, the welcome card by DM,
    each once."""
    shown = f"<@{member}> is now an {tier_name}!"

    def announced() -> list[Any]:
        posts = bot_posts(emulator, community.channels["announcements"])
        return [m for m in posts if shown in m["content"]]

    def welcomed() -> list[Any]:
        title = f"Welcome, {tier_name}!"
        return [
            d
            for d in bot_dms(emulator, member)
            if any(e.get("title") == title for e in d.get("embeds") or [])
        ]

    await eventually(announced)
    await eventually(welcomed)
    await settled(emulator, bot)
    assert (len(announced()), len(welcomed())) == (1, 1)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_dashboard_says_how_to_set_the_web_up_when_it_has_no_address(
    emulator, community, database_url, clock
):
    config = parse_config(
        community_config(community, emulator, database_url=database_url),
        env={"DISCORD_TOKEN": EMULATOR_TOKEN},
    )
    async with running_bot(config, clock=clock):
        record = await emulator.invoke_slash_command(
            community.guild_id, community.channels["general"], community.members["ada"], "dashboard"
        )
        body = await record.wait_answer(timeout=5)
    assert body["data"]["flags"] & EPHEMERAL
    assert body["data"]["content"] == NOT_SET_UP


async def test_a_moderator_approves_on_the_web_and_discord_follows(flywheel, emulator, community):
    bot = flywheel.bot
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    await members_synced(bot, community.members.values())
    await give_advisor_minimums(bot, ada, tell=True)
    card = await card_for(emulator, community, morgan, ada, "advisor")
    nomination_id = int(button_ids(card)[0].rsplit(":", 1)[1])

    link = await dashboard_link(emulator, community, morgan)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with web.get(link) as signed_in:
            assert signed_in.status == 200 and signed_in.url.path == "/me"
        async with web.get(link) as again:
            assert again.status == 400  # single use
        base = link.split("/sign-in", 1)[0]
        async with web.get(f"{base}/staff/nominations") as queue:
            page = await queue.text()
            assert f"#{nomination_id}: ada for Advisor" in page
        async with web.post(
            f"{base}/staff/nominations/{nomination_id}",
            data={"csrf": csrf_of(page), "action": "approve", "reason": ""},
        ) as decided:
            assert decided.status == 200
            assert f"#{nomination_id} is approved" in await decided.text()

    edited = await eventually(
        lambda: not button_ids(emulator.message(card["id"])) and emulator.message(card["id"])
    )
    assert status(edited) == "Approved by morgan: ada is now an Advisor."
    assert await tier_of(bot, ada) == "advisor"
    advisor = community.tier_role_ids["advisor"]
    await eventually(lambda: advisor in emulator.member_roles(community.guild_id, ada))
    await promotion_told(emulator, community, bot, ada, "Advisor")


async def approve_content_on_the_web(emulator, community, base: str | None = None) -> int:
    """morgan signs in from /dashboard and approves the one shared post; its number."""
    link = await dashboard_link(emulator, community, community.moderators["morgan"])
    base = base or link.split("/sign-in", 1)[0]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with web.get(link) as signed_in:
            assert signed_in.status == 200
        async with web.get(f"{base}/staff/content") as queue:
            page = await queue.text()
        number = int(re.findall(r'action="/staff/content/(\d+)"', page)[0])
        async with web.post(
            f"{base}/staff/content/{number}",
            data={"csrf": csrf_of(page), "action": "approve"},
        ) as decided:
            assert decided.status == 200, await decided.text()
    return number


async def test_content_approved_on_the_web_shows_on_its_card_and_credits_the_author(
    flywheel, emulator, community
):
    from tests.e2e.test_content import button_ids as content_buttons
    from tests.e2e.test_content import shared_card
    from tests.e2e.test_content import status as content_status

    card = await shared_card(emulator, community)
    await approve_content_on_the_web(emulator, community)
    edited = await eventually(
        lambda: not content_buttons(emulator.message(card["id"])) and emulator.message(card["id"])
    )
    assert content_status(edited) == "Approved by morgan: +10 points to the author"
    ada = community.members["ada"]
    dm = await eventually(lambda: [m for m in emulator.dms(ada) if m["author"]["bot"]])
    assert "was approved — +10 points" in dm[-1]["content"]


async def test_a_decision_on_the_card_leaves_the_web_queue(flywheel, emulator, community):
    bot = flywheel.bot
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    await members_synced(bot, community.members.values())
    card = await card_for(emulator, community, morgan, ada, "advisor")
    nomination_id = int(button_ids(card)[0].rsplit(":", 1)[1])
    link = await dashboard_link(emulator, community, community.moderators["riley"])
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with web.get(link) as signed_in:
            assert signed_in.status == 200
        base = link.split("/sign-in", 1)[0]
        async with web.get(f"{base}/staff/nominations") as before:
            page = await before.text()
            assert f"#{nomination_id}: ada for Advisor" in page

        click = await emulator.click_button(card, morgan, button_ids(card)[0])
        await click.wait_answer(timeout=5)
        await eventually(lambda: not button_ids(emulator.message(card["id"])))

        async with web.get(f"{base}/staff/nominations") as after:
            assert f"#{nomination_id}:" not in await after.text()
        async with web.post(
            f"{base}/staff/nominations/{nomination_id}",
            data={"csrf": csrf_of(page), "action": "reject", "reason": "too late"},
        ) as late:
            assert late.status == 409
            assert "already approved" in await late.text()


async def test_a_member_link_gets_no_staff_pages(flywheel, emulator, community):
    link = await dashboard_link(emulator, community, community.members["ada"])
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with web.get(link) as signed_in:
            assert signed_in.status == 200
        base = link.split("/sign-in", 1)[0]
        async with web.get(f"{base}/staff/nominations") as refused:
            assert refused.status == 403


async def test_no_sign_in_token_or_cookie_reaches_the_bots_log(
    flywheel, emulator, community, caplog
):
    """Everything the bot's process logs, at DEBUG and discord.py's own included, while a link
    is issued by /dashboard, redeemed, used and refused again: no token, no cookie."""
    caplog.set_level(logging.DEBUG)
    link = await dashboard_link(emulator, community, community.moderators["morgan"])
    token = link.rsplit("token=", 1)[1]
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as web:
        async with web.get(link) as signed_in:
            assert signed_in.status == 200
        async with web.get(link) as again:
            assert again.status == 400
        base = link.split("/sign-in", 1)[0]
        async with web.get(f"{base}/staff/health") as health:
            assert health.status == 200
    [cookie] = [c.value for c in jar if c.key == COOKIE]

    ours = [record.getMessage() for record in caplog.records]
    assert any("web: a member signed in" in line for line in ours)
    assert [line for line in ours if token in line or cookie in line] == []


async def test_a_moderator_demoted_in_discord_loses_the_staff_pages_at_once(
    flywheel, emulator, community
):
    """Inside the bot, rights are the gateway's member: the request after the bot sees the
    role taken away is refused, with the same session cookie."""
    bot = flywheel.bot
    morgan = community.moderators["morgan"]
    link = await dashboard_link(emulator, community, morgan)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        async with web.get(link) as signed_in:
            assert signed_in.status == 200
        base = link.split("/sign-in", 1)[0]
        async with web.get(f"{base}/staff/nominations") as before:
            assert before.status == 200

        await emulator.set_member_roles(community.guild_id, morgan, [])
        guild = bot.get_guild(community.guild_id)
        await eventually(lambda: not guild.get_member(morgan).roles[1:])  # the gateway's update

        for path in ("/staff/nominations", "/staff/health", "/staff/audit"):
            async with web.get(f"{base}{path}") as after:
                assert after.status == 403, path
        async with web.get(f"{base}/me") as me:
            assert me.status == 200 and ">Staff<" not in await me.text()


class TestStandaloneWeb:
    """``python -m bot web`` beside the bot: same database, no gateway. The link from the bot's
    /dashboard is redeemed there, rights come from Discord's REST API, and a decision made there
    reaches the card, the nominee's DM and the role through the bot's relay."""

    @pytest.fixture
    def web_port(self):
        return free_port()

    @pytest.fixture
    def bot_config(self, emulator, community, database_url, web_port):
        data = community_config(
            community,
            emulator,
            database_url=database_url,
            web={"enabled": False, "public_url": f"http://127.0.0.1:{web_port}"},
        )
        return parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})

    @pytest.fixture
    async def standalone(self, flywheel, bot_config, web_port, clock):
        web = {"enabled": False, "bind": f"127.0.0.1:{web_port}"}
        settings = bot_config.settings.model_copy(
            update={"web": bot_config.settings.web.model_copy(update=web)}
        )
        config = Config(settings=settings, token=bot_config.token, source=bot_config.source)
        app = await build_web(config, clock=clock)
        await app.web.start()
        try:
            yield app
        finally:
            await app.close()

    async def test_a_demoted_moderator_loses_the_staff_pages_within_seconds(
        self, flywheel, standalone, emulator, community, clock
    ):
        """Rights come from Discord's REST API, shared for MEMBER_TTL_SECONDS so twenty pages
        at once ask once: the role taken away in Discord closes the pages after that."""
        from bot.web.rights import MEMBER_TTL_SECONDS

        morgan = community.moderators["morgan"]
        link = await dashboard_link(emulator, community, morgan)
        base = standalone.web.url
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
            async with web.get(link) as signed_in:
                assert signed_in.status == 200
            pages = await asyncio.gather(*(web.get(f"{base}/staff/health") for _ in range(20)))
            assert [page.status for page in pages] == [200] * 20
            asked = [r for r in emulator.request_log if r.path.endswith(f"/members/{morgan}")]
            assert len(asked) == 1, "twenty pages, one question to Discord"
            await emulator.set_member_roles(community.guild_id, morgan, [])
            clock.advance(MEMBER_TTL_SECONDS + 0.1)
            async with web.get(f"{base}/staff/health") as after:
                assert after.status == 403

    async def test_content_approved_on_the_standalone_web_reaches_its_card(
        self, flywheel, standalone, emulator, community
    ):
        from tests.e2e.test_content import button_ids as content_buttons
        from tests.e2e.test_content import shared_card
        from tests.e2e.test_content import status as content_status

        card = await shared_card(emulator, community)
        await approve_content_on_the_web(emulator, community, standalone.web.url)
        edited = await eventually(
            lambda: (
                not content_buttons(emulator.message(card["id"])) and emulator.message(card["id"])
            ),
            within=10,
        )
        assert content_status(edited) == "Approved by morgan: +10 points to the author"

    async def test_a_decision_on_the_standalone_web_reaches_discord(
        self, flywheel, standalone, emulator, community
    ):
        bot = flywheel.bot
        ada, morgan = community.members["ada"], community.moderators["morgan"]
        await members_synced(bot, community.members.values())
        await give_advisor_minimums(bot, ada, tell=True)
        card = await card_for(emulator, community, morgan, ada, "advisor")
        nomination_id = int(button_ids(card)[0].rsplit(":", 1)[1])

        link = await dashboard_link(emulator, community, morgan)
        assert link.startswith(standalone.web.url)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
            async with web.get(link) as signed_in:
                assert signed_in.status == 200 and signed_in.url.path == "/me"
            async with web.get(f"{standalone.web.url}/staff/nominations") as queue:
                assert queue.status == 200  # morgan's roles, read over REST
                page = await queue.text()
            async with web.post(
                f"{standalone.web.url}/staff/nominations/{nomination_id}",
                data={"csrf": csrf_of(page), "action": "approve", "reason": ""},
            ) as decided:
                assert decided.status == 200

        edited = await eventually(
            lambda: not button_ids(emulator.message(card["id"])) and emulator.message(card["id"]),
            within=10,
        )
        assert status(edited) == "Approved by morgan: ada is now an Advisor."
        advisor = community.tier_role_ids["advisor"]
        await eventually(lambda: advisor in emulator.member_roles(community.guild_id, ada))
        told = await eventually(
            lambda: [d for d in bot_dms(emulator, ada) if d["content"].startswith("🎉")]
        )
        assert "you're now an Advisor" in told[0]["content"]
        await promotion_told(emulator, community, bot, ada, "Advisor")
        assert await bot.services.web_decisions.waiting() == []

    async def test_a_member_gets_no_staff_pages_there(self, flywheel, standalone, emulator,
                                                      community):  # fmt: skip
        link = await dashboard_link(emulator, community, community.members["ada"])
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
            async with web.get(link) as signed_in:
                assert signed_in.status == 200
            async with web.get(f"{standalone.web.url}/staff/nominations") as refused:
                assert refused.status == 403


async def test_python_m_bot_web_reads_discord_where_the_config_says_and_its_staff_roles(
    flywheel, emulator, community, database_url, tmp_path
):
    """The standalone command, as operators run it, with the bot's own config file: it asks the
    configured Discord (not discord.com) for the member, and ``roles.moderators`` makes morgan
    staff (his role has no Manage Server)."""
    data = community_config(
        community, emulator, database_url=database_url, web={"bind": "127.0.0.1:0"}
    )
    data["logging"] = {"level": "INFO"}  # the address it serves on is logged at INFO
    config = write_config(tmp_path / "bot.toml", data)
    env = {**os.environ, "DISCORD_TOKEN": EMULATOR_TOKEN}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", "--config", str(config),
        cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        lines: list[str] = []
        while not (found := re.search(r"web: serving on (http://\S+)", "".join(lines))):
            try:
                line = await asyncio.wait_for(process.stderr.readline(), timeout=30)
            except TimeoutError:
                raise AssertionError("".join(lines)) from None
            assert line, "".join(lines)
            lines.append(line.decode())
        base = found.group(1)
        token = await flywheel.bot.services.web_sign_in.issue(community.moderators["morgan"])
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
            async with web.get(f"{base}/sign-in?token={token}") as signed_in:
                assert signed_in.status == 200 and signed_in.url.path == "/me"
            async with web.get(f"{base}/staff/health") as health:
                assert health.status == 200, await health.text()
            async with web.get(f"{base}/staff/ladder") as ladder:  # the tiers as configured
                assert f"role_id = {community.tier_role_ids['champion']}" in await ladder.text()
    finally:
        process.terminate()
        await process.wait()
