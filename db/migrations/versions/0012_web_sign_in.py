"""Single-use sign-in links for the web dashboard, kept as hashes; web review decisions for
the bot to show in Discord.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from db.types: a released migration must not change
# when the models do.
SNOWFLAKE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sign_in_tokens",
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", SNOWFLAKE, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "token_hash", name=op.f("pk_web_sign_in_tokens")),
    )
    op.create_index(
        "ix_web_sign_in_tokens_user", "web_sign_in_tokens", ["guild_id", "user_id"], unique=False
    )
    op.create_index(
        "ix_web_sign_in_tokens_expiry",
        "web_sign_in_tokens",
        ["guild_id", "expires_at"],
        unique=False,
    )
    op.create_table(
        "web_review_decisions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("moderator_id", SNOWFLAKE, nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_review_decisions")),
    )
    op.create_index(
        "ix_web_review_decisions_guild", "web_review_decisions", ["guild_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_web_review_decisions_guild", table_name="web_review_decisions")
    op.drop_table("web_review_decisions")
    op.drop_index("ix_web_sign_in_tokens_expiry", table_name="web_sign_in_tokens")
    op.drop_index("ix_web_sign_in_tokens_user", table_name="web_sign_in_tokens")
    op.drop_table("web_sign_in_tokens")
