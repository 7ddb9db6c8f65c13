"""The one SQLModel metadata that migrations and drift checks compare against."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData
from sqlmodel import SQLModel

# Every package's table module, imported lazily so that nothing loads at import time.
MODEL_MODULES = ("auth.models", "registry.models", "catalog.models", "catalog.exchange_models")


def target_metadata() -> MetaData:
    """Import every table module and return the shared metadata."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return SQLModel.metadata


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
