"""Uploads: the SHA-256 and size computed first and sent with the bytes, so the service refuses anything that did
not arrive whole; a broken connection is retried, after checking that the lost answer did not carry a success."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from catalog.client.downloads import CHUNK, Meter
from catalog.client.errors import TransportError, Unavailable
from catalog.client.sdk import PdrClient, segment
from catalog.files.schemas import FilePublic

RETRIES = 3
BACKOFF_SECONDS = 1.0


def sha256_of(path: Path, meter: Meter | None = None) -> str:
    """The file's SHA-256, read in chunks."""
    hasher = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            hasher.update(chunk)
            if meter is not None:
                meter.advance(len(chunk))
    return hasher.hexdigest()


def _chunks(source: BinaryIO, meter: Meter | None) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        if meter is not None:
            meter.advance(len(chunk))
        yield chunk


def _already_there(client: PdrClient, dataset_id: str, name: str, sha256: str) -> FilePublic | None:
    """The file, if the draft already holds it: a success whose answer the broken connection lost."""
    try:
        files = client.files(dataset_id)
    except TransportError:
        return None
    newest = max((f.version for f in files), default=None)
    return next((f for f in files if f.version == newest and f.sha256 == sha256 and f.name == name), None)


def upload(
    client: PdrClient,
    dataset_id: str,
    path: Path,
    *,
    name: str | None = None,
    media_type: str = "application/octet-stream",
    sha256: str | None = None,
    meter: Meter | None = None,
    retries: int = RETRIES,
) -> FilePublic:
    """Upload a file into the dataset's draft version, retrying broken connections and 429/503 answers."""
    name = name or path.name
    size = path.stat().st_size
    digest = sha256 or sha256_of(path)
    params = {"name": name, "sha256": digest, "size": size}
    target = f"/api/v1/datasets/{segment(dataset_id)}/files"
    for attempt in range(retries + 1):
        sent = _Counted(meter)
        try:
            with path.open("rb") as source:
                # A stated length sends the bytes as they are, without chunked framing (which copies every chunk).
                headers = {"Content-Type": media_type, "Content-Length": str(size)}
                response = client.request("POST", target, params=params, content=_chunks(source, sent), headers=headers)
            return FilePublic.model_validate(response.json())
        except (TransportError, Unavailable) as error:
            sent.undo()
            if isinstance(error, TransportError) and (found := _already_there(client, dataset_id, name, digest)):
                return found
            if attempt == retries:
                raise
            wait = error.retry_after if isinstance(error, Unavailable) and error.retry_after else None
            time.sleep(min(wait or BACKOFF_SECONDS * 2**attempt, 60))
    raise AssertionError("unreachable: the last attempt returns or raises")


class _Counted:
    """A meter that remembers what it counted, to take it back when an attempt starts over."""

    def __init__(self, meter: Meter | None) -> None:
        self.meter, self.count = meter, 0

    def advance(self, amount: int) -> None:
        """Count and pass on."""
        self.count += amount
        if self.meter is not None:
            self.meter.advance(amount)

    def undo(self) -> None:
        """Take back everything counted."""
        if self.meter is not None and self.count:
            self.meter.advance(-self.count)
        self.count = 0
