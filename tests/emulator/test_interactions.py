"""Interactions end to end: commands synced by a real CommandTree, invoked by tests."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from emulator import EmulatorError
from tests.e2e.util import eventually

from .conftest import make_client, running


def client_with_tree(guild_id: int) -> tuple[discord.Client, app_commands.CommandTree, list]:
    client = make_client()
    tree = app_commands.CommandTree(client)
    calls: list = []
    guild = discord.Object(id=guild_id)

    @tree.command(name="ping", description="Private pong", guild=guild)
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    tier = app_commands.Group(name="tier", description="Manage tiers", guild_ids=[guild_id])

    @tier.command(name="set", description="Set a member's tier")
    @app_commands.choices(
        level=[
            app_commands.Choice(name="Champion", value=1),
            app_commands.Choice(name="Advisor", value=3),
        ]
    )
    async def tier_set(
        interaction: discord.Interaction,
        member: discord.Member,
        role: discord.Role,
        channel: discord.TextChannel,
        level: app_commands.Choice[int],
        note: str | None = None,
    ) -> None:
        calls.append((member, role, channel, level.value, note, interaction.namespace))
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"{member.display_name} -> {role.name} ({level.name})")
        await interaction.followup.send("and one more thing")

    tree.add_command(tier)

    @tree.command(name="topic", description="Pick a topic", guild=guild)
    async def topic(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"topic {name}")

    @topic.autocomplete("name")
    async def topic_complete(interaction: discord.Interaction, current: str):
        return [
            app_commands.Choice(name=t, value=t)
            for t in ("python", "pytest")
            if t.startswith(current)
        ]

    @tree.context_menu(name="Inspect", guild=guild)
    async def inspect(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"{member.name} joined", ephemeral=True)

    @tree.context_menu(name="Quote", guild=guild)
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_modal(QuoteModal(message.content))

    @tree.command(name="vote", description="Post a poll", guild=guild)
    async def vote(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Vote!", view=VoteView())

    @tree.command(name="feedback", description="Open a form", guild=guild)
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(QuoteModal("feedback"))

    @tree.command(name="twice", description="Acknowledge twice", guild=guild)
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("one")
        try:
            await interaction.followup.send("two")
            await interaction.client.http.request(
                discord.http.Route(
                    "POST",
                    "/interactions/{webhook_id}/{webhook_token}/callback",
                    webhook_id=interaction.id,
                    webhook_token=interaction.token,
                ),
                json={"type": 4, "data": {"content": "three"}},
            )
        except discord.HTTPException as exc:
            calls.append(exc)

    @tree.command(name="slow", description="Answer too late", guild=guild)
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("late")
        except discord.HTTPException as exc:
            calls.append(exc)

    @tree.command(name="mods", description="Moderators only", guild=guild)
    @app_commands.default_permissions(manage_messages=True)
    async def mods(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("hi mods")

    return client, tree, calls


class QuoteModal(discord.ui.Modal, title="Quote"):
    comment = discord.ui.TextInput(label="Comment", custom_id="quote:comment")

    def __init__(self, quoted: str) -> None:
        super().__init__(custom_id="quote:modal")
        self.quoted = quoted

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"{self.comment.value} / {self.quoted}", ephemeral=True
        )


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.votes = 0

    @discord.ui.button(label="Yes (0)", custom_id="vote:yes", style=discord.ButtonStyle.success)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.votes += 1
        button.label = f"Yes ({self.votes})"
        await interaction.response.edit_message(view=self)

    @discord.ui.select(
        custom_id="vote:pick", options=[discord.SelectOption(label=x) for x in "ABC"]
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {select.values}", ephemeral=True)


async def _synced(emu, world):
    client, tree, calls = client_with_tree(world.guild.id)
    return client, tree, calls


async def test_slash_command_sync_and_ephemeral_reply(emu, world):
    client, tree, _ = client_with_tree(world.guild.id)
    async with running(client):
        synced = await tree.sync(guild=discord.Object(id=world.guild.id))
        names = {c.name for c in synced}
        assert names == {
            "ping",
            "tier",
            "topic",
            "Inspect",
            "Quote",
            "vote",
            "feedback",
            "twice",
            "slow",
            "mods",
        }
        assert all(c.id and c.application_id == emu.application_id for c in synced)
        registered = {c["name"]: c for c in emu.commands(world.guild.id)}
        assert registered["tier"]["options"][0]["type"] == 1
        assert emu.commands() == []  # nothing global

        inter = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "ping"
        )
        response = await inter.wait_response(timeout=5)
    assert response["type"] == 4
    assert response["data"]["content"] == "pong" and response["data"]["flags"] & 64
    assert inter.ephemeral and inter.original["content"] == "pong"
    assert emu.messages(world.general.id) == []  # ephemeral replies are not in the channel
    assert emu.interaction_responses[-1]["interaction_id"] == inter.id
    [callback] = emu.requests("POST", r"/callback$")
    assert callback.query == {"with_response": "1"} and callback.status == 200

    # re-sync with the same definitions keeps ids and versions
    before = {c["id"]: c["version"] for c in emu.commands(world.guild.id)}
    client, tree, _ = client_with_tree(world.guild.id)
    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
    assert {c["id"]: c["version"] for c in emu.commands(world.guild.id)} == before


async def test_subcommand_options_are_resolved(emu, world):
    client, tree, calls = client_with_tree(world.guild.id)
    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        inter = await emu.invoke_slash_command(
            world.guild.id,
            world.general.id,
            world.owner.id,
            "tier set",
            options={
                "member": world.alice,
                "role": world.mod_role,
                "channel": world.general.id,
                "level": 3,
            },
        )
        deferred = await inter.wait_response(timeout=5)
        first = await inter.wait_followup(1, timeout=5)
    assert deferred["type"] == 5
    member, role, channel, level, note, _ns = calls[0]
    assert isinstance(member, discord.Member) and member.id == world.alice.id
    assert role.id == world.mod_role.id and channel.id == world.general.id
    assert level == 3 and note is None
    # the first follow-up after a deferral fills in the "thinking" message
    assert inter.original["content"] == "alice -> Moderator (Advisor)"
    assert inter.edits[0]["content"] == "alice -> Moderator (Advisor)"
    assert first["content"] == "and one more thing"
    contents = [m["content"] for m in emu.messages(world.general.id)]
    assert contents == ["alice -> Moderator (Advisor)", "and one more thing"]
    data = inter.payload["data"]
    assert data["options"][0]["name"] == "set" and data["options"][0]["type"] == 1
    assert set(data["resolved"]) == {"users", "members", "roles", "channels"}


async def test_invoking_what_a_client_could_not_is_an_error(emu, world):
    client, tree, _ = client_with_tree(world.guild.id)
    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        with pytest.raises(EmulatorError, match="no synced command"):
            await emu.invoke_slash_command(world.guild.id, world.general.id, world.alice.id, "nope")
        with pytest.raises(EmulatorError, match="needs a subcommand"):
            await emu.invoke_slash_command(world.guild.id, world.general.id, world.alice.id, "tier")
        with pytest.raises(EmulatorError, match="missing required option"):
            await emu.invoke_slash_command(
                world.guild.id, world.general.id, world.alice.id, "tier set", options={"level": 1}
            )
        with pytest.raises(EmulatorError, match="not one of the choices"):
            await emu.invoke_slash_command(
                world.guild.id,
                world.general.id,
                world.alice.id,
                "tier set",
                options={
                    "member": world.bob,
                    "role": world.mod_role,
                    "channel": world.general,
                    "level": 2,
                },
            )
        with pytest.raises(EmulatorError, match="cannot see /mods"):
            await emu.invoke_slash_command(world.guild.id, world.general.id, world.alice.id, "mods")
        inter = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.owner.id, "mods"
        )
        assert (await inter.wait_response())["data"]["content"] == "hi mods"


async def test_button_click_and_select_round_trip(emu, world):
    client, tree, _ = client_with_tree(world.guild.id)
    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        posting = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "vote"
        )
        await posting.wait_response()
        [card] = emu.messages(world.general.id)
        assert card["components"][0]["components"][0]["custom_id"] == "vote:yes"
        assert card["interaction_metadata"]["user"]["id"] == str(world.alice.id)
        click = await emu.click_button(card, world.bob.id, "vote:yes")
        update = await click.wait_response()
        assert update["type"] == 7
        assert update["data"]["components"][0]["components"][0]["label"] == "Yes (1)"
        click = await emu.click_button(int(card["id"]), world.alice.id, "vote:yes")
        await click.wait_response()
        [card] = emu.messages(world.general.id)
        assert card["components"][0]["components"][0]["label"] == "Yes (2)"
        picked = await emu.select_menu(card, world.bob.id, "vote:pick", ["B"])
        answer = await picked.wait_response()
        assert answer["data"]["content"] == "picked ['B']"
        with pytest.raises(EmulatorError, match="no component"):
            await emu.click_button(card, world.bob.id, "vote:no")


async def test_modal_from_slash_command_and_context_menus(emu, world):
    client, tree, _ = client_with_tree(world.guild.id)
    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        opened = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "feedback"
        )
        modal = await opened.wait_response()
        assert modal["type"] == 9 and modal["data"]["title"] == "Quote"
        submitted = await emu.submit_modal(
            opened, world.alice.id, values={"quote:comment": "great"}
        )
        assert (await submitted.wait_response())["data"]["content"] == "great / feedback"

        inspect = await emu.invoke_user_command(
            world.guild.id, world.general.id, world.bob.id, "Inspect", world.alice.id
        )
        assert (await inspect.wait_response())["data"]["content"] == "alice joined"

        posted = await emu.post_message(world.general.id, world.bob.id, "quotable")
        menu = await emu.invoke_message_command(
            world.guild.id, world.general.id, world.alice.id, "Quote", message_id=int(posted["id"])
        )
        await menu.wait_response()
        by_id = await emu.submit_modal(
            "quote:modal", world.alice.id, values={"quote:comment": "so true"}
        )
        assert (await by_id.wait_response())["data"]["content"] == "so true / quotable"
        with pytest.raises(EmulatorError, match="no inputs named"):
            await emu.submit_modal(menu, world.alice.id, values={"nope": "x"})


async def test_autocomplete(emu, world):
    client, tree, _ = client_with_tree(world.guild.id)
    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        inter = await emu.invoke_autocomplete(
            world.guild.id, world.general.id, world.alice.id, "topic", {"name": "py"}, "name"
        )
        response = await inter.wait_response()
    assert response["type"] == 8
    assert [c["value"] for c in response["data"]["choices"]] == ["python", "pytest"]


async def test_second_ack_is_40060_and_late_ack_is_10062(emu, world):
    emu.interaction_ack_timeout = 0.15
    client, tree, calls = client_with_tree(world.guild.id)
    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        twice = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "twice"
        )
        await twice.wait_followup(1)
        slow = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "slow"
        )
        await eventually(lambda: len(calls) == 2)
    double, late = calls
    assert (
        isinstance(double, discord.HTTPException) and double.code == 40060 and double.status == 400
    )
    assert isinstance(late, discord.NotFound) and late.code == 10062
    assert not slow.responded


async def test_global_commands_work_in_dms(emu, world):
    client = make_client()
    tree = app_commands.CommandTree(client)

    @tree.command(name="hello", description="Say hello")
    @app_commands.allowed_contexts(guilds=True, dms=True)
    async def hello(interaction: discord.Interaction) -> None:
        where = "dm" if interaction.guild_id is None else "guild"
        await interaction.response.send_message(f"hello from {where}")

    async with running(client):
        await tree.sync()
        assert [c["name"] for c in emu.commands()] == ["hello"]
        dm = emu.dm_channel(world.alice.id)
        inter = await emu.invoke_slash_command(None, dm.id, world.alice.id, "hello")
        assert (await inter.wait_response())["data"]["content"] == "hello from dm"
        inter = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "hello"
        )
        assert (await inter.wait_response())["data"]["content"] == "hello from guild"
    assert [m["content"] for m in emu.dms(world.alice.id)] == ["hello from dm"]


async def test_invalid_command_definitions_are_rejected(emu, world):
    client = make_client()
    async with running(client):
        bad = [
            {"name": "Bad Name", "description": "x", "type": 1},
            {"name": "ok", "description": "", "type": 1},
            {
                "name": "ok2",
                "description": "x",
                "options": [
                    {"type": 3, "name": "a", "description": "a"},
                    {"type": 3, "name": "b", "description": "b", "required": True},
                ],
            },
        ]
        with pytest.raises(discord.HTTPException) as caught:
            await client.http.bulk_upsert_guild_commands(emu.application_id, world.guild.id, bad)
        assert caught.value.code == 50035
        errors = caught.value.text
        assert "APPLICATION_COMMAND_INVALID_NAME" in errors or caught.value.code == 50035
    assert emu.commands(world.guild.id) == []


async def test_an_interaction_token_expires_after_15_minutes(emu, world):
    """Follow-ups and edits of the original answer fail as on Discord (401, 50027) once the
    token is 15 minutes old; the emulator's interaction clock is advanced, not waited for."""
    client = make_client()
    tree = app_commands.CommandTree(client)
    release = asyncio.Event()
    outcomes: list[object] = []

    @tree.command(name="report", description="Long work", guild=discord.Object(world.guild.id))
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("still working")  # edits the "thinking" message
        await release.wait()
        for attempt in (
            lambda: interaction.followup.send("done"),
            lambda: interaction.edit_original_response(content="done"),
        ):
            try:
                await attempt()
            except discord.HTTPException as exc:
                outcomes.append(exc)
            else:
                outcomes.append("sent")

    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        record = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "report"
        )
        await record.wait_edit()
        emu.advance_interaction_time(15 * 60 + 1)
        release.set()
        await eventually(lambda: len(outcomes) == 2)
    for outcome in outcomes:
        assert isinstance(outcome, discord.HTTPException), outcome
        assert (outcome.status, outcome.code) == (401, 50027)


