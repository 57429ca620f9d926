"""User groups end to end: create with role (and channel), refusals leave nothing behind,
join/leave/list/info/handover, events credited by organizers, nudges for quiet groups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.checks import MODERATORS_ONLY
from bot.config import parse_config
from bot.demo.community import BOT_PERMISSIONS, EMULATOR_TOKEN, community_config
from db.models import GroupEvent, TrackedEvent, UserGroup
from emulator import permissions as perms
from tests.e2e.util import bot_posts, eventually, private_reply, private_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def groups_section() -> dict[str, Any]:
    return {"inactive_days": 30}


@pytest.fixture
def bot_config(emulator, community, database_url, groups_section):
    data = community_config(community, emulator, database_url=database_url, groups=groups_section)
    return parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})


async def run(emu: Any, community: Any, who: int, command: str, **options: Any) -> Any:
    """``who`` runs ``/command`` in #general (options may be called ``name``)."""
    return await emu.invoke_slash_command(
        community.guild_id, community.channels["general"], who, command, options=options
    )


def cog(app: Any) -> Any:
    return app.bot.get_cog("Groups")


async def stored_groups(bot: Any) -> list[UserGroup]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(UserGroup).order_by(UserGroup.id)))


def roles_named(emu: Any, community: Any, name: str) -> list[Any]:
    guild = emu.world.guilds[community.guild_id]
    return [r for r in guild.roles.values() if r.name == name]


async def create(emu: Any, community: Any, name: str = "Berlin Meetup", **options: Any) -> str:
    options = {"type": "local", "leader": community.members["ada"], **options}
    morgan = community.moderators["morgan"]
    return await private_text(
        await run(emu, community, morgan, "group create", name=name, **options)
    )


async def set_bot_permissions(flywheel: Any, emu: Any, community: Any, value: int) -> None:
    """Change the bot role's permissions and wait until the bot's cache agrees."""
    emu.guild(community.guild_id).edit_role(community.bot_role_id, permissions=value)
    bot = flywheel.bot
    watched = perms.MANAGE_ROLES | perms.MANAGE_CHANNELS
    await eventually(
        lambda: bot.get_guild(bot.guild_id).me.guild_permissions.value & watched == value & watched
    )


async def test_create_join_leave_list_info(flywheel, emulator, community):
    bot, m = flywheel.bot, community.members
    text = await create(emulator, community, region="Berlin", co1=m["grace"], co2=m["linus"])
    assert text.startswith("Created the local meetup **Berlin Meetup** in Berlin with the role")
    [group] = await stored_groups(bot)
    [role] = roles_named(emulator, community, "Berlin Meetup")
    assert group.role_id == role.id and role.mentionable is False and group.channel_id is None
    for name in ("ada", "grace", "linus"):
        await eventually(lambda n=name: role.id in emulator.member_roles(community.guild_id, m[n]))
    [audit] = [
        p["content"]
        for p in bot_posts(emulator, community.channels["mod-log"])
        if "created the" in p["content"]
    ]
    assert audit == "morgan created the local meetup **Berlin Meetup**, led by ada."

    # Names are unique ignoring case and spacing; validation comes before any Discord call.
    before = len(emulator.request_log)
    dup = await create(emulator, community, name="berlin   MEETUP", leader=m["grace"])
    assert dup == "There is already a group called Berlin Meetup."
    assert await create(emulator, community, name="ab") == (
        "A group name must be 3 to 50 characters long."
    )
    too_many = await create(emulator, community, name="Team", co1=m["ada"])
    assert too_many == "The leader can't also be a co-organizer."
    assert not any(
        r.method == "POST" and r.path.endswith("/roles") for r in emulator.request_log[before:]
    )
    assert len(await stored_groups(bot)) == 1

    # Only moderators create groups.
    assert await private_text(
        await run(
            emulator,
            community,
            m["guido"],
            "group create",
            name="Mine",
            type="virtual",
            leader=m["guido"],
        )
    ) == (MODERATORS_ONLY)

    # Members join (role given), leave (role taken); the leader can't leave.
    barbara = m["barbara"]
    joined = await private_text(
        await run(emulator, community, barbara, "group join", name="berlin meetup")
    )
    assert joined == "Welcome to **Berlin Meetup**!"
    await eventually(lambda: role.id in emulator.member_roles(community.guild_id, barbara))
    again = await private_text(
        await run(emulator, community, barbara, "group join", name="Berlin Meetup")
    )
    assert again == "You're already in Berlin Meetup."
    lead_leaves = await private_text(
        await run(emulator, community, m["ada"], "group leave", name="Berlin Meetup")
    )
    assert lead_leaves.startswith("You lead Berlin Meetup, so you can't leave it yet")
    assert role.id in emulator.member_roles(community.guild_id, m["ada"])
    left = await private_text(
        await run(emulator, community, barbara, "group leave", name="Berlin Meetup")
    )
    assert left == "You left **Berlin Meetup**."
    await eventually(lambda: role.id not in emulator.member_roles(community.guild_id, barbara))
    unknown = await private_text(
        await run(emulator, community, barbara, "group join", name="Nowhere")
    )
    assert unknown == "There's no group called Nowhere. /group list shows them all."

    listing = await private_reply(await run(emulator, community, barbara, "group list"))
    [embed] = listing["embeds"]
    assert (
        embed["description"]
        == "**Berlin Meetup** · Local meetup · Berlin · 3 member(s) · 0 event(s)"
    )
    info = await private_reply(
        await run(emulator, community, barbara, "group info", name="Berlin Meetup")
    )
    fields = {f["name"]: f["value"] for f in info["embeds"][0]["fields"]}
    assert fields["Leader"] == f"<@{m['ada']}>"
    assert fields["Co-organizers"] == ", ".join(f"<@{u}>" for u in sorted([m["grace"], m["linus"]]))
    assert fields["Members"] == "3" and fields["Events credited"] == "0"
    assert info["allowed_mentions"]["parse"] == []

    # The leader hands over, then may leave.
    handed = await private_text(
        await run(
            emulator, community, m["ada"], "group handover", name="Berlin Meetup", member=m["grace"]
        )
    )
    assert handed == "grace now leads **Berlin Meetup**."
    assert (
        await private_text(
            await run(emulator, community, m["ada"], "group leave", name="Berlin Meetup")
        )
        == "You left **Berlin Meetup**."
    )


