"""Preflight rules on plain snapshots: each problem found, and named with its fix."""

from dataclasses import replace

from bot.core.preflight import (
    GUILD_PERMISSIONS,
    ChannelInfo,
    GuildSnapshot,
    Requirements,
    RoleInfo,
    RoleNeed,
    check,
    help_forum,
    posting_channel,
)

ALL = frozenset(GUILD_PERMISSIONS) | {"send_messages_in_threads"}
BOT_ROLE = RoleInfo(10, "Flywheel", position=5)
CHAMPION = RoleInfo(20, "Champion", position=3)
ADVISOR = RoleInfo(21, "Advisor", position=7)
MODS = RoleInfo(30, "Mods", position=9)

GOOD = GuildSnapshot(
    guild_id=1,
    roles={r.id: r for r in (BOT_ROLE, CHAMPION, ADVISOR, MODS)},
    channels={
        100: ChannelInfo(100, "announcements", "news", ALL),
        101: ChannelInfo(101, "mod-log", "text", ALL),
        102: ChannelInfo(102, "help", "forum", ALL),
        103: ChannelInfo(103, "lounge", "voice", ALL),
    },
    bot_permissions=ALL,
    bot_top_role=BOT_ROLE,
)

NEEDS = Requirements(
    channels=(
        posting_channel("channels.announcements", 100),
        posting_channel("channels.mod_log", 101),
        help_forum("channels.help_forums[0]", 102),
    ),
    roles=(
        RoleNeed("tiers[0].role_id", 20, managed_by_bot=True),
        RoleNeed("roles.moderators[0]", 30, managed_by_bot=False),
    ),
)


def keys(problems):
    return [p.key for p in problems]


def test_a_correct_setup_has_no_problems():
    assert check(GOOD, NEEDS) == []


def test_missing_channel_names_the_key_and_how_to_copy_an_id():
    needs = replace(NEEDS, channels=(posting_channel("channels.review", 999),))
    [problem] = check(GOOD, needs)
    assert problem.key == "channels.review"
    assert "999" in problem.what and "Copy Channel ID" in problem.fix


def test_wrong_channel_kind():
    needs = replace(NEEDS, channels=(posting_channel("channels.announcements", 103),))
    [problem] = check(GOOD, needs)
    assert "voice" in problem.what and problem.key == "channels.announcements"


def test_missing_channel_permission_names_the_channel():
    channels = dict(GOOD.channels)
    channels[101] = ChannelInfo(101, "mod-log", "text", ALL - {"send_messages"})
    [problem] = check(replace(GOOD, channels=channels), NEEDS)
    assert problem.key == "channels.mod_log"
    assert "Send Messages" in problem.what and "#mod-log" in problem.fix


def test_tier_role_above_the_bot_says_which_role_to_move():
    needs = replace(NEEDS, roles=(RoleNeed("tiers[2].role_id", 21, managed_by_bot=True),))
    [problem] = check(GOOD, needs)
    assert problem.key == "tiers[2].role_id"
    assert problem.fix == "move the Flywheel role above Advisor in Server Settings → Roles."


def test_role_at_the_same_position_is_refused_too():
    same = RoleInfo(20, "Champion", position=BOT_ROLE.position)
    snapshot = replace(GOOD, roles={**GOOD.roles, 20: same})
    assert keys(check(snapshot, NEEDS)) == ["tiers[0].role_id"]


def test_moderator_role_above_the_bot_is_fine_since_the_bot_never_assigns_it():
    assert MODS.position > BOT_ROLE.position
    assert check(GOOD, NEEDS) == []


def test_missing_and_integration_managed_roles():
    managed = RoleInfo(20, "Champion", position=1, managed=True)
    snapshot = replace(GOOD, roles={10: BOT_ROLE, 20: managed})
    problems = check(snapshot, NEEDS)
    assert keys(problems) == ["tiers[0].role_id", "roles.moderators[0]"]
    assert "integration" in problems[0].what
    assert "does not exist" in problems[1].what


def test_missing_guild_permissions_are_listed_with_reasons():
    snapshot = replace(GOOD, bot_permissions=ALL - {"manage_roles", "manage_guild"})
    [problem] = check(snapshot, NEEDS)
    assert problem.key == "permissions"
    assert "Manage Roles" in problem.what and "Manage Server" in problem.what
    assert "referral" in problem.fix


def test_administrator_covers_permissions_but_not_hierarchy():
    snapshot = replace(
        GOOD,
        bot_permissions=frozenset({"administrator"}),
        channels={k: replace(c, bot_permissions=frozenset()) for k, c in GOOD.channels.items()},
        bot_top_role=RoleInfo(10, "Flywheel", position=1),
    )
    assert keys(check(snapshot, NEEDS)) == ["tiers[0].role_id"]


def test_guild_owner_bypasses_permissions_and_hierarchy():
    snapshot = replace(
        GOOD, bot_is_owner=True, bot_permissions=frozenset(), bot_top_role=RoleInfo(10, "F", 0)
    )
    channels = {k: replace(c, bot_permissions=ALL) for k, c in GOOD.channels.items()}
    assert check(replace(snapshot, channels=channels), NEEDS) == []


def test_problems_read_as_one_line_each():
    needs = replace(NEEDS, channels=(posting_channel("channels.review", 999),))
    [problem] = check(GOOD, needs)
    assert str(problem).startswith("channels.review: channel 999 does not exist")
    assert " Fix: " in str(problem)
