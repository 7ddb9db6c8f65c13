"""Keeping the search index in step with the datasets and with the registry records they link to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import text
from sqlmodel import Session, col, select

from catalog.datasets.models import Dataset, DatasetDistribution, DatasetFile
from catalog.datasets.views import dataset_formats
from catalog.search.index import SearchDoc, generation, index_documents
from catalog.search.tokens import DocumentText
from registry.enums import SubjectStatus
from registry.models import DataResource, LogEntry
from storage.db import upgrade_to_write

REGISTRY_FEED = "registry_log"
# The newest entry of the registry's log, how far the catalog has followed it, and the search index's generation,
# in one round trip.
_FEED_BEHIND = text(
    "SELECT (SELECT max(idx) FROM log_entry), (SELECT position FROM catalog_sync WHERE name = :n), "
    "(SELECT position FROM catalog_sync WHERE name = 'generation')"
)
# The advisory lock that lets one transaction at a time follow the registry's log (PostgreSQL).
REGISTRY_SYNC_LOCK = 5006


def year_span(start: date | None, end: date | None) -> tuple[int | None, int | None]:
    """The first and last year a coverage touches; one end stands for both when the other is missing."""
    if start is None and end is None:
        return None, None
    first = (start or end).year  # type: ignore[union-attr]
    last = (end or start).year  # type: ignore[union-attr]
    return first, last


class Described(Protocol):
    """The catalog metadata of a dataset the index reads: a stored dataset, or an import record's fields."""

    @property
    def title(self) -> str: ...
    @property
    def title_en(self) -> str | None: ...
    @property
    def description(self) -> str: ...
    @property
    def keywords(self) -> Sequence[str]: ...
    @property
    def themes(self) -> Sequence[str]: ...
    @property
    def licence(self) -> str | None: ...
    @property
    def temporal_start(self) -> date | None: ...
    @property
    def temporal_end(self) -> date | None: ...


@dataclass(frozen=True)
class Standing:
    """Where a dataset stands: its ids, state and time, and what its registry record (if any) says of it."""

    dataset_id: str
    entity_id: str
    state: str
    access: str
    registered: bool
    modified_at: datetime


def search_doc(
    described: Described, standing: Standing, formats: Sequence[str], text: DocumentText | None = None
) -> SearchDoc:
    """The search index's view of a dataset; text is the tokens when computed ahead (the bulk import)."""
    year_start, year_end = year_span(described.temporal_start, described.temporal_end)
    return SearchDoc(
        dataset_id=standing.dataset_id,
        entity_id=standing.entity_id,
        state=standing.state,
        access=standing.access,
        registered=standing.registered,
        licence=described.licence,
        themes=[str(theme) for theme in described.themes],
        formats=list(formats),
        year_start=year_start,
        year_end=year_end,
        title=described.title,
        title_en=described.title_en,
        keywords=list(described.keywords),
        description=described.description,
        modified_at=standing.modified_at,
        text=text,
    )


def reindex(session: Session, datasets: Sequence[Dataset]) -> None:
    """Rewrite the search rows of datasets from their current state (in the caller's transaction)."""
    if not datasets:
        return
    session.flush()
    ids = [d.id for d in datasets]
    distributions: dict[str, list[DatasetDistribution]] = {}
    for x in session.exec(select(DatasetDistribution).where(col(DatasetDistribution.dataset_id).in_(ids))):
        distributions.setdefault(x.dataset_id, []).append(x)
    files: dict[str, list[DatasetFile]] = {}
    for f in session.exec(select(DatasetFile).where(col(DatasetFile.dataset_id).in_(ids))):
        files.setdefault(f.dataset_id, []).append(f)
    resource_ids = {d.resource_id for d in datasets if d.resource_id}
    resources = (
        {r.id: r for r in session.exec(select(DataResource).where(col(DataResource.id).in_(resource_ids)))}
        if resource_ids
        else {}
    )
    docs = []
    for d in datasets:
        resource = resources.get(d.resource_id) if d.resource_id else None
        access = resource.open_attribute if resource is not None else d.access
        registered = resource is not None and resource.status == SubjectStatus.registered
        standing = Standing(d.id, d.entity_id, d.state, access, registered, d.modified_at)
        docs.append(search_doc(d, standing, dataset_formats(distributions.get(d.id, []), files.get(d.id, []))))
    index_documents(session, docs)


def sync_registry(session: Session) -> int:
    """Follow the registry's log: datasets linked to a resource whose registration completed are reindexed.

    The access level of a linked dataset lives in the registry; this keeps the search rows' copy of it current.
    Returns how many datasets were reindexed.
    """
    newest, _ = _feed_behind(session)
    return 0 if newest is None else _catch_up(session, newest)


def follow_registry(session: Session) -> int:
    """Follow the registry's log as `sync_registry` does; the search index's generation to search at, read with
    where the log stands when the catalog had followed it already."""
    newest, index_generation = _feed_behind(session)
    if newest is None:
        return index_generation
    _catch_up(session, newest)
    return generation(session.connection())


def _feed_behind(session: Session) -> tuple[int | None, int]:
    """The registry log's newest entry when the catalog has not followed it yet (else None), and the index's
    generation, in one statement."""
    newest, followed, index_generation = session.connection().execute(_FEED_BEHIND, {"n": REGISTRY_FEED}).one()
    behind = newest is not None and (followed is None or newest > followed)
    return (int(newest) if behind else None), int(index_generation or 0)


def _catch_up(session: Session, newest: int) -> int:
    """Reindex the datasets linked to resources registered in log entries the catalog has not followed yet, up to
    `newest`; how many were reindexed."""
    position_sql = text("SELECT position FROM catalog_sync WHERE name = :n")
    # A search runs in a read transaction; catching up writes, so it becomes a writer first, and then re-reads
    # the position another request may have moved meanwhile. On PostgreSQL two searches would both catch up (and
    # both insert the position's first row): an advisory lock makes the second wait for the first.
    upgrade_to_write(session)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REGISTRY_SYNC_LOCK})
    row = connection.execute(position_sql, {"n": REGISTRY_FEED}).first()
    position = int(row[0]) if row else -1
    if newest <= position:
        return 0
    subjects: set[str] = set()
    for data in session.exec(
        select(LogEntry.data).where(LogEntry.idx > position, LogEntry.kind == "registration.register")
    ):
        body = json.loads(data).get("body", {})
        if body.get("subject_type") == "resource" and isinstance(body.get("subject_id"), str):
            subjects.add(body["subject_id"])
    linked = list(session.exec(select(Dataset).where(col(Dataset.resource_id).in_(subjects)))) if subjects else []
    reindex(session, linked)
    if row is None:
        connection.execute(
            text("INSERT INTO catalog_sync (name, position) VALUES (:n, :p)"), {"n": REGISTRY_FEED, "p": newest}
        )
    else:
        connection.execute(
            text("UPDATE catalog_sync SET position = :p WHERE name = :n AND position < :p"),
            {"n": REGISTRY_FEED, "p": newest},
        )
    session.commit()
    return len(linked)
