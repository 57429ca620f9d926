"""Leases: which process runs each server's once-per-server work (PostgreSQL deployments);
the ledger by when rows were recorded (start-up evaluates those credited while it was away).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community_leases",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("acquired_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_community_leases")),
    )
    op.create_index("ix_contributions_guild_recorded", "contributions", ["guild_id", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_contributions_guild_recorded", table_name="contributions")
    op.drop_table("community_leases")
