"""The ladder end to end: promotion, at-risk notice, demotion, pin, leave, roles and /tier."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.checks import MODERATORS_ONLY
from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, build_sample_community, community_config
from bot.emulated import running_bot
from bot.services.retry import RetryPolicy
from db.faults import StoreFaults
from db.models import Member, TierChange, TierState
from db.repositories.activity import ActivityRepository
from tests.e2e.util import bot_posts, eventually, private_reply, slash

pytestmark = pytest.mark.e2e

_sources = itertools.count(1)
NO_TIER_ALREADY = "ada already has no tier."


@pytest.fixture
async def flywheel(flywheel: Any, community: Any) -> Any:
    """The running bot, once its start-up member sync is done (the ladder reads members)."""
    bot = flywheel.bot

    async def recorded() -> bool:
        async with bot.services.sessions() as session:
            rows = await session.scalars(select(Member.user_id).where(Member.left_at.is_(None)))
            return set(community.members.values()) <= set(rows)

    await eventually(recorded)
    await asyncio.wait_for(bot.services.tiers.caught_up.wait(), timeout=5)
    return flywheel


async def credit(bot: Any, user_id: int, kind: str, times: int = 1) -> None:
    """Record ``times`` contributions of ``kind`` now (no listener is told)."""
    async with bot.services.sessions() as session, session.begin():
        for _ in range(times):
            source = f"test:{kind}:{user_id}:{next(_sources)}"
            await bot.services.contributions.record(
                session, bot.services.contributions.credit(kind, user_id, source)
            )


async def active_weeks(bot: Any, user_id: int, weeks: int) -> None:
    """One active day in each of the last ``weeks`` weeks."""
    today = bot.clock.now().astimezone(bot.settings.schedule.tz).date()
    days = {(user_id, today - timedelta(days=7 * i)): 3 for i in range(weeks)}
    async with bot.services.sessions() as session, session.begin():
        await ActivityRepository(session, bot.guild_id).add_messages(days)


async def make_champion_material(bot: Any, user_id: int) -> None:
    """Champion: 50 points, 3 accepted answers, 2 active weeks in 90 days (sample TIERS)."""
    await credit(bot, user_id, "answer", 5)
    await active_weeks(bot, user_id, 2)


async def state_of(bot: Any, user_id: int) -> TierState | None:
    async with bot.services.sessions() as session:
        return await session.get(TierState, (bot.guild_id, user_id))


async def tier_of(bot: Any, user_id: int) -> str | None:
    state = await state_of(bot, user_id)
    return state.tier_key if state is not None else None


async def changes_of(bot: Any, user_id: int) -> list[TierChange]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(
            select(TierChange).where(TierChange.user_id == user_id).order_by(TierChange.id)
        )
        return list(rows)


def ladder(flywheel: Any) -> Any:
    return flywheel.bot.services.tiers


async def promote(flywheel: Any, emulator: Any, community: Any, name: str) -> int:
    """Give ``name`` Champion's numbers, tell the ladder, wait for the role."""
    bot, user = flywheel.bot, community.members[name]
    await make_champion_material(bot, user)
    await bot.services.contributions.changed({user})
    assert await tier_of(bot, user) == "champion", "decided before changed() returns"
    role = community.tier_role_ids["champion"]
    await eventually(lambda: role in emulator.member_roles(community.guild_id, user))
    return user


def announcements(emu: Any, community: Any) -> list[dict[str, Any]]:
    return bot_posts(emu, community.channels["announcements"])


def mod_log(emu: Any, community: Any) -> list[dict[str, Any]]:
    return bot_posts(emu, community.channels["mod-log"])


def role_alerts(emu: Any, community: Any) -> list[dict[str, Any]]:
    """The ladder's alerts (preflight also reports the misplaced role, at start-up)."""
    return [m for m in mod_log(emu, community) if m["content"].startswith("**Tier roles:**")]


