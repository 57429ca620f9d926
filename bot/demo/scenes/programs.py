"""Demo scene: a beta program is joined, a tester's report accepted, and the close credits it."""

from __future__ import annotations

from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import press, show, until
from emulator import Emulator


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    m, mods = c.members, c.moderators
    channel = c.channels["programs"]

    def bot_posts(channel_id: int) -> list[dict[str, Any]]:
        return [
            message
            for message in emu.messages(channel_id)
            if message["author"]["id"] == str(emu.bot_user_id)
        ]

    def join_post() -> dict[str, Any] | None:
        return next(
            (
                p
                for p in reversed(bot_posts(channel))
                if any(
                    b.get("custom_id", "").startswith("beta:join:")
                    for row in p.get("components") or []
                    for b in row["components"]
                )
            ),
            None,
        )

    async def command(user_id: int, name: str, options: dict[str, Any]) -> None:
        record = await emu.invoke_slash_command(
            c.guild_id, c.channels["general"], user_id, name, options
        )
        await record.wait_answer(timeout=5)

    t.step("Beta programs: riley opens the 'Offline mode' beta with /beta create (3 seats)")
    t.say("a post with a Join button in #beta-and-research, and a private thread for testers")
    await command(mods["riley"], "beta create", {"name": "Offline mode", "seats": 3})
    post = await until(join_post)
    await show(t)

    t.step("ada and grace join: each is added to the testers' private thread")
    for name in ("ada", "grace"):
        await press(emu, post, m[name], "beta:join:")
    await show(t)

    t.step("ada reports what she found with /beta report; a moderator accepts it on the card")
    program_id = int(
        next(
            b["custom_id"]
            for row in post["components"]
            for b in row["components"]
            if b["custom_id"].startswith("beta:join:")
        ).rsplit(":", 1)[1]
    )
    before = len(bot_posts(c.channels["review"]))
    await command(
        m["ada"],
        "beta report",
        {"program": program_id, "text": "Edits made offline are lost when the app syncs."},
    )
    card = (await until(lambda: bot_posts(c.channels["review"])[before:]))[-1]
    await press(emu, card, mods["morgan"], "beta:approve:")
    await show(t)

    t.step("riley closes the beta: every tester thanked by DM, ada credited (beta_testing)")
    await command(mods["riley"], "beta close", {"program": program_id})
    # DMs are paced (and may queue behind others when a config promotes many members at once).
    await until(
        lambda: any("Thank you for testing" in d["content"] for d in emu.dms(m["grace"])),
        within=90,
    )
    await show(t)
