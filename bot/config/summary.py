"""The human summary ``check-config`` prints: what the bot will do with this config.

It reads only validated settings, masks the database password and never shows the token.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config.schema import Config, Settings, TierConfig
from bot.core.kinds import KindTable


def _ids(values: Sequence[int]) -> str:
    return ", ".join(str(value) for value in values) if values else "none"


def _tier_requirements(tier: TierConfig, kinds: KindTable) -> str:
    needs: list[str] = []
    if tier.min_points:
        needs.append(f"{tier.min_points} points")
    needs.extend(
        kinds.count_phrase(kind, count) for kind, count in tier.min_counts.items() if count
    )
    if tier.min_active_weeks:
        needs.append(f"active in {tier.min_active_weeks} weeks")
    text = f"in the last {tier.window_days} days: " + (", ".join(needs) or "nothing")
    extras: list[str] = []
    if tier.min_tenure_days:
        extras.append(f"member for {tier.min_tenure_days}+ days")
    if tier.nomination_required:
        extras.append("nomination required")
    extras.append(f"seats: {tier.seats if tier.seats is not None else 'unlimited'}")
    return f"{text}; " + "; ".join(extras)


def summarize(config: Config) -> str:
    """A human summary of ``config`` for ``check-config``. Never includes the token."""
    s = config.settings
    d, ch, sch, act, lad = s.discord, s.channels, s.schedule, s.activity, s.ladder
    token_state = "set (hidden)" if config.token is not None else "NOT SET"
    newsletter = f"{ch.newsletter}" + (
        " (same as announcements)" if ch.newsletter == ch.announcements else ""
    )
    quarter = sch.quarterly_awards
    lines = [
        f"Config file:   {config.source}",
        f"Guild:         {d.guild_id}",
        f"Token:         {token_state} (environment variable {d.token_env})",
        f"Discord API:   {d.api_base}; gateway {d.gateway_url or 'Discord default'}; "
        f"sync commands {'on' if d.sync_commands else 'off'}",
        f"Database:      {s.database.url_masked} "
        f"(auto-migrate {'on' if s.database.auto_migrate else 'off'}"
        f"{', echo SQL' if s.database.echo else ''})",
        f"Logging:       {s.logging.level}" + (f" to {s.logging.file}" if s.logging.file else ""),
        f"Timezone:      {sch.timezone}",
        f"Schedule:      weekly recognition {sch.weekly_recognition}; newsletter on day "
        f"{sch.newsletter.day} at {sch.newsletter.time:%H:%M}; quarterly awards on day "
        f"{quarter.day} of Jan/Apr/Jul/Oct at {quarter.time:%H:%M}; "
        f"catch up missed posts within {sch.catch_up_grace_days} days",
        f"Daily jobs:    ladder sweep {sch.ladder_sweep:%H:%M}, buddy settlement "
        f"{sch.buddy_settlement:%H:%M}, retention {sch.retention:%H:%M}, group nudges "
        f"{sch.group_nudges:%H:%M}",
        "Channels:",
        f"  announcements  {ch.announcements}",
        f"  newsletter     {newsletter}",
        f"  review         {ch.review}",
        f"  mod_log        {ch.mod_log}",
        f"  help_forums    {_ids(ch.help_forums)}",
        f"  help_channels  {_ids(ch.help_channels)}",
        f"Moderators:    members with Manage Server; roles {_ids(s.roles.moderators)}",
        f"Activity:      cooldown {act.cooldown_seconds}s, min length {act.min_length}, "
        f"uncount deletions within {act.uncount_deleted_within_seconds}s, flush every "
        f"{act.flush_interval_seconds}s; ignored channels {_ids(act.ignored_channels)}; "
        f"ignored categories {_ids(act.ignored_categories)}",
        "Points:        "
        + ", ".join(f"{row.key} {s.points_for(row.key)}" for row in s.kinds.credited_by("feature")),
        *_own_kinds(s),
        f"Thanks:        {s.thanks.per_pair_per_day} per member pair and {s.thanks.daily_cap} "
        f"per giver a day; receiver must have posted there within {s.thanks.recent_post_hours}h",
        f"Answers:       solved tags {', '.join(s.answers.solved_tags) or 'none'}",
        f"Events:        attendance after {s.events.min_minutes} min; hosts credited with at "
        f"least {s.events.min_attendees} attendees",
        f"Referrals:     credited after {s.referrals.min_days} days with "
        f"{s.referrals.min_active_days} active day(s), within {s.referrals.grace_days} days",
    ]
    if s.tiers:
        lines.append("Tiers (lowest first):")
        for number, tier in enumerate(s.tiers, start=1):
            lines.append(f"  {number}. {tier.name} [{tier.key}] role {tier.role_id}")
            lines.append(f"     {_tier_requirements(tier, s.kinds)}")
    else:
        lines.append("Tiers:         none configured")
    rec, news = s.recognition, s.newsletter
    lines.append(
        f"Recognition:   top {rec.top_per_category} per category; spotlight from nominations, "
        f"else {rec.spotlight_min_points}+ points over {rec.spotlight_lookback_weeks} weeks, "
        f"nobody twice within {rec.spotlight_cooldown_weeks} weeks"
    )
    lines.append(
        f"Newsletter:    top {news.top_contributors} contributors; events in the next "
        f"{news.upcoming_days} days; chart {'on' if news.chart else 'off'}; DMs to subscribed "
        + (f"tier members every {news.dm_pace_seconds}s" if news.dm_subscribers else "off")
    )
    if s.rituals:
        lines.append("Rituals:")
        for ritual in s.rituals:
            where = ritual.channel if ritual.channel is not None else "announcements"
            thread = f", thread '{ritual.thread_name}'" if ritual.thread_name else ""
            lines.append(f"  {ritual.key}: {ritual.when} in {where}{thread}: {ritual.title}")
    else:
        lines.append("Rituals:       none configured")
    lines.append(
        f"Ladder:        {'stack tier roles' if lad.stack_roles else 'current tier role only'}; "
        f"low-water {lad.low_water_ratio:.0%}; demotion grace {lad.demotion_grace_days} days; "
        f"{lad.min_days_after_promotion} days after promotion before demotion; "
        f"at-risk notice {lad.at_risk_notice_days} days"
    )
    web = s.web
    lines.append(
        f"Web:           on http://{web.bind} inside `run`"
        + (f", linked as {web.public_url}" if web.public_url else "")
        + f"; cookie key from {web.secret_env}"
        if web.enabled
        else f"Web:           off in `run` ([web] enabled); `python -m bot web` serves {web.bind}"
    )
    return "\n".join(lines)


def _own_kinds(s: Settings) -> list[str]:
    """The server's ``[[kinds]]``, one line each: key, points, how credited, where shown."""
    own = [row for row in s.kinds if row.credit != "feature"]
    if not own:
        return ["Own kinds:     none ([[kinds]] adds them)"]
    lines = ["Own kinds:"]
    for row in own:
        how = (
            "/contribution submit, approved on review"
            if row.credit == "review"
            else ("moderators with /contribution add")
        )
        extras = [
            part
            for part in (
                "weekly post" if row.weekly else "",
                f"award '{row.award}'" if row.award else "",
            )
            if part
        ]
        shown = f"; {', '.join(extras)}" if extras else ""
        lines.append(f"  {row.key} ({row.label}) {row.default_points} points, by {how}{shown}")
    return lines
