"""Contribution tracking: question threads, thanks, channel presence, content submissions,
scheduled events with RSVPs and voice sessions, referrals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_presence",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("channel_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("last_message_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "guild_id", "channel_id", "user_id", name=op.f("pk_channel_presence")
        ),
    )
    op.create_table(
        "event_rsvps",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("event_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("withdrawn_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "event_id", "user_id", name=op.f("pk_event_rsvps")),
    )
    op.create_table(
        "tracked_events",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("event_id", SNOWFLAKE, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel_id", SNOWFLAKE, nullable=True),
        sa.Column("creator_id", SNOWFLAKE, nullable=True),
        sa.Column("host_id", SNOWFLAKE, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_start", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("settled_at", TIMESTAMP, nullable=True),
        sa.Column("attendee_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'active', 'completed', 'canceled')",
            name=op.f("ck_tracked_events_status_known"),
        ),
        sa.PrimaryKeyConstraint("guild_id", "event_id", name=op.f("pk_tracked_events")),
    )
    op.create_table(
        "voice_sessions",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("channel_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("muted_and_deafened", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_sessions")),
    )
    with op.batch_alter_table("voice_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voice_sessions_channel_time", ["guild_id", "channel_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_voice_sessions_member_open", ["guild_id", "user_id", "ended_at"], unique=False
        )

    op.create_table(
        "content_submissions",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("author_id", SNOWFLAKE, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
        sa.Column("review_channel_id", SNOWFLAKE, nullable=True),
        sa.Column("review_message_id", SNOWFLAKE, nullable=True),
        sa.Column("decided_by", SNOWFLAKE, nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("contribution_id", SNOWFLAKE, nullable=True),
        sa.CheckConstraint(
            "kind IN ('blog', 'video', 'tutorial', 'talk', 'other')",
            name=op.f("ck_content_submissions_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_content_submissions_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_content_submissions_contribution_id_contributions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_submissions")),
        sa.UniqueConstraint("guild_id", "url", name=op.f("uq_content_submissions_guild_id_url")),
    )
    with op.batch_alter_table("content_submissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_content_submissions_guild_status", ["guild_id", "status"], unique=False
        )

    op.create_table(
        "question_threads",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("thread_id", SNOWFLAKE, nullable=False),
        sa.Column("parent_id", SNOWFLAKE, nullable=False),
        sa.Column("asker_id", SNOWFLAKE, nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("first_response_at", TIMESTAMP, nullable=True),
        sa.Column("first_responder_id", SNOWFLAKE, nullable=True),
        sa.Column("answer_message_id", SNOWFLAKE, nullable=True),
        sa.Column("answer_author_id", SNOWFLAKE, nullable=True),
        sa.Column("answer_contribution_id", SNOWFLAKE, nullable=True),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("answered_by", SNOWFLAKE, nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_contribution_id"],
            ["contributions.id"],
            name=op.f("fk_question_threads_answer_contribution_id_contributions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("guild_id", "thread_id", name=op.f("pk_question_threads")),
    )
    with op.batch_alter_table("question_threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_question_threads_guild_opened", ["guild_id", "opened_at"], unique=False
        )

    op.create_table(
        "referrals",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("invitee_id", SNOWFLAKE, nullable=False),
        sa.Column("joined_at", TIMESTAMP, nullable=False),
        sa.Column("attribution", sa.String(length=16), nullable=False),
        sa.Column("invite_code", sa.String(length=32), nullable=True),
        sa.Column("inviter_id", SNOWFLAKE, nullable=True),
        sa.Column("candidates", sa.Text(), nullable=True),
        sa.Column("is_rejoin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("contribution_id", SNOWFLAKE, nullable=True),
        sa.CheckConstraint(
            "attribution IN ('invite', 'vanity', 'unknown', 'ambiguous')",
            name=op.f("ck_referrals_attribution_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'credited', 'rejected')", name=op.f("ck_referrals_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_referrals_contribution_id_contributions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint(
            "guild_id",
            "invitee_id",
            "joined_at",
            name=op.f("uq_referrals_guild_id_invitee_id_joined_at"),
        ),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_guild_status", ["guild_id", "status"], unique=False)

    op.create_table(
        "thanks",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("giver_id", SNOWFLAKE, nullable=False),
        sa.Column("receiver_id", SNOWFLAKE, nullable=False),
        sa.Column("channel_id", SNOWFLAKE, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("contribution_id", SNOWFLAKE, nullable=True),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_thanks_contribution_id_contributions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks")),
    )
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.create_index("ix_thanks_giver_day", ["guild_id", "giver_id", "day"], unique=False)
        batch_op.create_index("ix_thanks_receiver", ["guild_id", "receiver_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.drop_index("ix_thanks_receiver")
        batch_op.drop_index("ix_thanks_giver_day")

    op.drop_table("thanks")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_guild_status")

    op.drop_table("referrals")
    with op.batch_alter_table("question_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_question_threads_guild_opened")

    op.drop_table("question_threads")
    with op.batch_alter_table("content_submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_content_submissions_guild_status")

    op.drop_table("content_submissions")
    with op.batch_alter_table("voice_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_voice_sessions_member_open")
        batch_op.drop_index("ix_voice_sessions_channel_time")

    op.drop_table("voice_sessions")
    op.drop_table("tracked_events")
    op.drop_table("event_rsvps")
    op.drop_table("channel_presence")
