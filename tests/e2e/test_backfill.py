"""History backfill through the emulator: seeded history in, what the live bot would have
credited out; crash and resume; the live bot beside it; quiet ladder; dry run; no history."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.core.activity import ActivityCounter
from bot.core.backfill import snowflake_at
from bot.demo.community import EMULATOR_TOKEN
from bot.history import DiscordHistory, RequestWindow
from bot.services.activity import activity_rules, day_source
from db.models import ActivityDay, BackfillChannel, Contribution, QuestionThread, TierState
from emulator import permissions as perms
from emulator.errors import EmulatorError
from tests.e2e.test_backfill_cli import history_pages
from tests.e2e.util import bot_posts, eventually, private_reply, settled, slash

pytestmark = pytest.mark.e2e

SPAN = timedelta(days=180)
WORDS = "I tried the new release and the migration guide worked on the first go"


def history(community, now: datetime) -> list[tuple[int, str, datetime]]:
    """Months of #general: ada and bea daily, cy now and then, with chatter that never counts."""
    ada, bea, cy = (community.members[n] for n in list(community.members)[:3])
    rows: list[tuple[int, str, datetime]] = []
    for day in range(1, 40):
        at = now - timedelta(days=day, hours=3)
        rows.append((ada, f"{WORDS} (day {day})", at))
        rows.append(
            (ada, f"a second thought on day {day}, still on topic", at + timedelta(seconds=20))
        )
        rows.append((bea, f"replying to that on day {day} with details", at + timedelta(minutes=5)))
        rows.append((bea, "lol", at + timedelta(minutes=6)))  # too short: never counts
        if day % 5 == 0:
            rows.append(
                (cy, f"checking in on day {day} with a longer note", at + timedelta(hours=1))
            )
    rows.append((ada, f"{WORDS} (too old)", now - timedelta(days=400)))
    return sorted(rows, key=lambda r: r[2])


def seed(emulator, community, now: datetime) -> dict[str, int]:
    ada, bea, cy = (community.members[n] for n in list(community.members)[:3])
    rows = history(community, now)
    emulator.seed_history(community.channels["general"], rows)
    posts = {}
    for i in range(4):  # four solved questions ada answered, the asker's ✅ on her reply
        opened = now - timedelta(days=30 - i * 5)
        thread = emulator.seed_thread(
            community.channels["help"], bea, f"How do I configure thing {i}?", opened,
            content="I can't get the setting to stick, what am I missing?",
            tags=["Solved"], archived=i < 2,
            messages=[
                {"author": ada, "content": "Set it in the config file, then restart",
                 "at": opened + timedelta(minutes=12), "reactions": {"✅": [bea]}},
                (bea, "That did it, thank you so much", opened + timedelta(minutes=30)),
            ],
        )  # fmt: skip
        posts[f"solved{i}"] = thread.id
    ambiguous = emulator.seed_thread(
        community.channels["help"], cy, "Two answers?", now - timedelta(days=3),
        content="Which of these is right?", tags=["Solved"],
        messages=[
            {"author": ada, "content": "Option one here", "at": now - timedelta(days=3, hours=-1),
             "reactions": {"✅": [cy]}},
            {"author": bea, "content": "Option two here", "at": now - timedelta(days=3, hours=-2),
             "reactions": {"✅": [cy]}},
        ],
    )  # fmt: skip
    posts["ambiguous"] = ambiguous.id
    return posts


def expected_days(community, settings, now: datetime) -> dict[tuple[int, object], int]:
    """The live counter fed the same messages in order: what the bot would have counted."""
    counter = ActivityCounter(activity_rules(settings))
    for i, (author, content, at) in enumerate(history(community, now)):
        if at >= now - SPAN:
            counter.observe_post(
                i + 1, author, community.channels["general"], None, None, at, content
            )
    # Help-thread replies (not the asker's own starter posts, which count too) are added below.
    return counter.drain().increments


async def ledger(app, kind: str) -> list[Contribution]:
    async with app.bot.services.sessions() as session:
        rows = await session.scalars(select(Contribution).where(Contribution.kind == kind))
        return list(rows)


async def run(app, **kw):
    bot = app.bot
    guild = bot.get_guild(bot.guild_id)
    return await bot.services.backfill.run(DiscordHistory(guild, guild.me), span=SPAN, **kw)


