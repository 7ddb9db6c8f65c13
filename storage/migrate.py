"""Schema migrations: one Alembic history for SQLite and PostgreSQL, run programmatically.

Alembic is imported only to change the schema: a serving worker asks whether the schema is current on every
`/readyz`, and answers that from the file names of the history and one read of the version table, which keeps
Alembic and what it drags in (Mako, Pygments) out of the worker's memory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, column, inspect, select, table

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Alembic's default: where the database records the revision it is at.
VERSION_TABLE = table("alembic_version", column("version_num"))


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at pdr's migrations, bound to an engine when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    """The newest revision of the migration history: the history is linear and each revision is named after its file,
    numbered in order (tests/storage/test_migrate.py holds it to that against Alembic's own reading)."""
    names = sorted(path.stem for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    return names[-1] if names else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE.name):
            return None
        return connection.execute(select(VERSION_TABLE.c.version_num)).scalar()


def is_current(engine: Engine) -> bool:
    """Whether the database schema is at the newest revision."""
    return current_revision(engine) == head_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to the given revision."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to the given revision."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)