def dms(emu: Any, user_id: int) -> list[dict[str, Any]]:
    return [m for m in emu.dms(user_id) if m["author"]["id"] == str(emu.bot_user_id)]


# --------------------------------------------------------------------------- promotion


async def test_credits_promote_with_role_announcement_and_welcome_dm(flywheel, emulator, community):
    bot = flywheel.bot
    ada = await promote(flywheel, emulator, community, "ada")

    [change] = await changes_of(bot, ada)
    assert (change.from_tier, change.to_tier, change.actor_id) == (None, "champion", None)
    assert change.reason.startswith("Promoted to Champion: every criterion is met.")
    assert "5/3 accepted answers ✓" in change.reason and "50/50 points ✓" in change.reason

    [post] = await eventually(lambda: announcements(emulator, community))
    assert post["content"] == f"🎉 <@{ada}> is now a Champion!"
    assert post["allowed_mentions"]["parse"] == []
    assert post["allowed_mentions"]["users"] == [ada]
    assert [m["id"] for m in post["mentions"]] == [str(ada)]
    assert post["mention_everyone"] is False

    [welcome] = await eventually(lambda: dms(emulator, ada))
    assert welcome["content"] == "You're now a Champion in Flywheel Demo Community! 🎉"
    [embed] = welcome["embeds"]
    assert embed["title"] == "Welcome, Champion!"
    assert embed["description"].startswith("Welcome to the Champions!")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Benefits"].startswith("Champion role and channel")
    assert fields["What we ask"] == "Help others in the forums a few times a month"

    # A replayed notification (or another contribution) changes nothing and says nothing.
    await bot.services.contributions.changed({ada})
    await ladder(flywheel).roles.drained()
    assert len(await changes_of(bot, ada)) == 1
    assert len(announcements(emulator, community)) == 1 and len(dms(emulator, ada)) == 1
    adds = [c for c in emulator.role_changes if c.user_id == ada and c.action == "add"]
    assert len(adds) == 1


async def test_short_of_one_criterion_is_not_promoted(flywheel, emulator, community):
    bot, grace = flywheel.bot, community.members["grace"]
    await credit(bot, grace, "answer", 5)
    await active_weeks(bot, grace, 1)  # two weeks are needed
    await bot.services.contributions.changed({grace})
    assert await tier_of(bot, grace) is None
    assert announcements(emulator, community) == []


async def test_an_opted_out_member_is_promoted_without_a_public_post(flywheel, emulator, community):
    bot, linus = flywheel.bot, community.members["linus"]
    async with bot.services.sessions() as session, session.begin():
        await session.execute(
            update(Member).where(Member.user_id == linus).values(recognition_opt_out=True)
        )
    await promote(flywheel, emulator, community, "linus")
    await eventually(lambda: dms(emulator, linus))
    assert announcements(emulator, community) == []


async def test_a_member_with_closed_dms_is_still_promoted(flywheel, emulator, community):
    bot = flywheel.bot
    quiet = await emulator.member_join(community.guild_id, "quiet", accepts_dms=False)

    async def recorded() -> bool:
        async with bot.services.sessions() as session:
            return await session.get(Member, (bot.guild_id, quiet.user_id)) is not None

    await eventually(recorded)
    await make_champion_material(bot, quiet.user_id)
    await bot.services.contributions.changed({quiet.user_id})
    role = community.tier_role_ids["champion"]
    await eventually(lambda: role in emulator.member_roles(community.guild_id, quiet.user_id))
    await eventually(lambda: announcements(emulator, community))
    refused = emulator.requests("POST", r"/channels/\d+/messages$")
    assert any(r.status == 403 for r in refused), "the DM was attempted and refused (50007)"
    assert dms(emulator, quiet.user_id) == []


# --------------------------------------------------------------------------- staying power


