"""The file backend: objects as files under one root, each finalised by an atomic rename."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from storage.objects import (
    ChunkReader,
    Ingest,
    ObjectInfo,
    ObjectMissing,
    SourceFailure,
    StoredObject,
    hash_chunks,
    is_sha256,
    object_key,
    translate_errors,
    validate_range,
    validate_sha256,
)

logger = logging.getLogger(__name__)

_ERRORS: tuple[type[BaseException], ...] = (OSError,)
_UPLOAD_PREFIX = "upload-"
_PROBE_PREFIX = "probe-"
# Readable by a web server running as another user, which serves files via X-Accel-Redirect.
_OBJECT_MODE = 0o644
# An upload is sent on to disk every this many bytes while it is written.
EARLY_FLUSH_BYTES = 64 * 1024 * 1024


def parse_file_url(url: str) -> Path:
    """The root directory of a file:///abs/path URL; anything else raises ValueError saying why."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise ValueError("not a file URL")
    if parts.netloc:
        raise ValueError(
            "a file URL needs an empty host and an absolute path, like file:///var/lib/pdr/objects; "
            "file://name/... reads 'name' as a host, so relative paths cannot be written this way"
        )
    if parts.query or parts.fragment:
        raise ValueError("a file URL takes no query or fragment")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise ValueError("a file URL path must be absolute, like file:///var/lib/pdr/objects")
    if "\x00" in path:
        raise ValueError("a file URL path must not contain NUL")
    root = Path(path)
    if root == Path(root.anchor):
        raise ValueError("a file URL must name a directory below the filesystem root")
    return root


