"""The object store's settings: defaults and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.config import StorageSettings
from tests.support.s3_server import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, s3_url


def test_storage_settings_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PDR_STORAGE_URL", "PDR_S3_ACCESS_KEY", "PDR_S3_SECRET_KEY", "PDR_MAX_UPLOAD_BYTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = StorageSettings()
    assert settings.storage_url == (tmp_path.resolve() / "var" / "objects").as_uri()
    assert settings.max_upload_bytes == 10 * 1024**3
    assert not (tmp_path / "var").exists()
    settings.open_store().check_writable()
    assert (tmp_path / "var" / "objects").is_dir()


def test_storage_settings_from_environment(s3_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDR_STORAGE_URL", s3_url(s3_endpoint, s3_bucket))
    monkeypatch.setenv("PDR_S3_ACCESS_KEY", S3_ACCESS_KEY)
    monkeypatch.setenv("PDR_S3_SECRET_KEY", S3_SECRET_KEY)
    monkeypatch.setenv("PDR_S3_REGION", S3_REGION)
    settings = StorageSettings()
    assert S3_SECRET_KEY not in repr(settings)
    store = settings.open_store()
    store.check_writable()
    assert store.put_stream([b"via settings"]).created
