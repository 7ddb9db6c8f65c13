"""A database that cannot be reached, is lost mid-request, is busy or has no free connection answers 503 with
Retry-After and a problem body (never SQL or parameters, there or in the log), and the app recovers by itself."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import auth.service
from auth.roles import Role
from catalog.app import create_app
from catalog.settings import Settings
from registry import keys
from storage.db import DatabaseSettings, make_engine, session_scope
from tests.support.data import bearer, make_account
from tests.support.env import POSTGRES_URL
from tests.support.logs import CapturedLog, captured_log
from tests.support.tcp_proxy import TcpProxy

PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery"
PROBE_NAME = "outage-probe-name"
# What must never reach a log line: SQL and bound parameters (the probe's name is one); nor a client, with
# driver internals and tracebacks besides.
LOG_LEAKS = ("SELECT", "INSERT", "FROM account", "[SQL", PROBE_NAME)
RESPONSE_LEAKS = (*LOG_LEAKS, "psycopg", "sqlite", "sqlalchemy", "127.0.0.1", "Traceback")

on_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="a connection lost mid-request needs PostgreSQL")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_db(settings: Settings, url: str, **fields: object) -> Settings:
    settings.db = DatabaseSettings(database_url=url, **fields)  # type: ignore[arg-type]
    # The background build of the search mirror would race the outage for the first connection.
    settings.catalog.search_warm_up = False
    return settings


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["status"] == 503
    assert body["type"].endswith("/database-unavailable")
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    for leak in RESPONSE_LEAKS:
        assert leak not in response.text


def _assert_clean_log(log: CapturedLog) -> None:
    """Every line, in either format, is free of SQL and parameters; each warning or error has its request id."""
    for leak in LOG_LEAKS:
        assert leak not in log.text, log.text
        assert leak not in json.dumps(log.records(), ensure_ascii=False)
    problems = [r for r in log.records() if r["level"] in ("WARNING", "ERROR") and r["logger"].startswith("pdr.")]
    assert problems, "the outage was not logged"
    for record in problems:
        assert record["request_id"] not in (None, "-"), record


def _login(client: TestClient, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/v1/login", json={"name": PROBE_NAME, "password": password})


@pytest.fixture
def probe(engine: Engine, settings: Settings) -> str:
    """An account to sign in as; returns its token."""
    return make_account(engine, settings.auth, Role.consumer, name=PROBE_NAME, password=PASSWORD)[1]


def test_connection_refused_answers_503(settings: Settings) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test?connect_timeout=3"
    with captured_log() as log, TestClient(create_app(_with_db(settings, url))) as client:
        _assert_unavailable(_login(client))
        _assert_unavailable(client.get("/api/v1/entities/01hxxxxxxxxxxxxxxxxxxxxxxx"))
        _assert_unavailable(client.get("/api/v1/me", headers=bearer("pdr_" + "a" * 43)))
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unreachable"
        metrics = client.get("/metrics").text
    assert 'status="503"' in metrics and 'status="500"' not in metrics
    _assert_clean_log(log)


def test_a_database_that_never_answers_is_a_503_not_a_hang(settings: Settings) -> None:
    # A server that takes the connection (the kernel's backlog does) but never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
        settings = _with_db(settings, url, database_connect_timeout_seconds=2)
        with captured_log() as log, TestClient(create_app(settings)) as client, ThreadPoolExecutor(1) as pool:
            answer = pool.submit(client.get, "/api/v1/entities/01hxxxxxxxxxxxxxxxxxxxxxxx")
            # A watchdog, not a measurement: without a connect timeout this request would never end.
            _assert_unavailable(answer.result(timeout=120))
    _assert_clean_log(log)


@contextlib.contextmanager
def _unreachable(settings: Settings, client: TestClient, proxy: TcpProxy | None, tmp_path: Path) -> Iterator[None]:
    """Take the app's database away for the block: SQLite's folder is moved, PostgreSQL's proxy stopped."""
    if proxy is not None:
        proxy.stop()
        try:
            yield
        finally:
            proxy.start()
        return
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    folder = Path(str(make_url(settings.db.database_url).database)).parent
    away = tmp_path / "moved-away"
    engine.dispose()  # the process's open connections would keep the moved file open
    folder.rename(away)
    try:
        yield
    finally:
        away.rename(folder)


