"""Signing in with the /dashboard link, and the pages behind it, over a real store.

Rights come from a table the test edits between requests (what Discord would answer about the
member's roles right now), so taking a moderator's role away is one assignment.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from html import unescape

import aiohttp
import pytest

from bot.services.adjustments import MemberRef
from bot.services.members import MemberInfo
from bot.services.nominations import Nominee
from bot.services.web_sign_in import SIGN_IN_TTL
from bot.web import WebServer, create_app
from bot.web.accounts import COOKIE, SIGN_IN_ATTEMPTS
from bot.web.pages import signed_in_pages
from bot.web.rights import NO_RIGHTS, Rights
from bot.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import web_settings

ADA, GRACE, MOD = 1001, 1002, 9001
SECRET = b"a secret for the tests, long enough"
MODERATOR = Rights(in_server=True, moderator=True, product=False)
MEMBER = Rights(in_server=True, moderator=False, product=False)


class RolesNow:
    """What Discord says of each member's roles at the moment of the request."""

    def __init__(self) -> None:
        self.table: dict[int, Rights] = {}

    async def rights(self, user_id: int) -> Rights:
        return self.table.get(user_id, NO_RIGHTS)


@pytest.fixture
def roles() -> RolesNow:
    return RolesNow()


@pytest.fixture
async def client(client_for, services, roles):
    for user_id, name in ((ADA, "Ada"), (GRACE, "Grace"), (MOD, "Mo")):
        await services.members.joined(MemberInfo(user_id, name, False))
    roles.table.update({ADA: MEMBER, GRACE: MEMBER, MOD: MODERATOR})
    pages = signed_in_pages(services, rights=roles, decide=None)
    return await client_for(services, plugins=[pages], secret=SECRET)


async def sign_in(client, services, user_id: int) -> None:
    token = await services.web_sign_in.issue(user_id)
    response = await client.get(f"/sign-in?token={token}", allow_redirects=False)
    assert response.status == 303, await response.text()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def test_the_link_signs_in_once_and_leaves_the_address(client, services, caplog):
    caplog.set_level(logging.DEBUG)
    token = await services.web_sign_in.issue(ADA)

    response = await client.get(f"/sign-in?token={token}", allow_redirects=False)

    assert response.status == 303 and response.headers["Location"] == "/me"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = await client.get("/me")
    assert page.status == 200 and str(page.url).endswith("/me")
    assert "Hello, Ada" in unescape(await page.text())

    again = await client.get(f"/sign-in?token={token}")
    assert again.status == 400
    assert "already used" in await again.text()
    # (aiohttp's test server logs requests its own way; the real server: next test)
    ours = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]
    assert not [line for line in ours if token in line]


async def test_the_servers_access_log_leaves_the_token_out(services, roles, caplog):
    caplog.set_level(logging.INFO, logger="bot.web.access")
    pages = signed_in_pages(services, rights=roles, decide=None)
    server = WebServer(create_app(services, plugins=[pages], secret=SECRET), "127.0.0.1:0")
    await server.start()
    try:
        token = await services.web_sign_in.issue(ADA)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/sign-in?token={token}") as response,
        ):
            assert response.status == 200  # signed in, then /me
    finally:
        await server.stop()

    logged = [r.getMessage() for r in caplog.records if r.name == "bot.web.access"]
    assert any("GET /sign-in 303" in line for line in logged), logged
    assert token not in caplog.text


async def test_expired_and_unknown_links_get_a_clear_page(client, services, clock):
    token = await services.web_sign_in.issue(ADA)
    clock.advance(SIGN_IN_TTL)
    expired = await client.get(f"/sign-in?token={token}")
    unknown = await client.get("/sign-in?token=nonsense")

    assert expired.status == 400 and "expired" in await expired.text()
    assert unknown.status == 400 and "not valid" in await unknown.text()
    assert (await client.get("/me", allow_redirects=False)).headers["Location"] == "/sign-in"
    how = await (await client.get("/sign-in")).text()
    assert "/dashboard" in how


