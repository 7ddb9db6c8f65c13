"""S3 fixtures: a moto server on 127.0.0.1 per pytest process (per xdist worker), a client, a fresh bucket per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from minio import Minio

from tests.support.s3_server import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, ServerDidNotStart, moto_server


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of a moto S3 server for the whole session (of this worker)."""
    log = tmp_path_factory.mktemp("moto") / "server.log"
    try:
        with moto_server(log) as endpoint:
            yield endpoint
    except ServerDidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture
def s3_client(s3_endpoint: str) -> Minio:
    """A plain minio client for arranging and inspecting the bucket behind the store."""
    return Minio(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, secure=False, region=S3_REGION)


@pytest.fixture
def s3_bucket(s3_client: Minio) -> str:
    """A fresh, empty bucket for one test (uuid-named: unique across workers too)."""
    bucket = f"pdr-test-{uuid.uuid4().hex[:16]}"
    s3_client.make_bucket(bucket)
    return bucket
