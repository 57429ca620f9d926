"""Erased members as one-way keys, so an import or a backfill cannot bring their past back.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erased_members",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("member_key", sa.String(length=64), nullable=False),
        sa.Column("erased_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "member_key", name=op.f("pk_erased_members")),
    )


def downgrade() -> None:
    op.drop_table("erased_members")