async def test_at_risk_notice_then_demotion_after_the_grace_period(
    flywheel, emulator, community, clock
):
    bot, cog = flywheel.bot, ladder(flywheel)
    ada = await promote(flywheel, emulator, community, "ada")
    await eventually(lambda: dms(emulator, ada))

    clock.advance(timedelta(days=91))  # every credit has left the 90-day window
    await cog.run_sweep()
    state = await state_of(bot, ada)
    assert state.tier_key == "champion" and state.below_since == clock.now()
    assert len(dms(emulator, ada)) == 1, "no notice yet: the demotion is 30 days away"

    clock.advance(timedelta(days=24))  # 6 days before the demotion: inside the notice period
    await cog.run_sweep()
    notice = await eventually(lambda: dms(emulator, ada)[1:])
    text = notice[0]["content"]
    assert text.startswith("Heads-up from Flywheel Demo Community: your Champion tier is at risk.")
    assert "0/50 points ✗ (below the low-water mark of 45)" in text
    assert "leave of absence" in text
    await cog.run_sweep()
    assert len(dms(emulator, ada)) == 2, "the notice is sent once"

    clock.advance(timedelta(days=7))
    await cog.run_sweep()
    assert await tier_of(bot, ada) is None
    role = community.tier_role_ids["champion"]
    await eventually(lambda: role not in emulator.member_roles(community.guild_id, ada))
    demoted = await eventually(lambda: dms(emulator, ada)[2:])
    assert demoted[0]["content"].startswith(
        "Your tier in Flywheel Demo Community changed from Champion to no tier."
    )
    last = (await changes_of(bot, ada))[-1]
    assert (last.from_tier, last.to_tier, last.actor_id) == ("champion", None, None)
    assert last.reason.startswith("Demoted from Champion to no tier")


async def test_a_pinned_tier_survives_and_unpinning_restarts_the_grace_clock(
    flywheel, emulator, community, clock
):
    bot, cog = flywheel.bot, ladder(flywheel)
    ada = await promote(flywheel, emulator, community, "ada")
    morgan = community.moderators["morgan"]

    reply = await private_reply(await slash(emulator, community, morgan, "tier pin", member=ada))
    assert reply["content"] == (
        "ada is pinned at Champion: automatic tier changes are paused until /tier unpin."
    )
    again = await private_reply(await slash(emulator, community, morgan, "tier pin", member=ada))
    assert again["content"] == "ada is already pinned."

    clock.advance(timedelta(days=200))
    await cog.run_sweep()
    state = await state_of(bot, ada)
    assert state.tier_key == "champion" and state.pinned and state.below_since is None

    reply = await private_reply(await slash(emulator, community, morgan, "tier unpin", member=ada))
    assert reply["content"] == "ada is unpinned: the automatic tier rules apply again."
    state = await state_of(bot, ada)
    assert not state.pinned and state.tier_key == "champion"
    assert state.below_since == clock.now(), "the grace period starts at the unpin"
    again = await private_reply(await slash(emulator, community, morgan, "tier unpin", member=ada))
    assert again["content"] == "ada isn't pinned."
    audit = [m["content"] for m in mod_log(emulator, community)]
    assert audit == ["morgan pinned ada at Champion.", "morgan unpinned ada."]


