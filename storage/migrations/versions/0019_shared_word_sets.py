"""Search: the word sets every process of a catalog shares.

Adds search_word_set: for each query word a process has asked of the full-text index, the documents holding it in
each field (compressed bitsets) and the index generation they were read at, so that other processes, and this one
after a restart, read them instead of asking the full-text index again.

Revision ID: 0019_shared_word_sets
Revises: 0018_request_negotiations
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_shared_word_sets"
down_revision: str | None = "0018_request_negotiations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_word_set",
        sa.Column("word", sa.String(length=400), primary_key=True),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.LargeBinary(), nullable=False),
        sa.Column("keywords", sa.LargeBinary(), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_search_word_set_generation", "search_word_set", ["generation"])


def downgrade() -> None:
    op.drop_index("ix_search_word_set_generation", table_name="search_word_set")
    op.drop_table("search_word_set")
