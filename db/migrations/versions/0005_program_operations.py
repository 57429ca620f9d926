"""Program operations: ambassador NPS answers and survey invites, onboarding buddies, and user
groups with their members and credited events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nps_responses",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_nps_responses_score_range")),
        sa.PrimaryKeyConstraint("guild_id", "period", "user_id", name=op.f("pk_nps_responses")),
    )
    op.create_table(
        "survey_invites",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('sent', 'failed')", name=op.f("ck_survey_invites_state_known")
        ),
        sa.PrimaryKeyConstraint("guild_id", "period", "user_id", name=op.f("pk_survey_invites")),
    )
    op.create_table(
        "buddy_volunteers",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("opted_in_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_buddy_volunteers")),
    )
    op.create_table(
        "buddy_pairs",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("newcomer_id", SNOWFLAKE, nullable=False),
        sa.Column("buddy_id", SNOWFLAKE, nullable=False),
        sa.Column("assigned_at", TIMESTAMP, nullable=False),
        sa.Column("thread_id", SNOWFLAKE, nullable=True),
        sa.Column("credited_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buddy_pairs")),
        sa.UniqueConstraint(
            "guild_id", "newcomer_id", name=op.f("uq_buddy_pairs_guild_id_newcomer_id")
        ),
    )
    with op.batch_alter_table("buddy_pairs", schema=None) as batch_op:
        batch_op.create_index("ix_buddy_pairs_guild_buddy", ["guild_id", "buddy_id"], unique=False)

    op.create_table(
        "user_groups",
        sa.Column("id", SNOWFLAKE, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("role_id", SNOWFLAKE, nullable=True),
        sa.Column("channel_id", SNOWFLAKE, nullable=True),
        sa.Column("created_by", SNOWFLAKE, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_activity_at", TIMESTAMP, nullable=True),
        sa.Column("nudged_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "kind IN ('local', 'virtual', 'industry', 'use_case')",
            name=op.f("ck_user_groups_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_groups")),
        sa.UniqueConstraint("guild_id", "name", name=op.f("uq_user_groups_guild_id_name")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", SNOWFLAKE, nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("joined_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "part IN ('leader', 'co_organizer', 'member')", name=op.f("ck_group_members_part_known")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_groups.id"],
            name=op.f("fk_group_members_group_id_user_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index("ix_group_members_guild_user", ["guild_id", "user_id"], unique=False)

    op.create_table(
        "group_events",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("event_id", SNOWFLAKE, nullable=False),
        sa.Column("group_id", SNOWFLAKE, nullable=False),
        sa.Column("credited_by", SNOWFLAKE, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_groups.id"],
            name=op.f("fk_group_events_group_id_user_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "event_id", name=op.f("pk_group_events")),
    )


def downgrade() -> None:
    op.drop_table("group_events")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_group_members_guild_user")
    op.drop_table("group_members")
    op.drop_table("user_groups")
    with op.batch_alter_table("buddy_pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_buddy_pairs_guild_buddy")
    op.drop_table("buddy_pairs")
    op.drop_table("buddy_volunteers")
    op.drop_table("survey_invites")
    op.drop_table("nps_responses")
