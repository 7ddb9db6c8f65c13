"""Anonymous refusals are counted per minute, action and status instead of written one row each; the sign-in's
limits find failures by account name and by client address.

Revision ID: 0008_audit_tally
Revises: 0007_search_sequence
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0008_audit_tally"
down_revision: str | None = "0007_search_sequence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create audit_tally and the two indexes of audit_event."""
    op.create_table(
        "audit_tally",
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "action", "status"),
    )
    op.create_index("ix_audit_event_target_at", "audit_event", ["target", "at"])
    op.create_index("ix_audit_event_client_addr_at", "audit_event", ["client_addr", "at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_audit_event_client_addr_at", table_name="audit_event")
    op.drop_index("ix_audit_event_target_at", table_name="audit_event")
    op.drop_table("audit_tally")
