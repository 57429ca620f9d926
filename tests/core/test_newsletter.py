"""Newsletter: figures and their changes, the daily series, links, and who is (not) named."""

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.embeds import EMBED_TOTAL_MAX, FIELDS_MAX, EmbedSpec, embed_chars
from bot.core.newsletter import (
    ContentLink,
    Figure,
    MonthNumbers,
    NewsletterInputs,
    UpcomingEvent,
    change,
    compose_newsletter,
    duration_change,
    escape_markdown,
    format_duration,
    markdown_link,
    month_days,
    render_newsletter,
)
from bot.core.periods import monthly_period
from bot.core.recognition import TierArrival

BERLIN = ZoneInfo("Europe/Berlin")
OCTOBER = monthly_period(datetime(2026, 11, 1, 9, tzinfo=BERLIN), BERLIN)
T0 = datetime(2026, 10, 12, 12, tzinfo=UTC)
_MENTION = re.compile(r"<@!?(\d+)>")

NUMBERS = MonthNumbers(
    active_members=128,
    new_members=20,
    messages=4200,
    questions_asked=52,
    questions_answered=40,
    median_first_response=timedelta(minutes=42),
    events_hosted=3,
    event_attendance=45,
    event_rsvps=60,
    content_pieces=4,
    referrals=0,
)
PREVIOUS = MonthNumbers(
    active_members=116,
    new_members=25,
    messages=4200,
    questions_asked=0,
    questions_answered=40,
    median_first_response=timedelta(hours=1),
    events_hosted=3,
    event_attendance=30,
    event_rsvps=60,
    content_pieces=2,
    referrals=0,
)
BASE = NewsletterInputs(
    period=OCTOBER,
    numbers=NUMBERS,
    previous=PREVIOUS,
    content=(),
    arrivals=(),
    top=(),
    hidden=frozenset(),
    upcoming=(),
    daily_messages={},
)


def text_of(embeds: list[EmbedSpec]) -> str:
    parts = []
    for embed in embeds:
        parts += [embed.title, embed.description, embed.footer]
        parts += [f"{f.name}\n{f.value}" for f in embed.fields]
    return "\n".join(parts)


def mentioned(embeds: list[EmbedSpec]) -> set[int]:
    return {int(m) for m in _MENTION.findall(text_of(embeds))}


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (128, 116, "+12 (+10%)"),
        (12, 15, "−3 (−20%)"),
        (5, 0, "new"),
        (0, 0, "no change"),
        (7, 7, "no change"),
        (0, 4, "−4 (−100%)"),
        (30, 10, "+20 (+200%)"),
        (10_001, 10_000, "+1 (<1%)"),
        (12_345, 10_000, "+2,345 (+23%)"),
        (3, 2, "+1 (+50%)"),  # halves round up
    ],
)
def test_change(current: int, previous: int, expected: str) -> None:
    assert change(current, previous) == expected


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(0), "0 s"),
        (timedelta(seconds=45), "45 s"),
        (timedelta(seconds=59.9), "59 s"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=42, seconds=30), "42 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=5), "3 h 5 min"),
        (timedelta(days=2, hours=4, minutes=59), "2 d 4 h"),
        (timedelta(days=1), "1 d"),
        (timedelta(seconds=-5), "0 s"),
    ],
)
def test_format_duration(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (timedelta(minutes=42), timedelta(hours=1), "−18 min (−30%)"),
        (timedelta(hours=2), timedelta(hours=1), "+1 h (+100%)"),
        (timedelta(minutes=42), None, "new"),
        (None, timedelta(minutes=42), "—"),
        (None, None, "—"),
        (timedelta(minutes=42, seconds=10), timedelta(minutes=42, seconds=50), "no change"),
    ],
)
def test_duration_change(
    current: timedelta | None, previous: timedelta | None, expected: str
) -> None:
    assert duration_change(current, previous) == expected