async def test_backfill_credits_what_the_live_bot_would_have(emulator, community, flywheel, clock):
    now = clock.now()
    posts = seed(emulator, community, now)
    report = await run(flywheel)
    ada = next(iter(community.members.values()))

    days = {(c.user_id, c.source_id) for c in await ledger(flywheel, "message_day")}
    general = expected_days(community, flywheel.bot.settings, now)
    # Every day the live rules count in #general is credited, once.
    for user, day in general:
        assert (user, day_source(user, day)) in days
    assert len(days) == len({(u, d) for u, d in days})
    async with flywheel.bot.services.sessions() as session:
        rollups = {
            (r.user_id, r.day): r.messages for r in await session.scalars(select(ActivityDay))
        }
        questions = {q.thread_id: q for q in await session.scalars(select(QuestionThread))}
    for key, n in general.items():
        assert rollups[key] >= n  # forum posts on the same day add to it
    # "lol" never counted; the 20-second follow-up fell in the cooldown.
    assert all(rollups[(ada, d)] in (1, 2) for (u, d) in general if u == ada)

    for i in range(4):
        q = questions[posts[f"solved{i}"]]
        assert q.first_responder_id == ada
        assert q.answer_author_id == ada
        assert q.first_response_at - q.opened_at == timedelta(minutes=12)
    assert questions[posts["ambiguous"]].answer_message_id is None  # never guessed
    answers = await ledger(flywheel, "answer")
    assert sorted(c.user_id for c in answers) == [ada] * 4
    # "thank you so much" in history is not a /thanks: history adds none.
    assert await ledger(flywheel, "thanks_received") == []
    assert report.answers == 4 and report.questions == 5

    # Quiet ladder: ada is a Champion at once, told by one summary post, not a DM.
    async with flywheel.bot.services.sessions() as session:
        state = await session.get(TierState, (community.guild_id, ada))
    assert state is not None and state.tier_key == "champion"
    await settled(emulator, flywheel.bot)
    summary = bot_posts(emulator, community.channels["announcements"])
    assert [p["content"] for p in summary] == [report.summary]
    assert "1 Champion" in report.summary
    assert emulator.messages(emulator.dm_channel(ada).id) == []
    assert any(
        "Backfill" in p["content"] for p in bot_posts(emulator, community.channels["mod-log"])
    )
    # The role comes through the paced role queue, with no announcement of its own.
    champion = community.tier_role_ids["champion"]
    await eventually(lambda: champion in emulator.member_roles(community.guild_id, ada))
    await settled(emulator, flywheel.bot)
    assert [p["content"] for p in bot_posts(emulator, community.channels["announcements"])] == [
        report.summary
    ]
    assert emulator.messages(emulator.dm_channel(ada).id) == []

    # Run again: nothing changes twice.
    before = {k: len(await ledger(flywheel, k)) for k in ("message_day", "answer")}
    await run(flywheel)
    assert {k: len(await ledger(flywheel, k)) for k in before} == before


async def test_a_crash_mid_run_resumes_to_the_same_totals(emulator, community, flywheel, clock):
    now = clock.now()
    seed(emulator, community, now)
    pages = 0

    async def crash_after_first_channel(progress) -> None:
        nonlocal pages
        pages += 1
        if pages == 1:
            raise asyncio.CancelledError  # as if the process were stopped here

    with pytest.raises(asyncio.CancelledError):
        await run(flywheel, on_progress=crash_after_first_channel)
    async with flywheel.bot.services.sessions() as session:
        done = list(await session.scalars(select(BackfillChannel).where(BackfillChannel.done)))
    # Channels are read several at once: the one that crashed is done, and any that finished
    # in the same moment; never all of them.
    assert 1 <= len(done) < flywheel.bot.services.backfill.progress.channels_total
    assert await ledger(flywheel, "message_day") == []  # credited only once all is read
    await run(flywheel)
    resumed = sorted((c.user_id, c.source_id) for c in await ledger(flywheel, "message_day"))
    answers = sorted(c.source_id for c in await ledger(flywheel, "answer"))
    general = expected_days(community, flywheel.bot.settings, now)
    assert {(u, day_source(u, d)) for u, d in general} <= set(resumed)
    assert len(answers) == 4
    async with flywheel.bot.services.sessions() as session:
        total = await session.scalar(select(func.sum(ActivityDay.messages)))
    # An uninterrupted run over the same history (counted again from scratch) agrees.
    async with flywheel.bot.services.sessions() as session, session.begin():
        await session.execute(ActivityDay.__table__.delete())
    await run(flywheel)
    async with flywheel.bot.services.sessions() as session:
        again = await session.scalar(select(func.sum(ActivityDay.messages)))
    assert again == total


