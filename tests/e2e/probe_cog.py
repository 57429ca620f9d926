"""A test-only cog: one of each interaction kind, answered through the real command tree."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Flywheel
from bot.errors import UserFacingError
from bot.interaction_gate import OPENS_FORM


class ProbeModal(discord.ui.Modal, title="Quote this message"):
    comment: discord.ui.TextInput[ProbeModal] = discord.ui.TextInput(
        label="Your comment", custom_id="probe:comment", max_length=200
    )

    def __init__(self, quoted: str) -> None:
        super().__init__(custom_id="probe:modal")
        self.quoted = quoted

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"You said {self.comment.value!r} about {self.quoted!r}", ephemeral=True
        )


class ProbeView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Count", custom_id="probe:count", style=discord.ButtonStyle.primary)
    async def count(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        clicks = int(button.label.split()[-1]) + 1 if button.label != "Count" else 1
        button.label = f"Clicked {clicks}"
        await interaction.response.edit_message(view=self)


class Probe(commands.Cog):
    def __init__(self, bot: Flywheel) -> None:
        self.bot = bot
        self.quote_menu = app_commands.ContextMenu(
            name="Quote", callback=self.quote, extras=OPENS_FORM
        )
        bot.tree.add_command(self.quote_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.quote_menu.name, type=self.quote_menu.type)

    @app_commands.command(name="probe-echo", description="Echo text back, privately")
    @app_commands.describe(text="What to echo")
    async def echo(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(f"echo: {text}", ephemeral=True)

    @app_commands.command(name="probe-refuse", description="Fail with a user-facing error")
    async def refuse(self, interaction: discord.Interaction) -> None:
        raise UserFacingError("That link is not http(s).")

    @app_commands.command(name="probe-crash", description="Fail with a bug")
    async def crash(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("internal detail that must not leak")

    @app_commands.command(name="probe-button", description="Post a message with a button")
    async def button(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Press it", view=ProbeView())

    async def quote(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_modal(ProbeModal(message.content))


async def setup(bot: Flywheel) -> None:
    await bot.add_cog(Probe(bot))
