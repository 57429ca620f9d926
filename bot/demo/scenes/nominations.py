"""Demo scene: moderators nominate members for a tier; members read the ladder; a what-if."""

from __future__ import annotations

from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import press, show, until
from emulator import Emulator


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    general, review = c.channels["general"], c.channels["review"]
    tiers = list(c.tier_role_ids)
    if not tiers:
        t.step("Nominations: no tiers are configured, so there is nothing to nominate for")
        return
    first, top = tiers[0], tiers[-1]
    morgan, riley = c.moderators["morgan"], c.moderators["riley"]

    async def slash(user_id: int, name: str, **options: Any) -> None:
        record = await emu.invoke_slash_command(c.guild_id, general, user_id, name, options)
        await record.wait_answer(timeout=5)

    def card_of(member: str) -> dict[str, Any] | None:
        user_id = c.members[member]
        return next(
            (
                m
                for m in reversed(emu.messages(review))
                if m["components"]
                and any(f.get("value") == f"<@{user_id}>" for e in m["embeds"] for f in e["fields"])
            ),
            None,
        )

    async def click(user_id: int, member: str, action: str) -> Any:
        card = await until(lambda: card_of(member))
        return await press(emu, card, user_id, f"nomination:{action}:")

    t.step("Moderators nominate members for a tier with /nominate; a card waits in #review")
    t.say(f"morgan nominates frances for {top.title()} and dennis for {first.title()}")
    t.say("grace, who is not a moderator, tries to nominate herself")
    await slash(
        morgan,
        "nominate",
        member=c.members["frances"],
        tier=top,
        reason="Answers half of #help and ran three community calls",
    )
    await slash(
        morgan,
        "nominate",
        member=c.members["dennis"],
        tier=first,
        reason="Always first to welcome newcomers @everyone",
    )
    await slash(c.members["grace"], "nominate", member=c.members["grace"], tier=first, reason="me!")
    await show(t)

    t.step("riley approves frances (recorded until she meets the minimums) and rejects dennis")
    t.say("frances hears the good news; dennis hears nothing, morgan (the nominator) gets why")
    await click(riley, "frances", "approve")
    await until(lambda: emu.dms(c.members["frances"]))
    opened = await click(riley, "dennis", "reject")
    submitted = await emu.submit_modal(
        opened, riley, values={"reason": "Not yet: let's look again after the release"}
    )
    await submitted.wait_answer(timeout=5)
    await until(lambda: emu.dms(morgan))
    await show(t)

    t.step("Members read the ladder with /tiers; moderators check a what-if with /tier preview")
    t.say("radia looks at /tiers (only she sees it); riley previews who the rules would move")
    await slash(c.members["radia"], "tiers")
    await slash(riley, "tier preview")
    await slash(morgan, "nominations", status="all")
    await show(t)
