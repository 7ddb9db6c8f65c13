"""The registry: data space participant credentials of verified entities.

Entities verified before this revision get no credential here: one is issued when the registry next verifies the
entity.

Revision ID: 0016_participant_credentials
Revises: 0015_vouchers
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0016_participant_credentials"
down_revision: str | None = "0015_vouchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ("entity_id", "status")


def upgrade() -> None:
    """Add the participant_credential table."""
    op.create_table(
        "participant_credential",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("credential_sha256", sa.String(length=64), nullable=False),
        sa.Column("issuer_key_id", sa.String(length=26), nullable=False),
        sa.Column("status_list", sa.String(length=40), nullable=False),
        sa.Column("status_index", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.String(length=26), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=26), nullable=True),
        sa.Column("revoked_log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["entity_id"], ["entity.id"]),
        sa.ForeignKeyConstraint(["issuer_key_id"], ["signing_key.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity_id", "serial"),
        sa.UniqueConstraint("status_list", "status_index"),
    )
    with op.batch_alter_table("participant_credential", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(batch_op.f(f"ix_participant_credential_{column}"), [column], unique=False)


def downgrade() -> None:
    """Drop the participant_credential table and every participant credential."""
    with op.batch_alter_table("participant_credential", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.drop_index(batch_op.f(f"ix_participant_credential_{column}"))
    op.drop_table("participant_credential")
