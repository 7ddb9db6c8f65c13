"""Fixtures shared by every test: a fresh database (SQLite file, or a PostgreSQL schema) and app per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from auth.config import AuthSettings
from catalog.app import create_app
from catalog.settings import Settings
from registry import keys
from storage import migrate
from storage.config import StorageSettings
from storage.db import DatabaseSettings, make_engine, session_scope

pytest_plugins = ["tests.s3_server"]

POSTGRES_URL = os.environ.get("PDR_TEST_DATABASE_URL")
TEST_SECRET = "test-secret-key-for-token-hashing"
_postgres_tests_run = 0


def _with_search_path(url: str, schema: str) -> str:
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


def _new_schema(admin: Engine) -> str:
    schema = "t_" + uuid.uuid4().hex[:16]
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema


def _admin_engine() -> Engine:
    assert POSTGRES_URL
    return create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An EMPTY database of the test's own: an SQLite file, or a fresh schema on PDR_TEST_DATABASE_URL."""
    global _postgres_tests_run
    if not POSTGRES_URL:
        yield "sqlite:///" + str(tmp_path / "empty.db")
        return
    admin = _admin_engine()
    schema = _new_schema(admin)
    _postgres_tests_run += 1
    try:
        yield _with_search_path(POSTGRES_URL, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per session: an SQLite file to copy, or a PostgreSQL schema to empty per test."""
    if not POSTGRES_URL:
        path = tmp_path_factory.mktemp("template") / "pdr.db"
        engine = make_engine(DatabaseSettings(database_url=f"sqlite:///{path}"))
        migrate.upgrade(engine)
        engine.dispose()  # the last connection to close checkpoints the WAL into the file
        assert not path.with_name(path.name + "-wal").exists()
        yield str(path)
        return
    admin = _admin_engine()
    schema = _new_schema(admin)
    url = _with_search_path(POSTGRES_URL, schema)
    engine = make_engine(DatabaseSettings(database_url=url))
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def migrated_url(migrated_template: str, tmp_path: Path) -> str:
    """A migrated database at the test's start: a copy of the template, or the shared schema emptied."""
    global _postgres_tests_run
    if not POSTGRES_URL:
        target = tmp_path / "pdr.db"
        shutil.copyfile(migrated_template, target)
        return f"sqlite:///{target}"
    _postgres_tests_run += 1
    engine = create_engine(make_url(migrated_template))
    with engine.begin() as connection:
        tables = [
            name
            for name in connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            if name != "alembic_version"
        ]
        if tables:
            quoted = ", ".join(f'"{table}"' for table in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return migrated_template


@pytest.fixture
def settings(migrated_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test's migrated database and its own object folder."""
    return Settings(
        db=DatabaseSettings(database_url=migrated_url),
        objects=StorageSettings(storage_url="file://" + str(tmp_path / "objects")),
        auth=AuthSettings(secret_key=SecretStr(TEST_SECRET)),
        base_url="http://testserver",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the test's migrated database, with the registry's signing keys created."""
    engine = make_engine(settings.db)
    with session_scope(engine) as session:
        keys.init_keys(session, settings.log_origin, settings.passphrase)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    """A fresh app on the migrated test database."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client running the app's lifespan."""
    with TestClient(app) as test_client:
        yield test_client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave evidence of how many tests ran on PostgreSQL, for CI to check."""
    report = os.environ.get("PDR_TEST_BACKEND_REPORT")
    if report:
        Path(report).write_text(f"postgresql_tests={_postgres_tests_run}\n")
