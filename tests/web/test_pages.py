"""The public pages over a real store: what they show, what they hide, and bad addresses."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from bot.core.feedback import Status
from bot.services.members import MemberInfo
from bot.web.security import SECURITY_HEADERS
from db.repositories.ledger import Credit
from db.repositories.tiers import TierRepository
from tests.web.conftest import GUILD, web_settings

ADA, GRACE, LINUS, KEN, RADIA, NAMELESS = 1001, 1002, 1003, 1004, 1005, 1006
STAFF = 9999


async def join(services, *people: tuple[int, str]) -> None:
    for user_id, name in people:
        await services.members.joined(MemberInfo(user_id, name, False))


async def credit(services, kind, user_id, source, *, at=None, points=None):
    contributions = services.contributions
    async with services.sessions() as session, session.begin():
        row = await contributions.record(
            session, contributions.credit(kind, user_id, source, occurred_at=at, points=points)
        )
        assert row is not None


def rows_of(html: str) -> list[tuple[str, str, str]]:
    """(rank, name, points) of each leaderboard row."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td><td class=\"num\">(-?\d+)</td>", body)


async def test_leaderboard_names_members_and_hides_opted_out_and_departed(client, services):
    await join(services, (ADA, "Ada"), (GRACE, "Grace"), (LINUS, "Linus"), (KEN, "Ken"))
    await join(services, (RADIA, "  "))  # a name Discord gave as blank
    await credit(services, "answer", ADA, "a:1")
    await credit(services, "answer", ADA, "a:2")
    await credit(services, "answer", GRACE, "a:3")
    await credit(services, "answer", LINUS, "a:4")
    await credit(services, "answer", KEN, "a:5")
    await credit(services, "thanks_received", RADIA, "t:1")
    await credit(services, "answer", NAMELESS, "a:6")  # never seen here: gone before the bot
    await services.members.set_recognition_opt_out(LINUS, True, name="Linus")
    await services.members.left(KEN)

    response = await client.get("/leaderboard")
    html = await response.text()

    assert response.status == 200
    assert rows_of(html) == [
        ("1", "Ada", "20"),
        ("2", "Grace", "10"),
        ("3", "A community member", "2"),
    ]
    assert "Linus" not in html and "Ken" not in html
    assert str(NAMELESS) not in html and "&lt;@" not in html
    # "/" is the same page.
    assert rows_of(await (await client.get("/")).text()) == rows_of(html)


async def test_leaderboard_period_and_kind_filters(client, services, clock):
    await join(services, (ADA, "Ada"), (GRACE, "Grace"))
    now = clock.now()
    await credit(services, "answer", ADA, "a:old", at=now - timedelta(days=40))
    await credit(services, "answer", ADA, "a:old2", at=now - timedelta(days=20))
    await credit(services, "talk", GRACE, "talk:1", at=now - timedelta(days=2))
    await credit(services, "answer", GRACE, "a:new", at=now - timedelta(days=1))

    week = await (await client.get("/leaderboard?period=week")).text()
    month = await (await client.get("/leaderboard?period=month")).text()
    ever = await (await client.get("/leaderboard?period=all")).text()
    talks = await (await client.get("/leaderboard?period=all&kind=talk")).text()
    answers = await (await client.get("/leaderboard?period=all&kind=answer")).text()

    assert rows_of(week) == [("1", "Grace", "25")]
    assert rows_of(month) == [("1", "Grace", "25"), ("2", "Ada", "10")]
    assert rows_of(ever) == [("1", "Grace", "25"), ("2", "Ada", "20")]
    assert rows_of(talks) == [("1", "Grace", "15")]
    assert "Talks given" in talks and '<option value="talk" selected>' in talks
    assert rows_of(answers) == [("1", "Ada", "20"), ("2", "Grace", "10")]
    assert '<td class="num">2</td>' in answers  # the count column, only with a kind


async def test_leaderboard_pages_of_fifty_with_links(client, services, clock):
    people = [(2000 + n, f"Member {n:03d}") for n in range(120)]
    await join(services, *people)
    now = clock.now()
    async with services.sessions() as session, session.begin():
        await services.contributions.record_many(
            session,
            [
                Credit(user_id, "event", 1000 - n, f"e:{n}", now, None, None)
                for n, (user_id, _) in enumerate(people)
            ],
        )

    first = await (await client.get("/leaderboard?period=all")).text()
    third = await (await client.get("/leaderboard?period=all&page=3")).text()
    beyond = await client.get("/leaderboard?period=all&page=4")

    assert len(rows_of(first)) == 50 and rows_of(first)[0] == ("1", "Member 000", "1000")
    assert 'rel="next" href="/leaderboard?period=all&amp;page=2"' in first
    assert 'rel="prev"' not in first
    assert [rank for rank, _, _ in rows_of(third)] == [str(n) for n in range(101, 121)]
    assert 'rel="prev" href="/leaderboard?period=all&amp;page=2"' in third
    assert 'rel="next"' not in third
    assert beyond.status == 200 and "No more members on this page." in await beyond.text()


