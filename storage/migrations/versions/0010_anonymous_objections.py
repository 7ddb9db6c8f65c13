"""Anyone may object during a public notice: an objection without an account carries the objector's name,
contact and address (for the rate limit), which only the registry's staff see.

Revision ID: 0010_anonymous_objections
Revises: 0009_search_text_format
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_anonymous_objections"
down_revision: str | None = "0009_search_text_format"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Let filed_by be empty and add the objector's name, contact and address."""
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.alter_column("filed_by", existing_type=sa.String(26), nullable=True)
        batch_op.add_column(sa.Column("objector_name", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("objector_contact", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("filed_from", sa.String(64), nullable=True))
        batch_op.create_index("ix_objection_filed_from_filed_at", ["filed_from", "filed_at"], unique=False)


def downgrade() -> None:
    """Drop the anonymous objections' columns; objections without an account go with them."""
    op.execute("DELETE FROM objection WHERE filed_by IS NULL")
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.drop_index("ix_objection_filed_from_filed_at")
        batch_op.drop_column("filed_from")
        batch_op.drop_column("objector_contact")
        batch_op.drop_column("objector_name")
        batch_op.alter_column("filed_by", existing_type=sa.String(26), nullable=False)
