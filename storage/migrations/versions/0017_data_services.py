"""The data space: listed products' offers, data services' base URLs, and the calls made to them through pdr.

Revision ID: 0017_data_services
Revises: 0016_participant_credentials
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0017_data_services"
down_revision: str | None = "0016_participant_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALL_INDEXES = ("account_id", "at", "grant_id", "listing_id", "provider_entity_id")


def _listing_offer() -> None:
    op.create_table(
        "listing_offer",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("listing_id", sa.String(length=26), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listing.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("listing_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_offer_listing_id"), ["listing_id"], unique=False)


def _service_call() -> None:
    op.create_table(
        "service_call",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("listing_id", sa.String(length=26), nullable=False),
        sa.Column("grant_id", sa.String(length=26), nullable=True),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("provider_entity_id", sa.String(length=26), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("request_bytes", sa.BigInteger(), nullable=False),
        sa.Column("response_bytes", sa.BigInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listing.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_call", schema=None) as batch_op:
        for column in CALL_INDEXES:
            batch_op.create_index(batch_op.f(f"ix_service_call_{column}"), [column], unique=False)


def upgrade() -> None:
    """Add listing_offer, service_call and listing.service_url."""
    _listing_offer()
    _service_call()
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_url", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    """Drop the listings' offers, the calls on record, and the data services' base URLs."""
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_column("service_url")
    with op.batch_alter_table("service_call", schema=None) as batch_op:
        for column in CALL_INDEXES:
            batch_op.drop_index(batch_op.f(f"ix_service_call_{column}"))
    op.drop_table("service_call")
    with op.batch_alter_table("listing_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_offer_listing_id"))
    op.drop_table("listing_offer")