async def test_a_leave_of_absence_freezes_demotion(flywheel, emulator, community, clock):
    bot, cog = flywheel.bot, ladder(flywheel)
    ada = await promote(flywheel, emulator, community, "ada")
    await eventually(lambda: dms(emulator, ada))
    morgan = community.moderators["morgan"]
    record = await slash(emulator, community, morgan, "tier leave", member=ada, days=150)
    reply = await private_reply(record)
    until = bot.clock.now() + timedelta(days=150)
    assert reply["content"] == (
        f"ada is on leave until {until.day} {until:%b %Y}: their tier can't be lost meanwhile."
    )
    for _ in range(4):  # 140 days, far past the grace period, all on leave
        clock.advance(timedelta(days=35))
        await cog.run_sweep()
    state = await state_of(bot, ada)
    assert state.tier_key == "champion" and state.below_since is None
    assert len(dms(emulator, ada)) == 1, "no at-risk notice during a leave"

    clock.advance(timedelta(days=11))  # the leave is over: the grace clock starts afresh
    await cog.run_sweep()
    state = await state_of(bot, ada)
    assert state.tier_key == "champion" and state.below_since == clock.now()

    ended = await private_reply(
        await slash(emulator, community, morgan, "tier leave", member=ada, days=0)
    )
    assert ended["content"] == "ada's leave of absence has ended."


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize("bot_role_position", [2])
async def test_a_role_the_bot_cannot_give_alerts_moderators_once(flywheel, emulator, community):
    bot, cog = flywheel.bot, ladder(flywheel)
    ada, grace = community.members["ada"], community.members["grace"]
    for user in (ada, grace):
        await make_champion_material(bot, user)
    await bot.services.contributions.changed({ada, grace})
    assert await tier_of(bot, ada) == "champion", "the decision stands though the role fails"

    [alert] = await eventually(lambda: role_alerts(emulator, community))
    await cog.run_sweep()
    await cog.roles.drained()
    await cog.run_sweep()
    await cog.roles.drained()
    assert role_alerts(emulator, community) == [alert], "one alert per role, not per sweep"
    assert "move the Flywheel role above Champion in Server Settings → Roles" in alert["content"]
    assert alert["content"].startswith("**Tier roles:** Flywheel can't give or remove Champion")
    assert alert["allowed_mentions"] == {"parse": []}
    role = community.tier_role_ids["champion"]
    assert role not in emulator.member_roles(community.guild_id, ada)
    assert cog.roles.pending[role] == {ada, grace}

    # The moderator fixes the role order; /tier sync applies what was waiting.
    emulator.guild(community.guild_id).edit_role(community.bot_role_id, position=10)
    morgan = community.moderators["morgan"]
    reply = await private_reply(await slash(emulator, community, morgan, "tier sync"))
    assert reply["content"] == (
        "2 member(s) need tier role changes: queued, applied a few per second."
    )
    for user in (ada, grace):
        await eventually(lambda u=user: role in emulator.member_roles(community.guild_id, u))
    assert cog.roles.pending == {} and cog.roles.alerted == frozenset()


async def test_a_member_who_rejoins_gets_their_tier_role_back(flywheel, emulator, community):
    bot = flywheel.bot
    ada = await promote(flywheel, emulator, community, "ada")
    await emulator.member_leave(community.guild_id, ada)

    async def gone() -> bool:
        async with bot.services.sessions() as session:
            row = await session.get(Member, (bot.guild_id, ada))
            return row is not None and row.left_at is not None

    await eventually(gone)
    guild = emulator.world.guilds[community.guild_id]
    emulator.ops.member_join(guild, emulator.world.users[ada])
    role = community.tier_role_ids["champion"]
    await eventually(lambda: role in emulator.member_roles(community.guild_id, ada))
    assert await tier_of(bot, ada) == "champion"


async def test_tier_sync_restores_removed_roles_and_leaves_hand_given_ones(
    flywheel, emulator, community
):
    ada = await promote(flywheel, emulator, community, "ada")
    gid, roles = community.guild_id, community.tier_role_ids
    await emulator.set_member_roles(gid, ada, [])  # an admin took the role away by hand
    await emulator.set_member_roles(gid, community.members["grace"], [roles["ambassador"]])
    await eventually(lambda: flywheel.bot.get_guild(gid).get_member(ada).roles[1:] == [])

    morgan = community.moderators["morgan"]
    reply = await private_reply(await slash(emulator, community, morgan, "tier sync"))
    assert reply["content"] == (
        "1 member(s) need tier role changes: queued, applied a few per second. 1 member(s) "
        "wear tier roles Flywheel didn't give; they're left alone (put them on the ladder "
        "with /tier set)."
    )
    await eventually(lambda: roles["champion"] in emulator.member_roles(gid, ada))
    assert emulator.member_roles(gid, community.members["grace"]) == [roles["ambassador"]]


