"""An S3-compatible server on 127.0.0.1 (moto, in a child process) and fresh buckets, for any test."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from minio import Minio

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
