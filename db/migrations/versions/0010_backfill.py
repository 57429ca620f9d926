"""History backfill: the run's window, a checkpoint per channel, and the messages awaiting the
cross-channel cooldown until every channel is read.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backfill_runs",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        sa.Column("until", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("messages_read", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_backfill_runs")),
    )
    op.create_table(
        "backfill_channels",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("channel_id", SNOWFLAKE, nullable=False),
        sa.Column("message_id", SNOWFLAKE, nullable=True),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("messages_read", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("problem", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "channel_id", name=op.f("pk_backfill_channels")),
    )
    op.create_table(
        "backfill_messages",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("message_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "message_id", name=op.f("pk_backfill_messages")),
    )
    with op.batch_alter_table("backfill_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_backfill_messages_guild_created", ["guild_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("backfill_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_backfill_messages_guild_created")
    op.drop_table("backfill_messages")
    op.drop_table("backfill_channels")
    op.drop_table("backfill_runs")