# --------------------------------------------------------------------------- /tier


async def test_tier_set_moves_a_member_on_the_record(flywheel, emulator, community):
    bot = flywheel.bot
    grace, morgan = community.members["grace"], community.moderators["morgan"]
    record = await slash(
        emulator,
        community,
        morgan,
        "tier set",
        member=grace,
        tier="Ambassador",
        reason="Ran the @everyone meetup",
    )
    reply = await private_reply(record)
    assert reply["content"] == (
        "grace's tier is now Ambassador (was no tier). Note: they're below this tier's "
        "requirements, so without a pin they'd lose it on "
        f"{_day(bot, bot.clock.now() + timedelta(days=30))}."
    )
    [entry] = await changes_of(bot, grace)
    assert (entry.from_tier, entry.to_tier, entry.actor_id) == (None, "ambassador", morgan)
    assert entry.reason == "Ran the @everyone meetup"

    role = community.tier_role_ids["ambassador"]
    await eventually(lambda: role in emulator.member_roles(community.guild_id, grace))
    [post] = await eventually(lambda: announcements(emulator, community))
    assert post["content"] == f"🎉 <@{grace}> is now an Ambassador!"
    [audit] = mod_log(emulator, community)
    assert audit["content"] == (
        "morgan set grace's tier to Ambassador (was no tier): Ran the @everyone meetup"
    )
    assert audit["allowed_mentions"] == {"parse": []} and audit["mention_everyone"] is False

    again = await private_reply(
        await slash(
            emulator, community, morgan, "tier set", member=grace, tier="ambassador", reason="x"
        )
    )
    assert again["content"] == "grace already holds Ambassador."

    down = await private_reply(
        await slash(
            emulator,
            community,
            morgan,
            "tier set",
            member=grace,
            tier="none",
            reason="Stepped down",
        )
    )
    assert down["content"] == "grace's tier is now no tier (was Ambassador)."
    await eventually(lambda: role not in emulator.member_roles(community.guild_id, grace))
    told = await eventually(lambda: dms(emulator, grace)[1:])
    assert told[0]["content"] == (
        "A moderator changed your tier in Flywheel Demo Community from Ambassador to no tier."
    )


async def test_tier_set_with_a_pin_sticks_and_without_one_the_rules_say_so(
    flywheel, emulator, community
):
    bot = flywheel.bot
    ada = await promote(flywheel, emulator, community, "ada")
    morgan = community.moderators["morgan"]

    async def set_none(**extra: Any) -> str:
        record = (
            await slash(
                emulator, community, morgan, "tier set", member=ada, tier="none", reason="Paused"
            )
            if not extra
            else await slash(
                emulator,
                community,
                morgan,
                "tier set",
                member=ada,
                tier="none",
                reason="Paused",
                **extra,
            )
        )
        return (await private_reply(record))["content"]

    assert await set_none(pin=True) == (
        "ada's tier is now no tier (was Champion). Pinned: automatic tier changes are paused "
        "until /tier unpin."
    )
    await bot.services.contributions.changed({ada})
    assert await tier_of(bot, ada) is None, "pinned: the rules do not promote her back"

    await private_reply(await slash(emulator, community, morgan, "tier unpin", member=ada))
    assert await tier_of(bot, ada) == "champion", "unpinned: re-evaluated at once"

    assert await set_none() == (
        "ada's tier is now no tier (was Champion). Note: they meet Champion, so the ladder "
        "will promote them at its next evaluation; /tier pin keeps this tier."
    )


def _day(bot: Any, when: Any) -> str:
    local = when.astimezone(bot.settings.schedule.tz)
    return f"{local.day} {local:%b %Y}"


