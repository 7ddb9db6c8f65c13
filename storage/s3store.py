"""The S3 backend (MinIO, AWS S3): uploads stream to a temporary key, a server-side copy then names them."""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import parse_qsl, urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import ComposeSource
from minio.datatypes import Upload
from minio.error import MinioException, S3Error
from urllib3.exceptions import HTTPError

from storage.objects import (
    ChunkReader,
    Ingest,
    ObjectInfo,
    ObjectMissing,
    SourceFailure,
    StoredObject,
    content_disposition,
    hash_chunks,
    is_sha256,
    object_key,
    translate_errors,
    validate_range,
    validate_sha256,
)

logger = logging.getLogger(__name__)

_ERRORS: tuple[type[BaseException], ...] = (MinioException, HTTPError, OSError)
_NOT_FOUND = frozenset({"NoSuchKey", "NoSuchObject"})
_UPLOAD_PREFIX = "upload-"
_PROBE_PREFIX = "probe-"
_EPOCH = datetime.fromtimestamp(0, tz=UTC)
_MIB = 1024 * 1024
# Parts of 8 MiB keep memory flat; S3 allows at most 10,000 parts, so large limits get larger parts.
_PART_SIZE = 8 * _MIB
_MAX_PARTS = 10_000
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_ENDPOINT = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_URL_PARAMETERS = ("endpoint", "secure")


@dataclass(frozen=True)
class S3Location:
    """Where an s3:// URL points: bucket, key prefix ('' or ending in '/'), endpoint and TLS."""

    bucket: str
    prefix: str
    endpoint: str
    secure: bool


def parse_s3_url(url: str) -> S3Location:
    """Parse s3://bucket/prefix?endpoint=host:port&secure=false; raise ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "s3":
        raise ValueError("not an s3 URL")
    # Checked before anything is echoed so a secret in the URL never reaches a message.
    if "@" in parts.netloc:
        raise ValueError("credentials do not belong in the s3:// URL; set PDR_S3_ACCESS_KEY and PDR_S3_SECRET_KEY")
    if _BUCKET.fullmatch(parts.netloc) is None:
        raise ValueError("an s3:// URL must start with a bucket name: 3-63 of a-z, 0-9, '.' and '-'")
    segments = [segment for segment in parts.path.split("/") if segment]
    if any(segment in (".", "..") for segment in segments):
        raise ValueError("the s3:// key prefix must not contain '.' or '..' segments")
    if parts.fragment:
        raise ValueError("an s3:// URL takes no fragment")
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _URL_PARAMETERS:
            raise ValueError(f"unknown s3:// URL parameter {key!r}; allowed: {', '.join(_URL_PARAMETERS)}")
        if key in parameters:
            raise ValueError(f"the s3:// URL parameter {key!r} is given twice")
        parameters[key] = value
    endpoint = parameters.get("endpoint", "s3.amazonaws.com")
    if _ENDPOINT.fullmatch(endpoint) is None:
        raise ValueError("endpoint must be host or host:port, without a scheme or a path")
    secure = parameters.get("secure", "true").lower()
    if secure not in ("true", "false"):
        raise ValueError("secure must be true or false")
    prefix = "".join(f"{segment}/" for segment in segments)
    return S3Location(parts.netloc, prefix, endpoint, secure == "true")


def _http_client() -> urllib3.PoolManager:
    # minio's default waits 5 minutes to connect and retries 5 times: readiness must answer faster.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=60),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
        maxsize=10,
    )


def _part_size(expected_size: int | None, max_size: int | None) -> int:
    bound = expected_size if expected_size is not None else max_size
    if bound is None:
        return _PART_SIZE
    needed_mib = -(-bound // (_MAX_PARTS * _MIB))
    return max(_PART_SIZE, needed_mib * _MIB)


class _ChunkStream:
    """A read() view over an iterator of chunks, the shape minio's put_object consumes."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` bytes (all pending bytes when negative); b'' only at the end."""
        # Skip empty chunks: minio reads b'' as the end of the stream.
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = memoryview(chunk)
        if size < 0 or size >= len(self._pending):
            data, self._pending = self._pending, memoryview(b"")
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        # Hand back the caller's own bytes object when it is passed whole: no copy.
        if isinstance(data.obj, bytes) and data.nbytes == len(data.obj):
            return data.obj
        return data.tobytes()


