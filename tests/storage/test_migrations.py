"""Migrations: from an empty database to the newest revision, and back, on the engine under test."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from catalog.settings import Settings
from storage import migrate
from storage.db import make_engine
from storage.metadata import target_metadata


def test_empty_database_upgrades_to_head(settings: Settings) -> None:
    engine = make_engine(settings.db)
    assert migrate.current_revision(engine) is None
    assert not migrate.is_current(engine)
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    assert {"account", "api_token", "audit_event"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_tables_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), target_metadata())
    assert differences == []


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert "account" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
