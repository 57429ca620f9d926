"""/tiers, the ladder lines of /profile, and /tier preview, against the real bot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.demo.community import EMULATOR_TOKEN, community_config
from bot.emulated import running_bot
from cogs.tiers import clip_lines
from db.models import ActivityDay, TierState
from tests.e2e.util import members_synced

pytestmark = pytest.mark.e2e

EPHEMERAL = 64


async def command(emulator, community, user_id: int, name: str, **options: Any) -> dict[str, Any]:
    record = await emulator.invoke_slash_command(
        community.guild_id, community.channels["general"], user_id, name, options=options
    )
    return await record.wait_answer(timeout=5)


async def give(flywheel, kind: str, user_id: int, count: int, *, tag: str = "") -> None:
    bot = flywheel.bot
    ledger = bot.services.contributions
    async with bot.services.sessions() as session, session.begin():
        for n in range(count):
            credit = ledger.credit(kind, user_id, f"manual:{tag}{kind}:{user_id}:{n}")
            await ledger.record(session, credit)


async def active_weeks(flywheel, user_id: int, weeks: int) -> None:
    bot = flywheel.bot
    today = bot.clock.now().astimezone(bot.settings.schedule.tz).date()
    async with bot.services.sessions() as session, session.begin():
        for week in range(weeks):
            day = today - timedelta(days=7 * week)
            session.add(ActivityDay(guild_id=bot.guild_id, user_id=user_id, day=day, messages=3))


async def put_on(flywheel, user_id: int, tier: str, *, days_ago: int = 0, below_days: int = 0):
    """A member on ``tier`` since ``days_ago``, below its low-water mark for ``below_days``."""
    bot = flywheel.bot
    ladder = bot.services.ladder
    await ladder.set_tier(user_id, tier, reason="test setup", actor_id=1)
    now = bot.clock.now()
    async with bot.services.sessions() as session, session.begin():
        state = await session.get(TierState, (bot.guild_id, user_id))
        state.tier_since = now - timedelta(days=days_ago)
        state.below_since = now - timedelta(days=below_days) if below_days else None


async def tiers_now(flywheel) -> dict[int, str | None]:
    async with flywheel.bot.services.sessions() as session:
        return {s.user_id: s.tier_key for s in await session.scalars(select(TierState))}


# ---------------------------------------------------------------------------- /tiers
async def test_tiers_shows_requirements_benefits_and_seats(flywheel, emulator, community):
    await members_synced(flywheel.bot, community.members.values())
    await put_on(flywheel, community.members["grace"], "advisor")
    await put_on(flywheel, community.members["ada"], "champion")
    body = await command(emulator, community, community.members["linus"], "tiers")
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    [embed] = body["data"]["embeds"]
    assert embed["title"] == "The ladder"
    shown = {f["name"]: f["value"] for f in embed["fields"]}
    assert list(shown) == ["1. Champion", "2. Ambassador", "3. Advisor"]
    assert shown["1. Champion"] == (
        "**Requirements:** 50 points, 3 accepted answers, active in 2 different weeks in the "
        "last 90 days\n"
        "**Benefits:** Champion role and channel, early access to announcements\n"
        "**Commitment:** Help others in the forums a few times a month\n"
        "**Members:** 1 (no seat limit)"
    )
    assert shown["2. Ambassador"].startswith(
        "**Requirements:** 200 points, 10 accepted answers, 1 piece of content, active in 6 "
        "different weeks in the last 90 days\n"
    )
    assert shown["3. Advisor"] == (
        "**Requirements:** 600 points, 2 events hosted, 3 mentoring sessions in the last 180 "
        "days · a moderator's approved nomination\n"
        "**Benefits:** A seat at the quarterly roadmap review\n"
        "**Commitment:** Advise the team on the program and the product\n"
        "**Seats:** 1 of 5 held, 4 available"
    )


# ---------------------------------------------------------------------------- /profile
def description(body: dict[str, Any]) -> list[str]:
    [embed] = body["data"]["embeds"]
    return str(embed["description"]).splitlines()


async def test_profile_shows_progress_toward_the_next_tier(flywheel, emulator, community):
    await members_synced(flywheel.bot, community.members.values())
    ada = community.members["ada"]
    await give(flywheel, "answer", ada, 3)
    lines = description(await command(emulator, community, ada, "profile"))
    assert lines[-4:] == [
        "**Toward Champion:** 2 of 3 criteria missing",
        "• 30/50 points ✗",
        "• 3/3 accepted answers ✓",
        "• 0/2 active weeks ✗",
    ]
    # Everything met for Champion: the next evaluation moves her up, and then Ambassador is next.
    await give(flywheel, "answer", ada, 2, tag="more")
    await active_weeks(flywheel, ada, 2)
    lines = description(await command(emulator, community, ada, "profile"))
    assert lines[-4] == (
        "**Toward Champion:** every criterion is met; promotion at the next evaluation."
    )
    await flywheel.bot.services.contributions.changed({ada})
    lines = description(await command(emulator, community, ada, "profile"))
    assert lines[0] == f"<@{ada}>" and lines[1].startswith("**Tier:** Champion (since ")
    assert lines[-5:] == [
        "**Toward Ambassador:** 4 of 4 criteria missing",
        "• 50/200 points ✗",
        "• 5/10 accepted answers ✗",
        "• 0/1 pieces of content ✗",
        "• 2/6 active weeks ✗",
    ]


async def test_profile_at_risk_is_shown_to_the_member_and_moderators(flywheel, emulator, community):
    await members_synced(flywheel.bot, community.members.values())
    m, morgan = community.members, community.moderators["morgan"]
    grace = m["grace"]
    await put_on(flywheel, grace, "champion", days_ago=40, below_days=10)
    await give(flywheel, "answer", grace, 3)
    due = flywheel.bot.clock.now() + timedelta(days=20)
    when = discord.utils.format_dt(due, "D")

    own = description(await command(emulator, community, grace, "profile"))
    risk = [
        f"⚠️ **At risk:** Champion would be lost on {when} unless this changes.",
        "• 30/50 points ✗",
        "• 0/2 active weeks ✗",
        "Taking a break? A moderator can grant a leave of absence.",
    ]
    assert own[-4:] == risk
    assert "**Toward Ambassador:** 4 of 4 criteria missing" in own
    moderator = description(await command(emulator, community, morgan, "profile", member=grace))
    assert moderator[-4:] == risk
    other = description(await command(emulator, community, m["ada"], "profile", member=grace))
    assert not any("At risk" in line for line in other)

    # A leave of absence pauses the risk.
    await flywheel.bot.services.ladder.grant_leave(grace, 30, morgan)
    on_leave = description(await command(emulator, community, grace, "profile"))
    assert not any("At risk" in line for line in on_leave)


async def test_profile_at_the_top_of_the_ladder(flywheel, emulator, community):
    await members_synced(flywheel.bot, community.members.values())
    grace = community.members["grace"]
    await put_on(flywheel, grace, "advisor")
    lines = description(await command(emulator, community, grace, "profile"))
    assert "**Ladder:** top of the ladder, no tier above Advisor." in lines


# ---------------------------------------------------------------------------- /tier preview
async def test_tier_preview_reports_what_would_change_without_changing_it(
    flywheel, emulator, community
):
    await members_synced(flywheel.bot, community.members.values())
    m = community.members
    # ada meets Champion (nobody evaluated her yet); grace holds Champion but is below it,
    # early in her grace period; margaret's grace ends within the notice days; linus has been
    # below Champion for longer than the grace.
    await give(flywheel, "answer", m["ada"], 5)
    await active_weeks(flywheel, m["ada"], 2)
    await put_on(flywheel, m["grace"], "champion", days_ago=40, below_days=5)
    await put_on(flywheel, m["margaret"], "champion", days_ago=40, below_days=25)
    await put_on(flywheel, m["linus"], "champion", days_ago=90, below_days=45)
    before = await tiers_now(flywheel)

    body = await command(emulator, community, community.moderators["riley"], "tier preview")
    assert body["data"]["flags"] & EPHEMERAL
    [embed] = body["data"]["embeds"]
    assert embed["title"] == "Tier preview (what-if)"
    lines = embed["description"].splitlines()
    assert lines[0] == (
        "What-if under the current rules and data: 9 member(s) evaluated; 1 promoted, "
        "1 warned, 1 at risk, 1 demoted. Nothing was changed."
    )
    promoted = lines.index("**Would be promoted (1):**")
    assert lines[promoted + 1 : promoted + 6] == [
        "  ada: no tier → Champion",
        "    Promoted to Champion: every criterion is met.",
        "    - 50/50 points ✓",
        "    - 5/3 accepted answers ✓",
        "    - 2/2 active weeks ✓",
    ]
    warned = lines.index("**Would get an at-risk notice now (1):**")
    assert lines[warned + 1] == "  margaret: Champion"
    at_risk = lines.index("**At risk, no notice due now (1):**")
    assert lines[at_risk + 1] == "  grace: Champion"
    assert lines[at_risk + 2].startswith("    At risk of losing Champion: below the low-water mark")
    demoted = lines.index("**Would be demoted (1):**")
    assert lines[demoted + 1] == "  linus: Champion → no tier"
    assert lines[demoted + 3 :] == [
        "    - 0/50 points ✗",
        "    - 0/3 accepted answers ✗",
        "    - 0/2 active weeks ✗",
    ]
    assert await tiers_now(flywheel) == before

    refused = await command(emulator, community, m["ada"], "tier preview")
    assert refused["type"] == 4 and refused["data"]["content"] == "Only moderators can do that."
    assert refused["data"]["flags"] & EPHEMERAL


def test_a_long_preview_is_cut_at_whole_lines():
    lines = [f"  member {n}: Champion → no tier" for n in range(500)]
    text = clip_lines(lines)
    assert len(text) <= 4096
    shown = text.splitlines()
    assert shown[:-1] == lines[: len(shown) - 1]
    assert shown[-1] == (
        f"… ({500 - len(shown) + 1} more lines: run `python -m bot tiers preview` for the full "
        "report)"
    )


async def test_without_tiers_the_commands_say_so(emulator, community, database_url, clock):
    data = community_config(community, emulator, database_url=database_url, tiers=[])
    config = parse_config(data, env={"DISCORD_TOKEN": EMULATOR_TOKEN})
    m, riley = community.members, community.moderators["riley"]
    async with running_bot(config, clock=clock):
        none = "This community has no tiers configured yet."
        for user, name, options, text in (
            (m["ada"], "tiers", {}, none),
            (riley, "tier preview", {}, none),
            (
                riley,
                "nominate",
                {"member": m["ada"], "tier": "champion", "reason": "x"},
                "No tiers are configured, so there is nothing to nominate for.",
            ),
        ):
            body = await command(emulator, community, user, name, **options)
            assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
            assert body["data"]["content"] == text
        lines = description(await command(emulator, community, m["ada"], "profile"))
        assert not any(line.startswith(("**Toward", "**Ladder", "⚠️")) for line in lines)
