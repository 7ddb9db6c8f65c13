"""Payload files: streamed, verified uploads into the object store, downloads with ranges, and store upkeep.

An upload is hashed while it is written to a temporary object, checked against the declared SHA-256 and size,
finalised under its SHA-256, and only then recorded as a file of the dataset's draft version. If recording
fails, an object this upload created is removed again: nothing is left half-written.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog import datasets
from catalog.datasets import DatasetState
from catalog.models import Dataset, DatasetFile, DatasetVersion
from registry.access import may_read_private
from registry.enums import Openness
from storage.exceptions import Conflict, FieldProblem, InvalidInput, NotFound, PayloadTooLarge
from storage.objects import ObjectStore, StoredObject

log = logging.getLogger("pdr.payloads")

MAX_NAME_BYTES = 255
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")


def safe_file_name(raw: str | None) -> str:
    """A file name fit to store and to put in a header: no path, no control characters, at most 255 bytes."""
    name = unicodedata.normalize("NFC", raw or "")
    # Only the last path segment counts, whichever separator the client's system uses.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    while len(name.encode()) > MAX_NAME_BYTES:
        name = name[:-1]
    return name or "file"


def media_type_of(raw: str | None) -> str:
    """The declared media type without parameters, or application/octet-stream."""
    value = (raw or "").split(";")[0].strip().lower()
    return value if _MEDIA_TYPE.match(value) else "application/octet-stream"


def check_declared(sha256: str | None, size: int | None, max_size: int) -> None:
    """Refuse malformed declarations, and a declared size over the limit, before reading any byte."""
    if sha256 is not None and not _SHA256.match(sha256):
        raise InvalidInput("sha256 must be 64 lower-case hex digits", errors=[FieldProblem("sha256", "not a digest")])
    if size is not None and size < 0:
        raise InvalidInput("size cannot be negative", errors=[FieldProblem("size", "negative")])
    if size is not None and size > max_size:
        raise PayloadTooLarge(f"the upload is larger than the limit of {max_size} bytes", extra={"max_size": max_size})


def draft_for_upload(session: Session, caller: Caller, dataset_id: str) -> tuple[Dataset, DatasetVersion]:
    """The dataset and its draft version a caller may upload into; checked before the body is read."""
    dataset = datasets.visible_dataset(session, caller, dataset_id)
    datasets.check_may_edit(caller, dataset)
    version = datasets.current_version(session, dataset)
    if version.state == DatasetState.published:
        raise Conflict(f"version {version.version} is published and its files never change; start a new version")
    return dataset, version


def store_and_record(
    session: Session,
    caller: Caller,
    store: ObjectStore,
    dataset_id: str,
    chunks: Iterable[bytes],
    *,
    name: str,
    media_type: str,
    sha256: str | None,
    size: int | None,
    max_size: int,
) -> DatasetFile:
    """Stream the payload into the store, then record it; an object this call created goes if recording fails."""
    stored: StoredObject = store.put_stream(chunks, expected_sha256=sha256, expected_size=size, max_size=max_size)
    try:
        return datasets.add_file_record(
            session, caller, dataset_id, name=name, media_type=media_type, size=stored.size, sha256=stored.sha256
        )
    except BaseException:
        session.rollback()
        if stored.created and not _referenced(session, stored.sha256):
            store.delete(stored.sha256)
        raise


def _referenced(session: Session, sha256: str) -> bool:
    return session.exec(select(DatasetFile.id).where(DatasetFile.sha256 == sha256).limit(1)).first() is not None


# ---------------------------------------------------------------- downloads


@dataclass(frozen=True)
class Download:
    """A file the caller may fetch."""

    dataset: Dataset
    file: DatasetFile
    # True when the caller needs a live grant for it (a conditional dataset, the caller not its entity or staff).
    conditional: bool = False


def downloadable(session: Session, caller: Caller, dataset_id: str, file_id: str) -> Download:
    """A file the caller may see: published versions for readers, any for editors; conditional ones flagged."""
    dataset = datasets.visible_dataset(session, caller, dataset_id)
    record = session.get(DatasetFile, file_id)
    if record is None or record.dataset_id != dataset.id:
        raise NotFound("no such file")
    private = may_read_private(caller, dataset.entity_id)
    if not private:
        version = session.exec(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == record.version
            )
        ).one()
        if version.state != DatasetState.published:
            raise NotFound("no such file")
        if datasets.effective_access(session, dataset) == Openness.conditional:
            # The grant is checked (and its quota used) by catalog.exchange.claim_download.
            return Download(dataset=dataset, file=record, conditional=True)
    return Download(dataset=dataset, file=record)


def files_of(session: Session, caller: Caller, dataset_id: str) -> list[DatasetFile]:
    """The files of every version the caller may see, newest version first."""
    dataset = datasets.visible_dataset(session, caller, dataset_id)
    statement = select(DatasetFile).where(DatasetFile.dataset_id == dataset.id)
    if not may_read_private(caller, dataset.entity_id):
        published = select(DatasetVersion.version).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.state == DatasetState.published
        )
        statement = statement.where(col(DatasetFile.version).in_(published))
    return list(session.exec(statement.order_by(col(DatasetFile.version).desc(), col(DatasetFile.id))).all())


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of a file."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """How many bytes the range holds."""
        return self.end - self.start + 1


class RangeNotSatisfiable(Exception):
    """The Range header asks for nothing the file has (416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """A single or suffix byte range; None means the whole file (no header, or a form we do not serve)."""
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if match is None:
        return None  # several ranges, or another unit: RFC 9110 lets us answer with the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable
    return ByteRange(start, end)


def etag_of(record: DatasetFile) -> str:
    """The strong ETag of a file: its SHA-256."""
    return f'"{record.sha256}"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header already names this file's ETag."""
    if not if_none_match:
        return False
    candidates = {value.strip().removeprefix("W/") for value in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


# ---------------------------------------------------------------- upkeep


@dataclass
class GcReport:
    """What `pdr storage gc` removed."""

    temporary: int = 0
    unreferenced: int = 0
    kept_recent: int = 0


def collect_garbage(
    session: Session, store: ObjectStore, *, now: datetime, temporary_age: timedelta, grace: timedelta
) -> GcReport:
    """Remove stale temporary uploads and objects no file refers to; recent objects are kept for uploads under way."""
    report = GcReport(temporary=store.remove_stale_temporary(now - temporary_age))
    for info in store.iter_objects():
        if _referenced(session, info.sha256):
            continue
        if info.modified > now - grace:
            report.kept_recent += 1
            continue
        # Checked again just before deleting: an upload may have recorded it while we listed.
        if not _referenced(session, info.sha256):
            store.delete(info.sha256)
            report.unreferenced += 1
    return report


def verify_store(session: Session, store: ObjectStore) -> Iterator[tuple[str, str]]:
    """Every object re-hashed, and every file row checked for its object: yields (problem, sha256)."""
    for info in store.iter_objects():
        if not store.verify(info.sha256):
            yield "corrupt", info.sha256
    seen: set[str] = set()
    for sha256 in session.exec(select(DatasetFile.sha256).distinct()).all():
        if sha256 not in seen and store.stat(sha256) is None:
            yield "missing", sha256
        seen.add(sha256)
