"""Foundation: accounts, API tokens, audit trail.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the account, api_token and audit_event tables."""
    op.create_table(
        "account",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(26), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_account_name", "account", ["name"], unique=True)
    op.create_index("ix_account_entity_id", "account", ["entity_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("account_id", sa.String(26), sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_api_token_account_id", "api_token", ["account_id"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(26), nullable=True),
        sa.Column("actor_name", sa.String(100), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("client_addr", sa.String(64), nullable=True),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_audit_event_actor_id", "audit_event", ["actor_id"])


def downgrade() -> None:
    """Drop the foundation tables."""
    op.drop_table("audit_event")
    op.drop_table("api_token")
    op.drop_table("account")