async def test_the_cookie_is_secure_behind_https(client_for, sessions, clock):
    from bot.services.container import build_services

    settings = web_settings(web={"public_url": "https://flywheel.example.org"})
    services = build_services(settings, clock, sessions)
    pages = signed_in_pages(services, rights=RolesNow(), decide=None)
    client = await client_for(services, plugins=[pages], secret=SECRET)
    token = await services.web_sign_in.issue(ADA)

    response = await client.get(f"/sign-in?token={token}", allow_redirects=False)

    assert "Secure" in response.headers["Set-Cookie"]


async def test_sign_in_attempts_are_limited_per_address(client, services, clock):
    for _ in range(SIGN_IN_ATTEMPTS):
        assert (await client.get("/sign-in?token=guess")).status == 400
    token = await services.web_sign_in.issue(ADA)

    held = await client.get(f"/sign-in?token={token}")
    assert held.status == 429
    assert int(held.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in await held.text()

    clock.advance(61)
    assert (await client.get(f"/sign-in?token={token}")).status == 200  # then /me


async def test_a_forged_cookie_signs_nobody_in(client):
    client.session.cookie_jar.update_cookies({COOKIE: "eyJ1IjoiMTAwMSJ9.forged"})
    response = await client.get("/me", allow_redirects=False)
    assert response.status == 303


async def test_sign_out_needs_the_forms_token(client, services):
    await sign_in(client, services, ADA)
    form = await (await client.get("/sign-out")).text()

    refused = await client.post("/sign-out", data={"csrf": "wrong"})
    assert refused.status == 403
    assert (await client.get("/me", allow_redirects=False)).status == 200

    done = await client.post("/sign-out", data={"csrf": csrf_of(form)}, allow_redirects=False)
    assert done.status == 303
    assert (await client.get("/me", allow_redirects=False)).status == 303


async def test_privacy_switches_are_the_same_as_slash_privacy(client, services):
    await sign_in(client, services, ADA)
    page = await (await client.get("/me/privacy")).text()
    assert 'id="named" name="named" value="1" checked' in page

    forged = await client.post("/me/privacy", data={"updates": "1"})
    assert forged.status == 403
    assert not (await services.members.preferences(ADA)).recognition_opt_out

    saved = await client.post("/me/privacy", data={"csrf": csrf_of(page), "updates": "1"})
    assert saved.status == 200 and "Saved." in await saved.text()
    preferences = await services.members.preferences(ADA)
    assert preferences.recognition_opt_out and not preferences.feedback_updates_opt_out


async def test_my_progress_lists_each_criterion_toward_the_next_tier(client, services):
    """The same criteria as /profile, each marked met or not, and the totals."""
    from bot.services.ladder_views import outlook

    contributions = services.contributions
    async with services.sessions.begin() as session:
        for n in range(4):
            await contributions.record(session, contributions.credit("answer", ADA, f"a:{n}"))
    await sign_in(client, services, ADA)

    page = unescape(await (await client.get("/me")).text())
    view = await outlook(services.ladder, ADA)

    assert view is not None and view.progress is not None and view.progress.next == "champion"
    criteria = view.progress.criteria
    assert len(criteria) >= 2 and {c.met for c in criteria} == {True, False}
    assert "Toward Champion" in page
    missing = sum(not c.met for c in criteria)
    assert f"{missing} of {len(criteria)} criteria still missing." in page
    items = re.findall(r'<li class="(met|missing)">.*?</span> (.*?) <span', page)
    assert items == [("met" if c.met else "missing", c.describe().rstrip(" ✓✗")) for c in criteria]
    assert '<td class="num">40</td>' in page  # 4 answers, points in every period


async def test_history_and_export_are_the_members_own(client, services):
    contributions = services.contributions
    async with services.sessions.begin() as session:
        await contributions.record(session, contributions.credit("answer", ADA, "a:1"))
        await contributions.record(session, contributions.credit("answer", GRACE, "g:1"))
    await sign_in(client, services, ADA)

    history = unescape(await (await client.get("/me/history")).text())
    exported = await client.get("/me/export")
    document = json.loads(await exported.read())

    assert history.count('<td class="num">10</td>') == 1
    assert "attachment" in exported.headers["Content-Disposition"]
    assert document["user_id"] == str(ADA)
    assert {row["user_id"] for row in document["tables"]["contributions"]} == {str(ADA)}


async def test_a_moderator_approves_a_nomination_on_the_web(client, services, roles):
    nomination = await services.nominations.nominate(
        Nominee(ADA, "Ada", False, True), "mentor", nominated_by=GRACE, reason="Helps everyone"
    )
    await sign_in(client, services, MOD)
    queue = await (await client.get("/staff/nominations")).text()
    assert f"#{nomination.id}: Ada for Mentor" in unescape(queue)

    decided = await client.post(
        f"/staff/nominations/{nomination.id}",
        data={"csrf": csrf_of(queue), "action": "approve", "reason": ""},
    )

    assert decided.status == 200
    assert f"#{nomination.id} is approved" in await decided.text()
    stored = await services.nominations.get(nomination.id)
    assert stored.status == "approved" and stored.decided_by == MOD
    again = await client.post(
        f"/staff/nominations/{nomination.id}",
        data={"csrf": csrf_of(queue), "action": "reject", "reason": "no"},
    )
    assert again.status == 409 and "already approved" in await again.text()


async def test_a_rejection_needs_a_reason_and_content_is_decided_too(client, services):
    shared = await services.content.share(
        author_id=ADA, url="https://blog.example/post", title="A post", kind="blog"
    )
    await sign_in(client, services, MOD)
    queue = await (await client.get("/staff/content")).text()
    number = shared.submission.id

    without = await client.post(
        f"/staff/content/{number}", data={"csrf": csrf_of(queue), "action": "reject"}
    )
    assert without.status == 400
    rejected = await client.post(
        f"/staff/content/{number}",
        data={"csrf": csrf_of(queue), "action": "reject", "reason": "Off topic"},
    )
    assert rejected.status == 200
    submission = await services.content.get(number)
    assert (submission.status, submission.decision_reason) == ("rejected", "Off topic")


async def test_a_demoted_moderator_loses_the_staff_pages_at_once(client, services, roles):
    await sign_in(client, services, MOD)
    assert (await client.get("/staff/nominations")).status == 200
    assert "Staff" in await (await client.get("/me")).text()

    roles.table[MOD] = MEMBER  # the moderator role is taken away in Discord

    assert (await client.get("/staff/nominations")).status == 403
    assert (await client.get("/staff/health")).status == 403
    assert ">Staff<" not in await (await client.get("/me")).text()


async def test_signed_in_pages_have_no_inline_script_or_style_and_the_headers(client, services):
    """The policy forbids inline scripts and styles: no page behind the sign-in needs one,
    the health page's SVG charts included, and none may be framed or cached by a proxy."""
    await sign_in(client, services, MOD)
    for path in ("/me", "/me/history", "/me/privacy", "/sign-out", "/staff", "/staff/nominations",
                 "/staff/content", "/staff/health", "/staff/ladder", "/staff/audit"):  # fmt: skip
        response = await client.get(path)
        html = await response.text()
        assert response.status == 200, path
        assert "<script" not in html and "<style" not in html and "style=" not in html, path
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Cache-Control"] == "private, no-store", path


async def test_members_get_no_staff_pages(client, services):
    await sign_in(client, services, ADA)
    for path in ("/staff", "/staff/nominations", "/staff/content", "/staff/health",
                 "/staff/health.csv", "/staff/ladder", "/staff/audit"):  # fmt: skip
        response = await client.get(path)
        assert response.status == 403, path
    assert (await client.post("/staff/nominations/1", data={"action": "approve"})).status == 403


async def test_health_draws_its_trends_and_offers_the_csv(client, services):
    await sign_in(client, services, MOD)
    page = await (await client.get("/staff/health")).text()
    csv = await client.get("/staff/health.csv")

    # Every trend the issue names: 8-week engagement, content per tier member, referrals and
    # their retention, NPS, six-month cohort retention, time to first response.
    for caption in (
        "Engagement, week by week",
        "Content per tier member",
        "Referrals credited",
        "Referred members still here after 30 days",
        "Ambassador NPS",
        "Promotion cohorts still active six months later",
        "Median time to first response",
    ):
        assert f"<figcaption>{caption}" in unescape(page), caption
    assert page.count('role="img"') >= 7
    assert "<script" not in page
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert (await csv.text()).lstrip("\ufeff").startswith("metric,period,value,target,status")


async def test_the_nps_chart_compares_the_last_two_quarters(client, services, clock):
    """NPS by quarter: each survey (one a quarter) is a bar labelled with its quarter."""
    voters = list(range(2001, 2006))
    for voter in voters:  # 2026-Q4: five promoters, +100
        await services.nps.answer("2026-Q4", voter, 10)
    clock.advance(timedelta(days=50))  # into 2027-Q1
    for voter, score in zip(voters, (10, 10, 10, 0, 0), strict=True):  # +20
        await services.nps.answer("2027-Q1", voter, score)
    await sign_in(client, services, MOD)

    page = unescape(await (await client.get("/staff/health")).text())
    chart = page.split('id="metric-nps', 1)[1].split("</svg>", 1)[0]

    assert "Ambassador NPS, 2026-Q4: 100</title>" in chart
    assert "Ambassador NPS, 2027-Q1: 20</title>" in chart


async def test_the_ladder_what_if_shows_who_would_move_and_reports_bad_tiers(client, services):
    contributions = services.contributions
    async with services.sessions.begin() as session:
        for n in range(3):
            await contributions.record(session, contributions.credit("answer", ADA, f"a:{n}"))
    await sign_in(client, services, MOD)
    page = await (await client.get("/staff/ladder")).text()
    text = unescape(page.split('class="code">', 1)[1].split("</textarea>", 1)[0])
    easier = text.replace("min_points = 50", "min_points = 30", 1)

    tried = unescape(
        await (
            await client.post("/staff/ladder", data={"csrf": csrf_of(page), "tiers": easier})
        ).text()
    )
    bad = await client.post(
        "/staff/ladder", data={"csrf": csrf_of(page), "tiers": text.replace("50", "-5", 1)}
    )

    assert "Would be promoted (1)" in tried and "Ada: no tier → Champion" in tried
    assert bad.status == 400 and "tiers[0].min_points" in await bad.text()
    assert (await services.stats.profile(ADA)).tier_key is None  # nothing changed
    assert await services.ladder.history(ADA) == []


async def test_the_audit_log_lists_manual_credits_and_tier_changes(client, services, clock):
    await services.adjustments.add(
        actor_id=MOD,
        member=MemberRef(ADA, in_guild=True, is_bot=False),
        kind="answer",
        points=7,
        reason="Answered in the livestream",
        request_id=42,
    )
    clock.advance(timedelta(minutes=1))
    await services.ladder.set_tier(GRACE, "champion", reason="Founding member", actor_id=MOD)
    await sign_in(client, services, MOD)

    page = unescape(await (await client.get("/staff/audit")).text())

    assert "Answered in the livestream" in page and "Founding member" in page
    assert "no tier → Champion" in page and "<td>Mo</td>" in page


@pytest.mark.parametrize("token", [None, "forged"], ids=["no token", "a wrong token"])
async def test_every_staff_form_needs_the_forms_token(client, services, token):
    """A page elsewhere that posts to the staff forms in a moderator's browser decides nothing."""
    nomination = await services.nominations.nominate(
        Nominee(ADA, "Ada", False, True), "mentor", nominated_by=GRACE, reason="Helps everyone"
    )
    shared = await services.content.share(
        author_id=ADA, url="https://blog.example/post", title="A post", kind="blog"
    )
    await sign_in(client, services, MOD)
    form = {} if token is None else {"csrf": token}
    posts = {
        f"/staff/nominations/{nomination.id}": {**form, "action": "approve", "reason": ""},
        f"/staff/content/{shared.submission.id}": {**form, "action": "approve"},
        "/staff/ladder": {**form, "tiers": "[[tiers]]\nkey = 'x'"},
    }
    for path, data in posts.items():
        response = await client.post(path, data=data)
        assert response.status == 403, path
    assert (await services.nominations.get(nomination.id)).status == "pending"
    assert (await services.content.get(shared.submission.id)).status == "pending"


async def test_the_product_role_sees_health_what_if_and_audit_but_not_the_queues(
    client, services, roles
):
    roles.table[GRACE] = Rights(in_server=True, moderator=False, product=True)
    await sign_in(client, services, GRACE)
    for page in ("/staff/health", "/staff/ladder", "/staff/audit"):
        assert (await client.get(page)).status == 200, page
    for queue in ("/staff/nominations", "/staff/content"):
        assert (await client.get(queue)).status == 403, queue
