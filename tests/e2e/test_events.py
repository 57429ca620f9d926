"""Scheduled events: attendance from voice time, host credit, RSVPs, cancellations, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.client import all_extensions
from bot.emulated import running_bot
from db.models import Contribution, TrackedEvent, VoiceSession
from db.repositories.events import EventRepository
from tests.e2e.util import bot_posts, eventually, settled

pytestmark = pytest.mark.e2e


async def event_row(bot: Any, event_id: int) -> TrackedEvent | None:
    async with bot.services.sessions() as session:
        return await EventRepository(session, bot.guild_id).get(event_id)


async def event_in(bot: Any, event_id: int, status: str, *, settled: bool = False) -> TrackedEvent:
    async def check() -> TrackedEvent | None:
        row = await event_row(bot, event_id)
        if row is None or row.status != status:
            return None
        return row if (row.settled_at is not None) == settled else None

    return await eventually(check)


async def rsvps(bot: Any, event_id: int) -> set[int]:
    async with bot.services.sessions() as session:
        return await EventRepository(session, bot.guild_id).rsvp_ids(event_id)


async def voice_rows(bot: Any) -> list[VoiceSession]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(VoiceSession).order_by(VoiceSession.id)))


async def open_voice(bot: Any, count: int) -> list[VoiceSession]:
    """Wait until exactly ``count`` voice sessions are open (the bot has seen the updates)."""

    async def check() -> tuple[list[VoiceSession]] | None:
        rows = [r for r in await voice_rows(bot) if r.ended_at is None]
        return (rows,) if len(rows) == count else None

    [rows] = await eventually(check)
    return rows


async def credited(bot: Any, kind: str) -> dict[int, list[str]]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(select(Contribution).where(Contribution.kind == kind))
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row.user_id, []).append(row.source_id)
        return found


async def new_event(emulator: Any, community: Any, creator: str, name: str) -> Any:
    return await emulator.create_scheduled_event(
        community.guild_id,
        community.members[creator],
        name,
        datetime.now(UTC) + timedelta(hours=1),
        channel_id=community.channels["events"],
    )


async def join_voice(emulator: Any, community: Any, *names: str, parked: bool = False) -> None:
    for name in names:
        await emulator.voice_join(
            community.guild_id,
            community.members[name],
            community.channels["events"],
            self_mute=parked,
            self_deaf=parked,
        )


async def slash(
    emulator: Any, community: Any, user_id: int, name: str, **options: Any
) -> dict[str, Any]:
    interaction = await emulator.invoke_slash_command(
        community.guild_id, community.channels["general"], user_id, name, options=options
    )
    return (await interaction.wait_answer(timeout=5))["data"]


async def test_host_and_members_who_stayed_are_credited(flywheel, emulator, community, clock):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    event = await new_event(emulator, community, "ada", "Community call")
    # RSVPs right after creation: they must not be lost while the event is being recorded.
    for name in ("grace", "linus", "margaret", "barbara"):
        await emulator.event_add_user(gid, event.id, m[name])
    await eventually(lambda: _has_rsvps(bot, event.id, 4))

    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    await join_voice(emulator, community, "grace", "linus", "margaret", "barbara")
    await join_voice(emulator, community, "guido", parked=True)
    await open_voice(bot, 5)

    clock.advance(timedelta(minutes=5))
    await emulator.voice_leave(gid, m["barbara"])
    await open_voice(bot, 4)
    clock.advance(timedelta(minutes=10))
    await emulator.end_scheduled_event(gid, event.id)
    outcome = await event_in(bot, event.id, "completed", settled=True)

    assert outcome.attendee_count == 3
    attended = await credited(bot, "event_attended")
    assert set(attended) == {m["grace"], m["linus"], m["margaret"]}
    assert attended[m["grace"]] == [f"event:{event.id}:attended:{m['grace']}"]
    assert await credited(bot, "event_hosted") == {m["ada"]: [f"event:{event.id}:host"]}

    [summary] = await eventually(lambda: bot_posts(emulator, community.channels["mod-log"]))
    assert summary["content"] == (
        f"**Community call** ended: 3 attended (4 RSVPs); host <@{m['ada']}> credited."
    )
    assert summary["mentions"] == [] and summary["allowed_mentions"] == {"parse": []}

    report = await slash(
        emulator, community, community.moderators["morgan"], "event report", event=str(event.id)
    )
    assert report["flags"] & 64
    [embed] = report["embeds"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Interested (4)"].count("<@") == 4
    assert fields["Attended (3)"] == " ".join(
        f"<@{u}>" for u in sorted([m["grace"], m["linus"], m["margaret"]])
    )
    assert fields["Interested, did not attend (1)"] == f"<@{m['barbara']}>"
    assert fields["Attended without RSVP (0)"] == "nobody"


async def _has_rsvps(bot: Any, event_id: int, count: int) -> bool:
    return len(await rsvps(bot, event_id)) == count


async def test_too_few_attendees_credit_the_attendees_but_not_the_host(
    flywheel, emulator, community, clock
):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    # Already in the channel before the event exists: counted from when it is created.
    await join_voice(emulator, community, "grace")
    await settled(emulator, bot)  # grace is in the channel before the event exists
    event = await new_event(emulator, community, "ada", "AMA @everyone <@&123>")
    await open_voice(bot, 1)
    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    await join_voice(emulator, community, "linus")
    await open_voice(bot, 2)
    clock.advance(timedelta(minutes=12))
    await emulator.end_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "completed", settled=True)

    assert set(await credited(bot, "event_attended")) == {m["grace"], m["linus"]}
    assert await credited(bot, "event_hosted") == {}
    [summary] = await eventually(lambda: bot_posts(emulator, community.channels["mod-log"]))
    expected = "ended: 2 attended (0 RSVPs); no host credit: 2 attendees, fewer than the 3 needed."
    assert summary["content"].endswith(expected)
    assert not summary["mention_everyone"] and summary["mention_roles"] == []
    assert summary["mentions"] == []


async def test_a_canceled_event_credits_nobody(flywheel, emulator, community, clock):
    bot, gid = flywheel.bot, community.guild_id
    event = await new_event(emulator, community, "ada", "Workshop")
    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    await join_voice(emulator, community, "grace", "linus", "margaret")
    await open_voice(bot, 3)
    clock.advance(timedelta(minutes=30))
    await emulator.cancel_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "canceled")
    await open_voice(bot, 0)  # the channel is no longer watched

    assert await credited(bot, "event_attended") == {}
    assert await credited(bot, "event_hosted") == {}
    assert bot_posts(emulator, community.channels["mod-log"]) == []
    refused = await slash(
        emulator,
        community,
        community.moderators["riley"],
        "event host",
        event=str(event.id),
        member=community.members["grace"],
    )
    assert refused["content"] == "**Workshop** was canceled; nobody will be credited."
    assert refused["flags"] & 64


async def test_a_replayed_completion_settles_once(flywheel, emulator, community, clock):
    bot, gid = flywheel.bot, community.guild_id
    event = await new_event(emulator, community, "ada", "Office hours")
    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    await join_voice(emulator, community, "grace", "linus", "margaret")
    await open_voice(bot, 3)
    clock.advance(timedelta(minutes=20))
    await emulator.end_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "completed", settled=True)

    await emulator.end_scheduled_event(gid, event.id)  # the gateway replays the completion
    await settled(emulator, bot)
    assert await bot.services.events.settle(event.id) is None

    attended = await credited(bot, "event_attended")
    assert sum(len(sources) for sources in attended.values()) == 3
    assert len(await credited(bot, "event_hosted")) == 1
    assert len(bot_posts(emulator, community.channels["mod-log"])) == 1


async def test_a_moderator_chooses_the_host(flywheel, emulator, community, clock):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    morgan = community.moderators["morgan"]
    event = await new_event(emulator, community, "ada", "Release party")
    await event_in(bot, event.id, "scheduled")

    suggest = await emulator.invoke_autocomplete(
        gid,
        community.channels["general"],
        morgan,
        "event host",
        options={"event": "release"},
        focused="event",
    )
    [choice] = (await suggest.wait_answer(timeout=5))["data"]["choices"]
    assert choice["value"] == str(event.id)
    assert choice["name"].startswith("Release party — ")

    refused = await slash(
        emulator, community, m["ada"], "event host", event=str(event.id), member=m["grace"]
    )
    assert refused["content"] == "Only moderators can do that." and refused["flags"] & 64
    unknown = await slash(emulator, community, morgan, "event host", event="42", member=m["grace"])
    assert unknown["content"] == "I don't know that event. Pick one from the list."
    assert unknown["flags"] & 64
    a_bot = await slash(
        emulator, community, morgan, "event host", event=str(event.id), member=emulator.bot_user_id
    )
    assert a_bot["content"] == "Bots can't host events; pick a member." and a_bot["flags"] & 64

    done = await slash(
        emulator, community, morgan, "event host", event=str(event.id), member=m["grace"]
    )
    assert done["flags"] & 64
    assert done["content"] == (
        f"<@{m['grace']}> will be credited as the host of **Release party** when it ends."
    )

    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    await join_voice(emulator, community, "linus", "margaret", "guido")
    await open_voice(bot, 3)
    clock.advance(timedelta(minutes=10))
    await emulator.end_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "completed", settled=True)
    assert await credited(bot, "event_hosted") == {m["grace"]: [f"event:{event.id}:host"]}

    late = await slash(
        emulator, community, morgan, "event host", event=str(event.id), member=m["ada"]
    )
    refusal = "**Release party** has already been settled, so its host can't change."
    assert late["content"] == refusal
    assert late["flags"] & 64
    non_mod_report = await slash(emulator, community, m["ada"], "event report", event=str(event.id))
    assert non_mod_report["content"] == "Only moderators can do that."
    garbled = await slash(emulator, community, morgan, "event report", event="Release party")
    assert garbled["content"] == "I don't know that event. Pick one from the list."
    assert garbled["flags"] & 64

    past = await emulator.invoke_autocomplete(
        gid, community.channels["general"], morgan, "event report", {"event": ""}, "event"
    )
    [choice] = (await past.wait_answer(timeout=5))["data"]["choices"]
    assert choice["value"] == str(event.id), "settled events can still be reported on"


async def test_an_open_voice_session_survives_a_restart(emulator, community, bot_config, clock):
    m, gid = community.members, community.guild_id
    extensions = all_extensions()
    async with running_bot(bot_config, clock=clock, extensions=extensions) as app:
        event = await new_event(emulator, community, "ada", "Long call")
        await emulator.start_scheduled_event(gid, event.id)
        await event_in(app.bot, event.id, "active")
        await join_voice(emulator, community, "grace", "linus", "margaret", "barbara")
        before = await open_voice(app.bot, 4)
        clock.advance(timedelta(minutes=4))

    await emulator.voice_leave(gid, m["barbara"])  # while the bot is away
    async with running_bot(bot_config, clock=clock, extensions=extensions) as app:
        after = await open_voice(app.bot, 3)
        assert {r.id for r in after} < {r.id for r in before}, "the same rows stay open"
        [barbara] = [r for r in await voice_rows(app.bot) if r.user_id == m["barbara"]]
        assert barbara.ended_at == clock.now(), "closed at the restart: when she left is unknown"
        clock.advance(timedelta(minutes=8))
        await emulator.end_scheduled_event(gid, event.id)
        await event_in(app.bot, event.id, "completed", settled=True)
        attended = await credited(app.bot, "event_attended")
        assert set(attended) == {m["grace"], m["linus"], m["margaret"]}
        assert set(await credited(app.bot, "event_hosted")) == {m["ada"]}


async def test_a_withdrawn_rsvp_no_longer_counts_as_interested(
    flywheel, emulator, community, clock
):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    event = await new_event(emulator, community, "ada", "Design review")
    for name in ("grace", "linus", "barbara"):
        await emulator.event_add_user(gid, event.id, m[name])
    await eventually(lambda: _has_rsvps(bot, event.id, 3))
    await emulator.event_remove_user(gid, event.id, m["barbara"])
    await eventually(lambda: _rsvps_are(bot, event.id, {m["grace"], m["linus"]}))

    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    await join_voice(emulator, community, "grace", "barbara", "margaret")
    await open_voice(bot, 3)
    clock.advance(timedelta(minutes=15))
    await emulator.end_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "completed", settled=True)

    assert await rsvps(bot, event.id) == {m["grace"], m["linus"]}
    [summary] = await eventually(lambda: bot_posts(emulator, community.channels["mod-log"]))
    assert summary["content"].startswith("**Design review** ended: 3 attended (2 RSVPs);")

    report = await slash(
        emulator, community, community.moderators["morgan"], "event report", event=str(event.id)
    )
    [embed] = report["embeds"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Interested (2)"] == " ".join(f"<@{u}>" for u in sorted([m["grace"], m["linus"]]))
    assert fields["Interested, did not attend (1)"] == f"<@{m['linus']}>"
    assert fields["Attended without RSVP (2)"] == " ".join(
        f"<@{u}>" for u in sorted([m["barbara"], m["margaret"]])
    )


async def _rsvps_are(bot: Any, event_id: int, expected: set[int]) -> bool:
    return await rsvps(bot, event_id) == expected


async def test_a_replayed_voice_state_does_not_double_attendance(
    flywheel, emulator, community, clock
):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    guild = emulator.world.guilds[gid]
    event = await new_event(emulator, community, "ada", "Pairing hour")
    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    joined_at = clock.now()
    await join_voice(emulator, community, "grace", "linus", "margaret")
    await open_voice(bot, 3)

    clock.advance(timedelta(minutes=6))
    for _ in range(2):  # the gateway delivers grace's join again after a resume
        emulator.events.voice_state_update(guild.voice_states[m["grace"]])
    await settled(emulator, bot)
    rows = await open_voice(bot, 3)
    [grace_row] = [r for r in await voice_rows(bot) if r.user_id == m["grace"]]
    assert grace_row.started_at == joined_at and grace_row.ended_at is None
    assert {r.id for r in rows} == {r.id for r in await voice_rows(bot)}, "no extra rows"

    clock.advance(timedelta(minutes=6))
    report = await bot.services.events.report(event.id)
    assert report.minutes == {m[n]: 12.0 for n in ("grace", "linus", "margaret")}

    await emulator.end_scheduled_event(gid, event.id)
    outcome = await event_in(bot, event.id, "completed", settled=True)
    assert outcome.attendee_count == 3
    attended = await credited(bot, "event_attended")
    assert attended == {
        m[n]: [f"event:{event.id}:attended:{m[n]}"] for n in ("grace", "linus", "margaret")
    }
    assert await credited(bot, "event_hosted") == {m["ada"]: [f"event:{event.id}:host"]}


async def test_a_stage_event_credits_attendance_like_a_voice_event(
    flywheel, emulator, community, clock
):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    stage = emulator.guild(gid).create_stage_channel("town-hall")
    await eventually(lambda: bot.get_channel(stage.id))
    event = await emulator.create_scheduled_event(
        gid, m["ada"], "Town hall", datetime.now(UTC) + timedelta(hours=1), channel_id=stage.id
    )
    await emulator.event_add_user(gid, event.id, m["grace"])
    await eventually(lambda: _has_rsvps(bot, event.id, 1))
    await emulator.start_scheduled_event(gid, event.id)
    await event_in(bot, event.id, "active")
    for name in ("grace", "linus", "margaret"):
        await emulator.voice_join(gid, m[name], stage.id)
    await emulator.voice_join(gid, m["guido"], stage.id, self_mute=True, self_deaf=True)
    # Someone in the ordinary voice channel is not at the stage event.
    await emulator.voice_join(gid, m["barbara"], community.channels["events"])
    rows = await open_voice(bot, 4)
    assert {r.channel_id for r in rows} == {stage.id}

    clock.advance(timedelta(minutes=11))
    await emulator.end_scheduled_event(gid, event.id)
    outcome = await event_in(bot, event.id, "completed", settled=True)

    assert outcome.attendee_count == 3
    attended = await credited(bot, "event_attended")
    assert set(attended) == {m["grace"], m["linus"], m["margaret"]}
    assert await credited(bot, "event_hosted") == {m["ada"]: [f"event:{event.id}:host"]}
    [summary] = await eventually(lambda: bot_posts(emulator, community.channels["mod-log"]))
    assert summary["content"] == (
        f"**Town hall** ended: 3 attended (1 RSVP); host <@{m['ada']}> credited."
    )
