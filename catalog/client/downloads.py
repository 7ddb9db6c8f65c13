"""Downloads that survive interruptions: bytes go to `NAME.part`, progress to `NAME.part.json`, and the file gets
its own name only once its SHA-256 matches the one the service gives.

A file of a dataset never changes once uploaded (it is addressed by its SHA-256), so a partial copy can be resumed
with a `Range` for as long as the service still lists the file with the same digest. Large files of open datasets
are fetched as several ranges at once; files that need a grant are fetched as one stream, because every request
for them counts against the grant's quota.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from catalog.client.errors import (
    ChangedOnServer,
    ClientError,
    DiskFull,
    IntegrityError,
    TransportError,
    raise_for_problem,
)
from catalog.client.sdk import PdrClient
from catalog.files.schemas import FilePublic
from storage.hashing import ThreadedSha256

CHUNK = 1024 * 1024
# Files this large are fetched as parallel ranges when they need no grant.
PARALLEL_FROM = 64 * 1024 * 1024
# How often the state file records progress: what a crash can cost a resume. Each save replaces a file, which on
# ext4 costs milliseconds; saving every 8 MiB instead halved a download's rate.
SAVE_SECONDS = 1.0
RETRIES = 3
# At most this many pieces go to one write: the system takes at most 1,024 buffers a call (IOV_MAX).
MAX_PIECES = 512
# Writes whose hashing may lag behind the writing: a few bound the memory.
HASHER_BATCHES_AHEAD = 8


class Meter(Protocol):
    """Where a transfer reports the bytes it moved (a progress bar, or nothing)."""

    def advance(self, amount: int) -> None:
        """Count `amount` more bytes (negative when a retry starts over)."""


class _Silent:
    def advance(self, amount: int) -> None:
        """Count nothing."""


@dataclass
class Segment:
    """One byte range of the file: `next` is the first byte not yet written, `end` the last byte (inclusive)."""

    next: int
    end: int

    @property
    def done(self) -> bool:
        """Whether every byte of the range is written."""
        return self.next > self.end


@dataclass
class DownloadState:
    """What `NAME.part.json` remembers: which file the partial copy is of, and how far each range got."""

    file_id: str
    sha256: str
    size: int
    segments: list[Segment] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write the state next to the partial file, atomically."""
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(asdict(self)))
        os.replace(temporary, path)


def local_name(file: FilePublic) -> str:
    """A file name safe to create in the target folder: the last path segment of the file's name, or its id."""
    name = Path(file.name.replace("\\", "/")).name.strip()
    return name if name not in ("", ".", "..") else file.id


def plan(
    file: FilePublic, part: Path, state_path: Path, connections: int, parallel_from: int = PARALLEL_FROM
) -> DownloadState:
    """The ranges still to fetch: from the saved state, from a partial file left by another tool, or all of it."""
    if state_path.exists():
        state = _load_state(state_path)
        if (state.sha256, state.size) != (file.sha256, file.size) or not part.exists():
            raise ChangedOnServer(
                f"{part.name} was taken from a file that is no longer what the service lists; "
                "delete it (and its .part.json) or use --restart"
            )
        return state
    state = DownloadState(file.id, file.sha256, file.size)
    have = part.stat().st_size if part.exists() else 0
    if have > file.size:
        raise ChangedOnServer(f"{part.name} is longer than the file on the service; delete it or use --restart")
    if have or connections <= 1 or file.size < parallel_from:
        state.segments = [Segment(have, file.size - 1)]
    else:
        step = -(-file.size // connections)
        state.segments = [Segment(start, min(start + step, file.size) - 1) for start in range(0, file.size, step)]
    return state


def _load_state(state_path: Path) -> DownloadState:
    """The saved state of a partial download; a damaged one is refused with what to do."""
    try:
        saved = json.loads(state_path.read_text())
        segments = [Segment(int(s["next"]), int(s["end"])) for s in saved["segments"]]
        return DownloadState(str(saved["file_id"]), str(saved["sha256"]), int(saved["size"]), segments)
    except (ValueError, KeyError, TypeError) as error:
        raise ClientError(f"{state_path.name} cannot be read; delete it or use --restart") from error


class _Writer:
    """Writes ranges into the partial file at their offsets and keeps the state file current."""

    def __init__(self, part: Path, state: DownloadState, state_path: Path, meter: Meter) -> None:
        self.fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o644)
        self.state, self.state_path, self.meter = state, state_path, meter
        self.lock = threading.Lock()
        self.saved_at = time.monotonic()
        # One sequential range from the start is hashed as it arrives; otherwise the whole file is read at the end.
        self.hasher = ThreadedSha256(HASHER_BATCHES_AHEAD) if len(state.segments) == 1 else None
        if self.hasher is not None:
            self._hash_existing(state.segments[0].next)

    def _hash_existing(self, length: int) -> None:
        assert self.hasher is not None
        offset = 0
        while offset < length:
            piece = os.pread(self.fd, min(CHUNK, length - offset), offset)
            if not piece:
                break
            self.hasher.update([piece])
            offset += len(piece)

    def write(self, segment: Segment, pieces: list[bytes]) -> None:
        """Write the pieces where the range stands, one after another, and move it on."""
        offset = segment.next
        try:
            length = _write_at(self.fd, pieces, offset)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                self.save()
                raise DiskFull(
                    "the disk is full; the partial file is kept: free space and run again to resume"
                ) from error
            raise
        if self.hasher is not None:
            self.hasher.update(pieces)
        segment.next = offset + length
        self.meter.advance(length)
        if time.monotonic() >= self.saved_at + SAVE_SECONDS:
            self.save()

    def save(self) -> None:
        """Record how far every range got.

        Not synced to disk: bytes a system crash loses are caught by the SHA-256 check at the end.
        """
        with self.lock:
            self.state.save(self.state_path)
            self.saved_at = time.monotonic()

    def digest(self, size: int) -> str:
        """The SHA-256 of what was written."""
        if self.hasher is not None:
            return self.hasher.hexdigest()
        hasher = hashlib.sha256()
        for offset in range(0, size, CHUNK):
            hasher.update(os.pread(self.fd, CHUNK, offset))
        return hasher.hexdigest()

    def close(self) -> None:
        """Close the partial file (and stop its hashing thread, if the transfer broke off)."""
        if self.hasher is not None:
            self.hasher.close()
        os.close(self.fd)


