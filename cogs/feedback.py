"""/feedback: product requests as forum posts, votes, staff statuses, and the DMs closing the loop.

Discord glue around FeedbackService. A request is a post in ``[feedback] forum_channel`` with
one of the status tags; its starter message carries the Vote button and the staff's status
buttons (custom ids ``feedback:vote:12``, ``feedback:status:12:planned``), so they work after a
restart. Staff (the product role, moderators) set a status with a note: the tag changes, the
note is posted in the thread, and the author and every voter are told by DM, paced, each DM
claimed before it is sent. Nothing the bot posts pings anyone.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator
from bot.community import Community
from bot.core.feedback import CLOSED, STATUS_TAGS, Status, status_named
from bot.core.text import EMBED_DESCRIPTION_LIMIT, EMBED_FIELD_LIMIT, clip
from bot.errors import UserFacingError
from bot.interaction_gate import OPENS_FORM
from bot.outbox import NO_MENTIONS, member_name, paced
from bot.services.feedback import (
    NOTE_MAX,
    NOTE_MIN,
    TEXT_MAX,
    TEXT_MIN,
    TITLE_MAX,
    TITLE_MIN,
    Change,
    FeedbackService,
    Item,
    Similar,
)
from bot.services.retry import RetryPolicy, retried
from bot.tree import follow_up, handled, loaded_cog

log = logging.getLogger(__name__)

STAFF_ONLY = "Only the product team and moderators can set a request's status."
OFF = "Product feedback isn't set up on this server ([feedback] forum_channel)."
COLOURS = {
    Status.OPEN: discord.Colour.blurple(),
    Status.PLANNED: discord.Colour.gold(),
    Status.IN_PROGRESS: discord.Colour.orange(),
    Status.SHIPPED: discord.Colour.green(),
    Status.DECLINED: discord.Colour.dark_grey(),
}
#: The statuses staff set with the post's buttons (Open is where a request starts).
DECISIONS = (Status.PLANNED, Status.IN_PROGRESS, Status.SHIPPED, Status.DECLINED)
#: Recording a post that is out: a few quick tries, then the start-up reconciliation.
RECORD_RETRY = RetryPolicy(attempts=3, first_wait=0.5, max_wait=2.0)
DM_FOOTER = "You get these because you asked for it or voted; /privacy updates off stops them."


def is_staff(user: discord.abc.User, bot: Community) -> bool:
    if is_moderator(user, bot.settings):
        return True
    roles = [role.id for role in getattr(user, "roles", [])]
    return bot.services.feedback.is_product_staff(roles)


# ---------------------------------------------------------------------- rendering
def post_embed(guild: discord.Guild | None, item: Item) -> discord.Embed:
    embed = discord.Embed(
        title=clip(item.title, 256),
        description=clip(item.problem, EMBED_DESCRIPTION_LIMIT),
        colour=COLOURS[item.status],
    )
    embed.add_field(
        name="What would help", value=clip(item.wanted, EMBED_FIELD_LIMIT), inline=False
    )
    embed.add_field(name="Area", value=clip(item.area, EMBED_FIELD_LIMIT))
    embed.add_field(name="Status", value=item.status.tag)
    asked = member_name(guild, item.author_id) if item.author_id > 0 else "a former member"
    embed.add_field(name="Asked by", value=asked)
    embed.set_footer(text=f"Feedback #{item.id}")
    return embed


def post_view(item: Item) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(item.id, item.votes, closed=item.status in CLOSED))
    for status in DECISIONS:
        view.add_item(StatusButton(item.id, status, current=item.status is status))
    return view


def thread_link(thread_id: int | None) -> str:
    return f"<#{thread_id}>" if thread_id else "(not posted yet)"


# ---------------------------------------------------------------------- buttons


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"feedback:vote:(?P<id>[0-9]+)"
):
    def __init__(self, item_id: int, votes: int = 0, *, closed: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"Vote ({votes})",
                emoji="\N{UPWARDS BLACK ARROW}",
                style=discord.ButtonStyle.primary,
                custom_id=f"feedback:vote:{item_id}",
                disabled=closed,
            )
        )
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async with handled(interaction, f"voting on feedback #{self.item_id}"):
            await loaded_cog(interaction, FeedbackCog).vote(interaction, self.item_id)


class StatusButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"feedback:status:(?P<id>[0-9]+):(?P<status>[a-z_]+)",
):
    def __init__(self, item_id: int, status: Status, *, current: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=status.tag,
                style=discord.ButtonStyle.secondary,
                custom_id=f"feedback:status:{item_id}:{status.value}",
                disabled=current,
            )
        )
        self.item_id, self.status = item_id, status

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> StatusButton:
        status = status_named(match["status"]) or Status.OPEN
        return cls(int(match["id"]), status)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Staff only, checked on the server: everyone in the forum sees the buttons."""
        if is_staff(interaction.user, loaded_cog(interaction, FeedbackCog).bot):
            return True
        async with handled(interaction, "refusing a feedback status click"):
            await interaction.response.send_message(STAFF_ONLY, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async with handled(interaction, f"opening the status form of feedback #{self.item_id}"):
            await interaction.response.send_modal(StatusForm(self.item_id, self.status))


# ---------------------------------------------------------------------- forms
class SubmitForm(discord.ui.Modal, title="Product feedback"):
    def __init__(self, areas: tuple[str, ...]) -> None:
        super().__init__(timeout=900)
        self.request_title: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Title", min_length=TITLE_MIN, max_length=TITLE_MAX, placeholder="Dark mode"
        )
        self.problem: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="The problem",
            style=discord.TextStyle.paragraph,
            min_length=TEXT_MIN,
            max_length=TEXT_MAX,
            placeholder="What gets in your way today?",
        )
        self.wanted: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="What would help",
            style=discord.TextStyle.paragraph,
            min_length=TEXT_MIN,
            max_length=TEXT_MAX,
        )
        self.area: discord.ui.Select[Any] = discord.ui.Select(
            options=[
                discord.SelectOption(label=area, value=area, default=index == 0)
                for index, area in enumerate(areas)
            ],
            min_values=1,
            max_values=1,
        )
        self.add_item(self.request_title)
        self.add_item(self.problem)
        self.add_item(self.wanted)
        self.add_item(discord.ui.Label(text="Area", component=self.area))

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        async with handled(interaction, "submitting product feedback"):
            area = self.area.values[0] if self.area.values else ""
            await loaded_cog(interaction, FeedbackCog).submitted(
                interaction,
                title=self.request_title.value,
                problem=self.problem.value,
                wanted=self.wanted.value,
                area=area,
            )


