"""Alembic environment: runs against the engine handed in by storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from storage.metadata import include_name

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `pdr db upgrade` (storage.migrate), which supplies the engine")


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite's foreign key enforcement, outside any transaction (inside one SQLite ignores it)."""
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]


with engine.connect() as connection:
    # A batch migration on SQLite rebuilds a table (copy, drop, rename); when other tables refer to it, SQLite's
    # own advice is to switch foreign keys off around the rebuild and check them all afterwards.
    on_sqlite = connection.dialect.name == "sqlite"
    if on_sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            render_as_batch=on_sqlite,
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
            if on_sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration would leave {len(broken)} rows referring to nothing")
        connection.commit()
    finally:
        if on_sqlite:
            _sqlite_foreign_keys(connection, on=True)
