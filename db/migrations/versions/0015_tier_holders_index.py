"""Index the ladder's holders by tier: counting a seated tier's members reads only them.

A member who could take one of a seated tier's seats is evaluated against the seats taken;
counted over every holder of every tier (9,400 at 100,000 members, each checked against the
members table), that count took 20 ms of an evaluation that otherwise takes under one.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tier_states", schema=None) as batch_op:
        batch_op.create_index("ix_tier_states_guild_tier", ["guild_id", "tier_key"])


def downgrade() -> None:
    with op.batch_alter_table("tier_states", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_states_guild_tier")