def _write_at(fd: int, pieces: list[bytes], offset: int) -> int:
    """Write the pieces at `offset` in one call (finishing a short write piece by piece); the bytes written."""
    total = sum(len(piece) for piece in pieces)
    written = os.pwritev(fd, pieces, offset)
    if written < total:
        rest = memoryview(b"".join(pieces))[written:]
        while rest:
            step = os.pwrite(fd, rest, offset + written)
            written, rest = written + step, rest[step:]
    return total


def fetch_segment(client: PdrClient, path: str, segment: Segment, writer: _Writer) -> None:
    """Fetch one range into the partial file, retrying a broken connection from where it stopped."""
    for attempt in range(RETRIES + 1):
        try:
            _stream_segment(client, path, segment, writer)
            return
        except TransportError:
            if attempt == RETRIES:
                raise


def _stream_segment(client: PdrClient, path: str, segment: Segment, writer: _Writer) -> None:
    if segment.done:
        return
    try:
        with client.http.stream("GET", path, headers={"Range": f"bytes={segment.next}-{segment.end}"}) as response:
            if response.status_code >= 400:
                response.read()
                raise_for_problem(response)
            start = _range_start(response.headers.get("content-range"), response.status_code)
            if start != segment.next:
                raise ClientError(f"the service answered bytes from {start}, not from {segment.next} as asked")
            _receive(response, segment, writer)
    except httpx.TransportError as error:
        raise TransportError(f"the connection broke at byte {segment.next}: {error.__class__.__name__}") from error


def _receive(response: httpx.Response, segment: Segment, writer: _Writer) -> None:
    """Pass the answer's bytes to the writer as they come, about a CHUNK at a time, none past the range's end."""
    pieces: list[bytes] = []
    held = 0
    # Pieces are passed on as they came: gathering them into one buffer would copy every byte once more.
    for chunk in response.iter_bytes():
        piece = chunk[: segment.end + 1 - segment.next - held]
        pieces.append(piece)
        held += len(piece)
        if held >= CHUNK or len(pieces) == MAX_PIECES or segment.next + held > segment.end:
            writer.write(segment, pieces)  # moves segment.next past these pieces
            pieces, held = [], 0
            if segment.done:
                return
    if pieces:
        writer.write(segment, pieces)


def _range_start(content_range: str | None, status: int) -> int:
    """Where the answer's bytes start: 0 for a whole-file 200, else the start of `Content-Range: bytes a-b/n`."""
    if status == 200:
        return 0
    try:
        return int((content_range or "").split()[1].split("-")[0])
    except (IndexError, ValueError):
        raise ClientError(f"the service answered {status} without a usable Content-Range") from None


def connections_for(access: str, wanted: int) -> int:
    """Parallel ranges only for files anyone may take: each request for conditional data uses a unit of a grant."""
    return max(1, wanted) if access == "unconditional" else 1


def download(
    client: PdrClient,
    file: FilePublic,
    directory: Path,
    *,
    connections: int = 4,
    restart: bool = False,
    meter: Meter | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> Path:
    """Fetch a file into `directory`, resuming a partial copy, and name it only once its SHA-256 is right."""
    final = directory / local_name(file)
    part, state_path = final.with_name(final.name + ".part"), final.with_name(final.name + ".part.json")
    if restart:
        part.unlink(missing_ok=True)
        state_path.unlink(missing_ok=True)
    state = plan(file, part, state_path, connections, parallel_from)
    meter = meter or _Silent()
    meter.advance(sum(s.next - start for s, start in zip(state.segments, _starts(state), strict=True)))
    writer = _Writer(part, state, state_path, meter)
    try:
        writer.save()
        try:
            _fetch_all(client, client.content_path(file.dataset_id, file.id), state, writer)
        finally:
            # Whatever stopped the transfer, the next run resumes from the bytes that did arrive.
            writer.save()
        digest = writer.digest(file.size)
    finally:
        writer.close()
    if digest != file.sha256:
        part.unlink(missing_ok=True)
        state_path.unlink(missing_ok=True)
        raise IntegrityError(
            f"{final.name}: the bytes received have SHA-256 {digest}, not {file.sha256}; the partial file was "
            "removed: run again to download it afresh"
        )
    os.replace(part, final)
    state_path.unlink(missing_ok=True)
    return final


def _starts(state: DownloadState) -> list[int]:
    """Where each range began, to count the bytes a resumed download already has."""
    if len(state.segments) == 1:
        return [0]
    step = -(-state.size // len(state.segments))
    return [i * step for i in range(len(state.segments))]


def _fetch_all(client: PdrClient, path: str, state: DownloadState, writer: _Writer) -> None:
    """Fetch every unfinished range, in parallel threads when there are several."""
    pending = [s for s in state.segments if not s.done]
    if len(pending) <= 1:
        for segment in pending:
            fetch_segment(client, path, segment, writer)
        return
    with ThreadPoolExecutor(max_workers=len(pending)) as pool:
        futures = [pool.submit(fetch_segment, client, path, segment, writer) for segment in pending]
        errors = [f.exception() for f in futures]
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first
