"""Transparency log and signing keys: log entries, subtree hashes, checkpoints, keys.

Revision ID: 0003_log
Revises: 0002_registry
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0003_log"
down_revision: str | None = "0002_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "log_entry",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
    )
    with op.batch_alter_table("log_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_entry_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_log_entry_subject"), ["subject"], unique=False)

    op.create_table(
        "log_node",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "index"),
    )
    op.create_table(
        "signing_key",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_key_purpose"), ["purpose"], unique=False)

    op.create_table(
        "log_checkpoint",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["signing_key.id"],
        ),
        sa.PrimaryKeyConstraint("tree_size"),
    )


def downgrade() -> None:
    """Revert this revision."""

    op.drop_table("log_checkpoint")
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_key_purpose"))

    op.drop_table("signing_key")
    op.drop_table("log_node")
    with op.batch_alter_table("log_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_entry_subject"))
        batch_op.drop_index(batch_op.f("ix_log_entry_kind"))

    op.drop_table("log_entry")
