"""Invite tracking: who invited whom, and credit only for newcomers who stay and take part."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.demo.community import BOT_PERMISSIONS
from bot.emulated import running_bot
from db.models import Contribution, Referral
from db.repositories.activity import ActivityRepository
from db.repositories.referrals import ReferralRepository
from emulator import permissions as perms
from tests.e2e.util import bot_posts, eventually, settled

pytestmark = pytest.mark.e2e


async def tracking(bot: Any) -> None:
    """Wait until the start-up invite snapshot is taken: joins before it can't be attributed."""
    service = bot.services.referrals

    async def enabled() -> bool:
        return service.enabled

    await eventually(enabled)


async def referrals_of(bot: Any, invitee_id: int) -> list[Referral]:
    async with bot.services.sessions() as session:
        return await ReferralRepository(session, bot.guild_id).for_invitee(invitee_id)


async def referral(bot: Any, invitee_id: int, *, status: str | None = None) -> Referral:
    """The newcomer's (only) referral row, once it exists (and has ``status``)."""

    async def check() -> Referral | None:
        rows = await referrals_of(bot, invitee_id)
        if len(rows) == 1 and (status is None or rows[0].status == status):
            return rows[0]
        return None

    return await eventually(check)


async def referral_credits(bot: Any) -> list[Contribution]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(select(Contribution).where(Contribution.kind == "referral"))
        return list(rows)


async def active_on(bot: Any, user_id: int, *days_after: int) -> None:
    """Activity tracking is another feature's: write its daily rollups directly."""
    today = bot.clock.now().date()
    async with bot.services.sessions() as session, session.begin():
        await ActivityRepository(session, bot.guild_id).add_messages(
            {(user_id, today + timedelta(days=n)): 3 for n in days_after}
        )


def rejoin(emulator: Any, guild_id: int, user_id: int, code: str) -> None:
    """An existing user joins again (the emulator's member_join always makes a new user)."""
    guild = emulator.world.guilds[guild_id]
    emulator.ops.member_join(guild, emulator.world.users[user_id], invite=guild.invites[code])


async def test_an_invite_is_credited_once_the_newcomer_stays_and_takes_part(
    flywheel, emulator, community, clock
):
    bot, ada = flywheel.bot, community.members["ada"]
    await tracking(bot)
    invite = await emulator.create_invite(community.channels["general"], ada)
    hopper = await emulator.member_join(community.guild_id, "hopper", invite_code=invite.code)
    row = await referral(bot, hopper.user_id)
    assert (row.attribution, row.invite_code, row.inviter_id) == ("invite", invite.code, ada)
    assert row.status == "pending" and not row.is_rejoin

    cog = bot.get_cog("Referrals")
    clock.advance(timedelta(days=3))
    assert await cog.settle() == [], "too early: the newcomer has not been here 7 days"
    await active_on(bot, hopper.user_id, 1)
    clock.advance(timedelta(days=5))
    [outcome] = await cog.settle()
    assert outcome.status == "credited" and outcome.reason == "the member stayed and took part"

    [credit] = await referral_credits(bot)
    assert (credit.user_id, credit.source_id) == (ada, f"referral:{row.id}")
    decided = await referral(bot, hopper.user_id, status="credited")
    assert decided.contribution_id == credit.id
    [post] = bot_posts(emulator, community.channels["mod-log"])
    assert post["content"] == (
        f"Referral credited to <@{ada}> for inviting <@{hopper.user_id}>: "
        "the member stayed and took part."
    )
    assert post["mentions"] == [] and post["allowed_mentions"] == {"parse": []}

    assert await cog.settle() == []
    assert len(await referral_credits(bot)) == 1


