"""Alembic environment: runs against the engine handed in by storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.metadata import include_name

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `pdr db upgrade` (storage.migrate), which supplies the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