def test_figures_in_order_with_changes() -> None:
    newsletter = compose_newsletter(BASE)
    assert newsletter.figures == (
        Figure("Active members", "128", "+12 (+10%)"),
        Figure("New members", "20", "−5 (−20%)"),
        Figure("Messages", "4,200", "no change"),
        Figure("Questions asked", "52", "new"),
        Figure("Questions answered", "40", "no change"),
        Figure("Median first response", "42 min", "−18 min (−30%)"),
        Figure("Events hosted", "3", "no change"),
        Figure("Event attendance", "45", "+15 (+50%)"),
        Figure("Event RSVPs", "60", "no change"),
        Figure("Content shared", "4", "+2 (+100%)"),
        Figure("Referrals", "0", "no change"),
    )


def test_no_median_shows_a_dash() -> None:
    numbers = replace(NUMBERS, median_first_response=None)
    newsletter = compose_newsletter(replace(BASE, numbers=numbers))
    (median,) = [f for f in newsletter.figures if f.label == "Median first response"]
    assert median == Figure("Median first response", "—", "—")


# --------------------------------------------------------------------------------------------
# Daily series
# --------------------------------------------------------------------------------------------


def test_daily_series_fills_every_day_with_zeros() -> None:
    daily = {date(2026, 10, 3): 12, date(2026, 10, 31): 4, date(2026, 11, 1): 99}
    newsletter = compose_newsletter(replace(BASE, daily_messages=daily))
    assert len(newsletter.daily) == 31
    assert newsletter.daily[0] == (date(2026, 10, 1), 0)
    assert newsletter.daily[2] == (date(2026, 10, 3), 12)
    assert newsletter.daily[-1] == (date(2026, 10, 31), 4)
    assert sum(count for _, count in newsletter.daily) == 16


@pytest.mark.parametrize(
    ("zone", "month", "days", "last"),
    [
        ("Europe/Berlin", date(2026, 3, 1), 28, date(2026, 2, 28)),
        ("Europe/Berlin", date(2024, 3, 1), 29, date(2024, 2, 29)),
        ("Europe/Berlin", date(2026, 4, 1), 31, date(2026, 3, 31)),
        ("UTC", date(2026, 11, 1), 31, date(2026, 10, 31)),
        ("Pacific/Kiritimati", date(2026, 7, 1), 30, date(2026, 6, 30)),
    ],
)
def test_month_days(zone: str, month: date, days: int, last: date) -> None:
    tz = ZoneInfo(zone)
    period = monthly_period(datetime.combine(month, time(9), tzinfo=tz), tz)
    found = month_days(period)
    assert (len(found), found[-1]) == (days, last)
    assert found[0] == last.replace(day=1)


# --------------------------------------------------------------------------------------------
# Lists and naming
# --------------------------------------------------------------------------------------------


def test_top_contributors_skip_hidden_members_and_keep_top_n() -> None:
    top = [(1, 500), (2, 400), (3, 300), (4, 200), (5, 100), (6, 50), (7, 0)]
    newsletter = compose_newsletter(replace(BASE, top=top, hidden=frozenset({2}), top_n=4))
    assert newsletter.top == ((1, 500), (3, 300), (4, 200), (5, 100))


def test_hidden_authors_content_is_listed_without_naming_them() -> None:
    content = (
        ContentLink("Intro to [async] Python", "https://ex.com/a_(b)", "blog_post", 10),
        ContentLink("Talk", "https://ex.com/t", "video", 11),
    )
    newsletter = compose_newsletter(replace(BASE, content=content, hidden=frozenset({11})))
    assert newsletter.content == content
    hiding = compose_newsletter(
        replace(BASE, content=[replace(content[1], title="with <@11>")], hidden=frozenset({11}))
    )
    assert hiding.content[0].title == "with a member"
    assert newsletter.named == {10}
    embeds = render_newsletter(newsletter, chart_filename=None)
    (content_embed,) = [e for e in embeds if e.title == "Content shared this month"]
    assert content_embed.description == (
        "• [Intro to \\[async\\] Python](https://ex.com/a_%28b%29) (blog post) by <@10>\n"
        "• [Talk](https://ex.com/t) (video)"
    )
    assert 11 not in mentioned(embeds)


