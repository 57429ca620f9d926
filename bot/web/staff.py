"""Staff pages: program health with charts, the review queues, the ladder what-if, the audit log.

Rights are checked on every request against the member's roles now (``staff_of``). Deciding
a nomination or a submission calls the same code as the card's buttons: in the bot's process
the review desk (:meth:`~bot.review_card.ReviewDesk.decide_off_discord`: the service, then the
card and the DM); in a standalone web process the same services, and a record of the decision
that the bot's process picks up to update the card, DM and give the role (``cogs/dashboard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from bot.config import ConfigError
from bot.core.health import HealthReport, Metric
from bot.core.svg import Series, bar_chart, line_chart
from bot.errors import UserFacingError
from bot.services.container import Services
from bot.services.ladder_views import SECTIONS, TITLES, tiers_as_toml, what_if, with_tiers_from_toml
from bot.web.accounts import accounts_of, checked_form, see_other, staff_of
from bot.web.member import page_number, tier_name
from bot.web.security import bad_request
from bot.web.state import state_of
from bot.web.templating import render

#: Largest what-if text accepted (a ladder is a few kilobytes).
MAX_TOML: Final = 50_000
#: Metrics drawn as "previous month vs this month" bars, in this order.
CHARTED: Final = (
    "content_per_tier_member",
    "referral_retention_30d_percent",
    "nps",
    "referrals_credited",
    "median_first_response_minutes",
    "questions_answered_percent",
)
QUEUE_LIMIT: Final = 100

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Outcome:
    status: str
    decided_now: bool


async def decide(
    request: web.Request, key: str, record_id: int, moderator_id: int, *, approve: bool,
    reason: str,
) -> Outcome:  # fmt: skip
    """The decision through the bot's review desk if this process has one, else the service."""
    accounts = accounts_of(request)
    if accounts.decide is not None:
        status, now = await accounts.decide(
            key, record_id, moderator_id, approve=approve, reason=reason
        )
        return Outcome(status, now)
    services = state_of(request).services
    if key == "nomination":
        n = (
            await services.nominations.approve(record_id, moderator_id)
            if approve
            else await services.nominations.reject(record_id, moderator_id, reason)
        )
        outcome = Outcome(n.nomination.status, n.decided_now)
    else:
        c = (
            await services.content.approve(record_id, moderator_id)
            if approve
            else await services.content.reject(record_id, moderator_id, reason)
        )
        outcome = Outcome(c.submission.status, c.decided_now)
    if outcome.decided_now:
        # No Discord here: the bot's process shows it on the card, DMs, gives the role.
        await services.web_decisions.record(key, record_id, moderator_id)
    return outcome


@routes.get("/staff")
async def index(request: web.Request) -> web.StreamResponse:
    visitor = staff_of(request)
    return await render(request, "staff_index.html", {"moderator": visitor.rights.moderator})


