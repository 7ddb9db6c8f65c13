"""Payload files: streamed, verified uploads into the object store, and the list of a dataset's files.

An upload is hashed while it is written to a temporary object, checked against the declared SHA-256 and size,
finalised under its SHA-256, and only then recorded as a file of the dataset's draft version. If recording
fails, an object this upload created is removed again: nothing is left half-written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from sqlalchemy import and_
from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog.datasets.access import check_may_change, current_version, visible_dataset
from catalog.datasets.models import Dataset, DatasetFile, DatasetState, DatasetVersion
from catalog.datasets.service import add_file_record
from catalog.search.formats import media_type_for
from registry.access import may_read_private
from storage.exceptions import Conflict, FieldProblem, InvalidInput, PayloadTooLarge
from storage.objects import ObjectStore, StoredObject

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


def media_type_of(raw: str | None, name: str | None) -> str:
    """The declared media type without parameters; when it is generic or missing, the one the name's extension names."""
    value = (raw or "").split(";")[0].strip().lower()
    return media_type_for(value if _MEDIA_TYPE.match(value) else "", name)


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
    dataset = visible_dataset(session, caller, dataset_id)
    # A suspended entity's drafts take no files, as its datasets take no other change.
    check_may_change(session, caller, dataset)
    version = current_version(session, dataset)
    if version.state == DatasetState.published:
        raise Conflict(f"version {version.version} is published and its files never change; start a new version")
    return dataset, version


def prepare_upload(session: Session, caller: Caller, dataset_id: str) -> None:
    """Refuse an upload the caller may not make before any byte of it is read, then end the transaction.

    No lock or connection is held while the body streams in.
    """
    draft_for_upload(session, caller, dataset_id)
    session.commit()


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
        return add_file_record(
            session, caller, dataset_id, name=name, media_type=media_type, size=stored.size, sha256=stored.sha256
        )
    except BaseException:
        session.rollback()
        if stored.created and not is_referenced(session, stored.sha256):
            store.delete(stored.sha256)
        raise


def is_referenced(session: Session, sha256: str) -> bool:
    """Whether any file row refers to the object with this SHA-256."""
    return session.exec(select(DatasetFile.id).where(DatasetFile.sha256 == sha256).limit(1)).first() is not None


def files_of(session: Session, caller: Caller, dataset_id: str) -> list[DatasetFile]:
    """The files of every version the caller may see, newest version first."""
    dataset = visible_dataset(session, caller, dataset_id)
    statement = select(DatasetFile).where(DatasetFile.dataset_id == dataset.id)
    if not may_read_private(caller, dataset.entity_id):
        published = select(DatasetVersion.version).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.state == DatasetState.published
        )
        statement = statement.where(col(DatasetFile.version).in_(published))
    return list(session.exec(statement.order_by(col(DatasetFile.version).desc(), col(DatasetFile.id))).all())


def visible_files(session: Session, caller: Caller, owners: Mapping[str, str]) -> dict[str, list[DatasetFile]]:
    """The files of datasets the caller may see (dataset id -> entity id), as `files_of` lists them, in one query."""
    if not owners:
        return {}
    rows = session.exec(
        select(DatasetFile, DatasetVersion.state)
        .join(
            DatasetVersion,
            and_(
                col(DatasetVersion.dataset_id) == col(DatasetFile.dataset_id),
                col(DatasetVersion.version) == col(DatasetFile.version),
            ),
        )
        .where(col(DatasetFile.dataset_id).in_(list(owners)))
        .order_by(col(DatasetFile.dataset_id), col(DatasetFile.version).desc(), col(DatasetFile.id))
    )
    found: dict[str, list[DatasetFile]] = {dataset_id: [] for dataset_id in owners}
    for file, state in rows:
        if state == DatasetState.published or may_read_private(caller, owners[file.dataset_id]):
            found[file.dataset_id].append(file)
    return found
