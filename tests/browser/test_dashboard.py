"""The web dashboard as a person uses it, in headless Chromium against the emulator.

A moderator types /dashboard in Discord, opens the link, approves a nomination on the web, and
the member gets the role in Discord; a member opts out of recognition on the web and the
public leaderboard stops naming them. Every page visited is photographed (into docs/screenshots/
for the README with FLYWHEEL_SCREENSHOTS=1), and any console error fails the test.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.demo.community import SampleCommunity
from emulator import Emulator
from tests.e2e.test_nominations import button_ids, card_for, give_advisor_minimums, tier_of
from tests.e2e.util import eventually, members_synced
from tests.e2e.web_util import dashboard_link

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1100, "height": 800}


class Console:
    """Every console error and uncaught page error of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _message(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location})")


async def signed_in_page(browser: Any, emulator: Emulator, community: SampleCommunity, user: int):
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    console = Console(page)
    link = await dashboard_link(emulator, community, user)
    await page.goto(link)
    assert page.url.endswith("/me"), page.url  # the token left the address
    assert "token" not in page.url
    return context, page, console, link.split("/sign-in", 1)[0]


async def shoot(page: Any, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def credit(
    bot: Any, user_id: int, kind: str, times: int, prefix: str, *, weekly: bool = False
) -> None:
    """``times`` credits now, or (``weekly``) one a week going back, for the trend charts."""
    contributions = bot.services.contributions
    now = bot.services.clock.now()
    async with bot.services.sessions() as session, session.begin():
        for n in range(times):
            when = now - timedelta(weeks=n, days=1) if weekly else now
            credit = contributions.credit(kind, user_id, f"{prefix}:{n}", occurred_at=when)
            await contributions.record(session, credit)


async def test_a_moderator_signs_in_and_approves_a_nomination(
    flywheel, emulator, community, browser, screenshots
):
    bot = flywheel.bot
    members = community.members
    ada, grace, linus = members["ada"], members["grace"], members["linus"]
    morgan = community.moderators["morgan"]
    await members_synced(bot, members.values())
    await credit(bot, grace, "answer", 4, "g")
    await credit(bot, linus, "answer", 2, "l")
    await credit(bot, linus, "thanks_received", 3, "lt")
    await credit(bot, linus, "thanks_received", 8, "lw", weekly=True)
    await credit(bot, members["margaret"], "answer", 5, "mw", weekly=True)
    await give_advisor_minimums(bot, ada, tell=True)
    card = await card_for(emulator, community, morgan, ada, "advisor")
    nomination_id = int(button_ids(card)[0].rsplit(":", 1)[1])
    await bot.services.content.share(
        author_id=grace, url="https://blog.example.org/getting-started", title="Getting started",
        kind="blog",
    )  # fmt: skip

    context, page, console, base = await signed_in_page(browser, emulator, community, morgan)
    try:
        await shoot(page, screenshots, "me")
        await page.get_by_role("link", name="Staff").click()
        await page.get_by_role("link", name="Nominations to review").click()
        assert await page.get_by_role("heading", name=f"#{nomination_id}: ada for Advisor").count()
        await shoot(page, screenshots, "staff-nominations")

        await page.get_by_role("button", name=f"Approve #{nomination_id}").click()
        await page.get_by_text(f"#{nomination_id} is approved").wait_for()

        advisor = community.tier_role_ids["advisor"]
        await eventually(lambda: advisor in emulator.member_roles(community.guild_id, ada))
        assert await tier_of(bot, ada) == "advisor"
        assert not button_ids(emulator.message(card["id"]))  # the Discord card shows it too

        for path, name in (
            ("/staff/content", "staff-content"),
            ("/staff/health", "staff-health"),
            ("/staff/audit", "staff-audit"),
            ("/leaderboard", "leaderboard"),
            ("/ladder", "ladder"),
        ):
            await page.goto(base + path)
            await shoot(page, screenshots, name)
        assert await page.locator("svg[role=img]").count() == 0  # the ladder page has none
        await page.goto(base + "/staff/health")
        assert await page.locator("svg[role=img] title").count() >= 2

        await page.goto(base + "/staff/ladder")
        tiers = page.get_by_label("Tiers (TOML")
        text = await tiers.input_value()
        easier = text.replace("min_points = 50", "min_points = 30", 1)
        easier = easier.replace("min_active_weeks = 2\n", "min_active_weeks = 0\n", 1)
        await tiers.fill(easier)
        await page.get_by_role("button", name="Show who would move").click()
        await page.get_by_role("heading", name="Under these tiers").wait_for()
        promoted = page.get_by_role("heading", name="Would be promoted")
        assert "(0)" not in await promoted.inner_text()
        assert await page.get_by_text("grace: no tier → Champion").count() == 1
        await shoot(page, screenshots, "staff-ladder")
    finally:
        await context.close()
    assert console.errors == []


async def test_a_member_opts_out_and_the_leaderboard_stops_naming_them(
    flywheel, emulator, community, browser, screenshots
):
    bot = flywheel.bot
    grace, linus = community.members["grace"], community.members["linus"]
    await members_synced(bot, community.members.values())
    await credit(bot, grace, "answer", 3, "g")
    await credit(bot, linus, "answer", 1, "l")

    context, page, console, base = await signed_in_page(browser, emulator, community, grace)
    try:
        await page.goto(base + "/leaderboard")
        board = page.locator("table.board tbody")
        assert await board.get_by_text("grace", exact=True).count() == 1

        await page.goto(base + "/me/history")
        await shoot(page, screenshots, "me-history")
        await page.get_by_role("link", name="Privacy").click()
        await page.get_by_label("Name me in recognition posts").uncheck()
        await page.get_by_role("button", name="Save").click()
        await page.get_by_text("Saved.").wait_for()
        await shoot(page, screenshots, "me-privacy")
        assert (await bot.services.members.preferences(grace)).recognition_opt_out

        await page.goto(base + "/leaderboard")
        assert await board.get_by_text("grace", exact=True).count() == 0
        assert await board.get_by_text("linus", exact=True).count() == 1
        assert await page.get_by_role("link", name="Staff").count() == 0

        await page.set_viewport_size({"width": 390, "height": 844})  # a phone
        await page.goto(base + "/me")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        await shoot(page, screenshots, "me-phone")
    finally:
        await context.close()
    assert console.errors == []
