"""The exchange: trade vouchers of finalized agreements with a fee.

Revision ID: 0015_vouchers
Revises: 0014_transfers
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0015_vouchers"
down_revision: str | None = "0014_transfers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ("account_id", "assigner_entity_id", "entity_id", "issued_at")


def upgrade() -> None:
    """Add the trade_voucher table."""
    op.create_table(
        "trade_voucher",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("agreement_id", sa.String(length=26), nullable=False),
        sa.Column("assigner_entity_id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=True),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("agreement_log_index", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["assigner_entity_id"], ["entity.id"]),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agreement_id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("trade_voucher", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(batch_op.f(f"ix_trade_voucher_{column}"), [column], unique=False)


def downgrade() -> None:
    """Drop the trade_voucher table and every voucher."""
    with op.batch_alter_table("trade_voucher", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.drop_index(batch_op.f(f"ix_trade_voucher_{column}"))
    op.drop_table("trade_voucher")
