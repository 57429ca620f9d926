"""Cover the ladder's reads with their indexes: a member's ledger rows by time with their kind,
points and reversal link, and a member's active days with their message counts.

The daily sweep groups every member's rows of the last 180 days; through these indexes SQLite
reads them in member order from the index alone (no sort, no table lookups), and one member's
evaluation after a contribution touches only index pages. The ledger's index replaces the
narrower one of the same name, so the ledger still keeps four indexes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBER_TIME = ["guild_id", "user_id", "occurred_at"]


def upgrade() -> None:
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_contributions_member_time")
        batch_op.create_index(
            "ix_contributions_member_time", [*MEMBER_TIME, "kind", "points", "reverses_id"]
        )
    with op.batch_alter_table("activity_days", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_days_member_day", ["guild_id", "user_id", "day", "messages"]
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_days", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_days_member_day")
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_contributions_member_time")
        batch_op.create_index("ix_contributions_member_time", MEMBER_TIME)
