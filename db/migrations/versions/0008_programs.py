"""Beta programs (testers, their reports, the closing thanks) and user-research calls (their
volunteers, who was picked and told, who took part).

Nothing here depends on the configured contribution kinds, tiers or channels.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "beta_programs",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("min_tier", sa.String(length=32), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=True),
        sa.Column("taken", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("thread_id", SNOWFLAKE, nullable=True),
        sa.Column("created_by", SNOWFLAKE, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'closed')", name=op.f("ck_beta_programs_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beta_programs")),
    )
    with op.batch_alter_table("beta_programs", schema=None) as batch_op:
        batch_op.create_index("ix_beta_programs_guild_status", ["guild_id", "status"], unique=False)

    op.create_table(
        "beta_testers",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("program_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("joined_at", TIMESTAMP, nullable=False),
        sa.Column("thanks", sa.String(length=16), nullable=True),
        sa.Column("thanked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "thanks IN ('sending', 'sent', 'failed')", name=op.f("ck_beta_testers_thanks_known")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["beta_programs.id"],
            name=op.f("fk_beta_testers_program_id_beta_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "program_id", "user_id", name=op.f("pk_beta_testers")),
    )
    with op.batch_alter_table("beta_testers", schema=None) as batch_op:
        batch_op.create_index("ix_beta_testers_guild_user", ["guild_id", "user_id"], unique=False)

    op.create_table(
        "beta_reports",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("program_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("decided_by", SNOWFLAKE, nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("review_channel_id", SNOWFLAKE, nullable=True),
        sa.Column("review_message_id", SNOWFLAKE, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_beta_reports_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["beta_programs.id"],
            name=op.f("fk_beta_reports_program_id_beta_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beta_reports")),
    )
    with op.batch_alter_table("beta_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_beta_reports_guild_program", ["guild_id", "program_id"], unique=False
        )

    op.create_table(
        "research_calls",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("min_tier", sa.String(length=32), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("group_id", SNOWFLAKE, nullable=True),
        sa.Column("seats", sa.Integer(), nullable=True),
        sa.Column("picked", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", SNOWFLAKE, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("channel_id", SNOWFLAKE, nullable=True),
        sa.Column("message_id", SNOWFLAKE, nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_groups.id"],
            name=op.f("fk_research_calls_group_id_user_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_calls")),
    )

    op.create_table(
        "research_volunteers",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("call_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("volunteered_at", TIMESTAMP, nullable=False),
        sa.Column("picked_at", TIMESTAMP, nullable=True),
        sa.Column("picked_by", SNOWFLAKE, nullable=True),
        sa.Column("pick_notice", sa.String(length=16), nullable=True),
        sa.Column("took_part_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "pick_notice IN ('sending', 'sent', 'failed')",
            name=op.f("ck_research_volunteers_pick_notice_known"),
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["research_calls.id"],
            name=op.f("fk_research_volunteers_call_id_research_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "call_id", "user_id", name=op.f("pk_research_volunteers")
        ),
    )
    with op.batch_alter_table("research_volunteers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_research_volunteers_guild_user", ["guild_id", "user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("research_volunteers", schema=None) as batch_op:
        batch_op.drop_index("ix_research_volunteers_guild_user")

    op.drop_table("research_volunteers")
    op.drop_table("research_calls")
    with op.batch_alter_table("beta_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_beta_reports_guild_program")

    op.drop_table("beta_reports")
    with op.batch_alter_table("beta_testers", schema=None) as batch_op:
        batch_op.drop_index("ix_beta_testers_guild_user")

    op.drop_table("beta_testers")
    with op.batch_alter_table("beta_programs", schema=None) as batch_op:
        batch_op.drop_index("ix_beta_programs_guild_status")

    op.drop_table("beta_programs")
