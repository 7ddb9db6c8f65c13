"""The data space: each dataset's ODRL offers in pdr's profile.

Revision ID: 0011_dataset_offers
Revises: 0010_anonymous_objections
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0011_dataset_offers"
down_revision: str | None = "0010_anonymous_objections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the dataset_offer table."""
    op.create_table(
        "dataset_offer",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dataset_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_offer_dataset_id"), ["dataset_id"], unique=False)


def downgrade() -> None:
    """Drop the dataset_offer table and its offers."""
    with op.batch_alter_table("dataset_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_offer_dataset_id"))
    op.drop_table("dataset_offer")
