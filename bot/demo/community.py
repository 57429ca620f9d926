"""A sample community on the local emulator, shared by the demo and the end-to-end tests.

Imports the emulator, so only the demo and tests import this module; ``run`` never does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator import Emulator
from emulator import permissions as perms

EMULATOR_TOKEN = "emulator-token"

MEMBER_NAMES = (
    "ada", "grace", "linus", "margaret", "guido", "barbara", "ken", "radia", "dennis",
    "frances", "alan", "hedy", "tim", "katherine", "donald", "sophie", "bjarne", "anita",
    "james", "mary", "yukihiro", "joan", "brendan", "evelyn", "larry", "carol", "rob",
    "annie", "niklaus", "jean", "edsger", "lynn", "john", "adele", "leslie", "shafi",
)  # fmt: skip

BOT_PERMISSIONS = (
    perms.VIEW_CHANNEL
    | perms.SEND_MESSAGES
    | perms.SEND_MESSAGES_IN_THREADS
    | perms.EMBED_LINKS
    | perms.ATTACH_FILES
    | perms.READ_MESSAGE_HISTORY
    | perms.MANAGE_THREADS
    | perms.MANAGE_ROLES
    | perms.MANAGE_GUILD
)

TIERS: tuple[dict[str, Any], ...] = (
    {
        "key": "champion",
        "name": "Champion",
        "window_days": 90,
        "min_points": 50,
        "min_counts": {"answer": 3},
        "min_active_weeks": 2,
        "benefits": "Champion role and channel, early access to announcements",
        "commitment": "Help others in the forums a few times a month",
        "welcome_message": "Welcome to the Champions! Thank you for helping the community.",
    },
    {
        "key": "ambassador",
        "name": "Ambassador",
        "window_days": 90,
        "min_points": 200,
        "min_counts": {"answer": 10, "content": 1},
        "min_active_weeks": 6,
        "benefits": "Ambassador role, swag, a direct line to the team",
        "commitment": "Create content or host an event each quarter",
        "welcome_message": "Welcome, Ambassador! Your work makes this community.",
    },
    {
        "key": "advisor",
        "name": "Advisor",
        "window_days": 180,
        "min_points": 600,
        "min_counts": {"event_hosted": 2, "mentoring": 3},
        "nomination_required": True,
        "seats": 5,
        "benefits": "A seat at the quarterly roadmap review",
        "commitment": "Advise the team on the program and the product",
        "welcome_message": "Welcome, Advisor. Thank you for shaping the program.",
    },
)


@dataclass
class SampleCommunity:
    guild_id: int
    bot_role_id: int
    moderator_role_id: int
    tier_role_ids: dict[str, int]
    channels: dict[str, int]
    members: dict[str, int] = field(default_factory=dict)
    moderators: dict[str, int] = field(default_factory=dict)


def build_sample_community(
    emu: Emulator,
    *,
    member_count: int = len(MEMBER_NAMES),
    bot_role_position: int = 10,
    tiers: Sequence[Mapping[str, Any]] = TIERS,
    name: str = "Flywheel Demo Community",
    shard: tuple[int, int] | None = None,
) -> SampleCommunity:
    """A server with tier roles, a help forum, announcement/review/mod-log channels and members.

    ``bot_role_position`` below a tier role's position (Champion 3, Ambassador 5, Advisor 7)
    reproduces the commonest setup mistake: a bot that cannot assign the role.
    ``shard=(shard_id, shard_count)`` gives the guild an id on that shard, so several
    communities in one emulator can be spread over a sharded bot's shards.
    """
    guild = emu.create_guild(name, owner_name="owner", shard=shard)
    bot_role = guild.create_role(
        "Flywheel", permissions=BOT_PERMISSIONS, position=bot_role_position
    )
    tier_roles = {
        tier["key"]: guild.create_role(tier["name"], position=3 + 2 * i).id
        for i, tier in enumerate(tiers)
    }
    moderators = guild.create_role("Moderators", permissions=perms.MANAGE_MESSAGES, position=20)
    guild.add_bot(roles=[bot_role])
    channels = {
        "announcements": guild.create_announcement_channel("announcements").id,
        "general": guild.create_text_channel("general").id,
        "review": guild.create_text_channel("mod-review").id,
        "mod-log": guild.create_text_channel("mod-log").id,
        "help": guild.create_forum_channel("help", tags=["Solved", "Question"]).id,
        "feedback": guild.create_forum_channel("product-feedback").id,
        "events": guild.create_voice_channel("community-calls").id,
        "programs": guild.create_text_channel("beta-and-research").id,
    }
    # Members discuss requests in their posts; the bot alone opens posts (from /feedback submit)
    # and manages the forum's status tags.
    guild.set_overwrite(
        channels["feedback"],
        bot_role,
        allow=perms.MANAGE_CHANNELS | perms.SEND_MESSAGES | perms.EMBED_LINKS,
    )
    guild.set_overwrite(channels["feedback"], guild.id, deny=perms.SEND_MESSAGES)
    community = SampleCommunity(
        guild_id=guild.id,
        bot_role_id=bot_role.id,
        moderator_role_id=moderators.id,
        tier_role_ids=tier_roles,
        channels=channels,
    )
    for name in ("morgan", "riley"):
        community.moderators[name] = guild.add_member(name, roles=[moderators]).id
    for name in MEMBER_NAMES[:member_count]:
        community.members[name] = guild.add_member(name).id
    return community


#: The sample community's own contribution kind: talks, sent with /contribution submit.
KINDS: tuple[Mapping[str, Any], ...] = (
    {
        "key": "talk",
        "label": "Talks given",
        "noun": "talk",
        "plural": "talks",
        "points": 15,
        "credited": "review",
        "description": "For a talk about the product at a meetup or conference.",
        "award": "Top speaker",
    },
)


def community_config(
    community: SampleCommunity,
    emu: Emulator,
    *,
    database_url: str,
    tiers: Sequence[Mapping[str, Any]] = TIERS,
    **overrides: Any,
) -> dict[str, Any]:
    """A configuration (as parsed TOML) for running the real bot against ``community``."""
    data: dict[str, Any] = {
        "discord": {
            "guild_id": community.guild_id,
            "api_base": emu.api_base,
            "gateway_url": emu.gateway_url,
        },
        "database": {"url": database_url},
        "logging": {"level": "WARNING"},
        "channels": {
            "announcements": community.channels["announcements"],
            "review": community.channels["review"],
            "mod_log": community.channels["mod-log"],
            "help_forums": [community.channels["help"]],
        },
        "roles": {"moderators": [community.moderator_role_id]},
        "tiers": [{**tier, "role_id": community.tier_role_ids[tier["key"]]} for tier in tiers],
        "feedback": {
            "forum_channel": community.channels["feedback"],
            "programs_channel": community.channels["programs"],
            "areas": ["General", "Mobile app", "API"],
        },
        "kinds": [dict(kind) for kind in KINDS],
    }
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return data


#: Sections of a user's own config that describe their server, replaced by the emulator's.
SERVER_SECTIONS = ("discord", "database", "logging", "channels", "roles", "tiers")
#: Keys of a user's program sections that name their server's channels or roles: the sample
#: community's own are kept.
SERVER_KEYS = {"feedback": ("forum_channel", "product_role", "programs_channel")}


def split_user_config(raw: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Split a user's raw config into its tiers (role ids dropped) and its program sections.

    The demo runs these on the sample community: the user's rules, the emulator's IDs.
    """
    tiers = [
        {k: v for k, v in tier.items() if k != "role_id"}
        for tier in raw.get("tiers", TIERS)
        if isinstance(tier, Mapping)
    ]
    program = {k: v for k, v in raw.items() if k not in SERVER_SECTIONS}
    for section, keys in SERVER_KEYS.items():
        if isinstance(program.get(section), Mapping):
            program[section] = {k: v for k, v in program[section].items() if k not in keys}
    return tiers, program