async def test_a_newcomer_who_leaves_earns_nothing(flywheel, emulator, community, clock):
    bot = flywheel.bot
    await tracking(bot)
    invite = await emulator.create_invite(community.channels["general"], community.members["ada"])
    newcomer = await emulator.member_join(community.guild_id, "drive-by", invite_code=invite.code)
    await referral(bot, newcomer.user_id, status="pending")
    await active_on(bot, newcomer.user_id, 0)
    clock.advance(timedelta(days=2))
    await emulator.member_leave(community.guild_id, newcomer.user_id)

    row = await referral(bot, newcomer.user_id, status="rejected")
    assert row.reason == "the member left within 7 days of joining"
    clock.advance(timedelta(days=8))
    assert await bot.get_cog("Referrals").settle() == []
    assert await referral_credits(bot) == []


async def test_self_invites_and_rejoins_are_not_credited(flywheel, emulator, community):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    await tracking(bot)
    own = await emulator.create_invite(community.channels["general"], m["margaret"])
    await emulator.member_leave(gid, m["margaret"])
    await settled(emulator, bot)
    rejoin(emulator, gid, m["margaret"], own.code)
    row = await referral(bot, m["margaret"], status="rejected")
    assert row.inviter_id == m["margaret"] and row.is_rejoin
    assert row.reason == "members can't refer themselves"

    adas = await emulator.create_invite(community.channels["general"], m["ada"])
    await emulator.member_leave(gid, m["linus"])
    await settled(emulator, bot)
    rejoin(emulator, gid, m["linus"], adas.code)
    row = await referral(bot, m["linus"], status="rejected")
    assert row.inviter_id == m["ada"] and row.is_rejoin
    assert row.reason == "the member had been in the server before"
    assert await referral_credits(bot) == []


async def test_racing_and_unknown_joins_are_recorded_but_never_credited(
    flywheel, emulator, community
):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    await tracking(bot)
    first = await emulator.create_invite(community.channels["general"], m["ada"])
    second = await emulator.create_invite(community.channels["general"], m["grace"])
    # Both joins land before the bot can look at the invites: it can't tell who used which.
    one = await emulator.member_join(gid, "twin-one", invite_code=first.code)
    two = await emulator.member_join(gid, "twin-two", invite_code=second.code)
    raced = await referral(bot, one.user_id, status="rejected")
    assert raced.attribution == "ambiguous" and raced.inviter_id is None
    assert raced.candidates == ",".join(sorted([first.code, second.code]))
    assert raced.reason == "no inviter is known for this join"
    after = await referral(bot, two.user_id, status="rejected")
    assert after.attribution == "unknown" and after.inviter_id is None

    walk_in = await emulator.member_join(gid, "walk-in")
    assert (await referral(bot, walk_in.user_id, status="rejected")).attribution == "unknown"
    assert await referral_credits(bot) == []


async def test_a_vanity_url_join_is_recorded_as_such_and_never_credited(
    emulator, community, bot_config, clock
):
    m, gid = community.members, community.guild_id
    emulator.guild(gid).set_vanity_url("flywheel-hq", community.channels["general"])
    async with running_bot(bot_config, clock=clock) as app:
        bot = app.bot
        await tracking(bot)
        invite = await emulator.create_invite(community.channels["general"], m["ada"])
        visitor = await emulator.member_join(gid, "visitor", invite_code="flywheel-hq")
        row = await referral(bot, visitor.user_id, status="rejected")
        assert row.attribution == "vanity" and row.inviter_id is None
        assert row.reason == "no inviter is known for this join"
        # The vanity URL's uses were taken into the cache: the next invite join is clear.
        invited = await emulator.member_join(gid, "invited", invite_code=invite.code)
        row = await referral(bot, invited.user_id)
        assert row.attribution == "invite" and row.inviter_id == m["ada"]
        assert await referral_credits(bot) == []


async def test_a_replayed_join_is_recorded_once(flywheel, emulator, community):
    bot, gid = flywheel.bot, community.guild_id
    await tracking(bot)
    invite = await emulator.create_invite(community.channels["general"], community.members["ada"])
    newcomer = await emulator.member_join(gid, "hopper", invite_code=invite.code)
    await referral(bot, newcomer.user_id)
    guild = emulator.world.guilds[gid]
    emulator.events.member_add(guild, guild.members[newcomer.user_id])  # gateway replay
    await settled(emulator, bot)
    assert len(await referrals_of(bot, newcomer.user_id)) == 1


