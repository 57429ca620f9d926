"""Demo scene: running the program: a user group, a buddy for a newcomer, the ambassador
survey, and a member's own data.

With the sample ladder the community has one tier member by now (katherine, promoted in the
ladder scene), so she leads the group, volunteers as a buddy and is the survey's only
recipient. Under stricter rules (``--config``) nobody is promoted and the scene is skipped,
saying why; buddies or the survey turned off in the config are skipped the same way. The
survey's results stay hidden below 5 answers, and the narration says so rather than inventing
answers.
"""

from __future__ import annotations

import json
from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import press, seen, show, tier_of, until
from emulator import Emulator

GROUP = "Berlin Meetup"
NEWCOMER = "ida"
SCORE = 9


def skipped(emu: Emulator, community: SampleCommunity, t: Any) -> str | None:
    if tier_of(emu, community, "katherine"):
        return None
    tiers = t.settings.tiers if t.settings else ()
    if not tiers:
        return "it needs a tier member, and your config has no tiers"
    return (
        f"katherine did not reach {tiers[0].name} under your config's rules, and it needs a "
        "tier member to lead the group, be a buddy and answer the survey"
    )


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c, m = community, community.members
    tier = tier_of(emu, community, "katherine")
    settings = t.settings
    general = c.channels["general"]
    morgan = c.moderators["morgan"]

    async def slash(user: int, command: str, **options: Any) -> Any:
        record = await emu.invoke_slash_command(c.guild_id, general, user, command, options)
        await record.wait_answer(timeout=10)
        return record

    t.step("Program operations: a user group, buddies, the ambassador survey, and a member's data")
    t.say(f"morgan starts a local user group, {GROUP}, led by katherine (a {tier});")
    t.say("the bot makes the group's role and gives it to her")
    await slash(
        morgan, "group create", name=GROUP, type="local", leader=m["katherine"], region="Berlin"
    )
    role = await until(lambda: _role_named(emu, c.guild_id, GROUP))
    t.roles[role] = GROUP
    await show(t)
    t.say("grace and ken join it with /group join; ada looks at /group list")
    for name in ("grace", "ken"):
        await slash(m[name], "group join", name=GROUP)
    await slash(m["ada"], "group list")
    await show(t)

    if settings is None or settings.buddies.enabled:
        await _buddies(emu, community, t, slash, tier)
    else:
        t.step("(buddies skipped: they are off in your config, buddies.enabled = false)")

    if settings is None or settings.nps.enabled:
        await _survey(emu, community, t, slash)
    else:
        t.step("(the ambassador survey skipped: it is off in your config, nps.enabled = false)")

    t.step("A member's data: /privacy export")
    t.say("katherine asks for everything Flywheel stores about her (only she gets the file)")
    record = await slash(m["katherine"], "privacy export")
    await show(t)
    for attachment in (record.original or {}).get("attachments") or []:
        document = json.loads(emu.world.attachment_blobs.get(int(attachment["id"]), b"{}"))
        tables = document.get("tables", {})
        t.say(f"{attachment['filename']}: {document.get('rows', 0)} rows, by table:")
        for table, rows in tables.items():
            if rows:
                t.say(f"    {table}: {len(rows)}")


async def _buddies(emu: Emulator, c: SampleCommunity, t: Any, slash: Any, tier: str) -> None:
    m = c.members
    t.step(f"Buddies: a {tier} volunteers, and the next newcomer is introduced to her")
    t.say("(hopper, pat, sam and wanderer arrived before anyone had volunteered, so the bot")
    t.say("told the moderators instead of picking someone)")
    t.say("katherine volunteers with /buddy optin; then ida joins the server")
    await slash(m["katherine"], "buddy optin")
    newcomer = await emu.member_join(c.guild_id, NEWCOMER)
    t.names[newcomer.user_id] = NEWCOMER
    await seen(lambda: emu.dms(newcomer.user_id) and emu.dms(m["katherine"]))
    await show(t)


async def _survey(emu: Emulator, c: SampleCommunity, t: Any, slash: Any) -> None:
    m, morgan = c.members, c.moderators["morgan"]
    t.step("The ambassador survey: a 0-10 question by DM to every tier member")
    t.say("morgan sends this quarter's survey now (on its own it goes out each quarter)")
    t.say("the sample community has one tier member so far, katherine, so one DM goes out;")
    t.say("a real program surveys every member on the ladder")
    await slash(morgan, "nps send")
    survey = await until(lambda: _survey_dm(emu, m["katherine"]), within=10)
    await show(t)
    t.say(f"katherine presses {SCORE} (she can change it until the quarter ends)")
    period = survey["components"][0]["components"][0]["custom_id"].split(":")[2]
    await press(emu, survey, m["katherine"], f"nps:score:{period}:{SCORE}")
    await show(t)
    t.say("morgan asks for the results: with 1 answer, the bot shows counts only; the score")
    t.say("and comments appear from 5 answers, so no single member's answer can be told apart")
    await slash(morgan, "nps results")
    await show(t)


def _role_named(emu: Emulator, guild_id: int, name: str) -> int | None:
    guild = emu.world.guilds[guild_id]
    return next((r.id for r in guild.roles.values() if r.name == name), None)


def _survey_dm(emu: Emulator, user_id: int) -> dict[str, Any] | None:
    return next(
        (
            message
            for message in emu.dms(user_id)
            if message["author"]["id"] == str(emu.bot_user_id)
            and message.get("components")
            and "recommend" in (message.get("content") or "")
        ),
        None,
    )
