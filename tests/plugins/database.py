"""Per-test databases and apps: an SQLite file under tmp_path, or a PostgreSQL schema of the test's own.

Safe under pytest-xdist: every worker migrates its own template (an SQLite file under the worker's own basetemp,
or a PostgreSQL schema named after the worker), and PostgreSQL schema names carry the worker id and a random part.
The run counts the tests that used PostgreSQL; each worker hands its count to the controller, which writes the
total to `PDR_TEST_BACKEND_REPORT` (see `pytest_sessionfinish`), so `.ci/run` can tell the PostgreSQL run ran.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from auth.config import AuthSettings
from catalog.app import create_app
from catalog.search import shared_words
from catalog.settings import Settings
from registry import keys
from storage import migrate
from storage.config import StorageSettings
from storage.db import DatabaseSettings, make_engine, session_scope
from tests.support.env import BACKEND_REPORT, POSTGRES_URL, TEST_SECRET

_POSTGRES_TESTS = pytest.StashKey[int]()
_WORKER_OUTPUT_KEY = "postgresql_tests"


def _count_postgres_tests(config: pytest.Config, count: int = 1) -> None:
    config.stash[_POSTGRES_TESTS] = config.stash.get(_POSTGRES_TESTS, 0) + count


def _with_search_path(url: str, schema: str) -> str:
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


def _schema_name() -> str:
    """A schema name no other worker or run can pick: the xdist worker id (or "main") and 64 random bits."""
    worker = re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "main").lower())[:12] or "main"
    return f"t_{worker}_{uuid.uuid4().hex[:16]}"


def _new_schema(admin: Engine) -> str:
    schema = _schema_name()
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema


def _drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _admin_engine() -> Engine:
    assert POSTGRES_URL
    return create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))


@pytest.fixture
def database_url(tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[str]:
    """An EMPTY database of the test's own: an SQLite file, or a fresh schema on PDR_TEST_DATABASE_URL."""
    if not POSTGRES_URL:
        yield "sqlite:///" + str(tmp_path / "empty.db")
        return
    admin = _admin_engine()
    schema = _new_schema(admin)
    _count_postgres_tests(pytestconfig)
    try:
        yield _with_search_path(POSTGRES_URL, schema)
    finally:
        _drop_schema(admin, schema)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per session (per worker): an SQLite file to copy, or a PostgreSQL schema to empty."""
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
        _drop_schema(admin, schema)


@pytest.fixture
def migrated_url(migrated_template: str, tmp_path: Path, pytestconfig: pytest.Config) -> str:
    """A migrated database at the test's start: a copy of the template, or the worker's schema emptied."""
    if not POSTGRES_URL:
        target = tmp_path / "pdr.db"
        shutil.copyfile(migrated_template, target)
        return f"sqlite:///{target}"
    _count_postgres_tests(pytestconfig)
    # The schema is the worker's, emptied for each test: a word set an earlier test's search is still storing in
    # the background must land before the emptying, not in this test's catalog.
    shared_words.wait_stored()
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


# ---------------------------------------------------------------- how many tests ran on PostgreSQL


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: add up what each worker counted (a crashed worker reports nothing)."""
    output = getattr(node, "workeroutput", None) or {}
    _count_postgres_tests(node.config, int(output.get(_WORKER_OUTPUT_KEY, 0)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave evidence of how many tests ran on PostgreSQL, for CI to check: once, from the controller."""
    count = session.config.stash.get(_POSTGRES_TESTS, 0)
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller sums the counts and writes the report
        workeroutput[_WORKER_OUTPUT_KEY] = count
        return
    if BACKEND_REPORT:
        Path(BACKEND_REPORT).write_text(f"postgresql_tests={count}\n")
