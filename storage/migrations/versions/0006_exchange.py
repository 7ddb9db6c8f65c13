"""Exchange: access requests and grants, download records, product listings.

Revision ID: 0006_exchange
Revises: 0005_catalog
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0006_exchange"
down_revision: str | None = "0005_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "listing",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("product_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("delivery_mode", sa.String(length=24), nullable=False),
        sa.Column("pricing_unit", sa.String(length=40), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("use_category", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.String(length=2000), nullable=True),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entity.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["data_product.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_delivery_mode"), ["delivery_mode"], unique=False)
        batch_op.create_index(batch_op.f("ix_listing_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listing_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listing_state"), ["state"], unique=False)

    op.create_table(
        "access_request",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=True),
        sa.Column("dataset_id", sa.String(length=26), nullable=True),
        sa.Column("product_id", sa.String(length=26), nullable=True),
        sa.Column("provider_entity_id", sa.String(length=26), nullable=False),
        sa.Column("purpose", sa.String(length=2000), nullable=False),
        sa.Column("scenario", sa.String(length=2000), nullable=False),
        sa.Column("use_category", sa.String(length=16), nullable=False),
        sa.Column("requested_from", sa.Date(), nullable=False),
        sa.Column("requested_until", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("decided_by", sa.String(length=26), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("approved_until", sa.Date(), nullable=True),
        sa.Column("approved_quota", sa.Integer(), nullable=True),
        sa.Column("seconded_by", sa.String(length=26), nullable=True),
        sa.Column("seconded_at", UTCDateTime(), nullable=True),
        sa.Column("grant_id", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["data_product.id"]),
        sa.ForeignKeyConstraint(["provider_entity_id"], ["entity.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_request_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_provider_entity_id"), ["provider_entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_request_state"), ["state"], unique=False)

    op.create_table(
        "access_grant",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("request_id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=True),
        sa.Column("provider_entity_id", sa.String(length=26), nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=True),
        sa.Column("product_id", sa.String(length=26), nullable=True),
        sa.Column("use_category", sa.String(length=16), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("download_quota", sa.Integer(), nullable=True),
        sa.Column("downloads_used", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=26), nullable=True),
        sa.Column("revoked_reason", sa.String(length=2000), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["product_id"], ["data_product.id"]),
        sa.ForeignKeyConstraint(["provider_entity_id"], ["entity.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["access_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_grant_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_grant_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_grant_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_grant_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_grant_provider_entity_id"), ["provider_entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_grant_state"), ["state"], unique=False)

    op.create_table(
        "download_record",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("account_id", sa.String(length=26), nullable=True),
        sa.Column("grant_id", sa.String(length=26), nullable=True),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("file_id", sa.String(length=26), nullable=False),
        sa.Column("provider_entity_id", sa.String(length=26), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("range_start", sa.BigInteger(), nullable=True),
        sa.Column("range_end", sa.BigInteger(), nullable=True),
        sa.Column("bytes_sent", sa.BigInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("client_addr", sa.String(length=64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.ForeignKeyConstraint(["file_id"], ["dataset_file.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("download_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_download_record_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_record_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_record_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_record_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_download_record_provider_entity_id"), ["provider_entity_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""

    with op.batch_alter_table("download_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_record_provider_entity_id"))
        batch_op.drop_index(batch_op.f("ix_download_record_grant_id"))
        batch_op.drop_index(batch_op.f("ix_download_record_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_download_record_at"))
        batch_op.drop_index(batch_op.f("ix_download_record_account_id"))

    op.drop_table("download_record")
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_grant_state"))
        batch_op.drop_index(batch_op.f("ix_access_grant_provider_entity_id"))
        batch_op.drop_index(batch_op.f("ix_access_grant_product_id"))
        batch_op.drop_index(batch_op.f("ix_access_grant_entity_id"))
        batch_op.drop_index(batch_op.f("ix_access_grant_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_access_grant_account_id"))

    op.drop_table("access_grant")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_state"))
        batch_op.drop_index(batch_op.f("ix_access_request_provider_entity_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_product_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_access_request_account_id"))

    op.drop_table("access_request")
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listing_state"))
        batch_op.drop_index(batch_op.f("ix_listing_product_id"))
        batch_op.drop_index(batch_op.f("ix_listing_entity_id"))
        batch_op.drop_index(batch_op.f("ix_listing_delivery_mode"))

    op.drop_table("listing")