async def test_the_live_bot_beside_the_backfill_counts_nothing_twice(
    emulator, community, flywheel, clock
):
    now = clock.now()
    seed(emulator, community, now)
    ada, bea, cy = list(community.members.values())[:3]
    general = community.channels["general"]
    # Before the backfill starts, the live bot counts cy's post; the backfill reads it too.
    before = await emulator.post_message(general, cy, "a live message the backfill also reads")
    await flywheel.bot.services.activity.flush(final=True)
    # The backfill's window ends when it starts; messages the live bot sees from then on are
    # after it (Discord stamps them with the real time, as the emulator does).
    clock.set(datetime.fromisoformat(before["timestamp"]) + timedelta(milliseconds=1))
    live = asyncio.create_task(run(flywheel))
    for i in range(3):  # the live bot counts these as they arrive; they are after the window
        await emulator.post_message(general, ada, f"a live message number {i} about the release")
    await live
    await flywheel.bot.services.activity.flush(final=True)
    today = clock.now().astimezone(flywheel.bot.settings.schedule.tz).date()
    credits = [c.source_id for c in await ledger(flywheel, "message_day")]
    assert len(credits) == len(set(credits))
    assert {day_source(ada, today), day_source(cy, today)} <= set(credits)
    async with flywheel.bot.services.sessions() as session:
        counts = {
            r.user_id: r.messages
            for r in await session.scalars(select(ActivityDay).where(ActivityDay.day == today))
        }
    # cy's post was seen by both and counts once; ada's three live posts sit in one cooldown.
    assert counts == {cy: 1, ada: 1}
    assert bea not in counts


async def test_a_429_on_a_history_page_is_waited_out_and_every_page_read(
    emulator, community, flywheel, clock
):
    """Another reader with the bot's token (a CLI backfill beside the bot) spent #general's
    history bucket: the backfill, which has not seen its headers, meets a 429, waits its
    ``retry_after`` and credits what an undisturbed run credits."""
    now = clock.now()
    seed(emulator, community, now)
    general = community.channels["general"]
    url = f"{emulator.api_base}/channels/{general}/messages"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {EMULATOR_TOKEN}"}) as other:
        for _ in range(5):
            async with other.get(url) as drained:
                assert drained.status == 200
    report = await run(flywheel)
    met = [hit for hit in emulator.limiter.served_429 if hit[0].endswith("/messages")]
    assert met and all(scope != "global" for _, scope, _ in met)
    emulator.limiter.served_429.clear()  # met on purpose and honoured: not an overrun
    days = {(c.user_id, c.source_id) for c in await ledger(flywheel, "message_day")}
    general_days = expected_days(community, flywheel.bot.settings, now)
    assert {(u, day_source(u, d)) for u, d in general_days} <= days
    assert report.answers == 4 and not report.progress.problems


async def test_dry_run_writes_nothing(emulator, community, flywheel, clock):
    seed(emulator, community, clock.now())
    report = await run(flywheel, dry_run=True)
    assert report.dry_run and report.active_days > 0 and report.answers == 4
    assert await ledger(flywheel, "message_day") == []
    async with flywheel.bot.services.sessions() as session:
        assert list(await session.scalars(select(BackfillChannel))) == []
    await settled(emulator, flywheel.bot)
    assert bot_posts(emulator, community.channels["announcements"]) == []


async def test_a_channel_without_read_message_history_is_reported(
    emulator, community, flywheel, clock
):
    seed(emulator, community, clock.now())
    guild = emulator.guild(community.guild_id)
    staff = guild.create_text_channel("staff-only")
    guild.set_overwrite(staff.id, community.bot_role_id, deny=perms.READ_MESSAGE_HISTORY)
    report = await run(flywheel)
    assert report.progress.problems == [f"<#{staff.id}>: no Read Message History permission"]
    assert report.active_days > 0  # the rest was read
    await settled(emulator, flywheel.bot)
    log = bot_posts(emulator, community.channels["mod-log"])
    assert any(f"<#{staff.id}>" in p["content"] for p in log)


