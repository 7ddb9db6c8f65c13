"""Writing one batch of import records: dataset, version and link rows, and their search entries.

Through SQLAlchemy Core and the driver's executemany (PostgreSQL's COPY for new rows) rather than the ORM, which
is what makes thousands of datasets a second possible. The batch is one transaction; the importer commits it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import JSON, bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from catalog.datasets.index import Standing, search_doc
from catalog.datasets.models import Dataset, DatasetDistribution, DatasetState, DatasetVersion
from catalog.interop.records import BY_TITLE, DIRECT, MAPPED, ImportRecord, ImportReport, RecordError
from catalog.search.index import SearchDoc, index_documents
from registry.enums import EntityStatus, SubjectStatus
from registry.uscc import normalise_uscc as normalise
from storage.db import now_of
from storage.ids import new_id
from storage.statements import bulk_insert, expanding
from storage.types import UTCDateTime

# A linked registry resource: its id, its open attribute, whether it is registered.
ResourceLink = tuple[str, str, bool]

_UPDATE_DATASET = text(
    "UPDATE dataset SET title = :title, title_en = :title_en, description = :description, "
    "keywords = :keywords, themes = :themes, entity_id = :entity_id, licence = :licence, "
    "access = :access, temporal_start = :temporal_start, temporal_end = :temporal_end, "
    "spatial = :spatial, update_frequency = :update_frequency, resource_id = :resource_id, "
    "landing_page = :landing_page, state = :state, extras = :extras, modified_at = :modified_at, "
    "updated_at = :updated_at WHERE id = :id"
).bindparams(
    *(bindparam(name, type_=JSON) for name in ("keywords", "themes", "extras")),
    *(bindparam(name, type_=UTCDateTime) for name in ("modified_at", "updated_at")),
)
# A new dataset's columns given as the JSON text they hold.
_JSON_COLUMNS = frozenset({"keywords", "themes", "extras"})
# What an update leaves as it was.
_KEPT_ON_UPDATE = frozenset({"name", "version", "issued_at", "created_by", "created_at"})


class Publishers:
    """Organisations resolved to entity ids, once per run: through --publisher, the organisation map, or an entity
    whose id, USCC or name is the organisation's reference, its CKAN name or its title."""

    def __init__(self, session: Session, override: str | None, org_map: Mapping[str, str] | None = None) -> None:
        # The session, not its connection: each batch's commit gives the connection back, and the next batch's
        # first statement takes another.
        self.session = session
        self.override = override
        self.cache: dict[str, str | None] = {}
        self.org_map = {map_key(name): self._target(name, target) for name, target in (org_map or {}).items()}

    def _target(self, name: str, target: str) -> str:
        """The entity an organisation map entry names, by id or USCC; an unknown one refuses the whole run."""
        rows = self._entities("SELECT id, status FROM entity WHERE id = :k OR uscc = :u", k=target, u=normalise(target))
        row = rows[0] if rows else None
        if row is None or row[1] == EntityStatus.suspended:
            raise RecordError(f"--org-map: {name!r} maps to {target!r}, which is no entity, or a suspended one")
        return str(row[0])

    def resolve(self, record: ImportRecord) -> tuple[str, str]:
        """The entity id a record's organisation resolves to, and how it was found (DIRECT, MAPPED or BY_TITLE)."""
        if self.override:
            found = self._entity(self.override)
            if found is None:
                raise RecordError(f"unknown or suspended publisher {self.override!r}")
            return found, DIRECT
        name, title = record.organization
        keys = [key for key in dict.fromkeys((record.publisher, name, title)) if key]
        for key in keys:
            if map_key(key) in self.org_map:
                return self.org_map[map_key(key)], MAPPED
        for key in keys:
            found = self._entity(key)
            if found is not None:
                return found, BY_TITLE if key == title and key not in (record.publisher, name) else DIRECT
        if not keys:
            raise RecordError("no publisher: the record names no organization; pass --publisher ENTITY_ID")
        raise UnknownOrganization(
            f"unknown organization {organization_label(record)}: no entity has its id, USCC, name or title "
            "(or it is suspended); map it to one with --org-map"
        )

    def _entities(self, sql: str, **params: str) -> list[Any]:
        """The (id, status) rows of a lookup, on the connection of the batch now open."""
        return list(self.session.connection().execute(text(sql), params).all())

    def _entity(self, key: str) -> str | None:
        """The entity whose id or USCC the key is, else the one entity of that name; None if none or suspended."""
        if key not in self.cache:
            rows = self._entities("SELECT id, status FROM entity WHERE id = :k OR uscc = :u", k=key, u=key.upper())
            if not rows:
                # Names are not unique: a name that several entities share names none of them.
                rows = self._entities("SELECT id, status FROM entity WHERE name = :k LIMIT 2", k=key)
            usable = len(rows) == 1 and rows[0][1] != EntityStatus.suspended
            self.cache[key] = str(rows[0][0]) if usable else None
        return self.cache[key]


