"""The monthly newsletter: the month in numbers, its highlights, its content and what's next.

Every figure is shown with its change against the previous month, worded so a glance tells the
story ("+12 (+10%)", "−3 (−20%)", "new", "no change"). The daily activity series covers every day
of the month, quiet days included, so the chart never skips a gap. Members who opted out or left
are never named: their content is still listed, without the author.

Pure: the service gathers the numbers, this module shapes and renders them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final

from bot.core.embeds import EmbedField, EmbedSpec, fit, line_fields
from bot.core.periods import Period
from bot.core.recognition import TierArrival, mention, scrub_mentions, visible_arrivals

__all__ = [
    "ContentLink",
    "Figure",
    "MonthNumbers",
    "Newsletter",
    "NewsletterInputs",
    "UpcomingEvent",
    "change",
    "compose_newsletter",
    "duration_change",
    "escape_markdown",
    "format_duration",
    "markdown_link",
    "month_days",
    "render_newsletter",
]

NEWSLETTER_COLOR: Final = 0x5865F2
MINUS: Final = "−"  # a real minus sign, not a hyphen
NO_DATA: Final = "—"


@dataclass(frozen=True)
class MonthNumbers:
    active_members: int
    new_members: int
    messages: int
    questions_asked: int
    questions_answered: int
    median_first_response: timedelta | None
    events_hosted: int
    event_attendance: int
    event_rsvps: int
    content_pieces: int
    referrals: int


@dataclass(frozen=True)
class ContentLink:
    title: str
    url: str
    kind: str
    author_id: int


@dataclass(frozen=True)
class ShippedRequest:
    """A member's product request shipped this month ("You asked, we shipped")."""

    title: str
    author_id: int
    votes: int
    thread_id: int | None


@dataclass(frozen=True)
class UpcomingEvent:
    event_id: int
    name: str
    starts_at: datetime


@dataclass(frozen=True)
class NewsletterInputs:
    period: Period
    numbers: MonthNumbers
    previous: MonthNumbers
    content: Sequence[ContentLink]
    arrivals: Sequence[TierArrival]
    #: (user_id, net points), best first; may include hidden members.
    top: Sequence[tuple[int, int]]
    hidden: frozenset[int]
    upcoming: Sequence[UpcomingEvent]
    #: Messages per local day; missing days are zero.
    daily_messages: Mapping[date, int]
    top_n: int = 5
    shipped: Sequence[ShippedRequest] = ()


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    #: Against the previous month: "+12 (+10%)", "−3 (−20%)", "new", "no change" or "—".
    change: str


@dataclass(frozen=True)
class Newsletter:
    period: Period
    figures: tuple[Figure, ...]
    #: All content of the month; hidden authors are kept out of :attr:`named` and the text,
    #: and mentions of hidden members in titles are replaced.
    content: tuple[ContentLink, ...]
    arrivals: tuple[TierArrival, ...]
    top: tuple[tuple[int, int], ...]
    upcoming: tuple[UpcomingEvent, ...]
    #: Every day of the period's month, in order.
    daily: tuple[tuple[date, int], ...]
    #: Everyone the newsletter names (for allowed mentions); a content author is named only
    #: when in here, which is how hidden authors stay unnamed.
    named: frozenset[int]
    #: Requests shipped this month; authors are named as content authors are.
    shipped: tuple[ShippedRequest, ...] = ()


# --------------------------------------------------------------------------------------------
# Composing
# --------------------------------------------------------------------------------------------

_COUNTED: Final = (
    ("Active members", "active_members"),
    ("New members", "new_members"),
    ("Messages", "messages"),
    ("Questions asked", "questions_asked"),
    ("Questions answered", "questions_answered"),
    ("Events hosted", "events_hosted"),
    ("Event attendance", "event_attendance"),
    ("Event RSVPs", "event_rsvps"),
    ("Content shared", "content_pieces"),
    ("Referrals", "referrals"),
)


