"""The SQL engine and sessions: SQLite (embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from storage.exceptions import ServiceUnavailable


def _default_database_url() -> str:
    return "sqlite:///" + str(Path("var/pdr.db").resolve())


class DatabaseSettings(BaseSettings):
    """Where the rows live."""

    model_config = SettingsConfigDict(env_prefix="PDR_", extra="ignore")

    database_url: str = Field(default_factory=_default_database_url)
    database_pool_size: int = 10
    database_busy_timeout_ms: int = 10_000

    @property
    def is_sqlite(self) -> bool:
        """Whether the URL names an SQLite database."""
        return make_url(self.database_url).get_backend_name() == "sqlite"


class DataFolderNotWritable(ServiceUnavailable):
    """The folder that should hold the embedded database cannot be created or written."""

    title = "Data folder not writable"
    type_slug = "data-folder-not-writable"


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of an SQLite file database, or say clearly why it cannot be written."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    folder = Path(parsed.database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".pdr-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataFolderNotWritable(
            f"the data folder {folder} cannot be written ({exc.strerror}); "
            "set PDR_DATABASE_URL or fix the folder's permissions"
        ) from exc


def make_engine(settings: DatabaseSettings) -> Engine:
    """Build the engine for the configured URL with the pragmas and pool each engine needs."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        ensure_sqlite_folder(settings.database_url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": settings.database_busy_timeout_ms / 1000},
        )
        busy_timeout = settings.database_busy_timeout_ms

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN; we issue it ourselves so that
            # writers take the lock at BEGIN IMMEDIATE time and never deadlock on upgrade.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose uncommitted work is rolled back when the block ends (closing does it).

    Objects stay readable after the block: commits do not expire them, and closing detaches them as loaded.
    """
    with Session(engine, expire_on_commit=False) as session:
        yield session
