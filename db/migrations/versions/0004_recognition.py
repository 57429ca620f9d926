"""Recognition: spotlight nominations and picks, newsletter subscriptions and deliveries, and
tier changes indexed by time (the weekly post and the newsletter list a period's promotions).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spotlight_nominations",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("nominated_by", SNOWFLAKE, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("used_period", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spotlight_nominations")),
    )
    with op.batch_alter_table("spotlight_nominations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_spotlight_nominations_guild_used", ["guild_id", "used_period"], unique=False
        )

    op.create_table(
        "spotlights",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("nomination_id", SNOWFLAKE, nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "source IN ('nomination', 'contributions')", name=op.f("ck_spotlights_source_known")
        ),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["spotlight_nominations.id"],
            name=op.f("fk_spotlights_nomination_id_spotlight_nominations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("guild_id", "period", name=op.f("pk_spotlights")),
    )
    op.create_table(
        "newsletter_subscriptions",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("subscribed_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_newsletter_subscriptions")),
    )
    op.create_table(
        "newsletter_deliveries",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('sent', 'failed')", name=op.f("ck_newsletter_deliveries_state_known")
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "period", "user_id", name=op.f("pk_newsletter_deliveries")
        ),
    )
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tier_changes_guild_time", ["guild_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_changes_guild_time")

    op.drop_table("newsletter_deliveries")
    op.drop_table("newsletter_subscriptions")
    op.drop_table("spotlights")
    with op.batch_alter_table("spotlight_nominations", schema=None) as batch_op:
        batch_op.drop_index("ix_spotlight_nominations_guild_used")

    op.drop_table("spotlight_nominations")
