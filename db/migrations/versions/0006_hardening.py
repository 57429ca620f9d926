"""Hardening: a DM to a campaign's recipient is claimed before it is sent.

``newsletter_deliveries`` and ``survey_invites`` get the state ``sending``: written before the
DM goes out, replaced by ``sent`` or ``failed`` after. A row left ``sending`` (the store failed
or the bot stopped right after the DM) counts as sent: the member is never messaged twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMED_FIRST = ("newsletter_deliveries", "survey_invites")


def upgrade() -> None:
    for table in CLAIMED_FIRST:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint("state_known", type_="check")
            batch_op.create_check_constraint(
                "state_known", "state IN ('sending', 'sent', 'failed')"
            )


def downgrade() -> None:
    for table in CLAIMED_FIRST:
        op.execute(f"UPDATE {table} SET state = 'sent' WHERE state = 'sending'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint("state_known", type_="check")
            batch_op.create_check_constraint("state_known", "state IN ('sent', 'failed')")
