"""The search index's token format is recorded: full-text entries written before this revision are in format 1
(English words by their stem alone) and are rewritten in the current format when the service starts.

Fresh databases hold no entries, so they start in the current format (2: a word that is not its own stem is
followed by its spelling, so exact spellings rank above shared stems).

Revision ID: 0009_search_text_format
Revises: 0008_audit_tally
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_search_text_format"
down_revision: str | None = "0008_audit_tally"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Record the format of the entries already written."""
    op.execute(
        "INSERT INTO catalog_sync (name, position) "
        "SELECT 'search_text_format', CASE WHEN EXISTS (SELECT 1 FROM dataset_search) THEN 1 ELSE 2 END"
    )


def downgrade() -> None:
    """Forget it: the entries keep working, their spellings unused."""
    op.execute("DELETE FROM catalog_sync WHERE name = 'search_text_format'")
