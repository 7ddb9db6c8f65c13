"""Readiness covers the signing keys: not ready while they are missing, or in production while they are stored
unencrypted or cannot be opened with the passphrase (issuing would answer 503)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from auth.config import AuthSettings
from catalog.app import create_app
from catalog.settings import Environment, Settings
from registry import keys
from storage.db import make_engine, session_scope

STRONG_SECRET = "kQ7v-X2mP4rT8wZ1nB6yH3cJ5fL0dSa9"
PASSPHRASE = "violet harbour tractor sixteen plum"


@pytest.fixture
def production(settings: Settings) -> Settings:
    """The test's settings in production mode, with secrets production accepts."""
    settings.env = Environment.production
    settings.auth = AuthSettings(secret_key=SecretStr(STRONG_SECRET))
    settings.key_passphrase = SecretStr(PASSPHRASE)
    settings.base_url = "https://registry.example"
    return settings


@pytest.fixture
def bare_engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the migrated test database, with no signing keys yet."""
    engine = make_engine(settings.db)
    yield engine
    engine.dispose()


def _init_keys(engine: Engine, settings: Settings, passphrase: str | None) -> None:
    with session_scope(engine) as session:
        keys.init_keys(session, settings.log_origin, passphrase)


def _readyz(settings: Settings) -> tuple[int, dict[str, str]]:
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    return response.status_code, response.json()["checks"]


def test_production_with_unencrypted_keys_is_not_ready(production: Settings, bare_engine: Engine) -> None:
    _init_keys(bare_engine, production, None)
    status, checks = _readyz(production)
    assert status == 503
    assert "unencrypted" in checks["keys"]
    assert checks["database"] == "ok"


def test_production_with_keys_the_passphrase_does_not_open_is_not_ready(
    production: Settings, bare_engine: Engine
) -> None:
    _init_keys(bare_engine, production, "another passphrase entirely, not ours")
    status, checks = _readyz(production)
    assert status == 503
    assert "PDR_KEY_PASSPHRASE" in checks["keys"]


def test_production_with_encrypted_keys_is_ready(production: Settings, bare_engine: Engine) -> None:
    _init_keys(bare_engine, production, PASSPHRASE)
    status, checks = _readyz(production)
    assert status == 200
    assert checks["keys"] == "ok"


def test_missing_keys_are_not_ready(settings: Settings, bare_engine: Engine) -> None:
    status, checks = _readyz(settings)
    assert status == 503
    assert "pdr keys init" in checks["keys"] or "pdr init" in checks["keys"]