def compose_newsletter(inputs: NewsletterInputs) -> Newsletter:
    """The newsletter's figures and lists, with hidden members left out."""
    hidden = inputs.hidden
    figures = [_figure(label, attr, inputs.numbers, inputs.previous) for label, attr in _COUNTED]
    current_median = inputs.numbers.median_first_response
    figures.insert(
        5,
        Figure(
            label="Median first response",
            value=NO_DATA if current_median is None else format_duration(current_median),
            change=duration_change(current_median, inputs.previous.median_first_response),
        ),
    )
    top = tuple(
        (user_id, points) for user_id, points in inputs.top if user_id not in hidden and points > 0
    )[: max(inputs.top_n, 0)]
    arrivals = visible_arrivals(inputs.arrivals, hidden)
    # Titles are free text: a title can't name a hidden member either.
    content = tuple(replace(c, title=scrub_mentions(c.title, hidden)) for c in inputs.content)
    named = {user_id for user_id, _ in top}
    named.update(arrival.user_id for arrival in arrivals)
    named.update(link.author_id for link in content if link.author_id not in hidden)
    shipped = tuple(
        replace(r, title=scrub_mentions(r.title, hidden))
        for r in sorted(inputs.shipped, key=lambda r: -r.votes)
    )
    named.update(r.author_id for r in shipped if r.author_id > 0 and r.author_id not in hidden)
    return Newsletter(
        period=inputs.period,
        figures=tuple(figures),
        content=content,
        arrivals=arrivals,
        top=top,
        upcoming=tuple(sorted(inputs.upcoming, key=lambda e: (e.starts_at, e.event_id))),
        daily=tuple((day, inputs.daily_messages.get(day, 0)) for day in month_days(inputs.period)),
        named=frozenset(named),
        shipped=shipped,
    )


