"""Migrations: from an empty database to the newest revision, and back, on the engine under test."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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


def test_the_newest_file_is_the_head_alembic_reads() -> None:
    history = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head_revision() == history.get_current_head()
    # Each revision is named after its file, so the newest file names the head without Alembic.
    assert all(script.revision == Path(script.path).stem for script in history.walk_revisions())
    assert len(list(history.walk_revisions())) == len(list((migrate.MIGRATIONS_DIR / "versions").glob("[0-9]*.py")))