class StatusForm(discord.ui.Modal):
    def __init__(self, item_id: int, status: Status) -> None:
        super().__init__(title=f"Feedback #{item_id}: {status.tag}", timeout=900)
        self.item_id, self.status = item_id, status
        self.note: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Note (sent to the author and the voters)",
            style=discord.TextStyle.paragraph,
            min_length=NOTE_MIN,
            max_length=NOTE_MAX,
        )
        self.add_item(self.note)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        async with handled(interaction, f"setting the status of feedback #{self.item_id}"):
            if not is_staff(interaction.user, loaded_cog(interaction, FeedbackCog).bot):
                raise UserFacingError(STAFF_ONLY)
            await loaded_cog(interaction, FeedbackCog).decide(
                interaction, self.item_id, self.status, self.note.value
            )


class PostAnyway(discord.ui.View):
    """Shown with similar open requests: the member may still post theirs."""

    def __init__(self, cog: FeedbackCog, draft: dict[str, str], author_id: int) -> None:
        super().__init__(timeout=600)
        self.cog, self.draft, self.author_id = cog, draft, author_id

    @discord.ui.button(label="Post mine anyway", style=discord.ButtonStyle.secondary)
    async def post(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        async with handled(interaction, "posting product feedback after the similar list"):
            self.stop()
            await interaction.response.edit_message(view=None)
            await self.cog.create(interaction, **self.draft)


# ---------------------------------------------------------------------- the cog
class FeedbackCog(commands.Cog, name="Feedback"):
    feedback = app_commands.Group(
        name="feedback",
        description="Product requests: ask, vote, see what is planned",
        guild_only=True,
    )

    def __init__(self, bot: Community) -> None:
        self.bot = bot
        self.service: FeedbackService = bot.services.feedback
        #: One round of DMs at a time: two changes in a row share Discord's DM limit.
        self._telling = asyncio.Lock()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(VoteButton, StatusButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(VoteButton, StatusButton)

    # ------------------------------------------------------------------ forum
    def forum(self) -> discord.ForumChannel:
        forum_id = self.bot.settings.feedback.forum_channel
        channel = self.bot.get_channel(forum_id) if forum_id else None
        if not isinstance(channel, discord.ForumChannel):
            raise UserFacingError(
                OFF
                if forum_id is None
                else "The feedback forum is missing; a moderator has been told."
            )
        return channel

    def tag(self, forum: discord.ForumChannel, status: Status) -> discord.ForumTag | None:
        return next((t for t in forum.available_tags if t.name == status.tag), None)

    @commands.Cog.listener()
    async def on_flywheel_ready(self, guild: discord.Guild) -> None:
        """Create the status tags, post what was never posted, finish unsent DMs."""
        if not self.service.enabled:
            return
        forum = guild.get_channel(self.bot.settings.feedback.forum_channel or 0)
        if not isinstance(forum, discord.ForumChannel):
            await self.bot.outbox.alert(
                "**Feedback:** [feedback] forum_channel is not a forum channel the bot can see.\n"
                "Fix: set it to a forum channel's id and give the bot View Channel there."
            )
            return
        if not await self.ensure_tags(forum):
            return
        for item in await self.service.unposted():
            try:
                found = await self.posted_before(forum, item)
                if found is not None:
                    await self.service.posted(item.id, found.id)
                else:
                    await self.post(forum, item)
            except discord.HTTPException as exc:
                log.error("could not post feedback #%s: %s", item.id, exc)
                break
        for change_id in await self.service.recent_changes():
            self.bot.services.background.spawn(
                self.tell(change_id), name=f"feedback change {change_id}"
            )

    async def ensure_tags(self, forum: discord.ForumChannel) -> bool:
        """The status tags exist on the forum (created when missing); False if they can't be."""
        have = {tag.name for tag in forum.available_tags}
        missing = [name for name in STATUS_TAGS.values() if name not in have]
        if not missing:
            return True
        names = ", ".join(missing)
        if len(forum.available_tags) + len(missing) > 20:
            await self.bot.outbox.alert(
                f"**Feedback:** #{forum.name} needs the tags {names}, but a forum holds at most 20 "
                "tags.\nFix: remove unused tags from the forum, then restart the bot."
            )
            return False
        tags = [*forum.available_tags, *(discord.ForumTag(name=n, moderated=True) for n in missing)]
        try:
            await forum.edit(available_tags=tags, reason="Flywheel: feedback status tags")
        except discord.HTTPException as exc:
            await self.bot.outbox.alert(
                f"**Feedback:** #{forum.name} has no tags {names} and the bot can't create them "
                f"({exc.text or exc.status}).\nFix: give the bot Manage Channels on #{forum.name}, "
                "or create the tags by hand, then restart the bot."
            )
            return False
        log.info("created the feedback tags %s on #%s", names, forum.name)
        return True

    async def posted_before(self, forum: discord.ForumChannel, item: Item) -> discord.Thread | None:
        """The post made for ``item`` before its thread could be recorded (the bot stopped
        right after Discord made it): found by its title and the ``Feedback #id`` footer."""
        me = self.bot.user.id if self.bot.user else None
        for thread in forum.threads:
            if thread.owner_id != me or thread.name != item.title:
                continue
            first = await thread.fetch_message(thread.id)
            footers = [embed.footer.text for embed in first.embeds]
            if f"Feedback #{item.id}" in footers:
                return thread
        return None

    async def post(self, forum: discord.ForumChannel, item: Item) -> discord.Thread:
        """The request's forum post; its thread is recorded on the item at once."""
        tag = self.tag(forum, item.status)
        created = await forum.create_thread(
            name=item.title,
            embed=post_embed(forum.guild, item),
            view=post_view(item),
            applied_tags=[tag] if tag is not None else [],
            allowed_mentions=NO_MENTIONS,
        )
        await self.record(item, created.thread)
        return created.thread

    async def record(self, item: Item, thread: discord.Thread) -> bool:
        """Record the post on the item, retried; False (logged) if the store still refuses: the
        next start-up finds the post by its footer and records it, never posting it twice."""
        try:
            await retried(
                lambda: self.service.posted(item.id, thread.id),
                what=f"recording the post of feedback #{item.id}",
                policy=RECORD_RETRY,
            )
        except Exception:
            log.exception(
                "feedback #%s is posted (thread %s) but unrecorded; the next start records it",
                item.id,
                thread.id,
            )
            return False
        return True

    # ------------------------------------------------------------------ /feedback submit
    @feedback.command(
        name="submit", description="Ask for a product change; members vote on it", extras=OPENS_FORM
    )
    async def submit(self, interaction: discord.Interaction[Any]) -> None:
        self.forum()
        await interaction.response.send_modal(SubmitForm(self.service.areas))

    async def submitted(
        self,
        interaction: discord.Interaction[Any],
        *,
        title: str,
        problem: str,
        wanted: str,
        area: str,
    ) -> None:
        title, problem, wanted, area = self.service.clean_request(
            title=title, problem=problem, wanted=wanted, area=area
        )
        similar = await self.service.similar_open(title)
        if similar:
            draft = {"title": title, "problem": problem, "wanted": wanted, "area": area}
            await interaction.response.send_message(
                similar_text(similar),
                view=PostAnyway(self, draft, interaction.user.id),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.create(interaction, title=title, problem=problem, wanted=wanted, area=area)

    async def create(
        self,
        interaction: discord.Interaction[Any],
        *,
        title: str,
        problem: str,
        wanted: str,
        area: str,
    ) -> None:
        forum = self.forum()
        item = await self.service.submit(
            author_id=interaction.user.id, title=title, problem=problem, wanted=wanted, area=area
        )
        try:
            thread = await self.post(forum, item)
        except discord.HTTPException as exc:
            log.error("could not post feedback #%s in #%s: %s", item.id, forum.name, exc)
            await self.bot.outbox.alert(
                f"**Feedback:** request #{item.id} could not be posted in #{forum.name} "
                f"({exc.text or exc.status}).\nFix: give the bot Send Messages, Embed Links and "
                f"Manage Threads in #{forum.name}; it is posted at the next start."
            )
            text = "Your request is saved, but I couldn't post it yet; the moderators were told."
        else:
            text = (
                f"Thanks! Your request is posted: {thread.mention}. Members can vote on it there."
            )
        await follow_up(interaction, text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ------------------------------------------------------------------ votes
    async def vote(self, interaction: discord.Interaction[Any], item_id: int) -> None:
        result = await self.service.vote(item_id, interaction.user.id)
        await interaction.response.edit_message(view=post_view(result.item))
        text = (
            f"Your vote counts ({result.item.votes} in all). Press again to take it back."
            if result.voted
            else f"Your vote is withdrawn ({result.item.votes} left)."
        )
        await follow_up(interaction, text, ephemeral=True)

    # ------------------------------------------------------------------ /feedback top
    @feedback.command(name="top", description="The most wanted product requests")
    @app_commands.describe(area="Only this area", status="Only this status (default: still wanted)")
    @app_commands.choices(status=[app_commands.Choice(name=s.tag, value=s.value) for s in Status])
    async def top(
        self,
        interaction: discord.Interaction[Any],
        area: str | None = None,
        status: str | None = None,
    ) -> None:
        chosen = Status(status) if status else None
        if area is not None and area not in self.service.areas:
            raise UserFacingError(
                f"Unknown area {area!r}: pick one of {', '.join(self.service.areas)}."
            )
        ranked = await self.service.top(area=area, status=chosen)
        scope = " · ".join(x for x in (area, chosen.tag if chosen else "still wanted") if x)
        if not ranked:
            await interaction.response.send_message(f"No requests ({scope}) yet.", ephemeral=True)
            return
        lines = [
            f"{i}. **{discord.utils.escape_markdown(r.title)}** — {r.votes} "
            f"vote{'s' if r.votes != 1 else ''} · {r.status.tag} · {r.area} · "
            f"{thread_link(r.thread_id)}"
            for i, r in enumerate(ranked, 1)
        ]
        embed = discord.Embed(
            title=f"Most wanted ({scope})",
            description=clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @top.autocomplete("area")
    async def _area(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.casefold()
        return [
            app_commands.Choice(name=a, value=a)
            for a in self.service.areas
            if wanted in a.casefold()
        ][:25]

    # ------------------------------------------------------------------ /feedback status
    @feedback.command(name="status", description="Staff: set a request's status with a note")
    @app_commands.describe(
        status="The new status",
        note="Why, for the author and the voters (sent by DM)",
        request="The request's number (leave out inside its post)",
    )
    @app_commands.choices(status=[app_commands.Choice(name=s.tag, value=s.value) for s in Status])
    async def status(
        self,
        interaction: discord.Interaction[Any],
        status: str,
        note: str,
        request: int | None = None,
    ) -> None:
        if not is_staff(interaction.user, self.bot):
            raise UserFacingError(STAFF_ONLY)
        item_id = request
        if item_id is None and isinstance(interaction.channel, discord.Thread):
            found = await self.service.by_thread(interaction.channel.id)
            item_id = found.id if found is not None else None
        if item_id is None:
            raise UserFacingError("Give the request's number, or use this inside its post.")
        await self.decide(interaction, item_id, Status(status), note)

    async def decide(
        self, interaction: discord.Interaction[Any], item_id: int, status: Status, note: str
    ) -> None:
        change = await self.service.set_status(item_id, status, note, actor_id=interaction.user.id)
        if change.change_id is None:
            raise UserFacingError(f"Request #{item_id} is already {status.tag}.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = await self.show(change)
        self.bot.services.background.spawn(
            self.tell(change.change_id), name=f"feedback change {change.change_id}"
        )
        credit = f" The author earned {change.points} points." if change.points else ""
        where = "" if shown else " (the forum post could not be updated: see the mod log)"
        await follow_up(
            interaction,
            f"Request #{item_id} is now **{status.tag}**{where}.{credit} "
            "The author and the voters are being told by DM.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def thread(self, thread_id: int | None) -> discord.Thread | None:
        """A post's thread, fetched when not cached (archived threads are not)."""
        if not thread_id:
            return None
        channel = self.bot.get_channel(thread_id) or await self.bot.fetch_channel(thread_id)
        return channel if isinstance(channel, discord.Thread) else None

    async def show(self, change: Change) -> bool:
        """Tag, starter message and a note in the thread show the new status."""
        item = change.item
        try:
            thread = await self.thread(item.thread_id)
        except discord.HTTPException as exc:
            log.warning("feedback #%s: its post can't be fetched: %s", item.id, exc)
            thread = None
        if thread is None or not isinstance(thread.parent, discord.ForumChannel):
            return False
        tag = self.tag(thread.parent, item.status)
        by = member_name(thread.guild, change.actor_id)
        try:
            # A quiet post is archived after a while: Discord refuses edits until it reopens.
            await thread.edit(
                archived=False,
                applied_tags=[tag] if tag is not None else thread.applied_tags,
                reason=f"Flywheel: feedback {item.status.tag}",
            )
            await thread.get_partial_message(thread.id).edit(
                embed=post_embed(thread.guild, item), view=post_view(item)
            )
            note = discord.utils.escape_mentions(change.note)
            await thread.send(
                f"**Status: {item.status.tag}** (set by {by})\n{note}",
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            await self.bot.outbox.alert(
                f"**Feedback:** request #{item.id} is {item.status.tag} but its post could not be "
                f"updated ({exc.text or exc.status}).\nFix: give the bot Manage Threads and Send "
                "Messages in Threads in the feedback forum."
            )
            return False
        return True

    async def tell(self, change_id: int) -> None:
        """DM the author and every voter about one change: paced, each DM claimed first."""
        async with self._telling:
            await self._tell(change_id)

    async def _tell(self, change_id: int) -> None:
        found = await self.service.to_tell(change_id)
        if found is None:
            return
        item, change, people = found
        status = Status(change.status)
        pace = self.bot.settings.feedback.dm_pace_seconds
        async for user_id in paced(people, pace):
            if not await self.service.claim_notice(change_id, user_id):
                continue
            why = "you asked for it" if user_id == item.author_id else "you voted for it"
            text = (
                f"**{discord.utils.escape_markdown(item.title)}** ({why}) is now **{status.tag}** "
                f"in {self.bot.outbox.guild_name()}: {discord.utils.escape_mentions(change.note)}\n"
                f"{thread_link(item.thread_id)}\n-# {DM_FOOTER}"
            )
            failed = await self.bot.outbox.try_dm(user_id, text)
            await self.service.record_notice(change_id, user_id, ok=failed is None)
        sent, failed_count = await self.service.notice_counts(change_id)
        log.info("feedback change %s: %d DM(s) sent, %d failed", change_id, sent, failed_count)


def similar_text(similar: list[Similar]) -> str:
    lines = [
        f"- **{discord.utils.escape_markdown(s.title)}** {thread_link(s.thread_id)}"
        for s in similar
    ]
    return (
        "These open requests read alike; if one is yours, vote on it instead:\n"
        + "\n".join(lines)
        + "\nOr post yours anyway:"
    )


async def setup(bot: Community) -> None:
    await bot.add_cog(FeedbackCog(bot))
