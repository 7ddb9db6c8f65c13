"""The data space: transfer processes, their steps, and the transfer a download was made in.

Revision ID: 0014_transfers
Revises: 0013_agreements
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0014_transfers"
down_revision: str | None = "0013_agreements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _transfer() -> None:
    op.create_table(
        "transfer",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("consumer_pid", sa.String(length=200), nullable=False),
        sa.Column("agreement_id", sa.String(length=26), nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("provider_entity_id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=False),
        sa.Column("format", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("callback_address", sa.String(length=2000), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", UTCDateTime(), nullable=True),
        sa.Column("previous_token_hash", sa.String(length=64), nullable=True),
        sa.Column("previous_token_expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreement.id"]),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.ForeignKeyConstraint(["provider_entity_id"], ["entity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("previous_token_hash"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        for column in ("account_id", "agreement_id", "provider_entity_id", "state"):
            batch_op.create_index(batch_op.f(f"ix_transfer_{column}"), [column], unique=False)


def _transfer_step() -> None:
    op.create_table(
        "transfer_step",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("transfer_id", sa.String(length=26), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=26), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message_type", sa.String(length=60), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("transfer_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_step_transfer_id"), ["transfer_id"], unique=False)


def upgrade() -> None:
    """Add the transfer and transfer_step tables, and download_record.transfer_id."""
    _transfer()
    _transfer_step()
    with op.batch_alter_table("download_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_id", sa.String(length=26), nullable=True))
        batch_op.create_index(batch_op.f("ix_download_record_transfer_id"), ["transfer_id"], unique=False)


def downgrade() -> None:
    """Drop the transfers, their steps, and which transfer a download was made in."""
    with op.batch_alter_table("download_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_record_transfer_id"))
        batch_op.drop_column("transfer_id")
    with op.batch_alter_table("transfer_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_step_transfer_id"))
    op.drop_table("transfer_step")
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        for column in ("account_id", "agreement_id", "provider_entity_id", "state"):
            batch_op.drop_index(batch_op.f(f"ix_transfer_{column}"))
    op.drop_table("transfer")
