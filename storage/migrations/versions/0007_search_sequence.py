"""Search rows carry the generation that last wrote them, so each process can follow the changes.

Newest-first order is now computed in each process's search mirror, so the (state, modified_key) index goes.

Revision ID: 0007_search_sequence
Revises: 0006_exchange
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_search_sequence"
down_revision: str | None = "0006_exchange"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL only: title order by code point, with the document number as the tie-break, served by an index.
TITLE_ORDER_INDEX = "ix_dataset_search_title_order"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("dataset_search", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.create_index(batch_op.f("ix_dataset_search_seq"), ["seq"], unique=False)
        batch_op.drop_index("ix_dataset_search_state_modified")
    # Rows written before this revision belong to the generation current now.
    op.execute(
        "UPDATE dataset_search SET seq = COALESCE((SELECT position FROM catalog_sync WHERE name = 'generation'), 0)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'CREATE INDEX {TITLE_ORDER_INDEX} ON dataset_search (state, (title_key COLLATE "C"), doc)')


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TITLE_ORDER_INDEX}")
    with op.batch_alter_table("dataset_search", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_search_state_modified", ["state", "modified_key"], unique=False)
        batch_op.drop_index(batch_op.f("ix_dataset_search_seq"))
        batch_op.drop_column("seq")
