"""Fixtures for the object store contract: one store per backend (the S3 server comes from `tests/plugins/s3.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from minio import Minio

from storage.objects import ObjectStore
from tests.support.object_stores import Backend, file_backend, s3_backend


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each contract test runs once per backend, each time on an empty store."""
    if request.param == "file":
        return file_backend(tmp_path / "objects")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    client: Minio = request.getfixturevalue("s3_client")
    bucket: str = request.getfixturevalue("s3_bucket")
    return s3_backend(endpoint, client, bucket)


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    """The store under test."""
    return backend.store
