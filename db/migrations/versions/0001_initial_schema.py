"""Initial schema: members, contribution ledger, activity rollups, tiers, nominations,
scheduled posts and per-guild settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_days",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("messages >= 0", name=op.f("ck_activity_days_messages_not_negative")),
        sa.PrimaryKeyConstraint("guild_id", "user_id", "day", name=op.f("pk_activity_days")),
    )
    with op.batch_alter_table("activity_days", schema=None) as batch_op:
        batch_op.create_index("ix_activity_days_guild_day", ["guild_id", "day"], unique=False)

    op.create_table(
        "contributions",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("actor_id", SNOWFLAKE, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reverses_id", SNOWFLAKE, nullable=True),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["contributions.id"],
            name=op.f("fk_contributions_reverses_id_contributions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
        sa.UniqueConstraint(
            "guild_id", "kind", "source_id", name=op.f("uq_contributions_guild_id_kind_source_id")
        ),
    )
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contributions_guild_time", ["guild_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_contributions_member_time", ["guild_id", "user_id", "occurred_at"], unique=False
        )

    op.create_table(
        "guild_settings",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "key", name=op.f("pk_guild_settings")),
    )
    op.create_table(
        "members",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("is_bot", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("joined_at", TIMESTAMP, nullable=True),
        sa.Column("left_at", TIMESTAMP, nullable=True),
        sa.Column("recognition_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_members")),
    )
    op.create_table(
        "nominations",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("nominee_id", SNOWFLAKE, nullable=False),
        sa.Column("tier_key", sa.String(length=32), nullable=False),
        sa.Column("nominated_by", SNOWFLAKE, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("decided_by", SNOWFLAKE, nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("applied_at", TIMESTAMP, nullable=True),
        sa.Column("review_channel_id", SNOWFLAKE, nullable=True),
        sa.Column("review_message_id", SNOWFLAKE, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')",
            name=op.f("ck_nominations_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nominations")),
    )
    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.create_index("ix_nominations_guild_status", ["guild_id", "status"], unique=False)
        batch_op.create_index(
            "uq_nominations_one_pending",
            ["guild_id", "nominee_id", "tier_key"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "scheduled_posts",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=25), nullable=False),
        sa.Column("delayed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("channel_id", SNOWFLAKE, nullable=True),
        sa.Column("message_id", SNOWFLAKE, nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=False),
        sa.Column("posted_at", TIMESTAMP, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('claimed', 'posted', 'skipped')", name=op.f("ck_scheduled_posts_state_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_posts")),
        sa.UniqueConstraint(
            "guild_id", "kind", "period", name=op.f("uq_scheduled_posts_guild_id_kind_period")
        ),
    )
    op.create_table(
        "tier_changes",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("from_tier", sa.String(length=32), nullable=True),
        sa.Column("to_tier", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", SNOWFLAKE, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_changes")),
    )
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tier_changes_member_time", ["guild_id", "user_id", "created_at"], unique=False
        )

    op.create_table(
        "tier_states",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("tier_key", sa.String(length=32), nullable=True),
        sa.Column("tier_since", TIMESTAMP, nullable=True),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("leave_until", TIMESTAMP, nullable=True),
        sa.Column("below_since", TIMESTAMP, nullable=True),
        sa.Column("at_risk_notified_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_tier_states")),
    )


def downgrade() -> None:
    op.drop_table("tier_states")
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_changes_member_time")

    op.drop_table("tier_changes")
    op.drop_table("scheduled_posts")
    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_nominations_one_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_nominations_guild_status")

    op.drop_table("nominations")
    op.drop_table("members")
    op.drop_table("guild_settings")
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_contributions_member_time")
        batch_op.drop_index("ix_contributions_guild_time")

    op.drop_table("contributions")
    with op.batch_alter_table("activity_days", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_days_guild_day")

    op.drop_table("activity_days")
