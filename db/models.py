"""The tables. Every row belongs to one guild: ``guild_id`` leads every key and index."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.types import IdColumn, Snowflake, TZDateTime

NOMINATION_STATUSES = ("pending", "approved", "rejected", "withdrawn")
SCHEDULED_POST_STATES = ("claimed", "posted", "skipped")


class Member(Base):
    """A person the bot has seen in the guild, kept after they leave (for rejoins and history)."""

    __tablename__ = "members"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    is_bot: Mapped[bool] = mapped_column(default=False, server_default=false())
    first_seen_at: Mapped[datetime] = mapped_column(TZDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    left_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    recognition_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: No DMs about feedback items the member asked for or voted on (/privacy updates off).
    feedback_updates_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())


class Contribution(Base):
    """One credited contribution: the ledger every score and metric is computed from.

    ``(guild_id, kind, source_id)`` is unique, so a replayed gateway event or a retried command
    cannot credit the same thing twice. Corrections never delete: a reversal is a new row with
    negative points that names the row it reverses, so the history stays visible.
    """

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("guild_id", "kind", "source_id"),
        # Covering: the ladder reads a member's rows (or every member's, in member order)
        # from the index alone.
        Index(
            "ix_contributions_member_time",
            "guild_id",
            "user_id",
            "occurred_at",
            "kind",
            "points",
            "reverses_id",
        ),
        Index("ix_contributions_guild_time", "guild_id", "occurred_at"),
        Index("ix_contributions_guild_recorded", "guild_id", "recorded_at"),
        Index("ix_contributions_reverses", "guild_id", "reverses_id"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    kind: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(TZDateTime)
    recorded_at: Mapped[datetime] = mapped_column(TZDateTime)
    actor_id: Mapped[int | None] = mapped_column(Snowflake)
    reason: Mapped[str | None] = mapped_column(Text)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL")
    )


class ActivityDay(Base):
    """Messages that qualified per member per day: a rollup, never one row per message."""

    __tablename__ = "activity_days"
    __table_args__ = (
        CheckConstraint("messages >= 0", name="messages_not_negative"),
        Index("ix_activity_days_guild_day", "guild_id", "day"),
        # Covering: the ladder's active weeks, member by member, from the index alone.
        Index("ix_activity_days_member_day", "guild_id", "user_id", "day", "messages"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class TierState(Base):
    """A member's place on the ladder and what keeps it stable (pin, leave, grace period)."""

    __tablename__ = "tier_states"
    # A seated tier's holders are counted before a member could take a seat.
    __table_args__ = (Index("ix_tier_states_guild_tier", "guild_id", "tier_key"),)

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    tier_key: Mapped[str | None] = mapped_column(String(32))
    tier_since: Mapped[datetime | None] = mapped_column(TZDateTime)
    pinned: Mapped[bool] = mapped_column(default=False, server_default=false())
    leave_until: Mapped[datetime | None] = mapped_column(TZDateTime)
    below_since: Mapped[datetime | None] = mapped_column(TZDateTime)
    at_risk_notified_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class TierChange(Base):
    """Audit log of every tier change; ``actor_id`` is None when the change was automatic."""

    __tablename__ = "tier_changes"
    __table_args__ = (
        Index("ix_tier_changes_member_time", "guild_id", "user_id", "created_at"),
        Index("ix_tier_changes_guild_time", "guild_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    from_tier: Mapped[str | None] = mapped_column(String(32))
    to_tier: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)


class Nomination(Base):
    """A moderator's nomination of a member for a tier, decided with buttons on a review card.

    At most one *pending* nomination per member and tier (a partial unique index); decided ones
    stay as history. ``applied_at`` stays empty while an approved nominee still misses minimums.
    """

    __tablename__ = "nominations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status_known"
        ),
        Index(
            "uq_nominations_one_pending",
            "guild_id",
            "nominee_id",
            "tier_key",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_nominations_guild_status", "guild_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    nominee_id: Mapped[int] = mapped_column(Snowflake)
    tier_key: Mapped[str] = mapped_column(String(32))
    nominated_by: Mapped[int] = mapped_column(Snowflake)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    decided_by: Mapped[int | None] = mapped_column(Snowflake)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    review_channel_id: Mapped[int | None] = mapped_column(Snowflake)
    review_message_id: Mapped[int | None] = mapped_column(Snowflake)


class ScheduledPost(Base):
    """A scheduled post for one period, claimed *before* it is sent.

    The unique ``(guild_id, kind, period)`` key makes "at most once per period" a database fact,
    not a hope. A claim left in state ``claimed`` after a crash is resolved on recovery by
    looking for a message carrying ``nonce`` in the channel before anything is re-sent.
    """

    __tablename__ = "scheduled_posts"
    __table_args__ = (
        UniqueConstraint("guild_id", "kind", "period"),
        CheckConstraint("state IN ('claimed', 'posted', 'skipped')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="claimed")
    nonce: Mapped[str] = mapped_column(String(25))
    delayed: Mapped[bool] = mapped_column(default=False, server_default=false())
    channel_id: Mapped[int | None] = mapped_column(Snowflake)
    message_id: Mapped[int | None] = mapped_column(Snowflake)
    claimed_at: Mapped[datetime] = mapped_column(TZDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class GuildSetting(Base):
    """Small per-guild facts the bot keeps between runs (e.g. the synced command hash)."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


# --- Contribution tracking (migration 0002) -------------------------------------------------

CONTENT_KINDS = ("blog", "video", "tutorial", "talk", "other")
CONTENT_STATUSES = ("pending", "approved", "rejected")
EVENT_STATUSES = ("scheduled", "active", "completed", "canceled")
REFERRAL_ATTRIBUTIONS = ("invite", "vanity", "unknown", "ambiguous")
REFERRAL_STATUSES = ("pending", "credited", "rejected")


class QuestionThread(Base):
    """A help thread: who asked, when, the first reply by someone else, the accepted answer.

    Time to first response is a program metric, so the opening and the first reply are kept
    even when no answer is ever accepted.
    """

    __tablename__ = "question_threads"
    __table_args__ = (Index("ix_question_threads_guild_opened", "guild_id", "opened_at"),)

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    thread_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    parent_id: Mapped[int] = mapped_column(Snowflake)
    asker_id: Mapped[int] = mapped_column(Snowflake)
    title: Mapped[str] = mapped_column(String(100), default="")
    opened_at: Mapped[datetime] = mapped_column(TZDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    first_responder_id: Mapped[int | None] = mapped_column(Snowflake)
    answer_message_id: Mapped[int | None] = mapped_column(Snowflake)
    answer_author_id: Mapped[int | None] = mapped_column(Snowflake)
    answer_contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    answered_by: Mapped[int | None] = mapped_column(Snowflake)


class Thanks(Base):
    """One /thanks: the limits (per pair per day, daily cap) are counted from these rows."""

    __tablename__ = "thanks"
    __table_args__ = (
        Index("ix_thanks_giver_day", "guild_id", "giver_id", "day"),
        Index("ix_thanks_receiver", "guild_id", "receiver_id"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    giver_id: Mapped[int] = mapped_column(Snowflake)
    receiver_id: Mapped[int] = mapped_column(Snowflake)
    channel_id: Mapped[int] = mapped_column(Snowflake)
    reason: Mapped[str | None] = mapped_column(Text)
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL")
    )


class ChannelPresence(Base):
    """When a member last posted in a channel: thanks go to people who just helped there."""

    __tablename__ = "channel_presence"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    channel_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    last_message_at: Mapped[datetime] = mapped_column(TZDateTime)


class ContentSubmission(Base):
    """A piece of content shared with /share, reviewed by moderators; one per normalised URL."""

    __tablename__ = "content_submissions"
    __table_args__ = (
        UniqueConstraint("guild_id", "url"),
        CheckConstraint(
            "kind IN ('blog', 'video', 'tutorial', 'talk', 'other')", name="kind_known"
        ),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        Index("ix_content_submissions_guild_status", "guild_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    author_id: Mapped[int] = mapped_column(Snowflake)
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    #: The contribution kind an approval credits: ``content`` for /share, a server's own
    #: review-credited kind for /contribution submit.
    credit_kind: Mapped[str] = mapped_column(
        String(32), default="content", server_default=text("'content'")
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime)
    review_channel_id: Mapped[int | None] = mapped_column(Snowflake)
    review_message_id: Mapped[int | None] = mapped_column(Snowflake)
    decided_by: Mapped[int | None] = mapped_column(Snowflake)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL")
    )


class TrackedEvent(Base):
    """A Discord scheduled event as Flywheel follows it, settled once when it ends."""

    __tablename__ = "tracked_events"
    __table_args__ = (
        CheckConstraint(
            "status IN ('scheduled', 'active', 'completed', 'canceled')", name="status_known"
        ),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    event_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[int | None] = mapped_column(Snowflake)
    creator_id: Mapped[int | None] = mapped_column(Snowflake)
    host_id: Mapped[int | None] = mapped_column(Snowflake)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    scheduled_start: Mapped[datetime] = mapped_column(TZDateTime)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    attendee_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class EventRsvp(Base):
    """A member marked "interested" in an event (RSVP vs attended is reported)."""

    __tablename__ = "event_rsvps"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    event_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class VoiceSession(Base):
    """Time a member spent in a voice or stage channel; an open session has no end yet.

    Kept in the database so attendance survives a restart in the middle of an event.
    """

    __tablename__ = "voice_sessions"
    __table_args__ = (
        Index("ix_voice_sessions_channel_time", "guild_id", "channel_id", "started_at"),
        Index("ix_voice_sessions_member_open", "guild_id", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    channel_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    started_at: Mapped[datetime] = mapped_column(TZDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    muted_and_deafened: Mapped[bool] = mapped_column(default=False, server_default=false())


class Referral(Base):
    """Who invited whom, as far as invite counts tell; credited only after the newcomer stays.

    Vanity, unknown and ambiguous joins are recorded as such and never credited to a guess.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("guild_id", "invitee_id", "joined_at"),
        CheckConstraint(
            "attribution IN ('invite', 'vanity', 'unknown', 'ambiguous')", name="attribution_known"
        ),
        CheckConstraint("status IN ('pending', 'credited', 'rejected')", name="status_known"),
        Index("ix_referrals_guild_status", "guild_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    invitee_id: Mapped[int] = mapped_column(Snowflake)
    joined_at: Mapped[datetime] = mapped_column(TZDateTime)
    attribution: Mapped[str] = mapped_column(String(16))
    invite_code: Mapped[str | None] = mapped_column(String(32))
    inviter_id: Mapped[int | None] = mapped_column(Snowflake)
    candidates: Mapped[str | None] = mapped_column(Text)
    is_rejoin: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL")
    )


# --- Recognition (migration 0004) -----------------------------------------------------------

SPOTLIGHT_SOURCES = ("nomination", "contributions")
DELIVERY_STATES = ("sent", "failed")


class SpotlightNomination(Base):
    """A moderator's suggestion for the weekly spotlight; ``used_period`` once it was featured.

    Pending nominations are the ones not used yet, so one nomination is featured at most once.
    """

    __tablename__ = "spotlight_nominations"
    __table_args__ = (Index("ix_spotlight_nominations_guild_used", "guild_id", "used_period"),)

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    nominated_by: Mapped[int] = mapped_column(Snowflake)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    used_period: Mapped[str | None] = mapped_column(String(32))


class Spotlight(Base):
    """Who was spotlighted for a weekly period, and the reason the post gave.

    Recorded before the post is sent, keyed by period, so a re-render after a crash or a forced
    re-post features the same member, for the same reason, instead of drawing again.
    """

    __tablename__ = "spotlights"
    __table_args__ = (
        CheckConstraint("source IN ('nomination', 'contributions')", name="source_known"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake)
    source: Mapped[str] = mapped_column(String(16))
    nomination_id: Mapped[int | None] = mapped_column(
        ForeignKey("spotlight_nominations.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime)


class NewsletterSubscription(Base):
    """A member who asked for the monthly newsletter by direct message."""

    __tablename__ = "newsletter_subscriptions"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    subscribed_at: Mapped[datetime] = mapped_column(TZDateTime)


class NewsletterDelivery(Base):
    """One newsletter DM attempt per member and period, claimed (``sending``) before the DM goes
    out: a failed one is not retried (the member closed their DMs; retrying would only repeat
    the failure every restart), one left ``sending`` counts as sent (never twice)."""

    __tablename__ = "newsletter_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('sending', 'sent', 'failed')", name="state_known"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZDateTime)


# --- Program operations (migration 0005) ------------------------------------------------------


class NpsResponse(Base):
    """One member's answer to one survey period ("How likely are you to recommend the program?").

    Keyed by period, so a member answers once per survey and may change it until it closes.
    Results are only ever shown in aggregate (and only with enough answers to stay anonymous).
    """

    __tablename__ = "nps_responses"
    __table_args__ = (CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),)

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(TZDateTime)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class SurveyInvite(Base):
    """One survey DM per member and period, claimed (``sending``) before it goes out; a failed
    one (DMs closed) is not retried, one left ``sending`` counts as sent (never twice)."""

    __tablename__ = "survey_invites"
    __table_args__ = (
        CheckConstraint("state IN ('sending', 'sent', 'failed')", name="state_known"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(TZDateTime)


class BuddyVolunteer(Base):
    """A tier member who offered (``/buddy optin``) to welcome newcomers."""

    __tablename__ = "buddy_volunteers"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    opted_in_at: Mapped[datetime] = mapped_column(TZDateTime)


class BuddyPair(Base):
    """A newcomer and the buddy assigned to them; ``credited_at`` once mentoring is credited."""

    __tablename__ = "buddy_pairs"
    __table_args__ = (
        UniqueConstraint("guild_id", "newcomer_id"),
        Index("ix_buddy_pairs_guild_buddy", "guild_id", "buddy_id"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    newcomer_id: Mapped[int] = mapped_column(Snowflake)
    buddy_id: Mapped[int] = mapped_column(Snowflake)
    assigned_at: Mapped[datetime] = mapped_column(TZDateTime)
    thread_id: Mapped[int | None] = mapped_column(Snowflake)
    credited_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    """Set when the pairing ends without credit (the newcomer left or went quiet)."""


GROUP_TYPES = ("local", "virtual", "industry", "use_case")
GROUP_ROLES = ("leader", "co_organizer", "member")


class UserGroup(Base):
    """A user group: a local meetup, a virtual group, an industry or a use-case group.

    ``name_key`` is the name as names are compared (casefolded, width and invisible characters
    normalised): unique per guild, so two moderators racing to create "Berlin" and "ｂｅｒｌｉｎ"
    get one group.
    """

    __tablename__ = "user_groups"
    __table_args__ = (
        UniqueConstraint("guild_id", "name_key"),
        CheckConstraint("kind IN ('local', 'virtual', 'industry', 'use_case')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(100))
    role_id: Mapped[int | None] = mapped_column(Snowflake)
    channel_id: Mapped[int | None] = mapped_column(Snowflake)
    created_by: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    nudged_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class GroupMember(Base):
    """Membership of a user group, with the member's part in it."""

    __tablename__ = "group_members"
    __table_args__ = (
        CheckConstraint("part IN ('leader', 'co_organizer', 'member')", name="part_known"),
        Index("ix_group_members_guild_user", "guild_id", "user_id"),
    )

    group_id: Mapped[int] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    part: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(TZDateTime)


class GroupEvent(Base):
    """A scheduled event a group's leader credited to the group (its activity)."""

    __tablename__ = "group_events"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    event_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("user_groups.id", ondelete="CASCADE"))
    credited_by: Mapped[int] = mapped_column(Snowflake)
    at: Mapped[datetime] = mapped_column(TZDateTime)


# --- Product feedback (migration 0007) --------------------------------------------------------

FEEDBACK_STATUSES = ("open", "planned", "in_progress", "shipped", "declined")


class FeedbackItem(Base):
    """A member's product request (/feedback submit), posted in the feedback forum.

    ``thread_id`` is written once the forum post exists: an item without one was claimed but
    its post not (yet) made, and is posted again, never twice, by the start-up reconciliation.
    """

    __tablename__ = "feedback_items"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'planned', 'in_progress', 'shipped', 'declined')",
            name="status_known",
        ),
        Index("ix_feedback_items_guild_status", "guild_id", "status"),
        Index("ix_feedback_items_guild_thread", "guild_id", "thread_id", unique=True),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    author_id: Mapped[int] = mapped_column(Snowflake)
    title: Mapped[str] = mapped_column(String(100))
    problem: Mapped[str] = mapped_column(Text)
    wanted: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    thread_id: Mapped[int | None] = mapped_column(Snowflake)
    first_staff_status_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    status_changed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class FeedbackVote(Base):
    """One member's vote for one item; withdrawing it deletes the row."""

    __tablename__ = "feedback_votes"
    __table_args__ = (Index("ix_feedback_votes_guild_user", "guild_id", "user_id"),)

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    voted_at: Mapped[datetime] = mapped_column(TZDateTime)


class FeedbackChange(Base):
    """A staff decision on an item: the status it moved to, the note, who and when."""

    __tablename__ = "feedback_changes"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'planned', 'in_progress', 'shipped', 'declined')",
            name="status_known",
        ),
        Index("ix_feedback_changes_guild_item", "guild_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(Snowflake)
    at: Mapped[datetime] = mapped_column(TZDateTime)


class FeedbackNotice(Base):
    """One DM about one change to one member (the author or a voter), claimed (``sending``)
    before it goes out: a restart finishes a change's notices and never repeats one."""

    __tablename__ = "feedback_notices"
    __table_args__ = (
        CheckConstraint("state IN ('sending', 'sent', 'failed')", name="state_known"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    change_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_changes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(TZDateTime)


# --- Beta programs and user research (migration 0008) -----------------------------------------

PROGRAM_STATUSES = ("open", "closed")
REPORT_STATUSES = ("pending", "approved", "rejected")
NOTICE_STATES = ("sending", "sent", "failed")


class BetaProgram(Base):
    """A beta program (/beta create): testers join it, up to ``seats``, until ``until``.

    ``taken`` counts the testers; joining raises it with a conditional UPDATE (``taken <
    seats``), so two members joining at once can't overfill the program.
    """

    __tablename__ = "beta_programs"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        Index("ix_beta_programs_guild_status", "guild_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    name: Mapped[str] = mapped_column(String(100))
    min_tier: Mapped[str | None] = mapped_column(String(32))
    seats: Mapped[int | None] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    thread_id: Mapped[int | None] = mapped_column(Snowflake)
    #: The post with the Join button, in ``feedback.programs_channel``; None until it is made.
    message_id: Mapped[int | None] = mapped_column(Snowflake)
    created_by: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class BetaTester(Base):
    """A member who joined a program; ``thanks`` is the closing DM, claimed before it is sent."""

    __tablename__ = "beta_testers"
    __table_args__ = (
        CheckConstraint("thanks IN ('sending', 'sent', 'failed')", name="thanks_known"),
        Index("ix_beta_testers_guild_user", "guild_id", "user_id"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("beta_programs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(TZDateTime)
    thanks: Mapped[str | None] = mapped_column(String(16))
    thanked_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class BetaReport(Base):
    """A tester's report (/beta report), decided by a moderator on a review card."""

    __tablename__ = "beta_reports"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        Index("ix_beta_reports_guild_program", "guild_id", "program_id"),
    )

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    program_id: Mapped[int] = mapped_column(ForeignKey("beta_programs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Snowflake)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    decided_by: Mapped[int | None] = mapped_column(Snowflake)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    review_channel_id: Mapped[int | None] = mapped_column(Snowflake)
    review_message_id: Mapped[int | None] = mapped_column(Snowflake)


class ResearchCall(Base):
    """A call for user-research sessions (/research recruit) and who may volunteer."""

    __tablename__ = "research_calls"

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    title: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text)
    min_tier: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(100))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("user_groups.id", ondelete="SET NULL"))
    seats: Mapped[int | None] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_by: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    channel_id: Mapped[int | None] = mapped_column(Snowflake)
    message_id: Mapped[int | None] = mapped_column(Snowflake)


class ResearchVolunteer(Base):
    """A member who volunteered for a call; picked (and told, claimed first) and credited."""

    __tablename__ = "research_volunteers"
    __table_args__ = (
        CheckConstraint("pick_notice IN ('sending', 'sent', 'failed')", name="pick_notice_known"),
        Index("ix_research_volunteers_guild_user", "guild_id", "user_id"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    call_id: Mapped[int] = mapped_column(
        ForeignKey("research_calls.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    volunteered_at: Mapped[datetime] = mapped_column(TZDateTime)
    picked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    picked_by: Mapped[int | None] = mapped_column(Snowflake)
    pick_notice: Mapped[str | None] = mapped_column(String(16))
    took_part_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class BackfillRun(Base):
    """A history backfill of the server: its window, so a resumed run reads the same one."""

    __tablename__ = "backfill_runs"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    #: Messages created in [since, until) are read; ``until`` is when the first attempt began,
    #: so the live bot alone counts what came later.
    since: Mapped[datetime] = mapped_column(TZDateTime)
    until: Mapped[datetime] = mapped_column(TZDateTime)
    started_at: Mapped[datetime] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    messages_read: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class BackfillChannel(Base):
    """A channel's checkpoint: history is read newest first, down to ``message_id``."""

    __tablename__ = "backfill_channels"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    channel_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    #: The oldest message read so far (None: nothing read yet); the next page is before it.
    message_id: Mapped[int | None] = mapped_column(Snowflake)
    done: Mapped[bool] = mapped_column(default=False, server_default=false())
    messages_read: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: Why the channel could not be read (no Read Message History), if it could not.
    problem: Mapped[str | None] = mapped_column(String(200))


class BackfillMessage(Base):
    """A message that passed every rule but the cooldown, kept until the run ends: the
    cooldown runs across channels in time order, so it is applied once all are read."""

    __tablename__ = "backfill_messages"
    __table_args__ = (Index("ix_backfill_messages_guild_created", "guild_id", "created_at"),)

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    message_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)


class ErasedMember(Base):
    """A member who had their data erased, kept as a one-way key and the time.

    Imports and history backfills read the past again (another bot's file, Discord's history);
    without this they would bring an erased member's past back. The key (SHA-256 of the server
    and the id) only answers "was this id erased, and when", for an id already in hand.
    """

    __tablename__ = "erased_members"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    member_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(TZDateTime)


class WebSignInToken(Base):
    """A single-use link to sign in to the web dashboard, sent by ``/dashboard``.

    Only a SHA-256 of the token is kept, so a copy of the database cannot sign anyone in.
    Redeeming sets ``used_at`` with a conditional UPDATE, so two processes (the bot and a
    standalone ``python -m bot web``) racing on one link let exactly one in.
    """

    __tablename__ = "web_sign_in_tokens"
    __table_args__ = (
        Index("ix_web_sign_in_tokens_user", "guild_id", "user_id"),
        Index("ix_web_sign_in_tokens_expiry", "guild_id", "expires_at"),
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class WebReviewDecision(Base):
    """A review decision made on a standalone web process, for the bot to show in Discord.

    ``python -m bot web`` has no gateway: it stores the decision through the services and adds a
    row here; the bot's process reads these rows, updates the review card, tells whom the
    decision concerns and gives any role it granted, then deletes the row.
    """

    __tablename__ = "web_review_decisions"
    __table_args__ = (Index("ix_web_review_decisions_guild", "guild_id", "id"),)

    id: Mapped[int] = mapped_column(IdColumn, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    #: The review card's kind: ``nomination`` or ``content`` (its custom ids' prefix).
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(IdColumn)
    moderator_id: Mapped[int] = mapped_column(Snowflake)
    decided_at: Mapped[datetime] = mapped_column(TZDateTime)


class CommunityLease(Base):
    """Which process runs a server's once-per-server work, until when (PostgreSQL only).

    Scheduled posts, sweeps, role reconciliation and campaign DMs must happen once per server
    however many processes run. The holder renews ``expires_at`` (the database's clock, the
    one clock every process shares) while alive; a standby takes an expired lease, raising
    ``epoch``. Claims check the lease in their own transaction, so a stale holder can't post.
    """

    __tablename__ = "community_leases"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    #: host, process id and a random part: unique to one run of one process.
    holder: Mapped[str] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
