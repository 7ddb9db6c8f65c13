"""Certificates: property-right certificates and the versions of their Bitstring Status List.

Revision ID: 0004_certificates
Revises: 0003_log
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0004_certificates"
down_revision: str | None = "0003_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "certificate",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("number", sa.String(length=17), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=26), nullable=False),
        sa.Column("registration_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("holder_uscc", sa.String(length=18), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("scope", sa.String(length=2000), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("credential_sha256", sa.String(length=64), nullable=False),
        sa.Column("issuer_key_id", sa.String(length=26), nullable=False),
        sa.Column("status_list", sa.String(length=40), nullable=False),
        sa.Column("status_index", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=2000), nullable=True),
        sa.Column("revoked_by", sa.String(length=26), nullable=True),
        sa.Column("revoked_log_index", sa.BigInteger(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("issued_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entity.id"]),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"]),
        sa.ForeignKeyConstraint(["issuer_key_id"], ["signing_key.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("status_list", "status_index"),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_holder_uscc"), ["holder_uscc"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_status"), ["status"], unique=False)

    op.create_table(
        "status_list_version",
        sa.Column("list_name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("credential_sha256", sa.String(length=64), nullable=False),
        sa.Column("issuer_key_id", sa.String(length=26), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_key_id"], ["signing_key.id"]),
        sa.PrimaryKeyConstraint("list_name", "version"),
    )


def downgrade() -> None:
    """Revert this revision."""

    op.drop_table("status_list_version")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_status"))
        batch_op.drop_index(batch_op.f("ix_certificate_holder_uscc"))
        batch_op.drop_index(batch_op.f("ix_certificate_entity_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_subject_id"))

    op.drop_table("certificate")