async def test_bad_query_parameters_are_400_pages_saying_what_is_wrong(client):
    cases = {
        "/leaderboard?kind=nope": "Unknown kind 'nope'",
        "/leaderboard?period=year": "Unknown period 'year'",
        "/leaderboard?page=-1": "The page must be a whole number from 1 to 200; got '-1'.",
        "/leaderboard?page=abc": "got 'abc'",
        "/leaderboard?page=0": "got 0.",
        "/leaderboard?page=99999999999999999999999": "from 1 to 200",
    }
    for url, said in cases.items():
        response = await client.get(url)
        html = unescape(await response.text())
        assert response.status == 400, url
        assert said in html, (url, html)
        assert "Traceback" not in html
        assert response.headers["Content-Type"].startswith("text/html")
    kinds = await (await client.get("/leaderboard?kind=nope")).text()
    assert "answer" in kinds and "talk" in kinds  # it says which kinds there are


async def test_display_names_are_escaped(client, services):
    await join(services, (ADA, "<script>alert(1)</script>"))
    await credit(services, "answer", ADA, "a:1")

    html = await (await client.get("/leaderboard")).text()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_ladder_shows_requirements_benefits_and_seats(client, services, clock):
    await join(services, (ADA, "Ada"))
    async with services.sessions() as session, session.begin():
        tiers = TierRepository(session, GUILD)
        state = await tiers.state_for_update(ADA, now=clock.now())
        await tiers.change(state, to_tier="mentor", reason="test", actor_id=None, now=clock.now())

    response = await client.get("/ladder")
    html = await response.text()

    assert response.status == 200
    assert "1. Champion" in html and "2. Mentor" in html
    assert "50 points, 3 accepted answers in the last 90 days" in html
    assert "a moderator&#39;s approved nomination" in html
    assert "Early access to releases" in html
    assert "Help in the forums a few times a month" in html
    assert 'href="https://example.org/champions"' in html
    assert "0 (no seat limit)" in html
    assert "1 of 2 held, 1 available" in html


async def test_ladder_without_tiers(client_for, clock, sessions):
    from bot.services.container import build_services

    settings = web_settings().model_copy(update={"tiers": ()})
    client = await client_for(build_services(settings, clock, sessions))

    html = await (await client.get("/ladder")).text()

    assert "no tiers configured yet" in html


async def test_roadmap_lists_posted_items_by_status_and_votes(client, services):
    feedback = services.feedback
    text = "Something long enough to be a problem statement."

    async def item(title: str, thread: int | None) -> int:
        made = await feedback.submit(
            author_id=ADA, title=title, problem=text, wanted=text, area="API"
        )
        if thread is not None:
            await feedback.posted(made.id, thread)
        return made.id

    dark = await item("Dark mode for the dashboard", 1)
    webhooks = await item("Webhooks for every event", 2)
    shipped = await item("Export to CSV please", 3)
    await item("Never posted to the forum", None)
    for voter in (GRACE, LINUS):
        await feedback.vote(webhooks, voter)
    await feedback.vote(dark, KEN)
    await feedback.set_status(shipped, Status.SHIPPED, "Out in 2.0", actor_id=STAFF)

    html = await (await client.get("/roadmap")).text()

    open_section = html.split('id="status-open"', 1)[1].split("</section>", 1)[0]
    shipped_section = html.split('id="status-shipped"', 1)[1].split("</section>", 1)[0]
    assert open_section.index("Webhooks for every event") < open_section.index("Dark mode")
    assert "2 votes" in open_section and "1 vote<" in open_section
    assert "Export to CSV please" in shipped_section
    assert "Never posted" not in html
    assert f'href="https://discord.com/channels/{GUILD}/2"' in open_section  # the forum post


async def test_roadmap_when_feedback_is_off(client_for, clock, sessions):
    from bot.services.container import build_services

    settings = web_settings().model_copy(
        update={"feedback": web_settings().feedback.model_copy(update={"forum_channel": None})}
    )
    client = await client_for(build_services(settings, clock, sessions))

    html = await (await client.get("/roadmap")).text()

    assert "does not collect product feedback here" in html


async def test_every_response_carries_the_security_headers(client):
    urls = [
        "/",
        "/leaderboard",
        "/ladder",
        "/roadmap",
        "/static/style.css",
        "/healthz",
        "/metrics",
        "/nowhere",
        "/leaderboard?page=abc",
    ]
    for url in urls:
        response = await client.get(url)
        await response.read()
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (url, name)
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy


async def test_pages_have_no_inline_script_or_style_and_work_on_a_phone(client):
    for url in ("/leaderboard", "/ladder", "/roadmap", "/nowhere"):
        html = await (await client.get(url)).text()
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "<script" not in html and "<style" not in html and "style=" not in html
        assert '<main id="main">' in html and '<nav aria-label="Main">' in html
        assert '<html lang="en">' in html
    form = await (await client.get("/leaderboard")).text()
    assert '<label for="period">' in form and '<label for="kind">' in form


async def test_unknown_page_is_a_404_page(client):
    response = await client.get("/nowhere")

    assert response.status == 404
    assert "There is no page at this address." in await response.text()