async def test_a_token_under_15_minutes_old_still_works(emu, world):
    client = make_client()
    tree = app_commands.CommandTree(client)
    release = asyncio.Event()

    @tree.command(name="report", description="Long work", guild=discord.Object(world.guild.id))
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await release.wait()
        await interaction.followup.send("done after 14 minutes")

    async with running(client):
        await tree.sync(guild=discord.Object(id=world.guild.id))
        record = await emu.invoke_slash_command(
            world.guild.id, world.general.id, world.alice.id, "report"
        )
        await record.wait_response()
        emu.advance_interaction_time(14 * 60)
        release.set()
        edit = await record.wait_edit()
    assert edit["content"] == "done after 14 minutes"


class LateView(discord.ui.View):
    """Buttons whose handlers acknowledge first and answer after, as a slow bot does."""

    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Edit", custom_id="late:edit")
    async def edit(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="edited late")

    @discord.ui.button(label="Tell", custom_id="late:tell")
    async def tell(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()
        await interaction.followup.send("told late", ephemeral=True)


def late_client(guild_id: int) -> tuple[discord.Client, app_commands.CommandTree]:
    client = make_client()
    tree = app_commands.CommandTree(client)
    guild = discord.Object(id=guild_id)

    @tree.command(name="quick", description="Answers at once", guild=guild)
    async def quick(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("quick", ephemeral=True)

    @tree.command(name="private", description="Thinks privately, then answers", guild=guild)
    async def private(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("private late", ephemeral=True)

    @tree.command(name="public", description="Thinks publicly, then answers", guild=guild)
    async def public(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(embed=discord.Embed(description="board"))

    @tree.command(name="switch", description="Thinks privately, answers publicly", guild=guild)
    async def switch(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.delete_original_response()
        await interaction.followup.send("public after all")

    @tree.command(name="buttons", description="Post late buttons", guild=guild)
    async def buttons(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Press", view=LateView())

    return client, tree


async def test_wait_answer_follows_a_deferral_to_what_completed_it(emu, world):
    """A test reads an answer the same whether the bot answered at once or deferred first."""
    client, tree = late_client(world.guild.id)
    gid, channel, alice = world.guild.id, world.general.id, world.alice.id
    async with running(client):
        await tree.sync(guild=discord.Object(id=gid))

        async def answer(name: str) -> tuple[dict, dict]:
            record = await emu.invoke_slash_command(gid, channel, alice, name)
            return await record.wait_answer(), await record.wait_response()

        quick, first = await answer("quick")
        assert quick == first and quick["data"]["content"] == "quick"

        private, first = await answer("private")
        assert first["type"] == 5, "the bot deferred"
        assert private["type"] == 4 and private["data"]["content"] == "private late"
        assert private["data"]["flags"] & 64

        public, _ = await answer("public")
        assert public["type"] == 4 and not int(public["data"].get("flags") or 0) & 64
        assert public["data"]["embeds"][0]["description"] == "board"

        switched, _ = await answer("switch")
        assert switched["type"] == 4 and switched["data"]["content"] == "public after all"
        assert not switched["data"]["flags"] & 64

        posted = await emu.invoke_slash_command(gid, channel, alice, "buttons")
        await posted.wait_answer()
        card = posted.original
        edited = await emu.click_button(card, world.bob.id, "late:edit")
        assert (await edited.wait_response())["type"] == 6, "the bot deferred"
        update = await edited.wait_answer()
        assert update["type"] == 7 and update["data"]["content"] == "edited late"
        told = await (await emu.click_button(card, world.bob.id, "late:tell")).wait_answer()
        assert told["type"] == 4 and told["data"]["content"] == "told late"
        assert told["data"]["flags"] & 64
