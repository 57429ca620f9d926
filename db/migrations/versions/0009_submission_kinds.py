"""Review-credited kinds, and the post of a beta program.

A content submission records which contribution kind it credits: /share credits ``content``;
/contribution submit credits a kind a server defines in ``[[kinds]]``. The column holds a key,
never a list of the configured kinds, so this migration does not depend on the config.

A beta program records its post (the message with the Join button), so a program saved while
Discord refused the post is posted at the next start, once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("beta_programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", SNOWFLAKE, nullable=True))
    with op.batch_alter_table("content_submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "credit_kind",
                sa.String(length=32),
                server_default=sa.text("'content'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("content_submissions", schema=None) as batch_op:
        batch_op.drop_column("credit_kind")
    with op.batch_alter_table("beta_programs", schema=None) as batch_op:
        batch_op.drop_column("message_id")
