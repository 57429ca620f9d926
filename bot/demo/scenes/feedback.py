"""Demo scene: a member's product request is voted up, planned and shipped; the loop closes."""

from __future__ import annotations

from typing import Any

from bot.demo.community import SampleCommunity
from bot.demo.scenes import show, until
from emulator import Emulator, payloads

REQUEST = {
    "title": "Dark mode for the mobile app",
    "problem": "Reading the app at night is hard on the eyes: the white screen is too bright.",
    "wanted": "A dark theme that follows the phone's setting.",
}


async def scene(emu: Emulator, community: SampleCommunity, t: Any) -> None:
    c = community
    m, mods = c.members, c.moderators
    forum = c.channels["feedback"]

    def post() -> Any:
        return next(
            (ch for ch in emu.world.channels.values() if ch.parent_id == forum),
            None,
        )

    def starter(thread: Any) -> dict[str, Any]:
        return payloads.message(emu.world, emu.world.messages[thread.id])

    def custom_id(message: dict[str, Any], label: str) -> str:
        return next(
            b["custom_id"]
            for row in message["components"]
            for b in row["components"]
            if b.get("label", "").startswith(label)
        )

    # The areas are the config's own (a user's config may list other ones).
    area = t.settings.feedback.areas[-1] if t.settings is not None else "General"

    async def submit(user_id: int, title: str) -> dict[str, Any]:
        opened = await emu.invoke_slash_command(
            c.guild_id, c.channels["general"], user_id, "feedback submit"
        )
        await opened.wait_answer(timeout=5)
        assert opened.modal is not None
        inputs = _inputs(opened.modal)
        done = await emu.submit_modal(
            opened,
            user_id,
            values={
                inputs["Title"]: title,
                inputs["The problem"]: REQUEST["problem"],
                inputs["What would help"]: REQUEST["wanted"],
                inputs["Area"]: [area],
            },
        )
        body: dict[str, Any] = await done.wait_answer(timeout=5)
        return body

    t.step("Product feedback: ada asks for a change with /feedback submit (a form)")
    t.say("it becomes a post in #product-feedback, tagged Open, with a Vote button")
    await submit(m["ada"], REQUEST["title"])
    thread = await until(post)
    await show(t)

    t.step("Members vote; ken's alike request is shown ada's first")
    t.say("grace and linus vote; ken asks for 'Mobile app dark mode'")
    for name in ("grace", "linus"):
        vote = custom_id(starter(thread), "Vote")
        await (await emu.click_button(thread.id, m[name], vote)).wait_answer(timeout=5)
    await submit(m["ken"], "Mobile app dark mode")
    await show(t)

    t.step("The product team plans it, then ships it: tag, note, DMs, credit")
    t.say("riley presses Planned and writes a note; later /feedback status shipped in the post")
    opened = await emu.click_button(thread.id, mods["riley"], custom_id(starter(thread), "Planned"))
    await opened.wait_answer(timeout=5)
    assert opened.modal is not None
    [note] = _inputs(opened.modal).values()
    planned = await emu.submit_modal(
        opened, mods["riley"], values={note: "On the roadmap for the next release."}
    )
    await planned.wait_answer(timeout=5)
    shipped = await emu.invoke_slash_command(
        c.guild_id,
        thread.id,
        mods["riley"],
        "feedback status",
        {"status": "shipped", "note": "Dark mode is out in version 3.2: thank you!"},
    )
    await shipped.wait_answer(timeout=5)
    # Every DM the bot sends shares Discord's limit (5 in 5 s): with a config whose ladder
    # promotes many members, their welcome DMs go first.
    shipped_told = "is now **Shipped**"
    await until(lambda: any(shipped_told in d["content"] for d in emu.dms(m["linus"])), within=60)
    await show(t)

    t.step("/feedback top: the most wanted requests, shipped ones on request")
    top = await emu.invoke_slash_command(
        c.guild_id, c.channels["general"], m["grace"], "feedback top", {"status": "shipped"}
    )
    await top.wait_answer(timeout=5)
    await show(t)


def _inputs(modal: dict[str, Any]) -> dict[str, str]:
    """Label → custom id of a form's inputs (text inputs, and selects inside labels)."""
    found: dict[str, str] = {}
    for comp in modal["components"]:
        if comp["type"] == 1:
            for inner in comp["components"]:
                found[inner["label"]] = inner["custom_id"]
        elif comp["type"] == 18:
            found[comp["label"]] = comp["component"]["custom_id"]
    return found