def test_render_newsletter_sections() -> None:
    starts = datetime(2026, 11, 5, 18, tzinfo=UTC)
    inputs = replace(
        BASE,
        top=[(1, 240), (2, 1)],
        arrivals=[TierArrival(3, "Champion", T0), TierArrival(4, "Regular", T0)],
        hidden=frozenset({4}),
        upcoming=[
            UpcomingEvent(9, "Later *event*", starts + timedelta(days=7)),
            UpcomingEvent(8, "Office hours", starts),
        ],
    )
    newsletter = compose_newsletter(inputs)
    assert newsletter.named == {1, 2, 3}
    embeds = render_newsletter(newsletter, chart_filename="activity-2026-10.png")
    assert [e.title for e in embeds] == [
        "Monthly newsletter · October 2026",
        "Highlights",
        "Coming up",
    ]
    numbers, highlights, upcoming = embeds
    assert numbers.image_url == "attachment://activity-2026-10.png"
    assert (numbers.fields[0].name, numbers.fields[0].value) == (
        "Active members",
        "**128**\n+12 (+10%)",
    )
    assert all(f.inline for f in numbers.fields)
    assert [(f.name, f.value) for f in highlights.fields] == [
        ("Top contributors", "1. <@1> — 240 points\n2. <@2> — 1 point"),
        ("New tier members", "<@3> reached **Champion**"),
    ]
    stamp = int(starts.timestamp())
    assert upcoming.description.split("\n") == [
        f"• **Office hours** — <t:{stamp}:F> (<t:{stamp}:R>)",
        f"• **Later \\*event\\*** — <t:{stamp + 7 * 86400}:F> (<t:{stamp + 7 * 86400}:R>)",
    ]
    assert mentioned(embeds) == newsletter.named


def test_a_quiet_month_still_has_its_numbers() -> None:
    embeds = render_newsletter(compose_newsletter(BASE), chart_filename=None)
    assert [e.title for e in embeds] == ["Monthly newsletter · October 2026"]
    assert embeds[0].image_url is None
    assert len(embeds[0].fields) == 11


def test_a_huge_newsletter_is_split_within_limits() -> None:
    content = [
        ContentLink(f"Piece {i} " + "t" * 80, f"https://ex.com/{i}", "blog", i) for i in range(300)
    ]
    newsletter = compose_newsletter(replace(BASE, content=content))
    embeds = render_newsletter(newsletter, chart_filename="c.png")
    assert all(embed_chars(e) <= EMBED_TOTAL_MAX and len(e.fields) <= FIELDS_MAX for e in embeds)
    assert mentioned(embeds) == set(range(300))


@pytest.mark.parametrize(
    ("title", "url", "expected"),
    [
        ("Plain", "https://ex.com", "[Plain](https://ex.com)"),
        ("a]b[c", "https://ex.com", "[a\\]b\\[c](https://ex.com)"),
        ("back\\slash", "https://ex.com", "[back\\\\slash](https://ex.com)"),
        ("  two\nlines ", " https://ex.com/a b ", "[two lines](https://ex.com/a%20b)"),
        ("", "https://ex.com", "[Untitled](https://ex.com)"),
    ],
)
def test_markdown_link(title: str, url: str, expected: str) -> None:
    assert markdown_link(title, url) == expected


def test_escape_markdown() -> None:
    assert escape_markdown("a*b_c~d`e|f") == "a\\*b\\_c\\~d\\`e\\|f"


@settings(max_examples=100, deadline=None)
@given(
    top=st.lists(st.tuples(st.integers(1, 9), st.integers(-5, 500)), max_size=10),
    authors=st.lists(st.integers(1, 9), max_size=10),
    arrivals=st.lists(st.integers(1, 9), max_size=6),
    hidden=st.frozensets(st.integers(1, 9)),
    titles=st.lists(st.integers(1, 9)).map(lambda ids: " ".join(f"<@{i}>" for i in ids)),
)
def test_hidden_members_are_never_named(
    top: list[tuple[int, int]],
    authors: list[int],
    arrivals: list[int],
    hidden: frozenset[int],
    titles: str,
) -> None:
    inputs = replace(
        BASE,
        top=top,
        content=[ContentLink(titles, "https://ex.com", "blog", a) for a in authors],
        arrivals=[TierArrival(u, "Regular", T0) for u in arrivals],
        hidden=hidden,
    )
    newsletter = compose_newsletter(inputs)
    embeds = render_newsletter(newsletter, chart_filename="c.png")
    assert not newsletter.named & hidden
    assert not {u for u, _ in newsletter.top} & hidden
    assert not mentioned(embeds) & hidden