# ---------------------------------------------------------------------------------- queues
def _record_id(request: web.Request) -> int:
    raw = request.match_info["record_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise bad_request(f"{raw!r} is not a record number.")
    return int(raw)


async def _queue_page(
    request: web.Request, kind: str, *, problem: str = "", status: int = 200
) -> web.StreamResponse:
    staff_of(request, moderators_only=True)
    services = state_of(request).services
    names: dict[int, str]
    if kind == "nomination":
        items: list[Any] = (await services.nominations.listing("pending"))[:QUEUE_LIMIT]
        people = {n.nominee_id for n in items} | {n.nominated_by for n in items}
    else:
        items = await services.content.pending(QUEUE_LIMIT)
        people = {s.author_id for s in items}
    names = await services.members.display_names(list(people))
    done = request.query.get("done", "")
    return await render(
        request,
        "staff_queue.html",
        {
            "kind": kind,
            "title": "Nominations to review" if kind == "nomination" else "Content to review",
            "action": "/staff/nominations" if kind == "nomination" else "/staff/content",
            "items": items,
            "names": names,
            "done": done,
            "problem": problem,
            "kinds": services.settings.kinds,
        },
        status=status,
    )


async def _decide_from_form(request: web.Request, kind: str) -> web.StreamResponse:
    visitor, form = await checked_form(request)
    staff_of(request, moderators_only=True)
    record_id = _record_id(request)
    action = str(form.get("action", ""))
    if action not in ("approve", "reject"):
        raise bad_request("Choose Approve or Reject.")
    reason = str(form.get("reason", "")).strip()
    try:
        outcome = await decide(
            request, kind, record_id, visitor.user_id, approve=action == "approve", reason=reason
        )
    except UserFacingError as exc:
        return await _queue_page(request, kind, problem=str(exc), status=400)
    if not outcome.decided_now:
        message = f"#{record_id} was already {outcome.status} by someone else."
        return await _queue_page(request, kind, problem=message, status=409)
    base = "/staff/nominations" if kind == "nomination" else "/staff/content"
    return see_other(f"{base}?done={record_id}-{outcome.status}")


@routes.get("/staff/nominations")
async def nominations(request: web.Request) -> web.StreamResponse:
    return await _queue_page(request, "nomination")


@routes.post("/staff/nominations/{record_id}")
async def decide_nomination(request: web.Request) -> web.StreamResponse:
    return await _decide_from_form(request, "nomination")


@routes.get("/staff/content")
async def content(request: web.Request) -> web.StreamResponse:
    return await _queue_page(request, "content")


@routes.post("/staff/content/{record_id}")
async def decide_content(request: web.Request) -> web.StreamResponse:
    return await _decide_from_form(request, "content")


# ---------------------------------------------------------------------------------- health
@dataclass(frozen=True)
class Chart:
    caption: str
    svg: str


def health_charts(report: HealthReport) -> list[Chart]:
    """The report's trends as SVG: 8 weeks of engagement, each charted metric against the
    month before (with its target), and promotion cohorts' six-month retention."""
    charts = []
    weeks = report.weeks
    title = "Engagement, week by week"
    charts.append(
        Chart(
            f"{title} (ISO weeks, {weeks[0].label} to {weeks[-1].label})" if weeks else title,
            line_chart(
                "weeks",
                title,
                [week.key.rsplit("-", 1)[-1] for week in weeks],
                [
                    Series("Active members", [week.active_members for week in weeks]),
                    Series("Contributors", [week.contributors for week in weeks]),
                ],
            ),
        )
    )
    by_key = {metric.key: metric for metric in report.metrics}
    for key in CHARTED:
        metric = by_key.get(key)
        if metric is not None:
            charts.append(_metric_chart(metric))
    cohorts = list(reversed(report.cohorts))  # oldest first, as time reads
    if cohorts:
        title = "Promotion cohorts still active six months later"
        charts.append(
            Chart(
                f"{title} (target {report.retention_target.label})",
                bar_chart(
                    "cohorts",
                    title,
                    [cohort.month_label for cohort in cohorts],
                    [Series("Active 6 months on", [cohort.percent for cohort in cohorts])],
                    unit="%",
                    target=report.retention_target.minimum,
                ),
            )
        )
    return charts


def _metric_chart(metric: Metric) -> Chart:
    unit = metric.target.unit if metric.target is not None else ""
    caption = metric.title
    if metric.target is not None:
        caption += f" (target {metric.target.label})"
    return Chart(
        caption,
        bar_chart(
            f"metric-{metric.key}",
            metric.title,
            [metric.previous.period, metric.current.period],
            [Series(metric.title, [metric.previous.value, metric.current.value])],
            unit=unit,
            target=metric.target.minimum if metric.target is not None else None,
        ),
    )


#: Seconds the health page may be behind the ledger: its trends move by the week, and every
#: staff member loading it shares one computation (bench/web.py).
HEALTH_MAX_AGE = 300.0


@routes.get("/staff/health")
async def health(request: web.Request) -> web.StreamResponse:
    staff_of(request)
    report = await state_of(request).services.health.report(max_age=HEALTH_MAX_AGE)
    return await render(
        request, "staff_health.html", {"report": report, "charts": health_charts(report)}
    )


@routes.get("/staff/health.csv")
async def health_csv(request: web.Request) -> web.StreamResponse:
    staff_of(request)
    _, text, name = await state_of(request).services.health.export()
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------------------------- ladder
async def _ladder_page(
    request: web.Request, services: Services, text: str, *, tried: bool
) -> web.StreamResponse:
    problems: list[str] = []
    sections: list[dict[str, Any]] = []
    evaluated = 0
    if tried:
        try:
            trial = with_tiers_from_toml(services.settings, text)
        except ConfigError as exc:
            problems = [str(problem) for problem in exc.problems]
        else:
            report = await what_if(services.ladder, trial)
            evaluated = report.evaluated
            names = await services.members.display_names([e.user_id for e in report.entries])
            for name in SECTIONS:
                entries = report.section(name)
                sections.append(
                    {
                        "title": TITLES[name],
                        "entries": [
                            {
                                "name": names.get(e.user_id, str(e.user_id)),
                                "from": tier_name(trial, e.decision.from_tier),
                                "to": tier_name(trial, e.decision.to_tier),
                                "move": e.decision.action in ("promote", "demote"),
                                "reason": e.decision.reasons[0] if e.decision.reasons else "",
                            }
                            for e in entries
                        ],
                    }
                )
    return await render(
        request,
        "staff_ladder.html",
        {
            "text": text,
            "tried": tried,
            "problems": problems,
            "sections": sections,
            "evaluated": evaluated,
        },
        status=400 if problems else 200,
    )


@routes.get("/staff/ladder")
async def ladder(request: web.Request) -> web.StreamResponse:
    staff_of(request)
    services = state_of(request).services
    return await _ladder_page(request, services, tiers_as_toml(services.settings), tried=False)


@routes.post("/staff/ladder")
async def try_ladder(request: web.Request) -> web.StreamResponse:
    _, form = await checked_form(request)
    staff_of(request)
    text = str(form.get("tiers", ""))
    if len(text) > MAX_TOML:
        raise bad_request(f"The tiers are too long to try ({len(text):,} characters).")
    return await _ladder_page(request, state_of(request).services, text, tried=True)


# ---------------------------------------------------------------------------------- audit
@routes.get("/staff/audit")
async def audit(request: web.Request) -> web.StreamResponse:
    staff_of(request)
    services = state_of(request).services
    page = page_number(request.query.get("page"))
    changes = await services.audit.tier_changes(page)
    credits = await services.audit.manual_credits(page)
    settings = services.settings
    return await render(
        request,
        "staff_audit.html",
        {
            "page": page,
            "has_next": changes.has_next or credits.has_next,
            "changes": [
                {
                    "when": c.created_at,
                    "member": changes.name(c.user_id),
                    "from": tier_name(settings, c.from_tier),
                    "to": tier_name(settings, c.to_tier),
                    "reason": c.reason,
                    "by": changes.name(c.actor_id),
                }
                for c in changes.lines
            ],
            "credits": [
                {
                    "when": c.occurred_at,
                    "member": credits.name(c.user_id),
                    "kind": settings.kinds.label(c.kind),
                    "points": c.points,
                    "reason": c.reason or "",
                    "by": credits.name(c.actor_id),
                    "removal": c.reverses_id is not None,
                }
                for c in credits.lines
            ],
        },
    )