def test_an_unreachable_database_answers_503_until_it_is_back(
    settings: Settings, migrated_url: str, tmp_path: Path
) -> None:
    proxy = None
    if POSTGRES_URL:
        parsed = make_url(migrated_url)
        proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
        url = parsed.set(port=proxy.port, host="127.0.0.1").render_as_string(hide_password=False)
    else:
        folder = tmp_path / "db"
        folder.mkdir()
        shutil.copyfile(str(make_url(migrated_url).database), folder / "pdr.db")
        url = f"sqlite:///{folder / 'pdr.db'}"
    settings = _with_db(settings, url)
    direct = make_engine(settings.db)
    make_account(direct, settings.auth, Role.consumer, name=PROBE_NAME, password=PASSWORD)
    with session_scope(direct) as session:
        keys.init_keys(session, settings.log_origin, settings.passphrase)
    direct.dispose()
    try:
        with captured_log() as log, TestClient(create_app(settings)) as client:
            assert _login(client).status_code == 200
            with _unreachable(settings, client, proxy, tmp_path):
                _assert_unavailable(_login(client))
                _assert_unavailable(_login(client))
                assert client.get("/readyz").status_code == 503
            # Back without restarting the app: the pool replaces its dead connections.
            assert _login(client).status_code == 200
            assert client.get("/readyz").status_code == 200
    finally:
        if proxy is not None:
            proxy.stop()
    _assert_clean_log(log)


def _application_name(url: str, name: str) -> str:
    parsed = make_url(url)
    return parsed.set(query={**parsed.query, "application_name": name}).render_as_string(hide_password=False)


@on_postgres
def test_a_connection_lost_mid_request_answers_503_and_the_next_request_works(
    settings: Settings, probe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"pdr-outage-{uuid.uuid4().hex[:12]}"
    settings = _with_db(settings, _application_name(settings.db.database_url, name))
    admin = create_engine(make_url(settings.db.database_url).set(query={}))
    original = auth.service.verify_password

    def cut_then_verify(password: str, hashed: str | None) -> bool:
        # Between the sign-in's reads and its write, the server ends this app's connections.
        with admin.begin() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": name},
            )
        return original(password, hashed)

    try:
        with captured_log() as log, TestClient(create_app(settings)) as client:
            monkeypatch.setattr(auth.service, "verify_password", cut_then_verify)
            _assert_unavailable(_login(client))
            monkeypatch.undo()
            assert _login(client).status_code == 200
    finally:
        admin.dispose()
    _assert_clean_log(log)


@contextlib.contextmanager
def _write_lock(settings: Settings) -> Iterator[None]:
    """Hold the database's write lock (SQLite) or a table lock (PostgreSQL) from another connection."""
    url = make_url(settings.db.database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database), isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(url.set(drivername="postgresql+psycopg"))
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE api_token IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def _busy_settings(settings: Settings) -> Settings:
    url = make_url(settings.db.database_url)
    if url.get_backend_name() == "sqlite":
        return _with_db(settings, settings.db.database_url, database_busy_timeout_ms=200)
    options = url.query.get("options", "")
    assert isinstance(options, str)
    busy = url.set(query={**url.query, "options": f"{options} -c lock_timeout=200".strip()})
    return _with_db(settings, busy.render_as_string(hide_password=False))


def test_a_busy_database_answers_503_until_the_lock_is_released(settings: Settings, probe: str) -> None:
    with captured_log() as log, TestClient(create_app(_busy_settings(settings))) as client:
        with _write_lock(settings):
            _assert_unavailable(client.post("/api/v1/tokens", json={"name": "busy"}, headers=bearer(probe)))
        assert client.post("/api/v1/tokens", json={"name": "free"}, headers=bearer(probe)).status_code == 201
    _assert_clean_log(log)


def test_an_exhausted_pool_answers_503_and_recovers(settings: Settings, probe: str) -> None:
    settings = _with_db(settings, settings.db.database_url, database_pool_size=1, database_pool_timeout_seconds=0.5)
    with captured_log() as log, TestClient(create_app(settings)) as client:
        engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
        held = [engine.connect() for _ in range(2)]  # the pool's one connection and its one overflow
        try:
            _assert_unavailable(client.get("/api/v1/me", headers=bearer(probe)))
        finally:
            for connection in held:
                connection.close()
        assert client.get("/api/v1/me", headers=bearer(probe)).status_code == 200
    _assert_clean_log(log)


def test_a_database_error_that_is_no_outage_stays_a_500_without_sql(app: FastAPI) -> None:
    @app.get("/broken-query")
    def broken_query() -> None:
        engine: Engine = app.state.engine
        with engine.connect() as connection:
            connection.execute(text("SELECT secret_column FROM no_such_table WHERE x = :p"), {"p": PROBE_NAME})

    with captured_log() as log, TestClient(app) as client:
        response = client.get("/broken-query")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret_column" not in response.text and PROBE_NAME not in response.text
    assert "secret_column" not in log.text and PROBE_NAME not in log.text
    errors = [r for r in log.records() if r["level"] == "ERROR"]
    assert errors and all(r["request_id"] == response.headers["x-request-id"] for r in errors)
    assert "secret_column" not in json.dumps(errors, ensure_ascii=False)
