"""The object store: content-addressed bytes behind one protocol, with a file and an S3 backend."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from storage.exceptions import (
    FieldProblem,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from storage.hashing import ThreadedSha256

logger = logging.getLogger(__name__)

# Read side chunk: big enough for throughput, small enough to keep memory flat per download.
READ_CHUNK = 1024 * 1024
# An upload is hashed in batches of about this size, this many of them at most waiting for the hashing thread.
HASH_BATCH_BYTES = 1024 * 1024
HASH_BATCHES_AHEAD = 2

_SHA256 = re.compile(r"[0-9a-f]{64}")


# --- errors -----------------------------------------------------------------------------------------


class ObjectMissing(NotFound):
    """No object is stored under that SHA-256."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"No object with sha256 {sha256} is stored.")


class ObjectTooLarge(PayloadTooLarge):
    """The upload grew past the size limit."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"The upload is larger than the limit of {max_size} bytes.", extra={"max_size": max_size})


class ChecksumMismatch(InvalidInput):
    """The uploaded bytes do not hash to the SHA-256 the caller announced."""

    def __init__(self, expected: str, actual: str) -> None:
        message = f"expected sha256 {expected}, but the uploaded bytes hash to {actual}"
        super().__init__(f"Checksum mismatch: {message}.", errors=[FieldProblem("sha256", message)])


class SizeMismatch(InvalidInput):
    """The upload's length differs from the size the caller announced."""

    def __init__(self, expected: int, actual: int) -> None:
        message = f"expected {expected} bytes, but {actual} bytes were uploaded"
        super().__init__(f"Size mismatch: {message}.", errors=[FieldProblem("size", message)])


class StorageUnavailable(ServiceUnavailable):
    """The object store cannot be used now; the detail is generic on purpose (no paths, hosts, buckets)."""

    def __init__(self) -> None:
        super().__init__("The object store is unavailable; try again later.", headers={"Retry-After": "30"})


# --- values and the protocol ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    """The outcome of an upload: its address, its size, and whether this upload created it."""

    sha256: str
    size: int
    created: bool


@dataclass(frozen=True)
class ObjectInfo:
    """A stored (or temporary) object as listed: name, size, last modification in UTC."""

    sha256: str
    size: int
    modified: datetime


