"""Help questions: "Mark as answer", the Solved tag, and time to first response."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import snowflake_time

from bot.checks import is_moderator
from bot.community import Community
from bot.errors import UserFacingError
from bot.outbox import only
from bot.services.answers import (
    NOT_HELP_THREAD,
    Accepted,
    HelpThread,
    MarkRequest,
    solved_tag,
)
from bot.tree import follow_up

log = logging.getLogger(__name__)

MAX_FORUM_TAGS = 5


class Answers(commands.Cog):
    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service = bot.services.answers
        self.menu = app_commands.ContextMenu(name="Mark as answer", callback=self.mark_as_answer)
        self.menu.guild_only = True
        bot.tree.add_command(self.menu, guild=discord.Object(bot.guild_id))

    async def cog_load(self) -> None:
        self.bot.on_every_message(self.observe)

    async def cog_unload(self) -> None:
        self.bot.remove_message_hook(self.observe)
        self.bot.tree.remove_command(
            self.menu.name, guild=discord.Object(self.bot.guild_id), type=self.menu.type
        )

    def help_thread(self, channel: object) -> HelpThread | None:
        """Facts about ``channel`` if it is a thread in a configured help forum or channel."""
        if not isinstance(channel, discord.Thread) or channel.guild.id != self.bot.guild_id:
            return None
        if not self.service.is_help_parent(channel.parent_id):
            return None
        return HelpThread(
            thread_id=channel.id,
            parent_id=channel.parent_id,
            owner_id=channel.owner_id,
            title=channel.name,
            created_at=channel.created_at or snowflake_time(channel.id),
        )

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        facts = self.help_thread(thread)
        if facts is not None:
            await self.service.thread_opened(facts)

    def observe(self, message: discord.Message) -> None:
        """Hot path: only messages in help threads go further (to record the first reply)."""
        facts = self.help_thread(message.channel)
        if facts is not None:
            self.bot.spawn(self._posted(facts, message), name=f"help-reply-{message.id}")

    async def _posted(self, facts: HelpThread, message: discord.Message) -> None:
        first = await self.service.message_posted(
            facts, author_id=message.author.id, author_is_bot=message.author.bot,
            at=message.created_at,
        )  # fmt: skip
        if first is not None:
            log.info(
                "question %s: first response by %s after %s",
                first.thread_id,
                first.responder_id,
                first.after,
            )

    async def mark_as_answer(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        thread = interaction.channel
        facts = self.help_thread(thread)
        if facts is None or message.channel.id != facts.thread_id:
            raise UserFacingError(NOT_HELP_THREAD)
        assert isinstance(thread, discord.Thread)
        result = await self.service.mark(
            MarkRequest(
                thread=facts,
                message_id=message.id,
                author_id=message.author.id,
                author_is_bot=message.author.bot,
                marker_id=interaction.user.id,
                marker_is_moderator=is_moderator(interaction.user, self.bot.settings),
            )
        )
        if result.accepted is None:
            raise UserFacingError(result.refusal or NOT_HELP_THREAD)
        # Tagging and the thread reply are two more requests: take the time they need.
        await interaction.response.defer(ephemeral=True, thinking=True)
        notes = [await self._apply_solved_tag(thread), await self._announce(thread, message)]
        confirmation = "\n".join(
            [self._confirmation(result.accepted), *(note for note in notes if note)]
        )
        await follow_up(interaction, confirmation, ephemeral=True)

    def _confirmation(self, accepted: Accepted) -> str:
        text = f"Marked <@{accepted.author_id}>'s reply as the answer."
        if accepted.previous_author_id is not None:
            text += f" The credit moved from <@{accepted.previous_author_id}>'s earlier answer."
        return text

    async def _apply_solved_tag(self, thread: discord.Thread) -> str | None:
        """Add the forum's Solved tag; a note for the marker if that was not possible."""
        forum = thread.parent
        if not isinstance(forum, discord.ForumChannel):
            return None  # threads of help text channels have no tags
        name = solved_tag(
            [t.name for t in forum.available_tags], self.bot.settings.answers.solved_tags
        )
        if name is None:
            return None
        tag = next(t for t in forum.available_tags if t.name == name)
        applied = thread.applied_tags
        if any(t.id == tag.id for t in applied):
            return None
        if len(applied) >= MAX_FORUM_TAGS:
            return f"I couldn't add the {name} tag: the post already has {MAX_FORUM_TAGS} tags."
        try:
            await thread.edit(applied_tags=[*applied, tag])
        except discord.Forbidden:
            log.warning(
                "no permission to tag thread %s as %s (needs Manage Threads)", thread.id, name
            )
            return f"I couldn't add the {name} tag: I need the Manage Threads permission there."
        except discord.HTTPException as exc:
            log.warning("could not tag thread %s as %s: %s", thread.id, name, exc)
            return f"I couldn't add the {name} tag (Discord refused: {exc.text or exc.status})."
        return None

    async def _announce(self, thread: discord.Thread, answer: discord.Message) -> str | None:
        """Thank the author in the thread; pings only them."""
        author = answer.author
        text = (
            f"✅ Marked as the answer: {answer.jump_url} by {author.mention} "
            f"— thanks {author.mention}!"
        )
        try:
            await thread.send(
                text,
                allowed_mentions=only(author.id),
            )
        except discord.HTTPException as exc:
            log.warning("could not post the answer note in thread %s: %s", thread.id, exc)
            return "I couldn't post the note in the thread, but the answer is recorded."
        return None


async def setup(bot: Community) -> None:
    await bot.add_cog(Answers(bot))
