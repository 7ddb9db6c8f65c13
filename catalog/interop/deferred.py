"""Secondary indexes set aside while a large import fills a nearly empty catalog, and built again after the load.

Building an index once over all its rows costs a fraction of keeping it up to date row by row, above all
PostgreSQL's full-text GIN index. Only indexes that nothing relies on for correctness are set aside: primary keys
and unique constraints (names, which make the import idempotent; foreign keys' targets) stay. Searches stay
right meanwhile, only slower. An import that dies before building them again leaves them missing; the next
import builds them first (``restore``), whatever its size.
"""

from __future__ import annotations

from sqlalchemy import Engine, Index, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from catalog.datasets.models import Dataset, DatasetDistribution, DatasetVersion
from catalog.search.models import DatasetSearch, DatasetTag

_TABLES: tuple[type[SQLModel], ...] = (Dataset, DatasetVersion, DatasetDistribution, DatasetSearch, DatasetTag)
# PostgreSQL's indexes that no model describes, exactly as the migrations create them (0005, 0007); a test holds
# the definitions found after an import that set them aside to those found before.
_POSTGRES_ONLY = {
    "ix_dataset_fts_vector": "CREATE INDEX ix_dataset_fts_vector ON dataset_fts USING gin (vector)",
    "ix_dataset_search_title_order": (
        'CREATE INDEX ix_dataset_search_title_order ON dataset_search (state, (title_key COLLATE "C"), doc)'
    ),
}
# Memory PostgreSQL may use to sort an index being built: far less work than its default 64 MB at a million rows.
_BUILD_MEMORY = "512MB"


def _modelled() -> dict[str, Index]:
    """The non-unique indexes the models declare on the catalog's dataset and search tables, by name."""
    found: dict[str, Index] = {}
    for model in _TABLES:
        for index in model.__table__.indexes:  # type: ignore[attr-defined]
            if not index.unique and index.name:
                found[str(index.name)] = index
    return found


def _present(connection: Connection) -> set[str]:
    """Names of the indexes the database holds in the current schema."""
    if connection.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return {str(name) for (name,) in connection.execute(text(sql))}


def _deferrable(connection: Connection) -> list[str]:
    """Names of the indexes an import may set aside on this engine."""
    names = list(_modelled())
    return names + list(_POSTGRES_ONLY) if connection.dialect.name == "postgresql" else names


def set_aside(engine: Engine) -> list[str]:
    """Drop the secondary indexes (committed at once, so the load's batches never write them); their names."""
    with engine.begin() as connection:
        dropped = [name for name in _deferrable(connection) if name in _present(connection)]
        for name in dropped:
            # The names are our own constants and the models' index names, never input.
            connection.execute(text(f"DROP INDEX {connection.dialect.identifier_preparer.quote(name)}"))
    return dropped


def restore(engine: Engine) -> list[str]:
    """Build every secondary index the catalog's tables lack (after a load, or an import that died); their names."""
    with engine.begin() as connection:
        missing = [name for name in _deferrable(connection) if name not in _present(connection)]
        if not missing:
            return []
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text(f"SET LOCAL maintenance_work_mem = '{_BUILD_MEMORY}'"))
        modelled = _modelled()
        for name in missing:
            if name in modelled:
                modelled[name].create(connection)
            else:
                connection.execute(text(_POSTGRES_ONLY[name]))
        if postgres:
            # The planner learns the tables' new size now rather than when autovacuum gets to it.
            connection.execute(text("ANALYZE " + ", ".join(str(m.__tablename__) for m in _TABLES) + ", dataset_fts"))
    return missing


def nearly_empty(engine: Engine, expected: int) -> bool:
    """Whether the catalog holds less than a tenth of what an import of `expected` records will write."""
    with engine.connect() as connection:
        held = connection.execute(text("SELECT count(*) FROM dataset")).scalar_one()
    return int(held) * 10 < expected