class ObjectStore(Protocol):
    """Content-addressed storage: every object is named by the lowercase hex SHA-256 of its bytes."""

    def put_stream(
        self,
        chunks: Iterable[bytes],
        *,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        max_size: int | None = None,
    ) -> StoredObject:
        """Store the bytes of `chunks` with flat memory; nothing remains if anything fails."""
        ...

    def open_range(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes start..end inclusive (clamped to the object); raises ObjectMissing at once."""
        ...

    def stat(self, sha256: str) -> ObjectInfo | None:
        """Describe a stored object, or None when it is absent."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove an object; removing an absent one is not an error."""
        ...

    def iter_objects(self) -> Iterator[ObjectInfo]:
        """List every stored object."""
        ...

    def iter_temporary(self) -> Iterator[ObjectInfo]:
        """List uploads in progress or left behind; `sha256` holds the temporary name."""
        ...

    def remove_stale_temporary(self, older_than: datetime) -> int:
        """Remove temporary uploads last modified before `older_than`; return how many."""
        ...

    def local_path(self, sha256: str) -> Path | None:
        """The object's file for zero-copy serving, or None when the backend has no local files."""
        ...

    def presigned_get_url(self, sha256: str, *, expires: timedelta, filename: str, media_type: str) -> str | None:
        """A time-limited direct download URL, or None when the backend cannot make one."""
        ...

    def check_writable(self) -> None:
        """Write and remove a probe; raise StorageUnavailable when the store cannot take writes."""
        ...

    def verify(self, sha256: str) -> bool:
        """Re-hash a stored object and tell whether its bytes still match its name."""
        ...


# --- helpers shared by the backends -----------------------------------------------------------------


def is_sha256(value: object) -> bool:
    """Whether `value` is a SHA-256 written as 64 lowercase hex digits."""
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def validate_sha256(value: str, field: str = "sha256") -> str:
    """Return `value` if it is 64 lowercase hex digits, else raise InvalidInput (no path can slip in)."""
    if not is_sha256(value):
        message = "must be a SHA-256 written as 64 lowercase hexadecimal characters"
        raise InvalidInput(f"Invalid {field}: {message}.", errors=[FieldProblem(field, message)])
    return value


def validate_range(start: int, end: int | None) -> None:
    """Reject a negative start or an end before the start."""
    if start < 0 or (end is not None and end < start):
        message = "start must be >= 0 and end, when given, >= start"
        raise InvalidInput(f"Invalid byte range: {message}.", errors=[FieldProblem("range", message)])


def object_key(sha256: str) -> str:
    """The relative location of an object: two levels of fan-out keep directories small."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def content_disposition(filename: str) -> str:
    """An RFC 6266 attachment header value with an ASCII fallback and the exact UTF-8 name."""
    # NFKD first so accented Latin letters keep their base letter in the fallback.
    decomposed = unicodedata.normalize("NFKD", filename)
    fallback = (
        "".join(
            ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\/' else "_"
            for ch in decomposed
            if not unicodedata.combining(ch)
        ).strip()
        or "download"
    )
    # RFC 8187 attr-chars beyond the ones quote() always keeps.
    encoded = quote(filename, safe="!#$&+^`|")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


@contextmanager
def translate_errors(action: str, kinds: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Turn backend failures into StorageUnavailable, logging the details clients must not see."""
    try:
        yield
    except kinds as exc:
        logger.error("object store failed to %s: %r", action, exc, exc_info=exc)
        raise StorageUnavailable() from exc


class SourceFailure(Exception):
    """Carries an exception raised by the caller's chunk iterator through the backend unchanged."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(repr(original))
        self.original = original


class Ingest:
    """Counts, hashes and size-limits an upload's chunks as they pass, then checks expectations."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        *,
        expected_sha256: str | None,
        expected_size: int | None,
        max_size: int | None,
    ) -> None:
        if expected_sha256 is not None:
            validate_sha256(expected_sha256)
        if expected_size is not None and expected_size < 0:
            raise InvalidInput("Invalid size: must not be negative.", errors=[FieldProblem("size", "must be >= 0")])
        # Refuse before reading a byte when the announced size already breaks the limit.
        if max_size is not None and expected_size is not None and expected_size > max_size:
            raise ObjectTooLarge(max_size)
        self._chunks = chunks
        self._expected_sha256 = expected_sha256
        self._expected_size = expected_size
        self._max_size = max_size
        self._sha256: str | None = None
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        """Yield the caller's chunks, wrapping the caller's own failures in SourceFailure."""
        source = iter(self._chunks)
        # Hashed beside the backend's writing, in batches: a batch per chunk would cost more than it overlaps.
        hasher = ThreadedSha256(HASH_BATCHES_AHEAD)
        batch: list[bytes] = []
        held = 0
        try:
            while True:
                try:
                    chunk = next(source)
                except StopIteration:
                    break
                except BaseException as exc:
                    # Wrapped so backends neither mistake it for their own I/O error nor skip cleanup.
                    raise SourceFailure(exc) from exc
                self.size += len(chunk)
                if self._max_size is not None and self.size > self._max_size:
                    raise ObjectTooLarge(self._max_size)
                batch.append(chunk)
                held += len(chunk)
                if held >= HASH_BATCH_BYTES:
                    hasher.update(batch)
                    batch, held = [], 0
                yield chunk
            hasher.update(batch)
            self._sha256 = hasher.hexdigest()
        finally:
            hasher.close()  # a broken-off upload leaves no hashing thread behind

    def finish(self) -> str:
        """Return the SHA-256 of everything seen, raising if it breaks what the caller announced."""
        if self._sha256 is None:
            raise RuntimeError("finish() before every chunk was read")
        actual = self._sha256
        if self._expected_size is not None and self.size != self._expected_size:
            raise SizeMismatch(self._expected_size, self.size)
        if self._expected_sha256 is not None and actual != self._expected_sha256:
            raise ChecksumMismatch(self._expected_sha256, actual)
        return actual


class ChunkReader(Iterator[bytes]):
    """Yields an opened object's bytes in bounded chunks; closes it when exhausted, closed or dropped."""

    def __init__(
        self,
        read: Callable[[int], bytes],
        close: Callable[[], None],
        length: int | None,
        kinds: tuple[type[BaseException], ...],
    ) -> None:
        self._read = read
        self._close = close
        self._remaining = length
        self._kinds = kinds
        self._closed = False

    def __next__(self) -> bytes:
        """Return the next chunk."""
        if self._closed:
            raise StopIteration
        want = READ_CHUNK if self._remaining is None else min(READ_CHUNK, self._remaining)
        data = b""
        if want > 0:
            try:
                with translate_errors("read an object", self._kinds):
                    data = self._read(want)
            except BaseException:
                self.close()
                raise
        if not data:
            self.close()
            raise StopIteration
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def close(self) -> None:
        """Release the underlying file or connection; safe to call twice."""
        if not self._closed:
            self._closed = True
            try:
                self._close()
            except Exception as exc:  # a failed close must not mask the read's outcome
                logger.warning("object store could not close a reader: %r", exc)

    def __del__(self) -> None:
        # A response that stops streaming early never exhausts us; release the handle anyway.
        self.close()


def hash_chunks(chunks: Iterable[bytes]) -> str:
    """The SHA-256 of a stream of chunks."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