class EarlyFlush:
    """Sends an upload's bytes to disk while more are coming, from a thread of its own, so that the fsync at its end
    waits for the last few MiB rather than for all of them."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._unflushed = 0
        self._thread: threading.Thread | None = None
        self._failure: OSError | None = None

    def __enter__(self) -> EarlyFlush:
        return self

    def wrote(self, size: int) -> None:
        """Count bytes written; past a stretch of them, start writing them out unless a flush is under way."""
        self._unflushed += size
        if self._unflushed >= EARLY_FLUSH_BYTES and (self._thread is None or not self._thread.is_alive()):
            self._unflushed = 0
            self._thread = threading.Thread(target=self._flush, name="pdr-flush", daemon=True)
            self._thread.start()

    def _flush(self) -> None:
        try:
            os.fdatasync(self._fd)
        except OSError as failure:
            # Kept for finish(): the system reports a write-back error to one sync of the file, and this was it.
            self._failure = failure

    def finish(self) -> None:
        """Wait for the flush under way, if any; raise what a flush failed with."""
        self._wait()
        if self._failure is not None:
            raise self._failure

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def __exit__(self, *_: object) -> None:
        # The file is closed after this: a flush still running would sync whatever file takes its number next.
        self._wait()


class FileObjectStore:
    """Objects at <root>/objects/ab/cd/<sha256>; uploads in progress at <root>/tmp on the same filesystem."""

    def __init__(self, root: Path) -> None:
        # No I/O here: check_writable (readiness) is where a bad root must surface.
        if not root.is_absolute():
            raise ValueError("the object store root must be an absolute path")
        self._objects = root / "objects"
        self._tmp = root / "tmp"

    def put_stream(
        self,
        chunks: Iterable[bytes],
        *,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        max_size: int | None = None,
    ) -> StoredObject:
        """Write to a temporary file while hashing, fsync, then rename it to its SHA-256 name."""
        ingest = Ingest(chunks, expected_sha256=expected_sha256, expected_size=expected_size, max_size=max_size)
        with translate_errors("start an upload", _ERRORS):
            self._tmp.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=_UPLOAD_PREFIX, dir=self._tmp)
        temporary = Path(name)
        try:
            # The caller's own failures arrive wrapped in SourceFailure, so only our I/O is translated.
            with translate_errors("write an upload", _ERRORS), open(fd, "wb") as out, EarlyFlush(fd) as flush:
                for chunk in ingest.chunks():
                    out.write(chunk)
                    flush.wrote(len(chunk))
                out.flush()
                os.fchmod(out.fileno(), _OBJECT_MODE)
                flush.finish()
                os.fsync(out.fileno())
            sha256 = ingest.finish()
            return self._finalise(temporary, sha256, ingest.size)
        except SourceFailure as failure:
            _discard(temporary)
            raise failure.original from None
        except BaseException:
            _discard(temporary)
            raise

    def _finalise(self, temporary: Path, sha256: str, size: int) -> StoredObject:
        final = self._objects / object_key(sha256)
        with translate_errors("store an object", _ERRORS):
            if final.exists():
                temporary.unlink()
                return StoredObject(sha256, size, created=False)
            _make_dirs(final.parent)
            os.replace(temporary, final)
            # The rename is durable only once its directory entry is on disk.
            _fsync_dir(final.parent)
        return StoredObject(sha256, size, created=True)

    def open_range(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes start..end inclusive (clamped to the object); raises ObjectMissing at once."""
        path = self._path(sha256)
        validate_range(start, end)
        with translate_errors("open an object", _ERRORS):
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                raise ObjectMissing(sha256) from None
            try:
                size = os.fstat(handle.fileno()).st_size
                last = size - 1 if end is None else min(end, size - 1)
                handle.seek(start)
            except BaseException:
                handle.close()
                raise
        return ChunkReader(handle.read, handle.close, max(0, last - start + 1), _ERRORS)

    def stat(self, sha256: str) -> ObjectInfo | None:
        """Describe a stored object, or None when it is absent."""
        path = self._path(sha256)
        with translate_errors("stat an object", _ERRORS):
            try:
                st = path.stat()
            except FileNotFoundError:
                return None
        return ObjectInfo(sha256, st.st_size, _utc(st.st_mtime))

    def delete(self, sha256: str) -> None:
        """Remove an object; removing an absent one is not an error."""
        path = self._path(sha256)
        with translate_errors("delete an object", _ERRORS):
            path.unlink(missing_ok=True)

    def iter_objects(self) -> Iterator[ObjectInfo]:
        """List every stored object, skipping anything that is not at its content address."""
        with translate_errors("list objects", _ERRORS):
            for first in _scan(self._objects):
                for second in _scan(Path(first.path)):
                    for entry in _scan(Path(second.path)):
                        name = entry.name
                        if not is_sha256(name) or object_key(name) != f"{first.name}/{second.name}/{name}":
                            continue
                        info = _info(entry)
                        if info is not None:
                            yield info

    def iter_temporary(self) -> Iterator[ObjectInfo]:
        """List uploads in progress or left behind; `sha256` holds the temporary file name."""
        with translate_errors("list temporary uploads", _ERRORS):
            for entry in _scan(self._tmp):
                info = _info(entry)
                if info is not None:
                    yield info

    def remove_stale_temporary(self, older_than: datetime) -> int:
        """Remove temporary files last modified before `older_than`; return how many."""
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        removed = 0
        for info in list(self.iter_temporary()):
            if info.modified < older_than:
                with translate_errors("remove a temporary upload", _ERRORS):
                    (self._tmp / info.sha256).unlink(missing_ok=True)
                removed += 1
        return removed

    def local_path(self, sha256: str) -> Path | None:
        """The object's file, for FileResponse or X-Accel-Redirect; raises ObjectMissing if absent."""
        path = self._path(sha256)
        with translate_errors("stat an object", _ERRORS):
            if not path.is_file():
                raise ObjectMissing(sha256)
        return path

    def presigned_get_url(self, sha256: str, *, expires: timedelta, filename: str, media_type: str) -> str | None:
        """Always None: files are served by the application or the web server instead."""
        validate_sha256(sha256)
        return None

    def check_writable(self) -> None:
        """Create the layout, write, fsync and rename a probe, then remove it."""
        with translate_errors("probe for writes", _ERRORS):
            self._objects.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=_PROBE_PREFIX, dir=self._tmp)
            probe = Path(name)
            moved = self._objects / probe.name
            try:
                with open(fd, "wb") as out:
                    out.write(b"probe")
                    out.flush()
                    os.fsync(out.fileno())
                # Proves the same-filesystem rename that finalises every upload works here.
                os.replace(probe, moved)
            finally:
                probe.unlink(missing_ok=True)
                moved.unlink(missing_ok=True)

    def verify(self, sha256: str) -> bool:
        """Re-hash a stored object and tell whether its bytes still match its name."""
        return hash_chunks(self.open_range(sha256)) == sha256

    def _path(self, sha256: str) -> Path:
        return self._objects / object_key(validate_sha256(sha256))


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    """Entries of a directory, or none when it does not exist yet (a fresh store)."""
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _info(entry: os.DirEntry[str]) -> ObjectInfo | None:
    """Describe a regular file, or None when it vanished or is something else."""
    try:
        if not entry.is_file(follow_symlinks=False):
            return None
        st = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None
    return ObjectInfo(entry.name, st.st_size, _utc(st.st_mtime))


def _make_dirs(directory: Path) -> None:
    """Create missing directories, fsyncing each parent so a crash cannot lose them."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        # exist_ok: a concurrent upload may create the same fan-out directory first.
        path.mkdir(exist_ok=True)
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(temporary: Path) -> None:
    """Remove a failed upload's temporary file, logging (not raising) if even that fails."""
    try:
        temporary.unlink(missing_ok=True)
    except OSError as exc:
        logger.error("object store could not remove a temporary upload %s: %r", temporary, exc)
