"""The recognition rhythm end to end: scheduled posts, catch-up, no doubles, commands, limits."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import open_store
from bot.checks import MODERATORS_ONLY
from bot.config import parse_config
from bot.core.embeds import DESCRIPTION_MAX, EMBED_TOTAL_MAX, EMBEDS_PER_MESSAGE, FIELD_VALUE_MAX
from bot.core.periods import next_occurrence
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from bot.services.members import MembersService
from db.engine import create_session_factory
from db.faults import StoreFaults
from db.models import ContentSubmission, Member, NewsletterDelivery, ScheduledPost, TierState
from tests.e2e.util import bot_posts, eventually, private_reply, slash

pytestmark = pytest.mark.e2e

_sources = itertools.count(1)


def recognition(app: Any) -> Any:
    return app.bot.get_cog("Recognition")


@pytest.fixture
async def flywheel(flywheel: Any) -> Any:
    await asyncio.wait_for(flywheel.bot.schedule.caught_up.wait(), timeout=10)
    return flywheel


async def credit(bot: Any, user_id: int, kind: str, times: int = 1) -> None:
    async with bot.services.sessions() as session, session.begin():
        for _ in range(times):
            source = f"test:{kind}:{user_id}:{next(_sources)}"
            ledger = bot.services.contributions
            await ledger.record(session, ledger.credit(kind, user_id, source))


def announcements(emu: Any, community: Any) -> list[dict[str, Any]]:
    return bot_posts(emu, community.channels["announcements"])


def weekly_posts(emu: Any, community: Any) -> list[dict[str, Any]]:
    """Weekly recognition posts (moving the clock may make other posts due too)."""
    return [
        m
        for m in announcements(emu, community)
        if m["embeds"] and m["embeds"][0].get("title", "").startswith("Weekly recognition")
    ]


def mod_log(emu: Any, community: Any) -> list[dict[str, Any]]:
    return bot_posts(emu, community.channels["mod-log"])


def text_of(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message["embeds"]:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def to_next_weekly(bot: Any, *, after: timedelta = timedelta(0)) -> None:
    """Move the clock to the next weekly recognition time (plus ``after``)."""
    schedule = bot.settings.schedule
    due = next_occurrence(schedule.weekly_recognition, bot.clock.now(), schedule.tz)
    bot.clock.set(due + after)


async def posts_of(bot: Any, kind: str) -> list[ScheduledPost]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(select(ScheduledPost).where(ScheduledPost.kind == kind))
        return list(rows)


# --------------------------------------------------------------------------- weekly


async def test_weekly_post_names_top_contributors_never_opted_out_ones_and_only_once(
    flywheel, emulator, community
):
    bot, m = flywheel.bot, community.members
    await credit(bot, m["ada"], "answer", 3)
    await credit(bot, m["linus"], "answer", 9)  # the week's best, but opted out
    await credit(bot, m["grace"], "thanks_received", 2)
    await credit(bot, m["barbara"], "content", 1)
    optout = await slash(emulator, community, m["linus"], "privacy optout")
    assert "won't be named" in (await private_reply(optout))["content"]

    to_next_weekly(bot)
    await flywheel.bot.schedule.run_due("weekly")

    [post] = weekly_posts(emulator, community)
    body = text_of(post)
    assert f"<@{m['ada']}>" in body and f"<@{m['grace']}>" in body
    assert f"<@{m['barbara']}>" in body
    assert str(m["linus"]) not in body, "an opted-out member is never named"
    assert post["allowed_mentions"]["parse"] == []
    assert set(post["allowed_mentions"]["users"]) <= {
        str(m[n]) for n in ("ada", "grace", "barbara")
    } | {m[n] for n in ("ada", "grace", "barbara")}
    assert post["mention_everyone"] is False
    [record] = await posts_of(bot, "weekly")
    assert record.state == "posted" and not record.delayed
    assert record.message_id == int(post["id"])
    assert f"ref {record.nonce}" in body

    # The scheduler waking again (or twice), or a restart, posts nothing more.
    await flywheel.bot.schedule.run_due("weekly")
    await flywheel.bot.schedule.run_due("weekly")
    assert len(weekly_posts(emulator, community)) == 1


async def test_spotlight_nomination_is_used_then_rotates(flywheel, emulator, community):
    bot, m, mods = flywheel.bot, community.members, community.moderators
    await credit(bot, m["ada"], "answer", 5)
    await credit(bot, m["grace"], "answer", 4)
    nominate = await slash(
        emulator,
        community,
        mods["morgan"],
        "spotlight nominate",
        member=m["margaret"],
        reason="Wrote the onboarding guide everyone links to",
    )
    assert "nominated for the spotlight" in (await private_reply(nominate))["content"]
    refused = await slash(
        emulator, community, m["ada"], "spotlight nominate", member=m["grace"], reason="x"
    )
    assert (await private_reply(refused))["content"] == MODERATORS_ONLY

    to_next_weekly(bot)
    await flywheel.bot.schedule.run_due("weekly")
    [first] = weekly_posts(emulator, community)
    assert first["content"] == f"🌟 This week's spotlight: <@{m['margaret']}>"
    assert "onboarding guide" in text_of(first)

    # Next week: no nomination left, so the strongest contributor not yet spotlighted.
    await credit(bot, m["ada"], "answer", 5)
    to_next_weekly(bot)
    await flywheel.bot.schedule.run_due("weekly")
    second = weekly_posts(emulator, community)[1]
    assert second["content"] == f"🌟 This week's spotlight: <@{m['ada']}>"
    # And the week after, ada (spotlighted within the cool-down) gives way to grace.
    await credit(bot, m["ada"], "answer", 5)
    await credit(bot, m["grace"], "answer", 2)
    to_next_weekly(bot)
    await flywheel.bot.schedule.run_due("weekly")
    third = weekly_posts(emulator, community)[2]
    assert third["content"] == f"🌟 This week's spotlight: <@{m['grace']}>"


# --------------------------------------------------------------------------- downtime


async def test_missed_post_is_caught_up_once_marked_late(bot_config, emulator, community, clock):
    async with running_bot(bot_config, clock=clock) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        await credit(app.bot, community.members["ada"], "answer", 2)
    assert weekly_posts(emulator, community) == [], "installing the bot posts no backlog"

    # Offline across Monday's post; back a day later, within the 3-day grace.
    to_next_weekly(app.bot, after=timedelta(days=1))
    for _ in range(2):  # and a second restart changes nothing
        async with running_bot(bot_config, clock=clock) as app:
            await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
    [post] = weekly_posts(emulator, community)
    assert "posted late" in text_of(post)
    [record] = await _records(bot_config, clock, "weekly")
    assert record.delayed and record.state == "posted"


async def test_a_caught_up_post_leaves_out_who_left_while_the_bot_was_away(
    bot_config, emulator, community, clock, monkeypatch
):
    """The catch-up runs after the start-up member sync, so the table knows who left, however
    long the sync takes (100,000 members, a busy store)."""
    ada, grace = community.members["ada"], community.members["grace"]
    async with running_bot(bot_config, clock=clock) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        await credit(app.bot, ada, "answer", 3)
        await credit(app.bot, grace, "answer", 2)
    to_next_weekly(app.bot, after=timedelta(days=1))
    await emulator.member_leave(community.guild_id, ada)
    sync = MembersService.sync

    async def slow(self: MembersService, members: Any) -> Any:
        await asyncio.sleep(0.5)
        return await sync(self, members)

    monkeypatch.setattr(MembersService, "sync", slow)
    async with running_bot(bot_config, clock=clock) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
    [post] = weekly_posts(emulator, community)
    assert f"<@{grace}>" in text_of(post)
    assert f"<@{ada}>" not in text_of(post)


async def _records(config: Any, clock: Any, kind: str) -> list[ScheduledPost]:
    async with running_bot(config, clock=clock) as app:
        return await posts_of(app.bot, kind)


async def test_post_missed_beyond_the_grace_is_skipped_with_a_log_line(
    bot_config, emulator, community, clock, caplog
):
    async with running_bot(bot_config, clock=clock) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
    to_next_weekly(app.bot, after=timedelta(days=5))
    caplog.set_level(logging.WARNING, logger="cogs.recognition")
    async with running_bot(bot_config, clock=clock) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        [record] = await posts_of(app.bot, "weekly")
    assert weekly_posts(emulator, community) == []
    assert record.state == "skipped" and record.note.startswith("missed")
    assert any(
        "skipped the weekly recognition" in r.getMessage()
        and "schedule.catch_up_grace_days" in r.getMessage()
        for r in caplog.records
    )


async def test_crash_after_send_before_record_does_not_post_twice(
    bot_config, emulator, community, clock
):
    async with running_bot(bot_config, clock=clock) as app:
        cog = recognition(app)
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        await credit(app.bot, community.members["ada"], "answer", 2)
        to_next_weekly(app.bot)

        async def crash(*_: Any, **__: Any) -> None:
            raise SystemExit("power cut between send and record")

        cog.service.mark_posted = crash
        with pytest.raises(SystemExit):
            await app.bot.schedule.run_due("weekly")
    assert len(weekly_posts(emulator, community)) == 1
    [record] = await _records_without_recovery(bot_config, clock)
    assert record.state == "claimed", "the crash left the claim unfinished"

    async with running_bot(bot_config, clock=clock) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        [record] = await posts_of(app.bot, "weekly")
    [post] = weekly_posts(emulator, community)
    assert record.state == "posted" and record.message_id == int(post["id"])


async def _records_without_recovery(config: Any, clock: Any) -> list[ScheduledPost]:
    """The store as the crash left it, read without starting the bot (which would recover)."""
    engine = await open_store(config)
    try:
        async with create_session_factory(engine)() as session:
            return list(await session.scalars(select(ScheduledPost)))
    finally:
        await engine.dispose()


async def test_crash_after_claim_before_send_posts_on_recovery(
    bot_config, emulator, community, clock
):
    async with running_bot(bot_config, clock=clock) as app:
        cog = recognition(app)
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        to_next_weekly(app.bot)

        async def crash(*_: Any, **__: Any) -> None:
            raise SystemExit("power cut before the send")

        cog.poster.publish = crash
        with pytest.raises(SystemExit):
            await app.bot.schedule.run_due("weekly")
    assert weekly_posts(emulator, community) == []
    async with running_bot(bot_config, clock=clock) as app:
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        [record] = await posts_of(app.bot, "weekly")
    [post] = weekly_posts(emulator, community)
    assert record.state == "posted" and record.message_id == int(post["id"])


# --------------------------------------------------------------------------- commands


async def test_preview_is_private_and_posts_nothing(flywheel, emulator, community):
    bot, mods = flywheel.bot, community.moderators
    await credit(bot, community.members["ada"], "answer", 2)
    preview = await slash(emulator, community, mods["morgan"], "recognition preview")
    reply = await private_reply(preview)
    assert reply["content"].startswith("Preview of the weekly recognition for ")
    assert "not posted yet" in reply["content"]
    assert reply["embeds"], "the preview shows the post itself"
    assert weekly_posts(emulator, community) == []
    assert await posts_of(bot, "weekly") == []
    member = await slash(emulator, community, community.members["ada"], "recognition preview")
    assert (await private_reply(member))["content"] == MODERATORS_ONLY


async def test_send_refuses_a_second_post_unless_forced_and_confirmed(
    flywheel, emulator, community
):
    bot, morgan = flywheel.bot, community.moderators["morgan"]
    await credit(bot, community.members["ada"], "answer", 2)
    first = await slash(emulator, community, morgan, "recognition send")
    assert (await private_reply(first))["content"].startswith("Posted the weekly recognition")
    assert len(weekly_posts(emulator, community)) == 1

    again = await slash(emulator, community, morgan, "recognition send")
    refusal = (await private_reply(again))["content"]
    assert "already posted" in refusal and "force: True" in refusal

    forced = await slash(emulator, community, morgan, "recognition send", force=True)
    body = await forced.wait_answer(timeout=10)
    assert "Post it again?" in body["data"]["content"]
    cancel = await emulator.click_button(forced.original, morgan, _button(forced, "Cancel"))
    await cancel.wait_answer(timeout=10)
    assert len(weekly_posts(emulator, community)) == 1

    forced = await slash(emulator, community, morgan, "recognition send", force=True)
    await forced.wait_answer(timeout=10)
    other = await emulator.click_button(forced.original, morgan, _button(forced, "Post again"))
    await other.wait_answer(timeout=10)
    await eventually(lambda: len(weekly_posts(emulator, community)) == 2)
    done = await forced.wait_followup(timeout=10)
    assert done["content"].startswith("Posted the weekly recognition")


async def test_a_post_whose_record_fails_is_never_posted_again(flywheel, emulator, community):
    """The store refuses the "posted" record after the message went out (SQLite busy)."""
    bot, morgan = flywheel.bot, community.moderators["morgan"]
    await credit(bot, community.members["ada"], "answer", 2)
    faults = StoreFaults.attach(flywheel.engine)
    # The first record and the first retry fail; the retry after that gets through.
    record_fault = faults.fail(match=r"UPDATE scheduled_posts SET state=.*message_id", times=2)
    try:
        first = await slash(emulator, community, morgan, "recognition send")
        reply = (await private_reply(first))["content"]
        [post] = weekly_posts(emulator, community)
        assert reply.startswith("Posted the weekly recognition"), reply
        assert post["id"] in reply and "recording it failed" in reply
        [alert] = [m for m in mod_log(emulator, community) if "Weekly recognition" in m["content"]]
        assert "is posted" in alert["content"] and "database is locked" in alert["content"]
        assert "won't be posted again" in alert["content"]

        # Until the record is through, a second send without force refuses, posting nothing.
        again = await slash(emulator, community, morgan, "recognition send")
        refusal = (await private_reply(again))["content"]
        assert "already posted" in refusal.lower() and post["id"] in refusal, refusal

        async def recorded() -> bool:
            [record] = await posts_of(bot, "weekly")
            return record.state == "posted" and record.message_id == int(post["id"])

        await eventually(recorded, within=15)
        assert record_fault.hits == 2
    finally:
        faults.detach()
    third = await slash(emulator, community, morgan, "recognition send")
    assert "force: True" in (await private_reply(third))["content"]
    assert len(weekly_posts(emulator, community)) == 1


def _button(record: Any, label: str) -> str:
    for row in record.original["components"]:
        for component in row["components"]:
            if component.get("label") == label:
                return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button")


async def test_quarterly_awards_name_a_winner_per_category(flywheel, emulator, community):
    bot, m = flywheel.bot, community.members
    # The current awards period is the last completed quarter: credit inside it.
    cog = recognition(flywheel)
    period = cog._current(cog.rhythms["quarterly"])
    inside = period.start + timedelta(days=10)
    async with bot.services.sessions() as session, session.begin():
        for user, kind, times in ((m["ada"], "answer", 4), (m["grace"], "content", 2)):
            for _ in range(times):
                credit_ = bot.services.contributions.credit(
                    kind, user, f"q:{next(_sources)}", occurred_at=inside
                )
                await bot.services.contributions.record(session, credit_)
    send = await slash(
        emulator, community, community.moderators["riley"], "recognition send", post="awards"
    )
    assert (await private_reply(send))["content"].startswith("Posted the quarterly awards")
    [post] = announcements(emulator, community)
    body = text_of(post)
    assert f"<@{m['ada']}>" in body and "4" in body and f"<@{m['grace']}>" in body


# --------------------------------------------------------------------------- newsletter


async def test_newsletter_posts_with_chart_crossposts_and_dms_subscribers(
    flywheel, emulator, community
):
    bot, m = flywheel.bot, community.members
    quiet = await emulator.member_join(community.guild_id, "quiet", accepts_dms=False)
    async with bot.services.sessions() as session, session.begin():
        for user in (m["ada"], m["grace"], quiet.user_id):
            session.add(
                TierState(
                    guild_id=bot.guild_id,
                    user_id=user,
                    tier_key="champion",
                    tier_since=bot.clock.now(),
                    updated_at=bot.clock.now(),
                )
            )
    for user in (m["ada"], quiet.user_id):
        sub = await slash(emulator, community, user, "newsletter subscribe")
        assert (await private_reply(sub))["content"].startswith("Subscribed")
    not_tier = await slash(emulator, community, m["linus"], "newsletter subscribe")
    assert "tier members" in (await private_reply(not_tier))["content"]

    send = await slash(emulator, community, community.moderators["morgan"], "newsletter send")
    assert (await private_reply(send))["content"].startswith("Posted the monthly newsletter")
    [post] = announcements(emulator, community)
    assert post["attachments"] and post["attachments"][0]["filename"] == "activity.png"
    assert any(
        (e.get("image") or {}).get("url", "").endswith("activity.png") for e in post["embeds"]
    )
    assert emulator.requests("POST", r"/channels/\d+/messages/\d+/crosspost$")

    [letter] = await eventually(
        lambda: [
            d for d in emulator.dms(m["ada"]) if d["author"]["id"] == str(emulator.bot_user_id)
        ]
    )
    assert letter["embeds"] and letter["attachments"]
    report = await eventually(
        lambda: [p for p in mod_log(emulator, community) if p["content"].startswith("📬")]
    )
    assert "sent by DM to 1 subscriber" in report[0]["content"]
    assert "1 couldn't be reached" in report[0]["content"]
    assert emulator.dms(m["grace"]) == [], "grace is a tier member but did not subscribe"
    async with bot.services.sessions() as session:
        deliveries = {d.user_id: d for d in await session.scalars(select(NewsletterDelivery))}
    assert deliveries[m["ada"]].error is None
    assert deliveries[quiet.user_id].error == "DMs closed", "why is kept with the record"


async def test_long_newsletter_is_split_within_discord_limits(flywheel, emulator, community):
    bot, m = flywheel.bot, community.members
    cog = recognition(flywheel)
    period = cog._current(cog.rhythms["newsletter"])
    inside = period.start + timedelta(days=3)
    async with bot.services.sessions() as session, session.begin():
        for i in range(80):
            session.add(
                ContentSubmission(
                    guild_id=bot.guild_id,
                    author_id=m["ada"],
                    url=f"https://example.org/post/{i}",
                    title=f"A deep dive, part {i}: " + "x" * 150,
                    kind="blog",
                    status="approved",
                    submitted_at=inside,
                    decided_at=inside,
                )
            )
    send = await slash(emulator, community, community.moderators["morgan"], "newsletter send")
    assert (await private_reply(send))["content"].startswith("Posted the monthly newsletter")
    posts = announcements(emulator, community)
    assert len(posts) > 1, "too long for one message: continued in more"
    for post in posts:
        assert len(post["embeds"]) <= EMBEDS_PER_MESSAGE
        total = 0
        for embed in post["embeds"]:
            assert len(embed.get("description", "")) <= DESCRIPTION_MAX
            assert all(len(f["value"]) <= FIELD_VALUE_MAX for f in embed.get("fields", []))
            total += len(text_of({"embeds": [embed]}))
        assert total <= EMBED_TOTAL_MAX + 50
    assert "post/79" in "\n".join(text_of(p) for p in posts), "nothing lost at the end"


# --------------------------------------------------------------------------- rituals


async def test_ritual_posts_once_with_its_thread(emulator, community, database_url, clock):
    data = community_config(community, emulator, database_url=database_url)
    data["rituals"] = [
        {
            "key": "weekly-qa",
            "when": "thu 17:00",
            "title": "Weekly Q&A",
            "text": "Ask anything @everyone",
            "thread_name": "Q&A {date}",
        }
    ]
    config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    async with running_bot(config, clock=clock) as app:
        cog = recognition(app)
        await asyncio.wait_for(app.bot.schedule.caught_up.wait(), timeout=10)
        rhythm = cog.rhythms["ritual:weekly-qa"]
        clock.set(next_occurrence(rhythm.cadence, clock.now(), app.bot.settings.schedule.tz))
        await app.bot.schedule.run_due("ritual:weekly-qa")
        await app.bot.schedule.run_due("ritual:weekly-qa")
        [post] = announcements(emulator, community)
        assert post["embeds"][0]["title"] == "Weekly Q&A"
        assert post["mention_everyone"] is False, "ritual text never pings everyone"
        threads = [
            c
            for c in emulator.world.channels.values()
            if getattr(c, "parent_id", None) == community.channels["announcements"]
        ]
        assert len(threads) == 1 and threads[0].name.startswith("Q&A ")


async def test_opt_in_again(flywheel, emulator, community):
    ada = community.members["ada"]
    first = await slash(emulator, community, ada, "privacy optin")
    assert (await private_reply(first))["content"].startswith("You're not opted out")
    out = await slash(emulator, community, ada, "privacy optout")
    await private_reply(out)
    back = await slash(emulator, community, ada, "privacy optin")
    assert (await private_reply(back))["content"].startswith("Done: you can be named")
    async with flywheel.bot.services.sessions() as session:
        member = await session.get(Member, (flywheel.bot.guild_id, ada))
    assert member is not None and member.recognition_opt_out is False


async def test_the_scheduler_wakes_each_post_at_its_local_time(flywheel):
    """APScheduler's cron jobs fire exactly at the occurrences the catch-up logic expects."""
    bot = flywheel.bot
    cog = recognition(flywheel)
    now = bot.clock.now()
    for kind, rhythm in cog.rhythms.items():
        job = bot.schedule.scheduler.get_job(kind)
        assert job is not None, kind
        fire = job.trigger.get_next_fire_time(None, now)
        expected = next_occurrence(
            rhythm.cadence, now, bot.settings.schedule.tz, quarterly=rhythm.quarterly
        )
        assert fire == expected, kind


async def test_recovery_hands_each_claim_to_its_own_entry(flywheel):
    """An interrupted NPS survey is finished by the survey's entry, not dropped by recognition's."""
    bot = flywheel.bot
    period = bot.services.nps.current()
    claimed = await bot.services.recognition.claim("nps", period.key)
    assert claimed.claim is not None
    await bot.schedule.recover()

    async def finished() -> bool:
        record = await bot.services.recognition.post_record("nps", period.key)
        return record is not None and record.state == "posted"

    await eventually(finished, within=15)
