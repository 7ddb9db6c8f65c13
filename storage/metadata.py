"""What the migrations' drift checks leave out: the hand-made full-text tables and indexes no model describes."""

from __future__ import annotations

# The catalog's full-text index is engine-specific (an FTS5 table and its shadow tables on SQLite, a tsvector
# table on PostgreSQL); migrations create it by hand and no model describes it.
UNMODELLED_TABLE_PREFIX = "dataset_fts"
# PostgreSQL's title order by code point is an expression index (title_key COLLATE "C"); no model can say so.
UNMODELLED_INDEXES = frozenset({"ix_dataset_search_title_order"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's include_name hook: leave the hand-made full-text tables and indexes out of drift checks."""
    if type_ == "index" and name in UNMODELLED_INDEXES:
        return False
    return not (type_ == "table" and name is not None and name.startswith(UNMODELLED_TABLE_PREFIX))