async def test_tier_commands_refuse_bad_input_and_non_moderators(flywheel, emulator, community):
    ada, grace = community.members["ada"], community.members["grace"]
    morgan = community.moderators["morgan"]
    cases = [
        (grace, "tier set", {"member": ada, "tier": "champion", "reason": "x"}, MODERATORS_ONLY),
        (grace, "tier pin", {"member": ada}, MODERATORS_ONLY),
        (grace, "tier unpin", {"member": ada}, MODERATORS_ONLY),
        (grace, "tier leave", {"member": ada, "days": 10}, MODERATORS_ONLY),
        (grace, "tier history", {"member": ada}, MODERATORS_ONLY),
        (grace, "tier sync", {}, MODERATORS_ONLY),
        (
            morgan,
            "tier set",
            {"member": ada, "tier": "legend", "reason": "x"},
            "There is no tier called 'legend'. Tiers: Champion, Ambassador, Advisor, or none.",
        ),
        (
            morgan,
            "tier set",
            {"member": emulator.bot_user_id, "tier": "champion", "reason": "x"},
            "Bots aren't on the ladder.",
        ),
        (morgan, "tier set", {"member": ada, "tier": "none", "reason": "x"}, NO_TIER_ALREADY),
        (morgan, "tier unpin", {"member": ada}, "ada isn't pinned."),
        (
            morgan,
            "tier pin",
            {"member": morgan},
            "You can't change your own standing on the ladder; ask another moderator.",
        ),
        (morgan, "tier history", {"member": grace}, "grace has no tier history yet."),
    ]
    for who, command, options, expected in cases:
        reply = await private_reply(await slash(emulator, community, who, command, **options))
        assert reply["content"] == expected, (command, options)
    assert mod_log(emulator, community) == []


async def test_tier_history_lists_changes_newest_first(flywheel, emulator, community):
    ada = await promote(flywheel, emulator, community, "ada")
    morgan = community.moderators["morgan"]
    await private_reply(await slash(emulator, community, morgan, "tier pin", member=ada))
    reply = await private_reply(
        await slash(emulator, community, morgan, "tier history", member=ada)
    )
    [embed] = reply["embeds"]
    assert embed["title"] == "Tier history of ada"
    pinned, promoted = embed["description"].split("\n**")
    assert "Champion · morgan\nPinned at Champion" in pinned
    assert "no tier → Champion · automatic\nPromoted to Champion" in promoted


# --------------------------------------------------------------------------- demo


async def test_the_demo_scene_promotes_katherine(emulator, clock, tmp_path):
    from bot.demo import Transcript
    from bot.demo.scenes import ladder as ladder_scene

    community = build_sample_community(emulator, bot_role_position=6)  # as the demo does
    config = parse_config(
        community_config(
            community, emulator, database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
        ),
        env={"DISCORD_TOKEN": EMULATOR_TOKEN},
    )
    lines: list[str] = []
    async with running_bot(config, clock=clock) as app:
        await asyncio.wait_for(app.bot.services.tiers.caught_up.wait(), timeout=5)
        transcript = Transcript(emulator, community, lines.append, clock=clock)
        transcript.seen = len(emulator.request_log)
        await ladder_scene.scene(emulator, community, transcript)
        katherine = community.members["katherine"]
        assert await tier_of(app.bot, katherine) == "champion"
    text = "\n".join(lines)
    assert "gave role Champion to katherine" in text
    assert "posted in #announcements:\n        | 🎉 @katherine is now a Champion!" in text
    assert "posted in DMs with katherine" in text and "[embed] Welcome, Champion!" in text
    assert "every Champion criterion is met" in text


# --------------------------------------------------------------------------- seats


