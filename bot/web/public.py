"""The pages anyone can read: the leaderboard, the ladder and the public roadmap.

They show members by the display name the bot last saw (never a mention, never an id), and
only what the Discord commands already show to everyone: opted-out and departed members are
left out of the leaderboard by the same query as /leaderboard, and so are members the members
table never saw (/leaderboard drops them as not in the server; here the table stands in for
the member list the web process does not have).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from aiohttp import web

from bot.core.feedback import Status
from bot.services.ladder_views import requirements
from bot.services.stats import PERIODS, Period
from bot.web.security import bad_request
from bot.web.state import state_of
from bot.web.templating import render

PAGE_SIZE: Final = 50
#: Deep pages cost an offset scan; nobody reads 200 pages of a leaderboard.
MAX_PAGE: Final = 200
DEFAULT_PERIOD: Final[Period] = "month"
PERIOD_TITLES: Final[Mapping[Period, str]] = {
    "week": "Last 7 days",
    "month": "Last 30 days",
    "all": "All time",
}
#: Shown for a member whose stored display name is empty.
UNNAMED: Final = "A community member"
#: Roadmap sections, in the order people care about them, and how many items each shows.
ROADMAP_ORDER: Final = (
    Status.IN_PROGRESS,
    Status.PLANNED,
    Status.OPEN,
    Status.SHIPPED,
    Status.DECLINED,
)
ROADMAP_LIMIT: Final = 50
#: Where a request's forum post opens in Discord (the app or the browser), to discuss and vote.
DISCORD_THREAD: Final = "https://discord.com/channels/{guild_id}/{thread_id}"

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Board:
    period: Period
    kind: str | None
    page: int
    """From 1, as the address shows it."""


def parse_board(query: Mapping[str, str], kinds: Sequence[str]) -> Board:
    """The leaderboard's filters from the query string, or a 400 saying what is wrong."""
    period = query.get("period", DEFAULT_PERIOD) or DEFAULT_PERIOD
    if period not in PERIODS:
        raise bad_request(f"Unknown period {period!r}: use one of {', '.join(PERIODS)}.")
    kind = query.get("kind", "") or None
    if kind is not None and kind not in kinds:
        raise bad_request(f"Unknown kind {kind!r}: use one of {', '.join(kinds)}.")
    raw_page = query.get("page", "1") or "1"
    wanted = f"The page must be a whole number from 1 to {MAX_PAGE}"
    if not raw_page.isascii() or not raw_page.isdigit():
        raise bad_request(f"{wanted}; got {raw_page!r}.")
    page = int(raw_page)
    if not 1 <= page <= MAX_PAGE:
        raise bad_request(f"{wanted}; got {page}.")
    return Board(period, kind, page)


def board_link(board: Board, page: int) -> str:
    query: dict[str, str | int] = {"period": board.period}
    if board.kind:
        query["kind"] = board.kind
    if page > 1:
        query["page"] = page
    return "/leaderboard?" + urlencode(query)


#: Seconds the web's leaderboard may be behind the ledger: everyone loading it shares one
#: computation a minute instead of grouping millions of rows per page (bench/web.py).
LEADERBOARD_MAX_AGE = 60.0


@routes.get("/", name="home")
@routes.get("/leaderboard", name="leaderboard")
async def leaderboard(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    services = state.services
    kinds = services.settings.kinds
    keys = kinds.keys()
    board = parse_board(request.query, keys)
    shown = await services.stats.leaderboard(
        board.period,
        board.kind,
        board.page - 1,
        page_size=PAGE_SIZE,
        known_only=True,
        max_age=LEADERBOARD_MAX_AGE,
    )
    names = await services.members.display_names([row.user_id for row in shown.rows])
    rows = [
        {
            "rank": row.rank,
            "name": names.get(row.user_id, UNNAMED),
            "points": row.points,
            "count": row.count,
        }
        for row in shown.rows
    ]
    return await render(
        request,
        "leaderboard.html",
        {
            "board": board,
            "rows": rows,
            "periods": [(p, PERIOD_TITLES[p]) for p in PERIODS],
            "period_title": PERIOD_TITLES[board.period],
            "kinds": [(key, kinds.label(key)) for key in keys],
            "kind_label": kinds.label(board.kind) if board.kind else None,
            "previous": board_link(board, board.page - 1) if board.page > 1 else None,
            "next": board_link(board, board.page + 1)
            if shown.has_more and board.page < MAX_PAGE
            else None,
        },
    )


@routes.get("/ladder", name="ladder")
async def ladder(request: web.Request) -> web.StreamResponse:
    services = state_of(request).services
    settings = services.settings
    seats = await services.ladder.seats_taken() if settings.tiers else {}
    tiers = [
        {
            "number": number,
            "name": tier.name,
            "requirements": requirements(tier, settings.kinds),
            "benefits": tier.benefits,
            "commitment": tier.commitment,
            "resources": tier.resources,
            "held": seats.get(tier.key, 0),
            "seats": tier.seats,
            "free": None if tier.seats is None else max(tier.seats - seats.get(tier.key, 0), 0),
        }
        for number, tier in enumerate(settings.tiers, start=1)
    ]
    return await render(request, "ladder.html", {"tiers": tiers})


@routes.get("/roadmap", name="roadmap")
async def roadmap(request: web.Request) -> web.StreamResponse:
    services = state_of(request).services
    feedback = services.feedback
    sections = []
    if feedback.enabled:
        for status in ROADMAP_ORDER:
            ranked = await feedback.top(status=status, limit=ROADMAP_LIMIT)
            items = [
                {
                    "title": item.title,
                    "area": item.area,
                    "votes": item.votes,
                    "link": DISCORD_THREAD.format(
                        guild_id=services.guild_id, thread_id=item.thread_id
                    ),
                }
                for item in ranked
            ]
            sections.append({"status": status, "title": status.tag, "items": items})
    return await render(
        request, "roadmap.html", {"enabled": feedback.enabled, "sections": sections}
    )