class UnknownOrganization(RecordError):
    """No entity was found for a record's organisation."""


def map_key(name: str) -> str:
    """How organisation names and titles are compared: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()


def organization_label(record: ImportRecord) -> str:
    """How a report names a record's organisation: its CKAN name (or reference), and its title."""
    name, title = record.organization
    reference = name or record.publisher or "?"
    return f"{reference!r} ({title})" if title and title != reference else repr(reference)


def _resource_of(connection: Connection, code: str, entity_id: str) -> tuple[str, str, bool]:
    """The linked resource's id, open attribute and whether it is registered; it must be the publisher's own."""
    row = connection.execute(
        text("SELECT id, open_attribute, status, entity_id FROM data_resource WHERE code = :c"), {"c": code}
    ).first()
    if row is None or row[3] != entity_id:
        raise RecordError(f"resource_code {code}: no such resource of the publisher")
    return str(row[0]), str(row[1]), row[2] == SubjectStatus.registered


@dataclass
class _Rows:
    """The rows one batch writes."""

    now: datetime
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    distributions: list[dict[str, Any]] = field(default_factory=list)
    docs: list[SearchDoc] = field(default_factory=list)
    # (dataset id, version) whose links the batch replaces.
    replaced: list[tuple[str, int]] = field(default_factory=list)

    def add(
        self, record: ImportRecord, entity_id: str, link: ResourceLink | None, known: tuple[str, int] | None
    ) -> None:
        """The rows of one record: its dataset (new or updated), its first version, its links, its search entry."""
        ids = record.ids or [new_id() for _ in range(2 + len(record.distributions))]
        dataset_id, version = known if known else (ids[0], 1)
        modified = record.modified_at or self.now
        row = _dataset_row(record, dataset_id, version, entity_id, link, modified, self.now)
        if known:
            self.updates.append({k: v for k, v in row.items() if k not in _KEPT_ON_UPDATE})
            self.replaced.append((dataset_id, version))
        else:
            # New rows take their JSON columns as the text they hold: made by the parser when it could.
            row["keywords"], row["themes"], row["extras"] = record.json_texts or _json_texts(row)
            self.inserts.append(row)
            self.versions.append(_first_version(ids[1], dataset_id, record.state, self.now))
        links = []
        for d, row_id in zip(record.distributions, ids[2:], strict=True):
            if not (known and _own_file(d["url"], dataset_id)):
                links.append(d)
                self.distributions.append(
                    {"id": row_id, "dataset_id": dataset_id, "version": version, "created_at": self.now, **d}
                )
        access = link[1] if link else record.fields.access.value
        standing = Standing(dataset_id, entity_id, record.state, access, bool(link and link[2]), modified)
        formats = sorted({d["format"] for d in links if d["format"]})
        doc = search_doc(record.fields, standing, formats, text=record.text)
        doc.full_text = record.full_text
        self.docs.append(doc)