async def test_role_refused_names_manage_roles_and_creates_nothing(flywheel, emulator, community):
    bot = flywheel.bot
    await set_bot_permissions(flywheel, emulator, community, BOT_PERMISSIONS & ~perms.MANAGE_ROLES)
    text = await create(emulator, community)
    assert (
        "I couldn't create the group's role: Discord refuses (Missing Permissions: Manage Roles)"
        in text
    )
    assert "Nothing was created." in text
    assert "Fix: give the Flywheel role **Manage Roles** in Server Settings → Roles" in text
    assert await stored_groups(bot) == []
    assert roles_named(emulator, community, "Berlin Meetup") == []

    # Once fixed, the same command works.
    await set_bot_permissions(flywheel, emulator, community, BOT_PERMISSIONS)
    assert (await create(emulator, community)).startswith("Created the local meetup")
    assert len(await stored_groups(bot)) == 1


class TestChannels:
    @pytest.fixture
    def groups_section(self) -> dict[str, Any]:
        return {"create_channels": True}

    async def test_channel_refused_rolls_the_role_back(self, flywheel, emulator, community):
        bot = flywheel.bot  # the sample bot role has no Manage Channels
        text = await create(emulator, community, type="virtual")
        assert "I couldn't create the group's channel" in text
        assert "(Missing Permissions: Manage Channels). Nothing was created." in text
        assert "**Manage Channels**" in text
        assert await stored_groups(bot) == []
        assert roles_named(emulator, community, "Berlin Meetup") == []
        assert emulator.requests("DELETE", r"/guilds/\d+/roles/\d+")

    async def test_role_and_channel(self, flywheel, emulator, community):
        bot = flywheel.bot
        await set_bot_permissions(
            flywheel, emulator, community, BOT_PERMISSIONS | perms.MANAGE_CHANNELS
        )
        text = await create(emulator, community, name="Data / ML Engineers", type="industry")
        [group] = await stored_groups(bot)
        channel = emulator.world.channels[group.channel_id]
        assert channel.name == "data-ml-engineers" and channel.type == 0
        assert f"and the channel <#{channel.id}>" in text


