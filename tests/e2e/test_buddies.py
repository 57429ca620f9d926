"""Buddies end to end: opt-in rules, the load limit, introductions, credit after N days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from db.models import BuddyPair, Contribution, Member, TierState
from db.repositories.activity import ActivityRepository
from emulator import permissions as perms
from tests.e2e.util import bot_posts, eventually, private_reply, slash

pytestmark = pytest.mark.e2e

CREDIT_AFTER = 3


@pytest.fixture
def buddies_section() -> dict[str, Any]:
    return {"enabled": True, "max_active": 1, "credit_after_days": CREDIT_AFTER}


@pytest.fixture
def bot_config(emulator, community, database_url, buddies_section):
    data = community_config(community, emulator, database_url=database_url, buddies=buddies_section)
    return parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})


@pytest.fixture
async def flywheel(flywheel: Any, community: Any) -> Any:
    """The running bot once its start-up member sync is done, ada and grace on a tier."""
    bot = flywheel.bot

    async def recorded() -> bool:
        async with bot.services.sessions() as session:
            rows = await session.scalars(select(Member.user_id).where(Member.left_at.is_(None)))
            return set(community.members.values()) <= set(rows)

    await eventually(recorded)
    async with bot.services.sessions.begin() as session:
        for name in ("ada", "grace"):
            session.add(
                TierState(
                    guild_id=bot.guild_id,
                    user_id=community.members[name],
                    tier_key="champion",
                    tier_since=bot.clock.now(),
                    updated_at=bot.clock.now(),
                )
            )
    return flywheel


def cog(app: Any) -> Any:
    return app.bot.get_cog("Buddies")


async def optin(emulator: Any, community: Any, name: str) -> str:
    reply = await private_reply(
        await slash(emulator, community, community.members[name], "buddy optin")
    )
    return reply["content"]


async def pairs(bot: Any) -> list[BuddyPair]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(BuddyPair).order_by(BuddyPair.id)))


async def pair_of(bot: Any, newcomer: int) -> BuddyPair:
    async def found() -> Any:
        return [p for p in await pairs(bot) if p.newcomer_id == newcomer]

    [pair] = await eventually(found)
    return pair


def dms_from_bot(emu: Any, user_id: int) -> list[dict[str, Any]]:
    return [m for m in emu.dms(user_id) if m["author"]["id"] == str(emu.bot_user_id)]


def mod_log(emu: Any, community: Any) -> list[str]:
    return [m["content"] for m in bot_posts(emu, community.channels["mod-log"])]


async def test_only_tier_members_can_volunteer_and_opting_out_is_safe(
    flywheel, emulator, community
):
    assert "Buddies are tier members" in await optin(emulator, community, "linus")
    assert "Thank you!" in await optin(emulator, community, "ada")
    assert "already a buddy volunteer" in await optin(emulator, community, "ada")
    out = await private_reply(
        await slash(emulator, community, community.members["linus"], "buddy optout")
    )
    assert out["content"] == "You weren't a buddy volunteer, so nothing changed."
    out = await private_reply(
        await slash(emulator, community, community.members["ada"], "buddy optout")
    )
    assert out["content"] == "Done: you won't be paired with new newcomers."


async def test_load_limit_dm_introductions_and_nobody_left(flywheel, emulator, community, caplog):
    bot, m = flywheel.bot, community.members
    await optin(emulator, community, "ada")
    await optin(emulator, community, "grace")

    first = await emulator.member_join(community.guild_id, "newbie1")
    pair1 = await pair_of(bot, first.id)
    assert pair1.buddy_id == m["ada"], "tie (never assigned): the lowest id"
    second = await emulator.member_join(community.guild_id, "newbie2")
    pair2 = await pair_of(bot, second.id)
    assert pair2.buddy_id == m["grace"], "ada is at max_active (1)"

    third = await emulator.member_join(community.guild_id, "newbie3")
    [note] = await eventually(
        lambda: [t for t in mod_log(emulator, community) if t.startswith("**Buddies:**")]
    )
    assert "newbie3 joined, but nobody could be their buddy" in note
    assert "all 2 volunteer(s) already have 1 newcomers (buddies.max_active)" in note
    assert [p.newcomer_id for p in await pairs(bot)] == [first.id, second.id]
    assert third.id not in {p.newcomer_id for p in await pairs(bot)}

    # Moderators are not told again for every newcomer: the next note, a day later, counts them.
    fourth = await emulator.member_join(community.guild_id, "newbie4")
    # The warning is logged in the same step that counts the newcomer for the next note.
    await eventually(lambda: f"no buddy for newcomer {fourth.id}" in caplog.text)
    bot.clock.advance(timedelta(hours=24))
    await emulator.member_join(community.guild_id, "newbie5")

    def buddy_notes() -> list[str]:
        return [t for t in mod_log(emulator, community) if t.startswith("**Buddies:**")]

    await eventually(lambda: len(buddy_notes()) == 2)
    notes = buddy_notes()
    assert notes[0] == note
    assert "newbie5 joined (and 1 other newcomer(s) since the last note)" in notes[1]

    # Both sides of the first pairing were introduced by DM (no intro channel configured).
    [welcome] = await eventually(lambda: dms_from_bot(emulator, first.id))
    assert f"<@{m['ada']}> (ada) is your buddy" in welcome["content"]
    assert welcome["allowed_mentions"]["parse"] == []
    buddy_dms = await eventually(lambda: dms_from_bot(emulator, m["ada"]))
    assert any(f"You're the buddy of <@{first.id}> (newbie1)" in d["content"] for d in buddy_dms)


class TestOptOut:
    @pytest.fixture
    def buddies_section(self) -> dict[str, Any]:
        return {"enabled": True, "max_active": 3}  # room for everyone: only opt-out matters

    async def test_opt_out_stops_new_assignments(self, flywheel, emulator, community):
        bot, m = flywheel.bot, community.members
        await optin(emulator, community, "ada")
        await optin(emulator, community, "grace")
        first = await emulator.member_join(community.guild_id, "newbie1")
        assert (await pair_of(bot, first.id)).buddy_id == m["ada"]
        out = await private_reply(await slash(emulator, community, m["ada"], "buddy optout"))
        assert "still the buddy of 1 newcomer(s)" in out["content"]
        for name in ("newbie2", "newbie3", "newbie4"):  # ada would have the fewest by now
            joined = await emulator.member_join(community.guild_id, name)
            assert (await pair_of(bot, joined.id)).buddy_id == m["grace"]


async def test_mentoring_credit_after_n_days_and_leavers_end_without_credit(
    flywheel, emulator, community
):
    bot, m = flywheel.bot, community.members
    await optin(emulator, community, "ada")
    await optin(emulator, community, "grace")
    stays = await emulator.member_join(community.guild_id, "stays")
    leaves = await emulator.member_join(community.guild_id, "leaves")
    stay_pair, leave_pair = await pair_of(bot, stays.id), await pair_of(bot, leaves.id)
    await emulator.member_leave(community.guild_id, leaves.id)

    async def left() -> bool:
        async with bot.services.sessions() as session:
            member = await session.get(Member, (bot.guild_id, leaves.id))
            return member is not None and member.left_at is not None

    await eventually(left)

    # Too early: nothing is credited, the leaver's pairing ends at once.
    report = await cog(flywheel).run_settle()
    assert report.credited == [] and [p.id for p in report.ended_left] == [leave_pair.id]

    bot.clock.advance(timedelta(days=CREDIT_AFTER, hours=1))
    report = await cog(flywheel).run_settle()
    assert report.credited == [], "not active since the due day yet"

    today = bot.clock.now().astimezone(bot.settings.schedule.tz).date()
    async with bot.services.sessions.begin() as session:
        await ActivityRepository(session, bot.guild_id).add_messages({(stays.id, today): 2})
    report = await cog(flywheel).run_settle()
    assert [p.id for p in report.credited] == [stay_pair.id]
    assert (await cog(flywheel).run_settle()).credited == [], "credited once"

    async with bot.services.sessions() as session:
        credits = list(
            await session.scalars(select(Contribution).where(Contribution.kind == "mentoring"))
        )
    assert [(c.user_id, c.source_id, c.points) for c in credits] == [
        (m["ada"], f"buddy:{stay_pair.id}", bot.settings.points.mentoring)
    ]
    closed = {p.id: p for p in await pairs(bot)}
    assert closed[stay_pair.id].credited_at is not None
    assert closed[leave_pair.id].ended_at is not None and closed[leave_pair.id].credited_at is None
    thanks = await eventually(
        lambda: [d for d in dms_from_bot(emulator, m["ada"]) if "earned" in d["content"]]
    )
    assert f"<@{stays.id}>" in thanks[0]["content"]


class TestIntroThread:
    @pytest.fixture
    def buddies_section(self, community) -> dict[str, Any]:
        return {"enabled": True, "max_active": 2, "intro_channel": community.channels["general"]}

    async def test_private_thread_with_both(self, flywheel, emulator, community):
        bot, m = flywheel.bot, community.members
        await optin(emulator, community, "ada")
        newbie = await emulator.member_join(community.guild_id, "newbie")
        pair = await pair_of(bot, newbie.id)

        async def threaded() -> Any:
            return [p for p in await pairs(bot) if p.thread_id is not None]

        [pair] = await eventually(threaded)
        thread = emulator.world.guilds[community.guild_id].channels[pair.thread_id]
        assert thread.type == 12 and thread.parent_id == community.channels["general"]
        assert {newbie.id, m["ada"]} <= set(thread.thread_members)
        [intro] = bot_posts(emulator, pair.thread_id)
        assert intro["content"].startswith(f"<@{newbie.id}>, welcome! Meet <@{m['ada']}>")
        assert sorted(intro["allowed_mentions"]["users"]) == sorted([newbie.id, m["ada"]])
        assert dms_from_bot(emulator, newbie.id) == []

    async def test_refused_thread_falls_back_to_dms_and_tells_moderators(
        self, flywheel, emulator, community
    ):
        bot = flywheel.bot
        general = community.channels["general"]
        emulator.guild(community.guild_id).set_overwrite(
            general, community.bot_role_id, deny=perms.CREATE_PRIVATE_THREADS
        )
        await eventually(
            lambda: (
                not bot.get_channel(general)
                .permissions_for(bot.get_guild(bot.guild_id).me)
                .create_private_threads
            )
        )
        await optin(emulator, community, "ada")
        newbie = await emulator.member_join(community.guild_id, "newbie")
        await pair_of(bot, newbie.id)
        [note] = await eventually(
            lambda: [t for t in mod_log(emulator, community) if t.startswith("**Buddies:**")]
        )
        assert "can't open private introduction threads" in note
        assert "Fix: give the Flywheel role Create Private Threads" in note
        await eventually(lambda: dms_from_bot(emulator, newbie.id))
        assert any("is your buddy" in d["content"] for d in dms_from_bot(emulator, newbie.id))
