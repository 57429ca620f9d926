"""Review-credited kinds: a content submission records which contribution kind it credits.

/share credits ``content``; /contribution submit credits a kind a server defines in
``[[kinds]]``. The column holds a key, never a list of the configured kinds, so this migration
does not depend on the config.

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


def upgrade() -> None:
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
