"""Demo scene: members share content and send evidence of the server's own kinds (a talk),
moderators review it, and correct the ledger by hand."""

from __future__ import annotations

import re
from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import press, show, until
from emulator import Emulator


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    general, review = c.channels["general"], c.channels["review"]

    async def slash(user_id: int, name: str, **options: Any) -> dict[str, Any]:
        record = await emu.invoke_slash_command(c.guild_id, general, user_id, name, options)
        data: dict[str, Any] = (await record.wait_answer(timeout=5))["data"]
        return data

    def card_for(title: str) -> dict[str, Any] | None:
        return next(
            (m for m in emu.messages(review) if any(e.get("title") == title for e in m["embeds"])),
            None,
        )

    async def click(user_id: int, title: str, action: str) -> Any:
        card = await until(lambda: card_for(title))
        return await press(emu, card, user_id, f"content:{action}:")

    t.step("Members share what they made with /share; moderators get a review card")
    t.say("ada shares a blog post and grace a video; both wait in #review for a decision")
    t.say("linus shares ada's post again (another spelling of the link), ken an ftp:// link")
    await slash(
        c.members["ada"],
        "share",
        url="https://ada.dev/blog/sync-on-windows?utm_source=discord",
        title="Fixing sync on Windows",
        kind="blog",
    )
    await slash(
        c.members["grace"],
        "share",
        url="https://youtu.be/dQw4w9WgXcQ",
        title="My favourite release",
        kind="video",
    )
    await slash(
        c.members["linus"],
        "share",
        url="http://www.ada.dev/blog/sync-on-windows/",
        title="Great post by ada",
        kind="blog",
    )
    await slash(
        c.members["ken"], "share", url="ftp://ken.dev/talk.pdf", title="Slides", kind="talk"
    )
    await show(t)

    t.step("Moderators decide: morgan approves, riley rejects with a reason")
    t.say("margaret (not a moderator) presses Approve first; then morgan approves ada's post")
    t.say("riley presses Reject on grace's video and types the reason into the form")
    await click(c.members["margaret"], "Fixing sync on Windows", "approve")
    await click(c.moderators["morgan"], "Fixing sync on Windows", "approve")
    opened = await click(c.moderators["riley"], "My favourite release", "reject")
    submitted = await emu.submit_modal(
        opened, c.moderators["riley"], values={"reason": "Not about the project, sorry!"}
    )
    await submitted.wait_answer(timeout=5)
    await until(lambda: emu.dms(c.members["grace"]))
    await show(t)

    t.step("A kind of the server's own: talks, from [[kinds]], sent with /contribution submit")
    t.say("ada gave a talk at a meetup: she sends the recording as evidence, with a note")
    t.say("riley approves it on the same review card: +15 points of the kind 'talk'")
    await slash(
        c.members["ada"],
        "contribution submit",
        kind="talk",
        evidence="https://youtu.be/ada-meetup-berlin",
        note="Flywheel at the Berlin meetup",
    )
    await click(c.moderators["riley"], "Flywheel at the Berlin meetup", "approve")
    await until(lambda: len(emu.dms(c.members["ada"])) >= 2)
    await show(t)

    t.step("Moderators correct the ledger with /contribution, logged in #mod-log")
    t.say("morgan gives radia +5 mentoring, and dennis +50 answer by mistake")
    t.say("riley removes the mistaken +50 with a reason")
    await slash(
        c.moderators["morgan"],
        "contribution add",
        member=c.members["radia"],
        kind="mentoring",
        points=5,
        reason="Paired with two newcomers on their first PR",
    )
    mistake = await slash(
        c.moderators["morgan"],
        "contribution add",
        member=c.members["dennis"],
        kind="answer",
        points=50,
        reason="Answers in the old forum",
    )
    number = re.search(r"#(\d+)", mistake.get("content", ""))
    if number is not None:
        await slash(
            c.moderators["riley"],
            "contribution remove",
            id=int(number[1]),
            reason="Typo: meant 5 points, not 50",
        )
    await show(t)
