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


class Contribution(Base):
    """One credited contribution: the ledger every score and metric is computed from.

    ``(guild_id, kind, source_id)`` is unique, so a replayed gateway event or a retried command
    cannot credit the same thing twice. Corrections never delete: a reversal is a new row with
    negative points that names the row it reverses, so the history stays visible.
    """

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("guild_id", "kind", "source_id"),
        Index("ix_contributions_member_time", "guild_id", "user_id", "occurred_at"),
        Index("ix_contributions_guild_time", "guild_id", "occurred_at"),
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
    )

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class TierState(Base):
    """A member's place on the ladder and what keeps it stable (pin, leave, grace period)."""

    __tablename__ = "tier_states"

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
    __table_args__ = (Index("ix_tier_changes_member_time", "guild_id", "user_id", "created_at"),)

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
