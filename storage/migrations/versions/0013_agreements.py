"""The data space: agreements as signed credentials.

Revision ID: 0013_agreements
Revises: 0012_negotiations
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0013_agreements"
down_revision: str | None = "0012_negotiations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the agreement table."""
    op.create_table(
        "agreement",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("credential_sha256", sa.String(length=64), nullable=False),
        sa.Column("issuer_key_id", sa.String(length=26), nullable=False),
        sa.Column("status_list", sa.String(length=40), nullable=False),
        sa.Column("status_index", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(length=26), nullable=True),
        sa.Column("ended_reason", sa.String(length=2000), nullable=True),
        sa.Column("ended_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["id"], ["negotiation.id"]),
        sa.ForeignKeyConstraint(["issuer_key_id"], ["signing_key.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_status"), ["status"], unique=False)


def downgrade() -> None:
    """Drop the agreement table and every signed agreement."""
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_status"))
    op.drop_table("agreement")