def month_days(period: Period) -> list[date]:
    """Every local date the period covers: from its start's date to the day before its end."""
    first = period.start.date()
    last = (period.end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _figure(label: str, attr: str, numbers: MonthNumbers, previous: MonthNumbers) -> Figure:
    current: int = getattr(numbers, attr)
    before: int = getattr(previous, attr)
    return Figure(label=label, value=f"{current:,}", change=change(current, before))


def change(current: int, previous: int) -> str:
    """``+12 (+10%)``, ``−3 (−20%)``, ``new`` (from zero) or ``no change``."""
    if current == previous:
        return "no change"
    if previous == 0:
        return "new"
    diff = current - previous
    sign = "+" if diff > 0 else MINUS
    return f"{sign}{abs(diff):,} ({_percent(sign, abs(diff), abs(previous))})"


def duration_change(current: timedelta | None, previous: timedelta | None) -> str:
    """How the median first response moved: ``−12 min (−20%)`` is faster than last month."""
    if current is None:
        return NO_DATA
    if previous is None or previous <= timedelta(0):
        return "new"
    if format_duration(current) == format_duration(previous):
        return "no change"
    diff = current - previous
    sign = "+" if diff > timedelta(0) else MINUS
    seconds = abs(diff.total_seconds())
    return (
        f"{sign}{format_duration(abs(diff))} ({_percent(sign, seconds, previous.total_seconds())})"
    )


def _percent(sign: str, diff: float, previous: float) -> str:
    value = int(diff * 100 / previous + 0.5)
    return "<1%" if value == 0 else f"{sign}{value:,}%"


def format_duration(td: timedelta) -> str:
    """``45 s``, ``42 min``, ``3 h 5 min``, ``2 d 4 h``: two units at most, rounded down."""
    seconds = max(0, int(td.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" if minutes == 0 else f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d" if hours == 0 else f"{days} d {hours} h"


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def render_newsletter(newsletter: Newsletter, *, chart_filename: str | None) -> list[EmbedSpec]:
    """The newsletter as embeds: numbers (with the chart), highlights, content, upcoming events.

    Sections with nothing in them are left out; the numbers are always there.
    """
    label = newsletter.period.label
    numbers = EmbedSpec(
        title=f"Monthly newsletter · {label}",
        description=f"Here's how {label} went, in numbers (change against the month before):",
        fields=tuple(
            field
            for figure in newsletter.figures
            for field in line_fields(
                figure.label, [f"**{figure.value}**", figure.change], inline=True
            )
        ),
        image_url=None if chart_filename is None else f"attachment://{chart_filename}",
        color=NEWSLETTER_COLOR,
    )
    specs = [numbers]

    highlights: list[EmbedField] = []
    if newsletter.top:
        highlights += line_fields(
            "Top contributors",
            [
                f"{rank}. {mention(user_id)} — {points:,} {'point' if points == 1 else 'points'}"
                for rank, (user_id, points) in enumerate(newsletter.top, start=1)
            ],
        )
    if newsletter.arrivals:
        highlights += line_fields(
            "New tier members",
            [
                f"{mention(a.user_id)} reached **{escape_markdown(a.tier_name)}**"
                for a in newsletter.arrivals
            ],
        )
    if highlights:
        specs.append(
            EmbedSpec(
                title="Highlights",
                description="Thank you to everyone who made this month happen!",
                fields=tuple(highlights),
                color=NEWSLETTER_COLOR,
            )
        )

    if newsletter.content:
        specs.append(
            EmbedSpec(
                title="Content shared this month",
                description="\n".join(
                    _content_line(c, newsletter.named) for c in newsletter.content
                ),
                color=NEWSLETTER_COLOR,
            )
        )

    if newsletter.shipped:
        specs.append(
            EmbedSpec(
                title="You asked, we shipped",
                description="\n".join(
                    _shipped_line(r, newsletter.named) for r in newsletter.shipped
                ),
                color=NEWSLETTER_COLOR,
            )
        )

    if newsletter.upcoming:
        specs.append(
            EmbedSpec(
                title="Coming up",
                description="\n".join(_event_line(e) for e in newsletter.upcoming),
                color=NEWSLETTER_COLOR,
            )
        )
    return [embed for spec in specs for embed in fit(spec)]


def _content_line(link: ContentLink, named: frozenset[int]) -> str:
    kind = escape_markdown(link.kind.strip().replace("_", " "))
    parts = [f"• {markdown_link(link.title, link.url)}"]
    if kind:
        parts.append(f" ({kind})")
    if link.author_id in named:
        parts.append(f" by {mention(link.author_id)}")
    return "".join(parts)


def _shipped_line(request: ShippedRequest, named: frozenset[int]) -> str:
    parts = [f"• **{escape_markdown(_one_line(request.title))}**"]
    if request.author_id in named:
        parts.append(f", asked by {mention(request.author_id)}")
    if request.votes:
        parts.append(f" ({request.votes} {'vote' if request.votes == 1 else 'votes'})")
    if request.thread_id:
        parts.append(f" <#{request.thread_id}>")
    return "".join(parts)


def _event_line(event: UpcomingEvent) -> str:
    stamp = int(event.starts_at.timestamp())
    name = escape_markdown(_one_line(event.name)) or "Untitled event"
    return f"• **{name}** — <t:{stamp}:F> (<t:{stamp}:R>)"


_MARKDOWN: Final = re.compile(r"([\\*_~`|>\[\]])")


def escape_markdown(text: str) -> str:
    """``text`` with Discord Markdown characters escaped, so a name renders as written."""
    return _MARKDOWN.sub(r"\\\1", text)


def markdown_link(title: str, url: str) -> str:
    """``[title](url)`` that survives brackets in the title and parentheses in the URL."""
    text = _one_line(title) or "Untitled"
    text = re.sub(r"([\\\[\]])", r"\\\1", text)
    target = re.sub(r"\s", "%20", url.strip()).replace("(", "%28").replace(")", "%29")
    return f"[{text}]({target})"


def _one_line(text: str) -> str:
    return " ".join(text.split())
