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
        await shoot(page, screenshots, "staff")
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


#: WCAG 2.1 AA contrast of every visible text against the background it is drawn on.
CONTRAST = """
() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const a = lum(rgb(style.color).slice(0, 3)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < (large ? 3 : 4.5)) worst.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return worst;
}
"""


async def test_pages_read_on_a_phone_with_enough_contrast_and_work_by_keyboard(
    flywheel, emulator, community, browser, screenshots
):
    """Every page fits a phone's width and passes AA contrast; a moderator approves a
    nomination with the keyboard alone (Tab to the button, Enter)."""
    bot = flywheel.bot
    ada, morgan = community.members["ada"], community.moderators["morgan"]
    await members_synced(bot, community.members.values())
    await credit(bot, community.members["grace"], "answer", 3, "g", weekly=True)
    await give_advisor_minimums(bot, ada, tell=True)
    card = await card_for(emulator, community, morgan, ada, "advisor")
    nomination_id = int(button_ids(card)[0].rsplit(":", 1)[1])

    context, page, console, base = await signed_in_page(browser, emulator, community, morgan)
    try:
        await page.set_viewport_size({"width": 390, "height": 844})
        for path in (
            "/leaderboard", "/ladder", "/roadmap", "/me", "/me/history", "/me/privacy",
            "/staff", "/staff/nominations", "/staff/content", "/staff/health", "/staff/ladder",
            "/staff/audit",
        ):  # fmt: skip
            await page.goto(base + path)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
            assert await page.evaluate(CONTRAST) == [], path
        await page.goto(base + "/leaderboard")
        await shoot(page, screenshots, "leaderboard-phone")

        await page.set_viewport_size(DESKTOP)
        await page.goto(base + "/staff/nominations")
        approve = f"Approve #{nomination_id}"
        for _ in range(60):
            await page.keyboard.press("Tab")
            focused = await page.evaluate("document.activeElement.textContent.trim()")
            if focused == approve:
                break
        else:
            raise AssertionError(f"Tab never reached {approve!r}")
        await page.keyboard.press("Enter")
        await page.get_by_text(f"#{nomination_id} is approved").wait_for()
        assert await tier_of(bot, ada) == "advisor"
    finally:
        await context.close()
    assert console.errors == []


async def test_the_pages_work_with_javascript_turned_off(
    flywheel, emulator, community, browser, screenshots
):
    """No script at all: the leaderboard's filters, the roadmap a member's request reached
    through Discord, a moderator's rejection with a reason (the Discord card follows), and
    signing out are plain forms and links."""
    from tests.e2e.test_content import button_ids as content_buttons
    from tests.e2e.test_content import shared_card
    from tests.e2e.test_content import status as content_status
    from tests.e2e.test_feedback import REQUEST, button, posts, starter, submit

    bot = flywheel.bot
    members = community.members
    await members_synced(bot, members.values())
    await credit(bot, members["grace"], "answer", 3, "g")
    await credit(bot, members["linus"], "thanks_received", 5, "l")
    done = await submit(emulator, community, members["ada"])
    assert "Your request is posted" in (await done.wait_answer(timeout=5))["data"]["content"]
    [thread] = posts(emulator, community)
    for voter in ("grace", "linus"):
        vote = button(starter(emulator, thread), "Vote")["custom_id"]
        await (await emulator.click_button(thread.id, members[voter], vote)).wait_answer(5)
    await eventually(lambda: button(starter(emulator, thread), "Vote")["label"] == "Vote (2)")
    card = await shared_card(emulator, community)
    number = int(content_buttons(card)[0].rsplit(":", 1)[1])

    context = await browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = await context.new_page()
    console = Console(page)
    base = flywheel.web.url
    try:
        await page.goto(base + "/leaderboard")
        board = page.locator("table.board tbody")
        assert await board.get_by_text("linus", exact=True).count() == 1  # thanks count too
        await page.get_by_label("Period").select_option("all")
        await page.get_by_label("Kind").select_option("answer")
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**/leaderboard?period=all&kind=answer")
        assert await page.get_by_text("All time: Answers").count() == 1
        assert await board.get_by_text("grace", exact=True).count() == 1
        assert await board.get_by_text("linus", exact=True).count() == 0

        await page.get_by_role("link", name="Roadmap").click()
        open_requests = page.locator("section[aria-labelledby=status-open]")
        request = open_requests.get_by_role("link", name=REQUEST["title"])
        assert await request.get_attribute("href") == (
            f"https://discord.com/channels/{community.guild_id}/{thread.id}"
        )
        assert await open_requests.get_by_text("Mobile app · 2 votes").count() == 1
        await shoot(page, screenshots, "roadmap")

        await page.goto(await dashboard_link(emulator, community, community.moderators["morgan"]))
        assert page.url == base + "/me"
        await page.get_by_role("link", name="Staff").click()
        await page.get_by_role("link", name="Content to review").click()
        await page.get_by_label("Reason").fill("Not about our project")
        await page.get_by_role("button", name=f"Reject #{number}").click()
        await page.get_by_text(f"#{number} is rejected").wait_for()
        edited = await eventually(
            lambda: (
                not content_buttons(emulator.message(card["id"])) and emulator.message(card["id"])
            )
        )
        assert content_status(edited) == "Rejected by morgan: Not about our project"

        await page.get_by_role("link", name="Sign out").click()
        await page.get_by_role("button", name="Sign out").click()
        await page.goto(base + "/me")
        assert page.url == base + "/sign-in"
        await shoot(page, screenshots, "sign-in")
    finally:
        await context.close()
    assert console.errors == []
