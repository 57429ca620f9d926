"""Everything stored about one member: found for an export, erased on request or by retention.

``MEMBER_COLUMNS`` is the registry of every column that holds a member's id, table by table,
with what erasure does to it. A test walks ``Base.metadata`` and fails when a table gains a
member column this registry doesn't list, so a new feature can't quietly keep data that
``/privacy delete`` leaves behind.

What erasure does, column by column:

- ``DELETE``: the row is about the member alone (their ledger rows, activity, tier state and
  history, subscriptions, answers, RSVPs, group memberships…) and is deleted.
- ``ANONYMISE``: the row belongs to someone else too (a thanks they gave, a credit they made as
  a moderator); it stays, and keeps counting, with the id replaced by ``FORMER_MEMBER`` (0).
- ``ANONYMISE_UNIQUE``: as ``ANONYMISE``, but the column is part of a unique key (a referral's
  invitee, a buddy pairing's newcomer), so the id becomes ``-row id``: still a former member
  (every id <= 0 is one), and never two equal values.
- ``CLEAR``: the id is set to NULL because 0 would be acted on (an event's host or creator is
  credited when the event is settled; with NULL nobody is).
- ``MEMBER``: the members row itself: deleted for a member who left, reduced to a tombstone
  (no name, no dates) for one still in the server, so rejoins and member syncs stay sane.

Open work tied to the member is closed first, so nothing credits a former member later:
pending referrals they were part of are rejected and open buddy pairings are ended.

Free text others keep (``MEMBER_TEXT``: a thanks reason, a tier change's reason, a thread
title) may name the member: a mention, their id, their username or display name. Erasure
replaces each with "a former member". The titles of their own help threads are cleared. A test
lists every text column of the models: each is in ``MEMBER_TEXT`` or in ``NOT_MEMBER_TEXT``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.models import (
    BuddyPair,
    ErasedMember,
    GroupMember,
    Member,
    Referral,
    TierState,
    UserGroup,
)
from db.upsert import insert_for

FORMER_MEMBER = 0
"""The id a row keeps in place of a member who erased their data (ids <= 0: former members)."""


class Treatment(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    ANONYMISE_UNIQUE = "anonymise_unique"
    CLEAR = "clear"
    MEMBER = "member"


D, A, AU, C = Treatment.DELETE, Treatment.ANONYMISE, Treatment.ANONYMISE_UNIQUE, Treatment.CLEAR

MEMBER_COLUMNS: Mapping[str, Mapping[str, Treatment]] = {
    "members": {"user_id": Treatment.MEMBER},
    "contributions": {"user_id": D, "actor_id": A},
    "activity_days": {"user_id": D},
    "tier_states": {"user_id": D},
    "tier_changes": {"user_id": D, "actor_id": A},
    "nominations": {"nominee_id": D, "nominated_by": A, "decided_by": A},
    "question_threads": {
        "asker_id": A,
        "first_responder_id": A,
        "answer_author_id": A,
        "answered_by": A,
    },
    "thanks": {"giver_id": A, "receiver_id": A},
    "channel_presence": {"user_id": D},
    "content_submissions": {"author_id": D, "decided_by": A},
    "tracked_events": {"creator_id": C, "host_id": C},
    "event_rsvps": {"user_id": D},
    "voice_sessions": {"user_id": D},
    "referrals": {"invitee_id": AU, "inviter_id": A},
    "spotlight_nominations": {"user_id": D, "nominated_by": A},
    "spotlights": {"user_id": D},
    "newsletter_subscriptions": {"user_id": D},
    "newsletter_deliveries": {"user_id": D},
    "nps_responses": {"user_id": D},
    "survey_invites": {"user_id": D},
    "buddy_volunteers": {"user_id": D},
    "buddy_pairs": {"newcomer_id": AU, "buddy_id": A},
    "user_groups": {"created_by": A},
    "group_members": {"user_id": D},
    "group_events": {"credited_by": A},
    "feedback_items": {"author_id": A},
    "feedback_votes": {"user_id": D},
    "feedback_changes": {"actor_id": A},
    "feedback_notices": {"user_id": D},
    "beta_programs": {"created_by": A},
    "beta_testers": {"user_id": D},
    "beta_reports": {"user_id": D, "decided_by": A},
    "research_calls": {"created_by": A},
    "research_volunteers": {"user_id": D, "picked_by": A},
    "backfill_messages": {"user_id": D},
    "web_sign_in_tokens": {"user_id": D},
    "web_review_decisions": {"moderator_id": D},
}

NOT_MEMBER_COLUMNS = frozenset(
    {
        "guild_id",
        "id",
        "channel_id",
        "parent_id",
        "thread_id",
        "event_id",
        "group_id",
        "role_id",
        "message_id",
        "contribution_id",
        "reverses_id",
        "nomination_id",
        "answer_message_id",
        "answer_contribution_id",
        "review_channel_id",
        "review_message_id",
        "source_id",
        "item_id",
        "change_id",
        "program_id",
        "call_id",
        "record_id",
    }
)
"""Id-like columns that never hold a member (the registry test checks every ``*_id``/``*_by``)."""

ABOUT: Mapping[str, str] = {
    "members": "You as a member: display name, when first seen, joined and left, opt-out.",
    "contributions": "Your contribution ledger (and credits or corrections you made as actor).",
    "activity_days": "How many qualifying messages you posted per day (no message text).",
    "tier_states": "Your place on the ladder: tier, since when, pin, leave of absence.",
    "tier_changes": "Every change of your tier (and changes you made as a moderator).",
    "nominations": "Tier nominations of you, or that you made or decided.",
    "question_threads": "Help threads you asked in, replied to first, or answered.",
    "thanks": "Thanks you gave or received.",
    "channel_presence": "When you last posted in each channel (for /thanks eligibility).",
    "content_submissions": "Content you shared with /share (or decided on as a moderator).",
    "tracked_events": "Server events you created or hosted.",
    "event_rsvps": "Events you marked yourself interested in.",
    "voice_sessions": "Time you spent in voice channels during tracked events.",
    "referrals": "Joins through your invites, and how you joined.",
    "spotlight_nominations": "Spotlight nominations of you, or that you made.",
    "spotlights": "Weekly spotlights that featured you.",
    "newsletter_subscriptions": "Your newsletter DM subscription.",
    "newsletter_deliveries": "Newsletter DMs sent (or failed) to you.",
    "nps_responses": "Your own answers to the ambassador survey.",
    "survey_invites": "Survey DMs sent (or failed) to you.",
    "buddy_volunteers": "Your offer to be a buddy for newcomers.",
    "buddy_pairs": "Buddy pairings you were part of, as buddy or newcomer.",
    "user_groups": "User groups you created.",
    "group_members": "Your user group memberships and your part in them.",
    "group_events": "Events you credited to a user group.",
    "feedback_items": "Product requests you made with /feedback submit.",
    "feedback_votes": "Your votes on product requests.",
    "feedback_changes": "Status decisions you made on product requests as staff.",
    "feedback_notices": "DMs telling you a request you made or voted on changed status.",
    "beta_programs": "Beta programs you created as staff.",
    "beta_testers": "Beta programs you joined, and the thank-you DM when one closed.",
    "beta_reports": "Your beta test reports (and reports you decided on as a moderator).",
    "research_calls": "User-research calls you posted as staff.",
    "research_volunteers": "Research calls you volunteered for, were picked for, took part in.",
    "backfill_messages": "While a history backfill runs: when your past messages were posted.",
    "web_sign_in_tokens": "Web dashboard sign-in links you asked for (a hash, not the link).",
    "web_review_decisions": "Review decisions you made on the web, until Discord shows them.",
}

PENDING_REJECTED_REASON = "a member's data was erased at their request"

MEMBER_TEXT: Mapping[str, tuple[str, ...]] = {
    "contributions": ("reason",),
    "tier_changes": ("reason",),
    "nominations": ("reason", "decision_note"),
    "scheduled_posts": ("note",),
    "question_threads": ("title",),
    "thanks": ("reason",),
    "content_submissions": ("title", "decision_reason"),
    "tracked_events": ("name",),
    "referrals": ("reason",),
    "spotlight_nominations": ("reason",),
    "spotlights": ("reason",),
    "newsletter_deliveries": ("error",),
    "nps_responses": ("comment",),
    "feedback_items": ("title", "problem", "wanted"),
    "feedback_changes": ("note",),
    "beta_reports": ("text", "decision_reason"),
    "research_calls": ("title", "details"),
}
"""Free text that can name a member and stays after their erasure: redacted."""

NOT_MEMBER_TEXT: Mapping[str, str] = {
    "members.display_name": "the member's own row: emptied by the tombstone",
    "contributions.source_id": "the bot's own keys (a member's own rows are deleted)",
    "content_submissions.url": "a link someone shared, not text about a person",
    "guild_settings.value": "the server's settings",
    "backfill_channels.problem": "the bot's own note on why a channel could not be read",
    "community_leases.holder": "the host and process id of the bot process holding a lease",
    "referrals.candidates": "invite codes",
    "referrals.invite_code": "an invite code (cleared for the inviter)",
    "user_groups.name": "a group's name, shown on its Discord role",
    "user_groups.name_key": "the comparison key of a group's name",
    "user_groups.region": "where a group meets",
    "feedback_items.area": "a product area from the server's list",
    "beta_programs.name": "a beta program's name, chosen by staff",
    "research_calls.region": "where the call's volunteers' user group meets",
}
"""Text columns that never name a member, and why (the registry test reads this)."""

#: Their own words about themselves in rows that stay: ``{table: (owner column, text column)}``.
OWN_TEXT: Mapping[str, tuple[str, str]] = {"question_threads": ("asker_id", "title")}

REDACTED = "a former member"


@dataclass
class Erasure:
    """What erasing one member did: row counts per table and the loose ends for Discord."""

    user_id: int
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    member_row: str = "absent"
    """``deleted`` (they had left), ``tombstone`` (still here) or ``absent``."""
    had_tier: str | None = None
    group_role_ids: list[int] = field(default_factory=list)
    led_groups: list[str] = field(default_factory=list)
    """Groups they led, now without a leader: moderators pick one with /group handover."""

    @property
    def rows(self) -> int:
        return sum(self.deleted.values()) + sum(self.anonymised.values())


def redactor(user_id: int, names: Sequence[str]) -> Callable[[str], str]:
    """A function replacing the member in a text: mentions, their id, their names (any case)."""
    words = sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True)
    alternatives = [rf"<@!?{user_id}>", rf"(?<!\d){user_id}(?!\d)"]
    alternatives += [rf"(?<!\w){re.escape(word)}(?!\w)" for word in words]
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)

    def redact(text: str) -> str:
        return pattern.sub(REDACTED, text)

    return redact


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def _json_value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(column.type, BigInteger) or isinstance(
        getattr(column.type, "impl", None), BigInteger
    ):
        return str(value)  # snowflakes as strings, as Discord's own exports do
    return value


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class PrivacyRepository:
    def __init__(self, session: AsyncSession, guild_id: int) -> None:
        self.session = session
        self.guild_id = guild_id

    def _mentions(self, name: str, user_id: int) -> Any:
        t = table(name)
        return or_(*(t.c[column] == user_id for column in MEMBER_COLUMNS[name]))

    async def export(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every stored row naming the member, table by table (every table listed, even empty)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for name in MEMBER_COLUMNS:
            t = table(name)
            order = list(t.primary_key.columns)
            rows = await self.session.execute(
                select(t)
                .where(t.c.guild_id == self.guild_id, self._mentions(name, user_id))
                .order_by(*order)
            )
            found[name] = [
                {key: _json_value(t.c[key], value) for key, value in row._mapping.items()}
                for row in rows
            ]
        return found

    async def departed_before(self, cutoff: datetime) -> list[int]:
        """Members who left before ``cutoff`` (retention), oldest departure first."""
        rows = await self.session.scalars(
            select(Member.user_id)
            .where(
                Member.guild_id == self.guild_id,
                Member.left_at.is_not(None),
                Member.left_at < cutoff,
            )
            .order_by(Member.left_at, Member.user_id)
        )
        return [int(user) for user in rows]

    async def left_before(self, user_id: int, cutoff: datetime) -> bool:
        """Whether the member is (still) gone since before ``cutoff``: a rejoin ends that."""
        left_at = await self.session.scalar(
            select(Member.left_at).where(
                Member.guild_id == self.guild_id, Member.user_id == user_id
            )
        )
        return left_at is not None and left_at < cutoff

    async def erase(self, user_id: int, *, now: datetime, names: Sequence[str] = ()) -> Erasure:
        """Delete or anonymise every row naming the member (see the module docstring).

        ``names``: what Discord calls them (username, global and server names); the stored
        display name is added.
        """
        if user_id <= FORMER_MEMBER:
            raise ValueError("former-member ids are not members")
        report = Erasure(user_id)
        stored_name = await self.session.scalar(
            select(Member.display_name).where(
                Member.guild_id == self.guild_id, Member.user_id == user_id
            )
        )
        await self._clear_own_text(user_id)
        await self._redact(user_id, [*names, stored_name or ""], report)
        await self._loose_ends(user_id, report, now)
        for name, columns in MEMBER_COLUMNS.items():
            t = table(name)
            mine = [c for c, how in columns.items() if how is Treatment.DELETE]
            if mine:
                result = await self.session.execute(
                    delete(t).where(
                        t.c.guild_id == self.guild_id, or_(*(t.c[c] == user_id for c in mine))
                    )
                )
                if count := _rowcount(result):
                    report.deleted[name] = count
            for column, how in columns.items():
                if how in (Treatment.DELETE, Treatment.MEMBER):
                    continue
                replacement: Any = (
                    -t.c.id
                    if how is Treatment.ANONYMISE_UNIQUE
                    else None
                    if how is Treatment.CLEAR
                    else FORMER_MEMBER
                )
                result = await self.session.execute(
                    update(t)
                    .where(t.c.guild_id == self.guild_id, t.c[column] == user_id)
                    .values({column: replacement})
                )
                if count := _rowcount(result):
                    report.anonymised[name] = report.anonymised.get(name, 0) + count
        report.member_row = await self._member_row(user_id, now)
        await self._remember(user_id, now)
        return report

    async def _remember(self, user_id: int, now: datetime) -> None:
        """Keep the erasure's key and time (the latest, if erased again)."""
        stmt = insert_for(self.session, ErasedMember).values(
            guild_id=self.guild_id, member_key=erasure_key(self.guild_id, user_id), erased_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "member_key"], set_={"erased_at": now}
            )
        )

    async def _clear_own_text(self, user_id: int) -> None:
        for name, (owner, column) in OWN_TEXT.items():
            t = table(name)
            await self.session.execute(
                update(t)
                .where(t.c.guild_id == self.guild_id, t.c[owner] == user_id)
                .values({column: ""})
            )

    async def _redact(self, user_id: int, names: Sequence[str], report: Erasure) -> None:
        """Replace mentions of the member, their id and their names in text others keep."""
        redact = redactor(user_id, names)
        needles = {str(user_id)} | {
            variant for n in names if n.strip() for variant in (n, n.casefold(), n.upper())
        }
        for name, columns in MEMBER_TEXT.items():
            t = table(name)
            keys = list(t.primary_key.columns)
            for column in columns:
                found = await self.session.execute(
                    select(*keys, t.c[column]).where(
                        t.c.guild_id == self.guild_id,
                        or_(*(t.c[column].contains(n, autoescape=True) for n in needles)),
                    )
                )
                for row in found.all():
                    *key, text = row
                    cleaned = redact(text)
                    if cleaned == text:
                        continue
                    await self.session.execute(
                        update(t)
                        .where(*(k == v for k, v in zip(keys, key, strict=True)))
                        .values({column: cleaned})
                    )
                    report.anonymised[name] = report.anonymised.get(name, 0) + 1

    async def _loose_ends(self, user_id: int, report: Erasure, now: datetime) -> None:
        """Close open work naming the member, and note what Discord still shows of them."""
        report.had_tier = await self.session.scalar(
            select(TierState.tier_key).where(
                TierState.guild_id == self.guild_id, TierState.user_id == user_id
            )
        )
        groups = (
            await self.session.execute(
                select(UserGroup.name, UserGroup.role_id, GroupMember.part)
                .join(GroupMember, GroupMember.group_id == UserGroup.id)
                .where(GroupMember.guild_id == self.guild_id, GroupMember.user_id == user_id)
                .order_by(UserGroup.name)
            )
        ).all()
        report.group_role_ids = [int(role) for _, role, _ in groups if role is not None]
        report.led_groups = [name for name, _, part in groups if part == "leader"]
        # A pending referral would later be settled for (or credited to) a former member.
        await self.session.execute(
            update(Referral)
            .where(
                Referral.guild_id == self.guild_id,
                Referral.status == "pending",
                or_(Referral.invitee_id == user_id, Referral.inviter_id == user_id),
            )
            .values(status="rejected", reason=PENDING_REJECTED_REASON, decided_at=now)
        )
        # The invite code is the inviter's own link: it would name them again.
        await self.session.execute(
            update(Referral)
            .where(Referral.guild_id == self.guild_id, Referral.inviter_id == user_id)
            .values(invite_code=None)
        )
        # An open pairing would credit a former member as buddy, or a buddy for nobody.
        await self.session.execute(
            update(BuddyPair)
            .where(
                BuddyPair.guild_id == self.guild_id,
                BuddyPair.credited_at.is_(None),
                BuddyPair.ended_at.is_(None),
                or_(BuddyPair.newcomer_id == user_id, BuddyPair.buddy_id == user_id),
            )
            .values(ended_at=now)
        )

    async def _member_row(self, user_id: int, now: datetime) -> str:
        found = (
            await self.session.execute(
                select(Member.left_at).where(
                    Member.guild_id == self.guild_id, Member.user_id == user_id
                )
            )
        ).first()
        if found is None:
            return "absent"
        if found.left_at is None:
            # Still here: the bot must know that (member syncs, rejoins), and nothing more.
            # The opt-out stays: it only ever protects the member.
            await self.session.execute(
                update(Member)
                .where(Member.guild_id == self.guild_id, Member.user_id == user_id)
                .values(display_name="", first_seen_at=now, joined_at=None)
            )
            return "tombstone"
        await self.session.execute(
            delete(Member).where(Member.guild_id == self.guild_id, Member.user_id == user_id)
        )
        return "deleted"