async def test_backfill_command_reports_progress_in_one_edited_message(
    emulator, community, flywheel, clock
):
    seed(emulator, community, clock.now())
    owner = emulator.world.guilds[community.guild_id].owner_id
    record = await slash(emulator, community, owner, "backfill start", since="90d")
    assert "Started: progress in" in (await private_reply(record))["content"]
    await settled(emulator, flywheel.bot)
    posts = bot_posts(emulator, community.channels["general"])
    assert len(posts) == 1  # the one message, edited to the end
    assert "finished" in posts[0]["content"] and "accepted answer" in posts[0]["content"]
    assert "last 90 days" in posts[0]["content"]

    status = await slash(emulator, community, owner, "backfill status")
    assert "finished" in (await private_reply(status))["content"]
    cancel = await slash(emulator, community, owner, "backfill cancel")
    assert (await private_reply(cancel))["content"] == "No backfill is running."


async def test_backfill_cancel_keeps_the_checkpoints_and_start_resumes_from_them(
    emulator, community, flywheel, clock
):
    """/backfill cancel mid-run: the message says so, the pages read are kept as checkpoints,
    and /backfill start goes on from them to what one uninterrupted run credits."""
    now = clock.now()
    members = list(community.members.values())
    general = community.channels["general"]
    rows = sorted(
        (
            (members[i % len(members)], f"message {i} about the release notes", at)
            for i in range(1200)
            if (at := now - timedelta(minutes=7 * i + 1))
        ),
        key=lambda r: r[2],
    )
    ids = emulator.seed_history(general, rows)
    owner = emulator.world.guilds[community.guild_id].owner_id
    await slash(emulator, community, owner, "backfill start")
    # 13 pages, 5 per 5 seconds: the run is still reading when the cancel arrives.
    await eventually(lambda: history_pages(emulator, general) >= 2, within=20, interval=0.01)
    status = await slash(emulator, community, owner, "backfill status")
    assert "reading history" in (await private_reply(status))["content"]
    cancel = await slash(emulator, community, owner, "backfill cancel")
    assert (await private_reply(cancel))["content"].startswith("Cancelled")
    await settled(emulator, flywheel.bot)
    [message] = bot_posts(emulator, general)
    assert "Cancelled: `/backfill start` resumes where it stopped." in message["content"]
    async with flywheel.bot.services.sessions() as session:
        [mark] = await session.scalars(
            select(BackfillChannel).where(BackfillChannel.channel_id == general)
        )
    assert not mark.done and mark.message_id is not None
    assert await ledger(flywheel, "message_day") == []  # credited only once all is read
    read_before = history_pages(emulator, general)

    await slash(emulator, community, owner, "backfill start")
    await settled(emulator, flywheel.bot, within=60)
    assert "finished" in bot_posts(emulator, general)[-1]["content"]
    # From the checkpoint on: the pages older than it (and the last, short one), no more.
    older = sum(1 for i in ids if i < mark.message_id)
    assert history_pages(emulator, general) - read_before == older // 100 + 1 < 13
    counter = ActivityCounter(activity_rules(flywheel.bot.settings))
    for message_id, (author, content, at) in zip(ids, rows, strict=True):
        counter.observe_post(message_id, author, general, None, None, at, content)
    expected = counter.drain().increments
    async with flywheel.bot.services.sessions() as session:
        rollups = {
            (r.user_id, r.day): r.messages for r in await session.scalars(select(ActivityDay))
        }
    assert rollups == expected
    credited = sorted(c.source_id for c in await ledger(flywheel, "message_day"))
    assert credited == sorted(day_source(u, d) for u, d in expected)


