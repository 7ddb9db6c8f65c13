"""Catalog: datasets, versions, files, distributions, search rows and the engine's full-text index.

The full-text index has no model: on SQLite it is an FTS5 table (``dataset_fts``, ascii tokenizer over text
that pdr has already segmented and stemmed), on PostgreSQL a table of weighted tsvectors with a GIN index.
Both hold the same tokens, so both engines find the same datasets.

Revision ID: 0005_catalog
Revises: 0004_certificates
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0005_catalog"
down_revision: str | None = "0004_certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "dataset",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("licence", sa.String(length=100), nullable=True),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("temporal_start", sa.Date(), nullable=True),
        sa.Column("temporal_end", sa.Date(), nullable=True),
        sa.Column("spatial", sa.String(length=300), nullable=True),
        sa.Column("update_frequency", sa.String(length=16), nullable=True),
        sa.Column("resource_id", sa.String(length=26), nullable=True),
        sa.Column("landing_page", sa.String(length=1000), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entity.id"]),
        sa.ForeignKeyConstraint(["resource_id"], ["data_resource.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_state"), ["state"], unique=False)

    op.create_table(
        "dataset_version",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "version"),
    )
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_version_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "dataset_file",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dataset_file", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_file_dataset_version", ["dataset_id", "version"], unique=False)

    op.create_table(
        "dataset_distribution",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=True),
        sa.Column("media_type", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=4000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dataset_distribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_distribution_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "dataset_search",
        sa.Column("doc", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.String(length=26), nullable=False),
        sa.Column("entity_id", sa.String(length=26), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("licence", sa.String(length=100), nullable=True),
        sa.Column("theme_bits", sa.BigInteger(), nullable=False),
        sa.Column("format_bits", sa.BigInteger(), nullable=False),
        sa.Column("year_start", sa.Integer(), nullable=True),
        sa.Column("year_end", sa.Integer(), nullable=True),
        sa.Column("title_key", sa.String(length=200), nullable=False),
        sa.Column("modified_key", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("doc"),
        sa.UniqueConstraint("dataset_id"),
    )
    with op.batch_alter_table("dataset_search", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_search_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index("ix_dataset_search_state_modified", ["state", "modified_key"], unique=False)
        batch_op.create_index("ix_dataset_search_state_title", ["state", "title_key"], unique=False)

    op.create_table(
        "dataset_tag",
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("doc", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["doc"], ["dataset_search.doc"]),
        sa.PrimaryKeyConstraint("tag", "doc"),
    )
    with op.batch_alter_table("dataset_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_tag_doc"), ["doc"], unique=False)

    op.create_table(
        "catalog_format",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("bit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "catalog_sync",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # The search index's write counter: cached search answers belong to one generation.
    op.execute("INSERT INTO catalog_sync (name, position) VALUES ('generation', 0)")

    if op.get_bind().dialect.name == "sqlite":
        # Tokens arrive segmented, lower-cased and stemmed; the ascii tokenizer only splits on the spaces
        # between them and keeps every non-ASCII character, so FTS5 indexes exactly pdr's tokens.
        op.execute("CREATE VIRTUAL TABLE dataset_fts USING fts5(title, keywords, description, tokenize = 'ascii')")
    else:
        op.execute(
            "CREATE TABLE dataset_fts ("
            "doc integer PRIMARY KEY REFERENCES dataset_search (doc), "
            "vector tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX ix_dataset_fts_vector ON dataset_fts USING gin (vector)")


def downgrade() -> None:
    """Revert this revision."""

    op.execute("DROP TABLE IF EXISTS dataset_fts")
    op.drop_table("catalog_sync")
    op.drop_table("catalog_format")
    with op.batch_alter_table("dataset_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_tag_doc"))
    op.drop_table("dataset_tag")
    with op.batch_alter_table("dataset_search", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_search_state_title")
        batch_op.drop_index("ix_dataset_search_state_modified")
        batch_op.drop_index(batch_op.f("ix_dataset_search_entity_id"))
    op.drop_table("dataset_search")
    with op.batch_alter_table("dataset_distribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_distribution_dataset_id"))
    op.drop_table("dataset_distribution")
    with op.batch_alter_table("dataset_file", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_file_dataset_version")
    op.drop_table("dataset_file")
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_version_dataset_id"))
    op.drop_table("dataset_version")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_state"))
        batch_op.drop_index(batch_op.f("ix_dataset_resource_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_entity_id"))
    op.drop_table("dataset")
