"""One bot, several servers: each server's program stays its own (issue #18).

Two sample communities in one emulator, one bot configured with a file per server. Messages,
slash commands, review cards and their buttons, roles and scheduled jobs each reach the
program of their own server, and nothing of one shows in the other.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.community import Community
from bot.config import load_config
from bot.demo.community import (
    EMULATOR_TOKEN,
    SampleCommunity,
    build_sample_community,
    community_config,
)
from bot.emulated import running_bot
from db.models import ActivityDay, Contribution, Nomination, NpsResponse
from tests.e2e.util import bot_posts, command_syncs, eventually, settled, slash
from tests.helpers import write_config


@pytest.fixture
def servers(emulator) -> list[SampleCommunity]:
    return [
        build_sample_community(emulator, member_count=4, name=f"Server {n}", shard=(n, 2))
        for n in range(2)
    ]


@pytest.fixture
async def deployment(emulator, servers, tmp_path, clock) -> Any:
    (tmp_path / "servers").mkdir()
    write_config(
        tmp_path / "config.toml",
        {
            "discord": {
                "api_base": emulator.api_base,
                "gateway_url": emulator.gateway_url,
                "servers_dir": "servers",
            },
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"},
            "logging": {"level": "WARNING"},
        },
    )
    for n, server in enumerate(servers):
        data = community_config(
            server,
            emulator,
            database_url="unused",
            schedule={"timezone": ["Europe/Berlin", "America/New_York"][n]},
        )
        for section in ("database", "logging"):
            data.pop(section)
        data["discord"] = {"guild_id": server.guild_id}
        write_config(tmp_path / "servers" / f"s{n}.toml", data)
    config = load_config(tmp_path / "config.toml", env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    async with running_bot(config, clock=clock) as app:
        yield app


def program(app: Any, server: SampleCommunity) -> Community:
    community: Community = app.bot.community(server.guild_id)
    return community


async def test_each_server_has_its_own_program_commands_and_schedule(deployment, emulator, servers):
    bot = deployment.bot
    assert [c.guild_id for c in bot.communities] == [s.guild_id for s in servers]
    with pytest.raises(LookupError, match="serves 2 servers"):
        _ = bot.services
    # Slash commands are each server's own, synced to each guild.
    synced = {r.path.split("/")[-2] for r in command_syncs(emulator)}
    assert synced == {str(s.guild_id) for s in servers}
    # Each server's schedule runs in its own time zone.
    zones = [str(program(deployment, s).schedule.tz) for s in servers]
    assert zones == ["Europe/Berlin", "America/New_York"]
    first, second = (program(deployment, s) for s in servers)
    assert first.services is not second.services
    assert first.get_cog("Nominations") is not second.get_cog("Nominations")
    assert first.get_cog("Nominations").bot is first  # type: ignore[union-attr]


async def test_messages_count_in_their_own_server_only(deployment, emulator, servers):
    bot = deployment.bot
    for server in servers:
        for member in server.members.values():
            await emulator.post_message(
                server.channels["general"], member, "a helpful answer about the sync engine"
            )
    await settled(emulator, bot)
    for server in servers:
        await program(deployment, server).services.activity.flush()
    for server in servers:
        async with program(deployment, server).services.sessions() as session:
            users = set(
                (
                    await session.scalars(
                        select(ActivityDay.user_id).where(ActivityDay.guild_id == server.guild_id)
                    )
                ).all()
            )
        assert users == set(server.members.values())


async def test_a_review_card_and_its_button_stay_in_their_server(deployment, emulator, servers):
    first, second = servers
    ada = second.members["ada"]
    morgan = second.moderators["morgan"]
    record = await emulator.invoke_slash_command(
        second.guild_id,
        second.channels["general"],
        morgan,
        "nominate",
        options={"member": ada, "tier": "advisor", "reason": "ran three workshops"},
    )
    await record.wait_answer(timeout=5)
    [card] = await eventually(lambda: bot_posts(emulator, second.channels["review"]))
    assert bot_posts(emulator, first.channels["review"]) == []
    [approve, _] = [c["custom_id"] for row in card["components"] for c in row["components"]]
    clicked = await emulator.click_button(card, second.moderators["riley"], approve)
    await clicked.wait_answer(timeout=5)  # deferred: the card is edited once decided
    services = program(deployment, second).services

    async def approved() -> bool:
        async with services.sessions() as session:
            rows = (await session.scalars(select(Nomination))).all()
        return [(n.guild_id, n.status) for n in rows] == [(second.guild_id, "approved")]

    await eventually(approved)
    edited = await eventually(lambda: "Approved by riley" in str(emulator.message(card["id"])))
    assert edited


async def test_a_moderator_credit_lands_in_the_server_it_was_given_in(
    deployment, emulator, servers
):
    first = servers[0]
    grace = first.members["grace"]
    record = await slash(
        emulator,
        first,
        first.moderators["morgan"],
        "contribution add",
        member=grace,
        kind="mentoring",
        points=5,
        reason="paired on the first PR",
    )
    await record.wait_answer(timeout=5)
    async with program(deployment, first).services.sessions() as session:
        guilds = (
            await session.scalars(
                select(Contribution.guild_id).where(Contribution.user_id == grace)
            )
        ).all()
    assert guilds == [first.guild_id]


async def test_a_survey_answered_in_a_dm_lands_in_its_own_server(deployment, emulator, servers):
    """A DM names no server: the survey's buttons name theirs, so with two servers the answer
    and the comment go to the server that asked."""
    first, second = servers
    ada, morgan = second.members["ada"], second.moderators["morgan"]
    record = await slash(
        emulator,
        second,
        morgan,
        "tier set",
        member=ada,
        tier="champion",
        reason="long-time helper",
    )
    await record.wait_answer(timeout=5)
    sent = await slash(emulator, second, morgan, "nps send")
    await sent.wait_answer(timeout=5)
    bot_id = str(emulator.bot_user_id)
    [survey] = await eventually(
        lambda: [m for m in emulator.dms(ada) if m["author"]["id"] == bot_id and m["components"]],
        within=10,
    )
    ids = [c["custom_id"] for row in survey["components"] for c in row["components"]]
    assert all(i.endswith(f":{second.guild_id}") for i in ids)
    score = next(i for i in ids if i.startswith("nps:score:") and ":7:" in i)
    clicked = await emulator.click_button(survey, ada, score)
    await clicked.wait_answer(timeout=5)

    async def answered(server: SampleCommunity) -> list[int]:
        async with program(deployment, server).services.sessions() as session:
            rows = await session.scalars(
                select(NpsResponse.score).where(NpsResponse.guild_id == server.guild_id)
            )
            return list(rows.all())

    assert await eventually(lambda: answered(second)) == [7]
    assert await answered(first) == []