async def test_a_full_tier_takes_no_one_until_a_seat_frees_up(
    emulator, community, database_url, clock
):
    from bot.demo.community import TIERS

    tiers = [{**TIERS[0], "seats": 1}, *TIERS[1:]]
    data = community_config(community, emulator, database_url=database_url, tiers=tiers)
    config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    async with running_bot(config, clock=clock) as app:
        bot = app.bot
        await asyncio.wait_for(bot.services.tiers.caught_up.wait(), timeout=5)
        ada, grace = community.members["ada"], community.members["grace"]
        role = community.tier_role_ids["champion"]

        await make_champion_material(bot, ada)
        await bot.services.contributions.changed({ada})
        assert await tier_of(bot, ada) == "champion"

        # grace meets every number, but the one Champion seat is taken.
        await make_champion_material(bot, grace)
        await bot.services.contributions.changed({grace})
        assert await tier_of(bot, grace) is None
        [planned] = await bot.services.ladder.plan([grace])
        assert any("no seat free (1/1 seats taken)" in r for r in planned.decision.reasons)

        # A moderator moves ada off the tier: the seat is free and grace takes it.
        riley = community.moderators["riley"]
        await bot.services.ladder.set_tier(ada, None, reason="stepping back", actor_id=riley)
        await bot.services.contributions.changed({grace})
        assert await tier_of(bot, grace) == "champion"
        await eventually(lambda: role in emulator.member_roles(community.guild_id, grace))


async def test_a_sweep_on_a_busy_store_is_retried_and_a_lasting_failure_is_reported(
    flywheel, emulator, community
):
    bot, automation = flywheel.bot, ladder(flywheel)
    ada = community.members["ada"]
    await make_champion_material(bot, ada)
    automation.sweep_retry = RetryPolicy(attempts=3, first_wait=0.01, max_wait=0.02)
    faults = StoreFaults.attach(flywheel.engine)
    try:
        busy = faults.fail(match=r"FROM tier_states", times=2)
        report = await automation.run_sweep()
        assert busy.hits == 2 and report is not None and report.count("promote") == 1
        assert await tier_of(bot, ada) == "champion"

        faults.fail(match=r"FROM tier_states", times=None)
        assert await automation.run_sweep() is None
    finally:
        faults.detach()
    [alert] = await eventually(
        lambda: [m for m in mod_log(emulator, community) if "today's sweep failed" in m["content"]]
    )
    assert "after 3 tries" in alert["content"] and "Fix:" in alert["content"]


# --------------------------------------------------------------------------- start-up


async def test_a_restart_after_the_daily_sweep_evaluates_only_those_credited_since(
    emulator, community, database_url, clock
):
    """A restart of a big server must not sweep every member again: after today's sweep, the
    start-up evaluates only the members credited since (here, by another process on the store
    while the bot was away), then checks every tier role."""
    config = parse_config(
        community_config(community, emulator, database_url=database_url),
        env={"DISCORD_TOKEN": EMULATOR_TOKEN},
    )
    ada, grace = community.members["ada"], community.members["grace"]
    async with running_bot(config, clock=clock) as app:
        await asyncio.wait_for(app.bot.services.tiers.caught_up.wait(), timeout=5)
        swept = await app.bot.services.ladder.last_sweep_at()
        assert swept is not None  # the first start swept: nothing was known yet
        await make_champion_material(app.bot, ada)  # credited, but never evaluated
    clock.advance(timedelta(minutes=5))
    async with running_bot(config, clock=clock) as app:
        bot = app.bot
        await asyncio.wait_for(bot.services.tiers.caught_up.wait(), timeout=5)
        assert await bot.services.ladder.last_sweep_at() == swept  # no second sweep
        assert await tier_of(bot, ada) == "champion"  # yet ada, credited since, is placed
        assert await tier_of(bot, grace) is None
        role = community.tier_role_ids["champion"]
        await eventually(lambda: role in emulator.member_roles(community.guild_id, ada))
        # The members credited since the sweep are what the start-up evaluates.
        assert await bot.services.ladder.credited_since(swept) == {ada}