async def host_event(emulator: Any, flywheel: Any, community: Any, host: str, name: str) -> int:
    start = flywheel.bot.clock.now() + timedelta(days=2)
    event = await emulator.create_scheduled_event(
        community.guild_id,
        community.members[host],
        name,
        start,
        end_time=start + timedelta(hours=1),
        location="Berlin",
    )

    async def tracked() -> bool:
        async with flywheel.bot.services.sessions() as session:
            return await session.get(TrackedEvent, (flywheel.bot.guild_id, event.id)) is not None

    await eventually(tracked)
    return event.id


async def test_organizers_credit_events_and_quiet_groups_are_nudged_once(
    flywheel, emulator, community
):
    bot, m = flywheel.bot, community.members
    await create(emulator, community, co1=m["grace"])
    await create(emulator, community, name="Quiet Group", type="use_case", leader=m["linus"])
    meetup = await host_event(emulator, flywheel, community, "grace", "November meetup")
    other = await host_event(emulator, flywheel, community, "guido", "Guido's talk")

    typing = await emulator.invoke_autocomplete(
        community.guild_id,
        community.channels["general"],
        m["ada"],
        "group event",
        {"group": "Berlin Meetup", "event": "novem"},
        focused="event",
    )
    await typing.wait_answer(timeout=10)
    assert [c["value"] for c in typing.choices or []] == [str(meetup)]

    async def credit(who: str, event_id: int, group: str = "Berlin Meetup") -> str:
        return await private_text(
            await run(emulator, community, m[who], "group event", group=group, event=str(event_id))
        )

    assert await credit("guido", meetup) == (
        "Only the group's leader and co-organizers can credit events to it."
    )
    assert (await credit("ada", other)).startswith("That event isn't hosted by one of")
    assert await credit("ada", meetup) == (
        "**November meetup** now counts as an event of **Berlin Meetup**. Thank you for running it!"
    )
    assert await credit("grace", meetup) == "November meetup is already credited to this group."
    async with bot.services.sessions() as session:
        [row] = list(await session.scalars(select(GroupEvent)))
    assert (row.event_id, row.credited_by) == (meetup, m["ada"])
    berlin = next(g for g in await stored_groups(bot) if g.name == "Berlin Meetup")
    assert berlin.last_activity_at is not None

    # 31 days on: the quiet group's leader is nudged once; the active one is not.
    bot.clock.advance(timedelta(days=31))
    nudged = await cog(flywheel).run_nudges()
    assert [n.group.name for n in nudged] == ["Quiet Group"]
    [dm] = await eventually(
        lambda: [d for d in emulator.dms(m["linus"]) if "hasn't had an event" in d["content"]]
    )
    assert "**Quiet Group** hasn't had an event credited in 30 days" in dm["content"]
    assert await cog(flywheel).run_nudges() == []
    # Later the Berlin group goes quiet too (its event was 2 days ahead when credited).
    bot.clock.advance(timedelta(days=30))
    assert [n.group.name for n in await cog(flywheel).run_nudges()] == ["Berlin Meetup"]
    await eventually(
        lambda: all(
            any("Berlin Meetup" in d["content"] for d in emulator.dms(m[who]))
            for who in ("ada", "grace")
        )
    )


async def test_names_differing_only_by_invisible_or_full_width_characters_are_one_group(
    flywheel, emulator, community
):
    bot, m = flywheel.bot, community.members
    first = await create(emulator, community, name="Berlin\u200b Meetup", leader=m["ada"])
    assert first.startswith("Created the local meetup **Berlin Meetup**"), first
    for variant in ("Ｂｅｒｌｉｎ Ｍｅｅｔｕｐ", "Berlin Mee\u200dtup", "\u2060berlin meetup"):
        again = await create(emulator, community, name=variant, leader=m["grace"])
        assert again == "There is already a group called Berlin Meetup.", variant
    invisible = await create(emulator, community, name="\u200b\u200c\u200d\u2060\ufeff")
    assert invisible == "A group name must be 3 to 50 characters long."
    spoof = await create(emulator, community, name="Berlin M\u0435etup", leader=m["grace"])
    assert "mixes letters of different alphabets" in spoof
    assert [g.name for g in await stored_groups(bot)] == ["Berlin Meetup"]
    assert len(roles_named(emulator, community, "Berlin Meetup")) == 1
    joined = await run(emulator, community, m["linus"], "group join", name="ＢＥＲＬＩＮ meetup")
    assert "Berlin Meetup" in await private_text(joined)
