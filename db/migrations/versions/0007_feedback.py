"""Product feedback: members' requests (posted in the feedback forum), their votes, the staff
decisions on them and the DMs telling authors and voters; members may turn those DMs off.

Nothing here depends on the configured contribution kinds or forum.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_items",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("author_id", SNOWFLAKE, nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("wanted", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("thread_id", SNOWFLAKE, nullable=True),
        sa.Column("first_staff_status_at", TIMESTAMP, nullable=True),
        sa.Column("status_changed_at", TIMESTAMP, nullable=True),
        sa.Column("shipped_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'planned', 'in_progress', 'shipped', 'declined')",
            name=op.f("ck_feedback_items_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
    )
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_items_guild_status", ["guild_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_feedback_items_guild_thread", ["guild_id", "thread_id"], unique=True
        )

    op.create_table(
        "feedback_changes",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("item_id", SNOWFLAKE, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", SNOWFLAKE, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'planned', 'in_progress', 'shipped', 'declined')",
            name=op.f("ck_feedback_changes_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_changes_item_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_changes")),
    )
    with op.batch_alter_table("feedback_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_changes_guild_item", ["guild_id", "item_id"], unique=False
        )

    op.create_table(
        "feedback_votes",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("item_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("voted_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_votes_item_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "item_id", "user_id", name=op.f("pk_feedback_votes")),
    )
    with op.batch_alter_table("feedback_votes", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_votes_guild_user", ["guild_id", "user_id"], unique=False)

    op.create_table(
        "feedback_notices",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("change_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('sending', 'sent', 'failed')", name=op.f("ck_feedback_notices_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["feedback_changes.id"],
            name=op.f("fk_feedback_notices_change_id_feedback_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "change_id", "user_id", name=op.f("pk_feedback_notices")
        ),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "feedback_updates_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("feedback_updates_opt_out")

    op.drop_table("feedback_notices")
    with op.batch_alter_table("feedback_votes", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_votes_guild_user")

    op.drop_table("feedback_votes")
    with op.batch_alter_table("feedback_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_changes_guild_item")

    op.drop_table("feedback_changes")
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_items_guild_thread")
        batch_op.drop_index("ix_feedback_items_guild_status")

    op.drop_table("feedback_items")