async def test_without_manage_server_tracking_is_off_with_one_clear_warning(
    emulator, community, bot_config, clock, caplog
):
    caplog.set_level(logging.WARNING, logger="cogs.referrals")
    emulator.guild(community.guild_id).edit_role(
        community.bot_role_id, permissions=BOT_PERMISSIONS & ~perms.MANAGE_GUILD
    )

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "cogs.referrals"]

    async def warned() -> bool:
        return bool(warnings())

    async with running_bot(bot_config, clock=clock) as app:
        await eventually(warned)
        invite = await emulator.create_invite(
            community.channels["general"], community.members["ada"]
        )
        newcomer = await emulator.member_join(community.guild_id, "hopper", invite_code=invite.code)
        await settled(emulator, app.bot)
        assert await referrals_of(app.bot, newcomer.user_id) == []
        assert not app.bot.is_closed()
    [warning] = warnings()
    assert "lacks the Manage Server permission" in warning
    assert "grant Manage Server to the bot's role and restart the bot" in warning


async def test_start_up_settles_with_the_members_table_caught_up(
    emulator, community, bot_config, clock
):
    gid, ada = community.guild_id, community.members["ada"]
    async with running_bot(bot_config, clock=clock) as app:
        await tracking(app.bot)
        invite = await emulator.create_invite(community.channels["general"], ada)
        stayer = await emulator.member_join(gid, "stayer", invite_code=invite.code)
        await referral(app.bot, stayer.user_id, status="pending")
        leaver = await emulator.member_join(gid, "leaver", invite_code=invite.code)
        await referral(app.bot, leaver.user_id, status="pending")
        await active_on(app.bot, stayer.user_id, 1)
        await active_on(app.bot, leaver.user_id, 1)

    await emulator.member_leave(gid, leaver.user_id)  # while the bot is away
    clock.advance(timedelta(days=8))
    async with running_bot(bot_config, clock=clock) as app:
        await referral(app.bot, stayer.user_id, status="credited")
        gone = await referral(app.bot, leaver.user_id, status="rejected")
        assert gone.reason == "the member left before becoming active"
        assert [c.user_id for c in await referral_credits(app.bot)] == [ada]


def grant_manage_channels(emulator: Any, community: Any) -> None:
    """Discord sends invite create/delete events only to a bot with Manage Channels."""
    emulator.guild(community.guild_id).edit_role(
        community.bot_role_id, permissions=BOT_PERMISSIONS | perms.MANAGE_CHANNELS
    )


async def test_a_join_that_uses_up_an_invite_is_still_credited_to_its_inviter(
    emulator, community, bot_config, clock
):
    ada, gid = community.members["ada"], community.guild_id
    grant_manage_channels(emulator, community)
    async with running_bot(bot_config, clock=clock) as app:
        bot = app.bot
        await tracking(bot)
        invite = await emulator.create_invite(community.channels["general"], ada, max_uses=1)
        await settled(emulator, bot)  # INVITE_CREATE: the bot knows the invite before its one use
        hopper = await emulator.member_join(gid, "hopper", invite_code=invite.code)
        # Discord deletes the invite on the join that exhausts it: the bot's fetch can't see it.
        assert invite.code not in emulator.world.guilds[gid].invites
        row = await referral(bot, hopper.user_id, status="pending")
        assert (row.attribution, row.invite_code, row.inviter_id) == ("invite", invite.code, ada)

        await active_on(bot, hopper.user_id, 1)
        clock.advance(timedelta(days=8))
        [outcome] = await bot.get_cog("Referrals").settle()
        assert (outcome.status, outcome.inviter_id) == ("credited", ada)
        [credit] = await referral_credits(bot)
        assert (credit.user_id, credit.source_id) == (ada, f"referral:{row.id}")


