"""Registry: entities, resources, products, registrations, objections, events, calendar, counters.

Revision ID: 0002_registry
Revises: 0001_foundation
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0002_registry"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Registrations in any other state are open: at most one per subject.
CLOSED_STATES = "('not_accepted', 'refused', 'registered', 'withdrawn')"


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "calendar_override",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "counter",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "entity",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=1000), nullable=True),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uscc"),
    )
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entity_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_entity_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_entity_status"), ["status"], unique=False)

    op.create_table(
        "data_product",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("summary", sa.String(length=4000), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("scenario", sa.String(length=2000), nullable=False),
        sa.Column("source_resource_ids", sa.JSON(), nullable=False),
        sa.Column("security_level", sa.String(length=16), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("data_product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_product_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_product_status"), ["status"], unique=False)

    op.create_table(
        "data_resource",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("summary", sa.String(length=4000), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("data_items", sa.JSON(), nullable=False),
        sa.Column("sharing_attribute", sa.String(length=16), nullable=False),
        sa.Column("sharing_conditions", sa.String(length=2000), nullable=True),
        sa.Column("open_attribute", sa.String(length=16), nullable=False),
        sa.Column("open_conditions", sa.String(length=2000), nullable=True),
        sa.Column("security_level", sa.String(length=16), nullable=False),
        sa.Column("update_cycle", sa.String(length=16), nullable=False),
        sa.Column("publish_date", sa.Date(), nullable=True),
        sa.Column("record_count", sa.BigInteger(), nullable=True),
        sa.Column("data_volume_bytes", sa.BigInteger(), nullable=True),
        sa.Column("time_coverage_start", sa.Date(), nullable=True),
        sa.Column("time_coverage_end", sa.Date(), nullable=True),
        sa.Column("spatial_coverage", sa.String(length=300), nullable=True),
        sa.Column("storage_location", sa.String(length=300), nullable=True),
        sa.Column("storage_method", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=1000), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("related_resource_codes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("data_resource", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_resource_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_resource_status"), ["status"], unique=False)

    op.create_table(
        "registration",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("query_code", sa.String(length=20), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("missing_items", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("accept_by", sa.Date(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("review_passed_at", UTCDateTime(), nullable=True),
        sa.Column("notice_starts_on", sa.Date(), nullable=True),
        sa.Column("notice_ends_on", sa.Date(), nullable=True),
        sa.Column("registered_at", UTCDateTime(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("calendar_fallback_years", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_accept_by"), ["accept_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_notice_ends_on"), ["notice_ends_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_notice_starts_on"), ["notice_starts_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(
            "ux_registration_open_subject",
            ["subject_id"],
            unique=True,
            sqlite_where=sa.text(f"state NOT IN {CLOSED_STATES}"),
            postgresql_where=sa.text(f"state NOT IN {CLOSED_STATES}"),
        )

    op.create_table(
        "objection",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("registration_id", sa.String(length=26), nullable=False),
        sa.Column("filed_by", sa.String(length=26), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=2000), nullable=True),
        sa.Column("resolved_by", sa.String(length=26), nullable=True),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["filed_by"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objection_registration_id"), ["registration_id"], unique=False)

    op.create_table(
        "registration_step",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("registration_id", sa.String(length=26), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=26), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registration_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_step_registration_id"), ["registration_id"], unique=False)

    op.create_table(
        "subject_version",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=26), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.String(length=26), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_type", "subject_id", "revision"),
    )
    with op.batch_alter_table("subject_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_version_subject_id"), ["subject_id"], unique=False)

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_account_entity_id_entity", "entity", ["entity_id"], ["id"])


def downgrade() -> None:
    """Revert this revision."""

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint("fk_account_entity_id_entity", type_="foreignkey")

    with op.batch_alter_table("subject_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_version_subject_id"))

    op.drop_table("subject_version")
    with op.batch_alter_table("registration_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_step_registration_id"))

    op.drop_table("registration_step")
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_registration_id"))

    op.drop_table("objection")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_subject_id"))
        batch_op.drop_index(batch_op.f("ix_registration_state"))
        batch_op.drop_index(batch_op.f("ix_registration_notice_starts_on"))
        batch_op.drop_index(batch_op.f("ix_registration_notice_ends_on"))
        batch_op.drop_index(batch_op.f("ix_registration_entity_id"))
        batch_op.drop_index(batch_op.f("ix_registration_accept_by"))

    op.drop_table("registration")
    with op.batch_alter_table("data_resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_resource_status"))
        batch_op.drop_index(batch_op.f("ix_data_resource_entity_id"))

    op.drop_table("data_resource")
    with op.batch_alter_table("data_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_product_status"))
        batch_op.drop_index(batch_op.f("ix_data_product_entity_id"))

    op.drop_table("data_product")
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_status"))
        batch_op.drop_index(batch_op.f("ix_entity_region_code"))
        batch_op.drop_index(batch_op.f("ix_entity_name"))

    op.drop_table("entity")
    op.drop_table("counter")
    op.drop_table("calendar_override")
