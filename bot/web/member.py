"""A signed-in member's own pages: progress, history, data export and privacy switches.

The same services as ``/profile`` (``StatsService.profile`` and ``ladder_views.outlook``),
``/privacy export`` (``PrivacyService.export``) and ``/privacy optout``/``updates``
(``MembersService``), so the web and Discord never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from bot.config import Settings
from bot.core.ladder import Criterion
from bot.services.ladder_views import outlook
from bot.services.privacy import encode
from bot.services.stats import PERIODS
from bot.web.accounts import checked_form, member_of, see_other
from bot.web.security import bad_request
from bot.web.state import state_of
from bot.web.templating import render

PERIOD_TITLES: Final = {"week": "Last 7 days", "month": "Last 30 days", "all": "All time"}
MAX_PAGE: Final = 1000

routes = web.RouteTableDef()


def tier_name(settings: Settings, key: str | None) -> str:
    if key is None:
        return "no tier"
    for tier in settings.tiers:
        if tier.key == key:
            return tier.name
    return key


@dataclass(frozen=True)
class CriterionLine:
    text: str
    met: bool


def lines(criteria: Iterable[Criterion]) -> list[CriterionLine]:
    """Criteria as the page shows them: the words, and met or not (the page draws the mark)."""
    return [CriterionLine(c.describe().rstrip(" ✓✗"), c.met) for c in criteria]


def page_number(raw: str | None) -> int:
    """``?page=`` from 1 (as shown) to the 0-based page the services take, or a 400."""
    raw = raw or "1"
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise bad_request(f"The page must be a whole number from 1 to {MAX_PAGE}; got {raw!r}.")
    return int(raw) - 1


@routes.get("/me")
async def me(request: web.Request) -> web.StreamResponse:
    visitor = member_of(request)
    services = state_of(request).services
    settings = services.settings
    profile = await services.stats.profile(visitor.user_id)
    view = await outlook(services.ladder, visitor.user_id)
    progress = view.progress if view is not None else None
    totals = [
        {
            "title": PERIOD_TITLES[period],
            "points": profile.points(period),
            "active_days": profile.active_days[period],
        }
        for period in PERIODS
    ]
    kinds = [
        {
            "label": settings.kinds.label(kind),
            "counts": [profile.totals[p][kind].count if kind in profile.totals[p] else 0
                       for p in PERIODS],
        }
        for kind in profile.kinds
    ]  # fmt: skip
    return await render(
        request,
        "me.html",
        {
            "tier": profile.tier_name,
            "tier_since": profile.tier_since,
            "totals": totals,
            "period_titles": [PERIOD_TITLES[p] for p in PERIODS],
            "kinds": kinds,
            "has_tiers": bool(settings.tiers),
            "next_tier": tier_name(settings, progress.next) if progress and progress.next else None,
            "criteria": lines(progress.criteria if progress else ()),
            "missing": len(progress.missing) if progress else 0,
            "at_risk": bool(progress and progress.at_risk),
            "due": progress.demotion_due_at if progress else None,
            "below": lines(view.below if view else ()),
        },
    )


@routes.get("/me/history")
async def history(request: web.Request) -> web.StreamResponse:
    visitor = member_of(request)
    services = state_of(request).services
    page = await services.audit.member_history(
        visitor.user_id, page_number(request.query.get("page"))
    )
    kinds = services.settings.kinds
    return await render(
        request,
        "history.html",
        {
            "page": page,
            "lines": [
                {
                    "when": line.occurred_at,
                    "kind": kinds.label(line.kind),
                    "points": line.points,
                    "reason": line.reason or "",
                    "by": page.name(line.actor_id) if line.actor_id is not None else "",
                    "correction": line.reverses_id is not None,
                }
                for line in page.lines
            ],
        },
    )


@routes.get("/me/export")
async def export(request: web.Request) -> web.StreamResponse:
    """The same JSON file as ``/privacy export``, downloaded."""
    visitor = member_of(request)
    document = await state_of(request).services.privacy.export(visitor.user_id)
    return web.Response(
        body=encode(document),
        content_type="application/json",
        charset="utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="flywheel-my-data.json"',
            "Cache-Control": "private, no-store",
        },
    )


@routes.get("/me/privacy")
async def privacy(request: web.Request) -> web.StreamResponse:
    visitor = member_of(request)
    preferences = await state_of(request).services.members.preferences(visitor.user_id)
    return await render(
        request,
        "privacy.html",
        {"preferences": preferences, "saved": request.query.get("saved") == "1"},
    )


@routes.post("/me/privacy")
async def save_privacy(request: web.Request) -> web.StreamResponse:
    visitor, form = await checked_form(request)
    members = state_of(request).services.members
    name = visitor.name if visitor.name != "you" else ""
    # A checkbox is sent only when ticked: "named" ticked means named in recognition posts.
    await members.set_recognition_opt_out(visitor.user_id, "named" not in form, name=name)
    await members.set_feedback_updates_opt_out(visitor.user_id, "updates" not in form, name=name)
    return see_other("/me/privacy?saved=1")
