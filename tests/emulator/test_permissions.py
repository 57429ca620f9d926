"""Discord's permission algorithm and role hierarchy, as the emulator implements them."""

from __future__ import annotations

import datetime

from emulator import permissions as P
from emulator.world import PRIVATE_THREAD, TEXT, Channel, Guild, Member, Overwrite, Role

GID = 1000 << 22


def make_guild(everyone: int = P.DEFAULT_EVERYONE) -> Guild:
    guild = Guild(id=GID, name="g", owner_id=1)
    guild.roles[GID] = Role(id=GID, guild_id=GID, name="@everyone", permissions=everyone)
    for rid, position, bits in ((10, 1, 0), (20, 5, P.MANAGE_ROLES), (30, 9, P.ADMINISTRATOR)):
        guild.roles[rid] = Role(
            id=rid, guild_id=GID, name=str(rid), permissions=bits, position=position
        )
    guild.members[1] = Member(guild_id=GID, user_id=1)
    guild.members[2] = Member(guild_id=GID, user_id=2, role_ids=[10])
    guild.members[3] = Member(guild_id=GID, user_id=3, role_ids=[20])
    guild.members[4] = Member(guild_id=GID, user_id=4, role_ids=[30])
    return guild


def channel(*overwrites: Overwrite, ctype: int = TEXT) -> Channel:
    return Channel(id=99, type=ctype, guild_id=GID, overwrites=list(overwrites))


def test_owner_and_administrator_get_everything():
    guild = make_guild(everyone=0)
    assert P.base_permissions(guild, guild.members[1]) == P.ALL
    assert P.base_permissions(guild, guild.members[4]) == P.ALL
    hidden = channel(Overwrite(GID, 0, deny=P.VIEW_CHANNEL))
    assert P.channel_permissions(guild, guild.members[4], hidden) == P.ALL
    assert P.channel_permissions(guild, guild.members[2], hidden) == 0


def test_overwrite_order_everyone_then_roles_then_member():
    guild = make_guild()
    ch = channel(
        Overwrite(GID, 0, deny=P.SEND_MESSAGES),
        Overwrite(10, 0, allow=P.SEND_MESSAGES),
        Overwrite(2, 1, deny=P.ADD_REACTIONS),
    )
    alice = P.channel_permissions(guild, guild.members[2], ch)
    assert alice & P.SEND_MESSAGES and not alice & P.ADD_REACTIONS
    bob = P.channel_permissions(guild, guild.members[3], ch)
    assert not bob & P.SEND_MESSAGES
    # without SEND_MESSAGES, embeds/attachments/mentions implicitly go too
    assert not bob & (P.EMBED_LINKS | P.ATTACH_FILES)


def test_member_overwrite_beats_role_allow():
    guild = make_guild()
    ch = channel(Overwrite(10, 0, allow=P.VIEW_CHANNEL), Overwrite(2, 1, deny=P.VIEW_CHANNEL))
    assert P.channel_permissions(guild, guild.members[2], ch) == 0


def test_timed_out_members_can_only_read():
    guild = make_guild()
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    guild.members[2].communication_disabled_until = until.isoformat()
    bits = P.channel_permissions(guild, guild.members[2], channel())
    assert bits == P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY


def test_private_threads_are_visible_to_members_only():
    guild = make_guild()
    thread = channel(ctype=PRIVATE_THREAD)
    thread.parent_id = 98
    guild.channels[98] = channel()
    assert P.channel_permissions(guild, guild.members[2], thread) == 0
    thread.thread_members[2] = "now"
    assert P.channel_permissions(guild, guild.members[2], thread) & P.VIEW_CHANNEL


def test_role_hierarchy_is_strict_and_owner_bypasses_it():
    guild = make_guild()
    manager = guild.members[3]  # top role position 5
    assert P.can_manage_role(guild, manager, 4)
    assert not P.can_manage_role(guild, manager, 5)  # equal is not enough
    assert not P.can_manage_role(guild, manager, 9)
    assert P.can_manage_role(guild, guild.members[1], 9)  # owner
    assert P.can_act_on_member(guild, manager, guild.members[2])
    assert not P.can_act_on_member(guild, manager, guild.members[1])  # nobody acts on the owner


def test_to_bits_accepts_ints_names_and_permission_objects():
    class Perms:
        value = P.MANAGE_ROLES

    assert P.to_bits(["manage_roles", "VIEW_CHANNEL"]) == P.MANAGE_ROLES | P.VIEW_CHANNEL
    assert P.to_bits(Perms()) == P.MANAGE_ROLES
    assert P.to_bits(str(P.KICK_MEMBERS)) == P.KICK_MEMBERS
    assert P.names(P.KICK_MEMBERS | P.BAN_MEMBERS) == ["KICK_MEMBERS", "BAN_MEMBERS"]