def _json_texts(row: dict[str, Any]) -> tuple[str, str, str]:
    """A new dataset row's JSON columns as SQLAlchemy's JSON type would write them (its default, json.dumps)."""
    return json.dumps(row["keywords"]), json.dumps(row["themes"]), json.dumps(row["extras"])


def _own_file(url: str, dataset_id: str) -> bool:
    """Whether a resource is the download of one of the dataset's own files, as in a dump of this catalog imported
    back into it: those stay files and do not come back as links."""
    path = urlsplit(url).path
    return f"/api/v1/datasets/{dataset_id}/files/" in path and path.endswith("/content")


def _dataset_row(
    record: ImportRecord,
    dataset_id: str,
    version: int,
    entity_id: str,
    link: ResourceLink | None,
    modified: datetime,
    now: datetime,
) -> dict[str, Any]:
    f = record.fields
    published = record.state == DatasetState.published
    return {
        "id": dataset_id,
        "name": record.name,
        "title": f.title,
        "title_en": f.title_en,
        "description": f.description,
        "keywords": list(f.keywords),
        "themes": [t.value for t in f.themes],
        "entity_id": entity_id,
        "licence": f.licence,
        "access": f.access.value,
        "temporal_start": f.temporal_start,
        "temporal_end": f.temporal_end,
        "spatial": f.spatial,
        "update_frequency": f.update_frequency.value if f.update_frequency else None,
        "resource_id": link[0] if link else None,
        "landing_page": f.landing_page,
        "state": record.state,
        "version": version,
        "extras": record.extras,
        "issued_at": (record.issued_at or modified) if published else None,
        "modified_at": modified,
        "created_by": None,
        "created_at": now,
        "updated_at": now,
    }


def _first_version(version_id: str, dataset_id: str, state: str, now: datetime) -> dict[str, Any]:
    published = state == DatasetState.published
    return {
        "id": version_id,
        "dataset_id": dataset_id,
        "version": 1,
        "state": DatasetState.published if published else DatasetState.draft,
        "notes": None,
        "created_at": now,
        "published_at": now if published else None,
    }


def write_batch(
    session: Session, records: Sequence[ImportRecord], publishers: Publishers, report: ImportReport
) -> None:
    """Create or update one batch of datasets in the session's transaction (the caller commits)."""
    connection = session.connection()
    existing = {
        str(name): (str(dataset_id), int(version))
        for name, dataset_id, version in connection.execute(
            expanding("SELECT name, id, version FROM dataset WHERE name IN :names", "names"),
            {"names": [r.name for r in records]},
        )
    }
    rows = _Rows(now=now_of(session))
    for record in records:
        try:
            entity_id, how = publishers.resolve(record)
            link = _resource_of(connection, record.resource_code, entity_id) if record.resource_code else None
        except RecordError as exc:
            if isinstance(exc, UnknownOrganization):
                report.unknown[organization_label(record)] += 1
            report.errors.append((record.where, str(exc)))
            continue
        report.count_written(record, how)
        known = existing.get(record.name)
        rows.add(record, entity_id, link, known)
        if known:
            report.updated += 1
        else:
            report.created += 1
    _write(connection, rows)
    index_documents(session, rows.docs)


def _write(connection: Connection, rows: _Rows) -> None:
    if rows.inserts:
        bulk_insert(connection, Dataset.__table__, rows.inserts, converted=_JSON_COLUMNS)  # type: ignore[attr-defined]
        bulk_insert(connection, DatasetVersion.__table__, rows.versions)  # type: ignore[attr-defined]
    if rows.updates:
        connection.execute(_UPDATE_DATASET, rows.updates)
        # The import describes the newest version's links in full: they replace what was there.
        connection.execute(
            text("DELETE FROM dataset_distribution WHERE dataset_id = :d AND version = :v"),
            [{"d": d, "v": v} for d, v in rows.replaced],
        )
    if rows.distributions:
        bulk_insert(connection, DatasetDistribution.__table__, rows.distributions)  # type: ignore[attr-defined]
