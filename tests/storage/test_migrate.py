"""Migrations: from an empty database to the newest revision, and back, on the engine under test."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from catalog.tables import metadata
from storage import migrate
from storage.db import DatabaseSettings, make_engine
from storage.metadata import include_name


def test_empty_database_upgrades_to_head(database_url: str) -> None:
    engine = make_engine(DatabaseSettings(database_url=database_url))
    assert migrate.current_revision(engine) is None
    assert not migrate.is_current(engine)
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    assert {"account", "api_token", "audit_event"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_tables_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        differences = compare_metadata(context, metadata())
    assert differences == []


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    engine = make_engine(DatabaseSettings(database_url=database_url))
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert "account" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    engine.dispose()
