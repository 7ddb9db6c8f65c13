"""Object stores under contract test: a store plus the backend's own ways to tamper with it from outside."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from minio import Minio

from storage.objects import ObjectStore
from storage.stores import open_object_store
from tests.support.s3_server import S3_ACCESS_KEY, S3_PREFIX, S3_REGION, S3_SECRET_KEY, s3_url


@dataclass(frozen=True)
class Backend:
    """A store under test plus the backend-specific ways to tamper with it from outside."""

    kind: str
    store: ObjectStore
    plant_temporary: Callable[[bytes], None]
    overwrite_object: Callable[[str, bytes], None]


def file_backend(root: Path) -> Backend:
    """A `file://` store rooted at a folder."""
    store = open_object_store(root.as_uri(), access_key=None, secret_key=None)

    def plant_temporary(data: bytes) -> None:
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        (root / "tmp" / f"upload-{uuid.uuid4().hex}").write_bytes(data)

    def overwrite_object(sha256: str, data: bytes) -> None:
        path = store.local_path(sha256)
        assert path is not None
        path.write_bytes(data)

    return Backend("file", store, plant_temporary, overwrite_object)


def s3_backend(endpoint: str, client: Minio, bucket: str) -> Backend:
    """An `s3://` store on a bucket of the test server."""
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
