"""The data space: contract negotiations and their steps.

Revision ID: 0012_negotiations
Revises: 0011_dataset_offers
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0012_negotiations"
down_revision: str | None = "0011_dataset_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the negotiation and negotiation_step tables."""
    op.create_table(
        "negotiation",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("consumer_pid", sa.String(length=200), nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("offer_id", sa.String(length=26), nullable=False),
        sa.Column("provider_entity_id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("offer", sa.JSON(), nullable=False),
        sa.Column("offer_iri", sa.String(length=300), nullable=False),
        sa.Column("offered_by", sa.String(length=16), nullable=False),
        sa.Column("agreement", sa.JSON(), nullable=True),
        sa.Column("callback_address", sa.String(length=2000), nullable=True),
        sa.Column("grant_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["provider_entity_id"], ["entity.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("negotiation", schema=None) as batch_op:
        for column in ("account_id", "dataset_id", "provider_entity_id", "state"):
            batch_op.create_index(batch_op.f(f"ix_negotiation_{column}"), [column], unique=False)
    op.create_table(
        "negotiation_step",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("negotiation_id", sa.String(length=26), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=26), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message_type", sa.String(length=60), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["negotiation_id"], ["negotiation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("negotiation_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_negotiation_step_negotiation_id"), ["negotiation_id"], unique=False)


def downgrade() -> None:
    """Drop the negotiation tables and every negotiation."""
    with op.batch_alter_table("negotiation_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_negotiation_step_negotiation_id"))
    op.drop_table("negotiation_step")
    with op.batch_alter_table("negotiation", schema=None) as batch_op:
        for column in ("account_id", "dataset_id", "provider_entity_id", "state"):
            batch_op.drop_index(batch_op.f(f"ix_negotiation_{column}"))
    op.drop_table("negotiation")
