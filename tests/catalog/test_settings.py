"""Settings: production refuses development secrets; an unwritable data folder is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from auth.config import AuthSettings
from catalog.app import create_app
from catalog.settings import Environment, Settings, UnsafeSettings
from storage.config import StorageSettings
from storage.db import DatabaseSettings, DataFolderNotWritable

# Production secrets: at least 32 bytes of some variety (a token from `secrets.token_urlsafe(32)`, a long phrase).
STRONG_SECRET = "kQ7v-X2mP4rT8wZ1nB6yH3cJ5fL0dSa9"
STRONG_PASSPHRASE = "violet harbour tractor sixteen plum"


def _production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": Environment.production,
        "auth": AuthSettings(secret_key=SecretStr(STRONG_SECRET)),
        "key_passphrase": SecretStr(STRONG_PASSPHRASE),
        "base_url": "https://registry.example",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(UnsafeSettings, match="PDR_SECRET_KEY"):
        create_app(_production(auth=AuthSettings()))


def test_production_refuses_unencrypted_keys() -> None:
    with pytest.raises(UnsafeSettings, match="PDR_KEY_PASSPHRASE"):
        create_app(_production(key_passphrase=None))


def test_production_accepts_safe_settings() -> None:
    assert create_app(_production()).state.settings.env == Environment.production


def test_development_tolerates_defaults() -> None:
    assert create_app(Settings()).state.settings.env == Environment.development


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDR_ENV", "production")
    monkeypatch.setenv("PDR_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("PDR_STORAGE_URL", "file:///srv/objects")
    settings = Settings()
    assert settings.env == Environment.production
    assert settings.db.database_url == "postgresql+psycopg://u@h/db"
    assert settings.objects.storage_url == "file:///srv/objects"
    assert "PDR_SECRET_KEY is the development default" in settings.unsafe_for_production()


def test_unwritable_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    settings = Settings(
        db=DatabaseSettings(database_url="sqlite:///" + str(blocker / "pdr.db")),
        objects=StorageSettings(storage_url="file://" + str(tmp_path / "objects")),
    )
    with pytest.raises(DataFolderNotWritable, match="cannot be written"), TestClient(create_app(settings)):
        pass


def test_unwritable_object_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings = Settings(
        db=DatabaseSettings(database_url="sqlite:///" + str(tmp_path / "pdr.db")),
        objects=StorageSettings(storage_url="file://" + str(blocker / "objects")),
    )
    with pytest.raises(Exception, match=r"(?i)object store|not writable|cannot"), TestClient(create_app(settings)):
        pass


def test_production_refuses_short_secrets() -> None:
    weak = _production(auth=AuthSettings(secret_key=SecretStr("a")), key_passphrase=SecretStr("b"))
    problems = weak.unsafe_for_production()
    assert any("PDR_SECRET_KEY" in p and "32 bytes" in p for p in problems)
    assert any("PDR_KEY_PASSPHRASE" in p and "32 bytes" in p for p in problems)
    with pytest.raises(UnsafeSettings):
        create_app(weak)


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 64,
        "ab" * 32,
        "Passw0rd!" * 4,
        "abcdefghijklmnopqrstuvwxyzabcdefgh",
        "0123456789" * 4,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefgh",
    ],
)
def test_production_refuses_secrets_of_low_variety(secret: str) -> None:
    weak = _production(auth=AuthSettings(secret_key=SecretStr(secret)), key_passphrase=SecretStr(secret))
    problems = weak.unsafe_for_production()
    assert any("PDR_SECRET_KEY" in p and "variety" in p for p in problems), problems
    assert any("PDR_KEY_PASSPHRASE" in p and "variety" in p for p in problems), problems


def test_production_accepts_random_secrets_and_long_phrases() -> None:
    import secrets

    for _ in range(200):
        for secret in (secrets.token_urlsafe(32), secrets.token_hex(16), secrets.token_hex(32)):
            settings = _production(auth=AuthSettings(secret_key=SecretStr(secret)))
            assert settings.unsafe_for_production() == [], secret
    phrase = _production(key_passphrase=SecretStr("correct horse battery staple violet"))
    assert phrase.unsafe_for_production() == []
