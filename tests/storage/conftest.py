"""Fixtures for the object store contract: one store per backend, an S3 server on 127.0.0.1."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio import Minio

from storage.objects import ObjectStore
from storage.stores import open_object_store
from tests.s3_server import S3_ACCESS_KEY, S3_PREFIX, S3_REGION, S3_SECRET_KEY, s3_url


@dataclass(frozen=True)
class Backend:
    """A store under test plus the backend-specific ways to tamper with it from outside."""

    kind: str
    store: ObjectStore
    plant_temporary: Callable[[bytes], None]
    overwrite_object: Callable[[str, bytes], None]


def _file_backend(root: Path) -> Backend:
    store = open_object_store(root.as_uri(), access_key=None, secret_key=None)

    def plant_temporary(data: bytes) -> None:
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        (root / "tmp" / f"upload-{uuid.uuid4().hex}").write_bytes(data)

    def overwrite_object(sha256: str, data: bytes) -> None:
        path = store.local_path(sha256)
        assert path is not None
        path.write_bytes(data)

    return Backend("file", store, plant_temporary, overwrite_object)


def _s3_backend(endpoint: str, client: Minio, bucket: str) -> Backend:
    store = open_object_store(
        s3_url(endpoint, bucket), access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, region=S3_REGION
    )

    def put(key: str, data: bytes) -> None:
        client.put_object(bucket, key, io.BytesIO(data), length=len(data))

    def plant_temporary(data: bytes) -> None:
        put(f"{S3_PREFIX}/tmp/upload-{uuid.uuid4().hex}", data)

    def overwrite_object(sha256: str, data: bytes) -> None:
        put(f"{S3_PREFIX}/objects/{sha256[:2]}/{sha256[2:4]}/{sha256}", data)

    return Backend("s3", store, plant_temporary, overwrite_object)


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each contract test runs once per backend, each time on an empty store."""
    if request.param == "file":
        return _file_backend(tmp_path / "objects")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    client: Minio = request.getfixturevalue("s3_client")
    bucket: str = request.getfixturevalue("s3_bucket")
    return _s3_backend(endpoint, client, bucket)


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    """The store under test."""
    return backend.store
