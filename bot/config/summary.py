"""The human summary ``check-config`` prints: what the bot will do with this config.

It reads only validated settings, masks the database password and never shows the token.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config.schema import Config, Settings, TierConfig, shard_of
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
    """A human summary of ``config`` for ``check-config``. Never includes the token.

    A single-server config reads top to bottom as before; with several servers the
    deployment's lines come first, then each server's under its file's name.
    """
    s = config.settings
    if not config.servers:
        return "\n".join(
            [
                f"Config file:   {config.source}",
                f"Guild:         {s.discord.guild_id}{_shard_note(config, s)}",
                *_deployment_lines(config),
                *_server_lines(s),
                _web_line(s),
            ]
        )
    lines = [
        f"Config file:   {config.source}",
        f"Servers:       {len(config.servers)} in {s.discord.servers_dir} "
        "(each file laid over this one)",
        *_deployment_lines(config),
        _web_line(s),
    ]
    for server in config.servers:
        guild_id = server.discord.guild_id
        lines += ["", f"Server {config.label_of(guild_id)}:"]
        lines.append(f"  Guild:         {guild_id}{_shard_note(config, server)}")
        lines += [f"  {line}" for line in _server_lines(server)]
    return "\n".join(lines)


def _shard_note(config: Config, server: Settings) -> str:
    count = config.settings.discord.shard_count
    if not isinstance(count, int):
        return ""
    served = {settings.discord.guild_id for settings in config.served()}
    where = "run here" if server.discord.guild_id in served else "run by another process"
    return f" (shard {shard_of(server.discord.guild_id, count)} of {count}, {where})"


def _deployment_lines(config: Config) -> list[str]:
    """What holds for every server: the token, Discord, shards, database and logging."""
    s = config.settings
    d = s.discord
    token_state = "set (hidden)" if config.token is not None else "NOT SET"
    if d.shard_count is None:
        shards = "none (one connection serves every server)"
    else:
        count = "auto (the count Discord recommends)" if d.shard_count == "auto" else d.shard_count
        mine = "all of them" if d.shard_ids is None else _ids(d.shard_ids)
        shards = f"{count}; this process runs {mine}"
        if d.shard_ids is not None:
            shards += (
                f", serving {len(config.served())} of the {len(config.communities)} "
                "configured server(s)"
            )
    return [
        f"Token:         {token_state} (environment variable {d.token_env})",
        f"Discord API:   {d.api_base}; gateway {d.gateway_url or 'Discord default'}; "
        f"sync commands {'on' if d.sync_commands else 'off'}",
        f"Shards:        {shards}",
        f"Database:      {s.database.url_masked} "
        f"(auto-migrate {'on' if s.database.auto_migrate else 'off'}"
        f"{', echo SQL' if s.database.echo else ''})",
        f"Logging:       {s.logging.level}" + (f" to {s.logging.file}" if s.logging.file else ""),
    ]


def _server_lines(s: Settings) -> list[str]:
    """One server's program: its time zone, schedule, channels, points, tiers and rituals."""
    ch, sch, act, lad = s.channels, s.schedule, s.activity, s.ladder
    newsletter = f"{ch.newsletter}" + (
        " (same as announcements)" if ch.newsletter == ch.announcements else ""
    )
    quarter = sch.quarterly_awards
    lines = [
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
    return lines


def _web_line(s: Settings) -> str:
    web = s.web
    return (
        f"Web:           on http://{web.bind} inside `run`"
        + (f", linked as {web.public_url}" if web.public_url else "")
        + f"; cookie key from {web.secret_env}"
        if web.enabled
        else f"Web:           off in `run` ([web] enabled); `python -m bot web` serves {web.bind}"
    )


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