async def test_threads_of_text_channels_are_read_and_channels_limits_the_walk(
    emulator, community, flywheel, clock
):
    """A text channel's threads, archived and active, are part of its history; ``--channels``
    (``channel_ids``) reads the channels named with their threads, and nothing else."""
    now = clock.now()
    ada, bea, cy = (community.members[n] for n in list(community.members)[:3])
    general, programs = community.channels["general"], community.channels["programs"]
    emulator.seed_history(programs, [(bea, f"{WORDS} in programs", now - timedelta(days=4))])
    in_archived = now - timedelta(days=20)
    in_active = now - timedelta(days=2)
    emulator.seed_thread(
        general, ada, "release notes", in_archived - timedelta(minutes=5), archived=True,
        messages=[(cy, f"{WORDS} in an archived thread", in_archived)],
    )  # fmt: skip
    emulator.seed_thread(
        general, ada, "plans", in_active - timedelta(minutes=5),
        messages=[(cy, f"{WORDS} in an active thread", in_active)],
    )  # fmt: skip
    report = await run(flywheel, channel_ids=[general])
    assert report.progress.channels_total == 3  # #general and its two threads
    tz = activity_rules(flywheel.bot.settings).timezone
    credited = {(c.user_id, c.source_id) for c in await ledger(flywheel, "message_day")}
    assert credited == {
        (cy, day_source(cy, at.astimezone(tz).date())) for at in (in_archived, in_active)
    }
    assert report.members == 1  # bea's post in #programs was not read


async def test_only_administrators_see_the_backfill_command(emulator, community, flywheel):
    member = next(iter(community.members.values()))
    with pytest.raises(EmulatorError, match=r"cannot see /backfill \(missing permissions\)"):
        await slash(emulator, community, member, "backfill start")


async def test_members_who_erased_their_data_are_not_read_back(
    emulator, community, flywheel, clock
):
    """Discord still holds their messages; erased stays erased all the same."""
    posts = seed(emulator, community, clock.now())
    ada, bea, cy = (community.members[n] for n in list(community.members)[:3])
    for member in (ada, cy):
        await flywheel.bot.services.privacy.erase(member)
    report = await run(flywheel)

    async with flywheel.bot.services.sessions() as session:
        credited = {c.user_id for c in await session.scalars(select(Contribution))}
        rollups = {r.user_id for r in await session.scalars(select(ActivityDay))}
        questions = {q.thread_id: q for q in await session.scalars(select(QuestionThread))}
    assert bea in credited and {ada, cy}.isdisjoint(credited | rollups)
    assert posts["ambiguous"] not in questions, "cy asked it: not recorded"
    assert all(q.first_responder_id != ada for q in questions.values())
    assert report.answers == 0 and report.questions == 4


async def test_the_live_bot_s_requests_and_the_backfill_s_count_once_each(
    emulator, community, flywheel, clock
):
    """The backfill's pace leaves room for every request the bot makes, not a fixed share."""
    seed(emulator, community, clock.now())
    bot = flywheel.bot
    guild = bot.get_guild(bot.guild_id)
    history = DiscordHistory(guild, guild.me)
    window = RequestWindow.of(bot.http)
    assert RequestWindow.of(bot.http) is window, "installed once per client"
    await history.channels(None)
    before = window.recorded
    await bot.http.get_channel(community.channels["general"])  # the live bot's own request
    assert window.recorded == before + 1
    page = await history.page(community.channels["general"], snowflake_at(clock.now()))
    assert page and window.recorded == before + 2, "a paced read is counted once"


async def test_a_what_if_backfill_previews_the_ladder_and_keeps_nothing(
    emulator, community, flywheel, clock, db_url
):
    """``backfill --dry-run`` on PostgreSQL (and SQLite alike): the real backfill inside a
    transaction rolled back after ``tiers preview`` read it."""
    from bot.cli import what_if_backfill
    from bot.services.members import MemberInfo
    from db import migrate
    from db.engine import create_what_if_engine
    from tests.conftest import engine_for

    seed(emulator, community, clock.now())
    bot = flywheel.bot
    guild = bot.get_guild(bot.guild_id)
    present = [MemberInfo(m.id, m.display_name, m.bot, m.joined_at) for m in guild.members]
    store = engine_for(db_url)
    await migrate.upgrade(store)
    await store.dispose()
    engine = engine_for(db_url, factory=create_what_if_engine)
    try:
        lines = await what_if_backfill(
            bot.settings, engine, DiscordHistory(guild, guild.me), present, SPAN, None, clock=clock
        )
        ada = next(iter(community.members.values()))
        text = "\n".join(lines)
        assert "dry run: would credit" in text and "4 accepted answer(s)" in text
        preview = text[text.index("tiers preview after the backfill:") :]
        assert f"({ada})" in preview and "Champion" in preview
        async with engine.connect() as connection:
            for table in ("contributions", "activity_days", "backfill_channels", "members"):
                count = await connection.exec_driver_sql(f"SELECT count(*) FROM {table}")
                assert count.scalar() == 0, table
    finally:
        await engine.dispose()