async def test_a_join_after_a_moderator_deletes_an_invite_is_not_credited_to_its_creator(
    flywheel, emulator, community, clock
):
    bot, m, gid = flywheel.bot, community.members, community.guild_id
    await tracking(bot)
    # The bot lacks Manage Channels here, so it never hears of the deletions.
    for inviter, max_uses in (("ada", 0), ("grace", 2)):  # unlimited; one use short of its limit
        invite = await emulator.create_invite(
            community.channels["general"], m[inviter], max_uses=max_uses
        )
        guest = await emulator.member_join(gid, f"guest-of-{inviter}", invite_code=invite.code)
        assert (await referral(bot, guest.user_id)).inviter_id == m[inviter]
        await emulator.delete_invite(invite.code)  # a moderator
        await settled(emulator, bot)
        walk_in = await emulator.member_join(gid, f"walk-in-after-{inviter}")
        row = await referral(bot, walk_in.user_id, status="rejected")
        assert (row.attribution, row.invite_code, row.inviter_id) == ("unknown", None, None)
        assert row.reason == "no inviter is known for this join"

    clock.advance(timedelta(days=40))
    await bot.get_cog("Referrals").settle()
    assert await referral_credits(bot) == []  # the guests never took part


async def test_with_invite_events_a_deleted_invite_is_not_credited_once_the_grace_passes(
    emulator, community, bot_config, clock
):
    m, gid = community.members, community.guild_id
    grant_manage_channels(emulator, community)
    async with running_bot(bot_config, clock=clock) as app:
        bot = app.bot
        await tracking(bot)
        for inviter, max_uses in (("ada", 0), ("grace", 2)):
            invite = await emulator.create_invite(
                community.channels["general"], m[inviter], max_uses=max_uses
            )
            guest = await emulator.member_join(gid, f"guest-of-{inviter}", invite_code=invite.code)
            assert (await referral(bot, guest.user_id)).inviter_id == m[inviter]
            await emulator.delete_invite(invite.code)  # a moderator: the bot gets INVITE_DELETE
            await settled(emulator, bot)
            # One use short of its limit, the deletion might have been Discord's for a join
            # still on its way; a few minutes on, it says nothing about the next join.
            clock.advance(timedelta(minutes=5))
            walk_in = await emulator.member_join(gid, f"walk-in-after-{inviter}")
            row = await referral(bot, walk_in.user_id, status="rejected")
            assert (row.attribution, row.invite_code, row.inviter_id) == ("unknown", None, None)
        assert await referral_credits(bot) == []


async def test_a_newcomer_who_stays_but_never_takes_part_earns_nothing(
    flywheel, emulator, community, clock
):
    bot, ada = flywheel.bot, community.members["ada"]
    await tracking(bot)
    invite = await emulator.create_invite(community.channels["general"], ada)
    lurker = await emulator.member_join(community.guild_id, "lurker", invite_code=invite.code)
    row = await referral(bot, lurker.user_id, status="pending")
    assert row.inviter_id == ada

    cog = bot.get_cog("Referrals")
    clock.advance(timedelta(days=8))
    assert await cog.settle() == [], "past min_days but never active: still waiting"
    waiting = await referral(bot, lurker.user_id)
    assert (waiting.status, waiting.contribution_id) == ("pending", None)
    assert await referral_credits(bot) == []

    clock.advance(timedelta(days=23))  # 31 days in: past grace_days
    [outcome] = await cog.settle()
    assert (outcome.referral_id, outcome.status) == (row.id, "rejected")
    assert outcome.reason == "the member never became active within 30 days"
    decided = await referral(bot, lurker.user_id, status="rejected")
    assert decided.reason == outcome.reason and decided.contribution_id is None
    assert await referral_credits(bot) == []
    assert bot_posts(emulator, community.channels["mod-log"]) == []
    assert await cog.settle() == []
