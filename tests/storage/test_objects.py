"""Contract tests of the object store: every backend must pass each of them."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from minio import Minio

from storage.exceptions import InvalidInput
from storage.objects import (
    READ_CHUNK,
    ChecksumMismatch,
    ObjectMissing,
    ObjectStore,
    ObjectTooLarge,
    SizeMismatch,
    StorageUnavailable,
    StoredObject,
    content_disposition,
)
from storage.stores import open_object_store
from tests.support.object_stores import Backend
from tests.support.s3_server import S3_ACCESS_KEY, S3_PREFIX, S3_REGION, S3_SECRET_KEY, s3_url

MIB = 1024 * 1024
# More than one read chunk, and not a multiple of anything, so range edges get exercised.
PAYLOAD = bytes(range(256)) * 6 * 1024 + b"tail"
SIZE = len(PAYLOAD)


def sha(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """Split bytes into chunks as an upload would arrive."""
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def read(store: ObjectStore, sha256: str, start: int = 0, end: int | None = None) -> bytes:
    """All the bytes of a range."""
    return b"".join(store.open_range(sha256, start, end))


def assert_empty(store: ObjectStore) -> None:
    """Neither an object nor a temporary upload remains."""
    assert list(store.iter_objects()) == []
    assert list(store.iter_temporary()) == []


# --- writing ----------------------------------------------------------------------------------------


def test_roundtrip(store: ObjectStore) -> None:
    chunks = [b"", *chunked(PAYLOAD), b""]  # empty chunks must not end the stream early
    stored = store.put_stream(chunks, expected_sha256=sha(PAYLOAD), expected_size=SIZE, max_size=SIZE)
    assert stored == StoredObject(sha(PAYLOAD), SIZE, created=True)
    assert read(store, stored.sha256) == PAYLOAD
    assert store.verify(stored.sha256)
    assert list(store.iter_temporary()) == []


def test_empty_object(store: ObjectStore) -> None:
    stored = store.put_stream([])
    assert stored == StoredObject(sha(b""), 0, created=True)
    assert read(store, stored.sha256) == b""
    info = store.stat(stored.sha256)
    assert info is not None and info.size == 0


def test_identical_bytes_are_stored_once(store: ObjectStore) -> None:
    first = store.put_stream(chunked(PAYLOAD, 1000))
    second = store.put_stream(chunked(PAYLOAD, 4096))
    assert first.created and not second.created
    assert second == StoredObject(first.sha256, SIZE, created=False)
    assert [info.sha256 for info in store.iter_objects()] == [first.sha256]
    assert list(store.iter_temporary()) == []


def test_wrong_sha256_leaves_nothing(store: ObjectStore) -> None:
    wrong = sha(b"something else")
    with pytest.raises(ChecksumMismatch) as caught:
        store.put_stream(chunked(PAYLOAD), expected_sha256=wrong)
    error = caught.value
    assert error.status == 422
    assert [problem.field for problem in error.errors] == ["sha256"]
    assert wrong in error.detail and sha(PAYLOAD) in error.detail
    assert store.stat(sha(PAYLOAD)) is None
    assert_empty(store)


def test_wrong_size_leaves_nothing(store: ObjectStore) -> None:
    with pytest.raises(SizeMismatch) as caught:
        store.put_stream(chunked(PAYLOAD), expected_size=SIZE + 1)
    error = caught.value
    assert error.status == 422
    assert [problem.field for problem in error.errors] == ["size"]
    assert str(SIZE + 1) in error.detail and str(SIZE) in error.detail
    assert_empty(store)


def test_max_size_stops_at_once_and_leaves_nothing(store: ObjectStore) -> None:
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield b"x" * 1000

    with pytest.raises(ObjectTooLarge) as caught:
        store.put_stream(source(), max_size=2500)
    assert caught.value.status == 413
    assert pulled == 3  # the third chunk crosses the limit; nothing more is read
    assert_empty(store)


def test_max_size_is_inclusive(store: ObjectStore) -> None:
    assert store.put_stream([b"x" * 2500], max_size=2500).size == 2500


def test_announced_size_over_limit_is_refused_before_reading(store: ObjectStore) -> None:
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        pulled += 1
        yield b"x"

    with pytest.raises(ObjectTooLarge):
        store.put_stream(source(), expected_size=10, max_size=5)
    assert pulled == 0
    assert_empty(store)


@pytest.mark.parametrize("size", [1000, 9 * MIB], ids=["small", "multipart"])
def test_failing_source_leaves_nothing(store: ObjectStore, size: int) -> None:
    # An OSError, like a client disconnect: it must come out as itself, not as a storage failure.
    gone = ConnectionResetError("client went away")

    def source() -> Iterator[bytes]:
        yield from chunked(b"y" * size, MIB)
        raise gone

    with pytest.raises(ConnectionResetError) as caught:
        store.put_stream(source())
    assert caught.value is gone
    assert_empty(store)
    # The upload's hashing thread ended with it.
    assert [thread for thread in threading.enumerate() if thread.name == "pdr-sha256"] == []


# --- reading ----------------------------------------------------------------------------------------

RANGES = {
    "whole": (0, None),
    "first-byte": (0, 0),
    "middle": (10, 19),
    "suffix": (SIZE - 100, None),
    "last-byte": (SIZE - 1, SIZE - 1),
    "across-chunks": (READ_CHUNK - 1, READ_CHUNK + 1),
    "end-past-size": (100, SIZE + 1000),
    "start-at-size": (SIZE, None),
    "start-past-size": (SIZE + 5, SIZE + 10),
}


@pytest.mark.parametrize(("start", "end"), RANGES.values(), ids=RANGES.keys())
def test_ranges(store: ObjectStore, start: int, end: int | None) -> None:
    stored = store.put_stream(chunked(PAYLOAD))
    chunks = list(store.open_range(stored.sha256, start, end))
    assert all(0 < len(chunk) <= READ_CHUNK for chunk in chunks)
    assert b"".join(chunks) == PAYLOAD[start : None if end is None else end + 1]


@pytest.mark.parametrize(("start", "end"), [(-1, None), (5, 4)])
def test_invalid_range_is_refused(store: ObjectStore, start: int, end: int | None) -> None:
    stored = store.put_stream([b"abcdefgh"])
    with pytest.raises(InvalidInput) as caught:
        store.open_range(stored.sha256, start, end)
    assert [problem.field for problem in caught.value.errors] == ["range"]


def test_missing_object(store: ObjectStore) -> None:
    absent = sha(b"never stored")
    with pytest.raises(ObjectMissing) as caught:
        store.open_range(absent)  # raised by the call itself, before any iteration
    assert caught.value.status == 404
    assert store.stat(absent) is None
    with pytest.raises(ObjectMissing):
        store.verify(absent)


def test_stat(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    stored = store.put_stream([PAYLOAD])
    after = datetime.now(UTC) + timedelta(minutes=1)
    info = store.stat(stored.sha256)
    assert info is not None
    assert (info.sha256, info.size) == (stored.sha256, SIZE)
    assert info.modified.utcoffset() == timedelta(0)
    assert before <= info.modified <= after


def test_delete_is_idempotent(store: ObjectStore) -> None:
    gone = store.put_stream([b"delete me"])
    kept = store.put_stream([b"keep me"])
    store.delete(gone.sha256)
    assert store.stat(gone.sha256) is None
    with pytest.raises(ObjectMissing):
        store.open_range(gone.sha256)
    store.delete(gone.sha256)
    store.delete(sha(b"never stored"))
    assert read(store, kept.sha256) == b"keep me"


def test_iter_objects(store: ObjectStore) -> None:
    assert list(store.iter_objects()) == []
    payloads = [b"one", b"two" * 1000, PAYLOAD]
    for payload in payloads:
        store.put_stream([payload])
    listed = {(info.sha256, info.size) for info in store.iter_objects()}
    assert listed == {(sha(payload), len(payload)) for payload in payloads}


def test_verify_detects_corruption(backend: Backend) -> None:
    stored = backend.store.put_stream([b"original bytes"])
    assert backend.store.verify(stored.sha256)
    backend.overwrite_object(stored.sha256, b"tampered bytes")
    assert not backend.store.verify(stored.sha256)


# --- housekeeping -----------------------------------------------------------------------------------


def test_remove_stale_temporary(backend: Backend) -> None:
    store = backend.store
    kept = store.put_stream([b"a finished object"])
    backend.plant_temporary(b"left behind")
    [left] = store.iter_temporary()
    assert left.size == len(b"left behind")
    now = datetime.now(UTC)
    assert store.remove_stale_temporary(now - timedelta(hours=1)) == 0
    assert len(list(store.iter_temporary())) == 1
    assert store.remove_stale_temporary(now + timedelta(hours=1)) == 1
    assert list(store.iter_temporary()) == []
    assert [info.sha256 for info in store.iter_objects()] == [kept.sha256]


def test_s3_unfinished_multipart_upload_is_listed_and_swept(s3_endpoint: str, s3_client: Minio, s3_bucket: str) -> None:
    store = open_object_store(
        s3_url(s3_endpoint, s3_bucket), access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, region=S3_REGION
    )
    # What a killed process leaves: an upload that was started and never completed or aborted.
    s3_client._create_multipart_upload(s3_bucket, f"{S3_PREFIX}/tmp/upload-killed", {})
    assert [info.sha256 for info in store.iter_temporary()] == ["upload-killed"]
    assert store.remove_stale_temporary(datetime.now(UTC) + timedelta(hours=1)) == 1
    assert list(store.iter_temporary()) == []


def test_check_writable_leaves_nothing(store: ObjectStore) -> None:
    store.check_writable()
    assert_empty(store)


# --- refusing bad input -----------------------------------------------------------------------------

BAD_SHA256 = [
    "../etc/passwd",
    "../" + "a" * 61,
    "/" + "a" * 63,
    "A" * 64,
    "a" * 63,
    "a" * 65,
    "g" * 64,
    "a" * 64 + "\n",
    "",
]
OPERATIONS: dict[str, Callable[[ObjectStore, str], Any]] = {
    "open_range": lambda store, bad: store.open_range(bad),
    "stat": lambda store, bad: store.stat(bad),
    "delete": lambda store, bad: store.delete(bad),
    "verify": lambda store, bad: store.verify(bad),
    "local_path": lambda store, bad: store.local_path(bad),
    "presigned_get_url": lambda store, bad: store.presigned_get_url(
        bad, expires=timedelta(minutes=1), filename="x", media_type="text/plain"
    ),
    "put_stream": lambda store, bad: store.put_stream([b"data"], expected_sha256=bad),
}


@pytest.mark.parametrize("bad", BAD_SHA256)
def test_invalid_sha256_is_refused(store: ObjectStore, bad: str) -> None:
    for name, operation in OPERATIONS.items():
        with pytest.raises(InvalidInput) as caught:
            operation(store, bad)
        assert [problem.field for problem in caught.value.errors] == ["sha256"], name
    assert_empty(store)


# --- failures of the backend itself -----------------------------------------------------------------


def assert_neutral(error: StorageUnavailable, *secrets: str) -> None:
    """A 503 with Retry-After whose detail names no path, host or bucket."""
    assert error.status == 503
    assert error.headers == {"Retry-After": "30"}
    for secret in secrets:
        assert secret not in error.detail


def test_file_store_sends_a_large_upload_to_disk_while_it_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.filestore

    flushed: list[int] = []
    monkeypatch.setattr(storage.filestore, "EARLY_FLUSH_BYTES", MIB)
    monkeypatch.setattr(os, "fdatasync", flushed.append)
    store = open_object_store((tmp_path / "store").as_uri(), access_key=None, secret_key=None)
    data = os.urandom(5 * MIB)
    stored = store.put_stream(chunked(data, MIB // 4))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert len(flushed) >= 1
    # Every flush ended before the file was closed, and no flushing thread outlived the upload.
    assert [thread for thread in threading.enumerate() if thread.name == "pdr-flush"] == []


def test_a_failed_early_flush_fails_the_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import storage.filestore

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "write-back failed")

    # The system reports a write-back error to one sync only: the early flush's, not the fsync at the end.
    monkeypatch.setattr(storage.filestore, "EARLY_FLUSH_BYTES", MIB)
    monkeypatch.setattr(os, "fdatasync", failing)
    store = open_object_store((tmp_path / "store").as_uri(), access_key=None, secret_key=None)
    with pytest.raises(StorageUnavailable):
        store.put_stream(chunked(os.urandom(3 * MIB), MIB // 4))
    assert_empty(store)


def test_file_store_that_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file-not-a-dir"
    blocker.write_text("x")
    store = open_object_store((blocker / "objects").as_uri(), access_key=None, secret_key=None)
    with pytest.raises(StorageUnavailable) as caught:
        store.check_writable()
    assert_neutral(caught.value, str(tmp_path), "a-file-not-a-dir")
    with pytest.raises(StorageUnavailable) as caught:
        store.put_stream([b"data"])
    assert_neutral(caught.value, str(tmp_path), "a-file-not-a-dir")


def test_unreachable_s3_endpoint() -> None:
    url = "s3://pdr-unreachable/some-prefix?endpoint=127.0.0.1:1&secure=false"
    store = open_object_store(url, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, region=S3_REGION)
    with pytest.raises(StorageUnavailable) as caught:
        store.check_writable()
    assert_neutral(caught.value, "127.0.0.1", "pdr-unreachable", "some-prefix")
    with pytest.raises(StorageUnavailable):
        store.stat(sha(b"anything"))


def test_missing_s3_bucket(s3_endpoint: str) -> None:
    url = s3_url(s3_endpoint, "pdr-no-such-bucket")
    store = open_object_store(url, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, region=S3_REGION)
    with pytest.raises(StorageUnavailable) as caught:
        store.check_writable()
    assert_neutral(caught.value, "pdr-no-such-bucket", s3_endpoint)


# --- serving ----------------------------------------------------------------------------------------

UTF8_NAME = "数据 报告.csv"


def test_direct_download(backend: Backend) -> None:
    data = b"region,count\n\xe5\x8c\x97\xe4\xba\xac,3\n"
    store = backend.store
    stored = store.put_stream([data])
    url = store.presigned_get_url(
        stored.sha256, expires=timedelta(minutes=5), filename=UTF8_NAME, media_type="text/csv"
    )
    path = store.local_path(stored.sha256)
    if backend.kind == "file":
        assert url is None
        assert path is not None and path.read_bytes() == data
        return
    assert path is None and url is not None
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "text/csv"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    match = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert match is not None and unquote(match.group(1)) == UTF8_NAME


def test_content_disposition() -> None:
    assert content_disposition(UTF8_NAME) == (
        "attachment; filename=\"__ __.csv\"; filename*=UTF-8''%E6%95%B0%E6%8D%AE%20%E6%8A%A5%E5%91%8A.csv"
    )
    assert content_disposition('résumé "v2"/\\.pdf') == (
        "attachment; filename=\"resume _v2___.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22%2F%5C.pdf"
    )
    assert content_disposition("数据") == "attachment; filename=\"__\"; filename*=UTF-8''%E6%95%B0%E6%8D%AE"
    assert content_disposition("").startswith('attachment; filename="download"')


# --- selection by URL and settings ------------------------------------------------------------------


# --- memory -----------------------------------------------------------------------------------------


def generated(mebibytes: int, digest: Any) -> Iterator[bytes]:
    """Fresh 1 MiB chunks (never the same object twice, so hoarding them would show)."""
    for index in range(mebibytes):
        chunk = index.to_bytes(4, "big") * (MIB // 4)
        digest.update(chunk)
        yield chunk


def peak_memory(upload: Callable[[], StoredObject]) -> tuple[StoredObject, int]:
    """Run an upload under tracemalloc; return its result and the peak of traced memory."""
    tracemalloc.start()
    try:
        result = upload()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def assert_flat_upload(store: ObjectStore, mebibytes: int, chunks: Callable[[Any], Iterable[bytes]]) -> None:
    digest = hashlib.sha256()
    stored, peak = peak_memory(lambda: store.put_stream(chunks(digest)))
    assert stored == StoredObject(digest.hexdigest(), mebibytes * MIB, created=True)
    assert peak < 32 * MIB, f"peak {peak / MIB:.1f} MiB while storing {mebibytes} MiB"


def test_file_store_memory_stays_flat(tmp_path: Path) -> None:
    store = open_object_store(tmp_path.as_uri(), access_key=None, secret_key=None)
    assert_flat_upload(store, 200, lambda digest: generated(200, digest))


def test_s3_store_memory_stays_flat(s3_endpoint: str, s3_bucket: str) -> None:
    store = open_object_store(
        s3_url(s3_endpoint, s3_bucket), access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, region=S3_REGION
    )
    assert_flat_upload(store, 64, lambda digest: generated(64, digest))