def erasure_key(guild_id: int, user_id: int) -> str:
    """The one-way key an erasure is remembered by."""
    return hashlib.sha256(f"flywheel-erasure:{guild_id}:{user_id}".encode()).hexdigest()


class Erasures:
    """Who was erased, and when, for ids already in hand (an import's rows, history authors).

    Loaded once per run: the table holds one short row per erasure ever made.
    """

    def __init__(self, guild_id: int, erased: Mapping[str, datetime]) -> None:
        self.guild_id = guild_id
        self._erased = dict(erased)
        self._seen: dict[int, datetime | None] = {}

    @classmethod
    async def load(cls, session: AsyncSession, guild_id: int) -> Erasures:
        rows = await session.execute(
            select(ErasedMember.member_key, ErasedMember.erased_at).where(
                ErasedMember.guild_id == guild_id
            )
        )
        return cls(guild_id, {key: at for key, at in rows.all()})

    def erased_at(self, user_id: int) -> datetime | None:
        """When the member was last erased, or None if never."""
        if not self._erased:
            return None
        if user_id not in self._seen:
            self._seen[user_id] = self._erased.get(erasure_key(self.guild_id, user_id))
        return self._seen[user_id]

    def erased_after(self, user_id: int, at: datetime) -> bool:
        """The member asked to be erased after ``at``: what they did then stays erased."""
        erased = self.erased_at(user_id)
        return erased is not None and erased > at
