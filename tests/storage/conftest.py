"""Fixtures for the object store contract: one store per backend, an S3 server on 127.0.0.1."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio import Minio

from storage.objects import ObjectStore, open_object_store

S3_ACCESS_KEY = "testing-access"
S3_SECRET_KEY = "testing-secret"
S3_REGION = "us-east-1"
S3_PREFIX = "pdr"

# moto runs in a child process so tracemalloc in the memory tests sees only the client side:
# the in-process server holds whole multipart objects in memory while completing them.
_SERVER = """
import sys
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


@dataclass(frozen=True)
class Backend:
    """A store under test plus the backend-specific ways to tamper with it from outside."""

    kind: str
    store: ObjectStore
    plant_temporary: Callable[[bytes], None]
    overwrite_object: Callable[[str, bytes], None]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of a moto S3 server for the whole session."""
    log = tmp_path_factory.mktemp("moto") / "server.log"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_DEFAULT_REGION": S3_REGION,
    }
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=env,
            text=True,
        )
    assert server.stdout is not None and server.stdin is not None
    port = server.stdout.readline().strip()
    if not port.isdigit():
        server.kill()
        server.wait()
        pytest.fail(f"moto server did not start: {log.read_text()[-2000:]}")
    yield f"127.0.0.1:{port}"
    server.stdin.close()  # the child stops its server when stdin closes
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    server.stdout.close()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Minio:
    """A plain minio client for arranging and inspecting the bucket behind the store."""
    return Minio(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, secure=False, region=S3_REGION)


@pytest.fixture
def s3_bucket(s3_client: Minio) -> str:
    """A fresh, empty bucket for one test."""
    bucket = f"pdr-test-{uuid.uuid4().hex[:16]}"
    s3_client.make_bucket(bucket)
    return bucket


def s3_url(endpoint: str, bucket: str) -> str:
    """The store URL for a bucket on the test server."""
    return f"s3://{bucket}/{S3_PREFIX}?endpoint={endpoint}&secure=false"


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
