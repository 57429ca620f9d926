"""Hardening: a DM to a campaign's recipient is claimed before it is sent; group names are
unique by the key they are compared by.

``newsletter_deliveries`` and ``survey_invites`` get the state ``sending``: written before the
DM goes out, replaced by ``sent`` or ``failed`` after. A row left ``sending`` (the store failed
or the bot stopped right after the DM) counts as sent: the member is never messaged twice.

``user_groups.name_key`` holds the name as names are compared (NFKC, format characters removed,
whitespace collapsed, casefolded); the unique constraint moves from the name to the key.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMED_FIRST = ("newsletter_deliveries", "survey_invites")


def _name_key(name: str) -> str:
    """The key as of this revision (written out: a released migration must not change)."""
    text = "".join(
        c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c) != "Cf"
    )
    return unicodedata.normalize("NFKC", re.sub(r"\s+", " ", text).strip().casefold())


def upgrade() -> None:
    with op.batch_alter_table("user_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=100), nullable=True))
    groups = sa.table("user_groups", sa.column("id"), sa.column("name"), sa.column("name_key"))
    connection = op.get_bind()
    for group_id, name in connection.execute(sa.select(groups.c.id, groups.c.name)).all():
        connection.execute(
            groups.update().where(groups.c.id == group_id).values(name_key=_name_key(name))
        )
    with op.batch_alter_table("user_groups", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_constraint("uq_user_groups_guild_id_name", type_="unique")
        batch_op.create_unique_constraint(
            "uq_user_groups_guild_id_name_key", ["guild_id", "name_key"]
        )
    for table in CLAIMED_FIRST:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint("state_known", type_="check")
            batch_op.create_check_constraint(
                "state_known", "state IN ('sending', 'sent', 'failed')"
            )


def downgrade() -> None:
    with op.batch_alter_table("user_groups", schema=None) as batch_op:
        batch_op.drop_constraint("uq_user_groups_guild_id_name_key", type_="unique")
        batch_op.create_unique_constraint("uq_user_groups_guild_id_name", ["guild_id", "name"])
        batch_op.drop_column("name_key")
    for table in CLAIMED_FIRST:
        op.execute(f"UPDATE {table} SET state = 'sent' WHERE state = 'sending'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint("state_known", type_="check")
            batch_op.create_check_constraint("state_known", "state IN ('sent', 'failed')")