class S3ObjectStore:
    """Objects at <prefix>objects/ab/cd/<sha256> in one bucket; uploads in progress at <prefix>tmp/."""

    def __init__(self, client: Minio, bucket: str, prefix: str) -> None:
        # No I/O here: check_writable (readiness) is where a bad endpoint or bucket must surface.
        self._client = client
        self._bucket = bucket
        self._objects = f"{prefix}objects/"
        self._tmp = f"{prefix}tmp/"

    @classmethod
    def from_url(
        cls, url: str, *, access_key: str | None, secret_key: str | None, region: str | None = None
    ) -> S3ObjectStore:
        """Build a store from an s3:// URL and credentials taken from settings, never from the URL."""
        location = parse_s3_url(url)
        if not access_key or not secret_key:
            raise ValueError("an s3:// object store needs both PDR_S3_ACCESS_KEY and PDR_S3_SECRET_KEY to be set")
        client = Minio(
            location.endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=location.secure,
            region=region,
            http_client=_http_client(),
        )
        return cls(client, location.bucket, location.prefix)

    def put_stream(
        self,
        chunks: Iterable[bytes],
        *,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        max_size: int | None = None,
    ) -> StoredObject:
        """Multipart-upload to a temporary key while hashing, then copy it to its SHA-256 key."""
        ingest = Ingest(chunks, expected_sha256=expected_sha256, expected_size=expected_size, max_size=max_size)
        temporary = f"{self._tmp}{_UPLOAD_PREFIX}{uuid.uuid4().hex}"
        try:
            with translate_errors("upload an object", _ERRORS):
                # One part in flight at a time keeps memory near two parts whatever the size.
                self._client.put_object(
                    self._bucket,
                    temporary,
                    cast(BinaryIO, _ChunkStream(ingest.chunks())),
                    length=-1,
                    part_size=_part_size(expected_size, max_size),
                    num_parallel_uploads=1,
                )
            sha256 = ingest.finish()
            final = self._objects + object_key(sha256)
            with translate_errors("store an object", _ERRORS):
                created = not self._exists(final)
                if created:
                    # compose_object switches to a multipart copy above the 5 GiB single-copy limit.
                    self._client.compose_object(self._bucket, final, [ComposeSource(self._bucket, temporary)])
        except SourceFailure as failure:
            self._discard(temporary, unfinished=True)
            raise failure.original from None
        except BaseException:
            self._discard(temporary, unfinished=True)
            raise
        self._discard(temporary, unfinished=False)
        return StoredObject(sha256, ingest.size, created)

    def open_range(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes start..end inclusive (clamped to the object); raises ObjectMissing at once."""
        key = self._key(sha256)
        validate_range(start, end)
        with translate_errors("open an object", _ERRORS):
            try:
                response = self._client.get_object(
                    self._bucket, key, offset=start, length=0 if end is None else end - start + 1
                )
            except S3Error as exc:
                if exc.code in _NOT_FOUND:
                    raise ObjectMissing(sha256) from None
                if exc.code == "InvalidRange":
                    # The start lies past the end: nothing to send, as with files.
                    return iter(())
                raise

        def release() -> None:
            response.close()
            response.release_conn()

        return ChunkReader(response.read, release, None, _ERRORS)

    def stat(self, sha256: str) -> ObjectInfo | None:
        """Describe a stored object, or None when it is absent."""
        key = self._key(sha256)
        with translate_errors("stat an object", _ERRORS):
            try:
                found = self._client.stat_object(self._bucket, key)
            except S3Error as exc:
                if exc.code in _NOT_FOUND:
                    return None
                raise
        return ObjectInfo(sha256, found.size or 0, found.last_modified or _EPOCH)

    def delete(self, sha256: str) -> None:
        """Remove an object; removing an absent one is not an error."""
        key = self._key(sha256)
        with translate_errors("delete an object", _ERRORS):
            self._client.remove_object(self._bucket, key)

    def iter_objects(self) -> Iterator[ObjectInfo]:
        """List every stored object, skipping keys that are not at their content address."""
        with translate_errors("list objects", _ERRORS):
            for found in self._client.list_objects(self._bucket, prefix=self._objects, recursive=True):
                name = (found.object_name or "").removeprefix(self._objects)
                sha256 = name.rpartition("/")[2]
                if is_sha256(sha256) and name == object_key(sha256):
                    yield ObjectInfo(sha256, found.size or 0, found.last_modified or _EPOCH)

    def iter_temporary(self) -> Iterator[ObjectInfo]:
        """List temporary keys and unfinished multipart uploads (size 0) under the temporary prefix."""
        for info, _ in self._temporaries():
            yield info

    def remove_stale_temporary(self, older_than: datetime) -> int:
        """Remove temporary keys and abort multipart uploads from before `older_than`; return how many."""
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        removed = 0
        for info, upload_id in list(self._temporaries()):
            if info.modified >= older_than:
                continue
            key = self._tmp + info.sha256
            with translate_errors("remove a temporary upload", _ERRORS):
                if upload_id is None:
                    self._client.remove_object(self._bucket, key)
                else:
                    self._client._abort_multipart_upload(self._bucket, key, upload_id)
            removed += 1
        return removed

    def local_path(self, sha256: str) -> Path | None:
        """Always None: S3 objects have no local file."""
        validate_sha256(sha256)
        return None

    def presigned_get_url(self, sha256: str, *, expires: timedelta, filename: str, media_type: str) -> str | None:
        """A presigned GET URL that makes S3 answer with our file name and media type."""
        key = self._key(sha256)
        headers: dict[str, str | list[str] | tuple[str]] = {
            "response-content-disposition": content_disposition(filename),
            "response-content-type": media_type,
        }
        with translate_errors("sign a download URL", _ERRORS):
            url: str = self._client.presigned_get_object(self._bucket, key, expires=expires, response_headers=headers)
        return url

    def check_writable(self) -> None:
        """Write and remove a probe under the temporary prefix."""
        probe = f"{self._tmp}{_PROBE_PREFIX}{uuid.uuid4().hex}"
        with translate_errors("probe for writes", _ERRORS):
            self._client.put_object(self._bucket, probe, io.BytesIO(b"probe"), length=5)
            self._client.remove_object(self._bucket, probe)

    def verify(self, sha256: str) -> bool:
        """Re-hash a stored object and tell whether its bytes still match its name."""
        return hash_chunks(self.open_range(sha256)) == sha256

    def _key(self, sha256: str) -> str:
        return self._objects + object_key(validate_sha256(sha256))

    def _exists(self, key: str) -> bool:
        try:
            self._client.stat_object(self._bucket, key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                return False
            raise
        return True

    def _temporaries(self) -> Iterator[tuple[ObjectInfo, str | None]]:
        """Temporary keys (upload id None) and unfinished multipart uploads (with their upload id)."""
        with translate_errors("list temporary uploads", _ERRORS):
            for found in self._client.list_objects(self._bucket, prefix=self._tmp, recursive=True):
                name = (found.object_name or "").removeprefix(self._tmp)
                yield ObjectInfo(name, found.size or 0, found.last_modified or _EPOCH), None
            for upload in self._unfinished_uploads(self._tmp):
                name = upload.object_name.removeprefix(self._tmp)
                yield ObjectInfo(name, 0, upload.initiated_time or _EPOCH), upload.upload_id

    def _unfinished_uploads(self, prefix: str) -> Iterator[Upload]:
        # A killed process leaves multipart uploads that list_objects never shows but the bucket keeps
        # paying for; minio has no public call for ListMultipartUploads, hence its internal one.
        key_marker: str | None = None
        while True:
            result = self._client._list_multipart_uploads(self._bucket, prefix=prefix, key_marker=key_marker)
            yield from result.uploads
            if not result.is_truncated or not result.uploads:
                return
            # Page by key alone (minio drops NextUploadIdMarker); temporary keys are unique anyway.
            key_marker = result.uploads[-1].object_name

    def _discard(self, temporary: str, *, unfinished: bool) -> None:
        """Remove a temporary key (and, after a failure, any unfinished upload to it); log, never raise."""
        try:
            self._client.remove_object(self._bucket, temporary)
            # minio aborts its own multipart upload on failure, unless the abort itself failed.
            for upload in self._unfinished_uploads(temporary) if unfinished else ():
                if upload.object_name == temporary and upload.upload_id:
                    self._client._abort_multipart_upload(self._bucket, temporary, upload.upload_id)
        except Exception as exc:  # the stale sweep removes whatever this misses
            logger.error("object store could not remove temporary upload %s: %r", temporary, exc)
