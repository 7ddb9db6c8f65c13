"""The API view of datasets: each with its publisher, registry record, certificates, links, versions and files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Row,
    String,
    and_,
    bindparam,
    cast,
    literal_column,
    null,
    union_all,
)
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog.datasets.models import Dataset, DatasetDistribution, DatasetFile, DatasetState, DatasetVersion
from catalog.datasets.schemas import (
    CertificateRef,
    DatasetPublic,
    DistributionPublic,
    Publisher,
    RegistryLink,
    VersionFile,
    VersionPublic,
)
from catalog.search.formats import file_format, normalise_format
from registry.access import may_read_private
from registry.enums import RegistrationState, SubjectStatus
from registry.models import DataResource, Entity, Registration
from storage.statements import expanding
from storage.together import table_of
from storage.types import UTCDateTime

# A dataset as the view reads it: a model instance, or a row of the dataset table's columns (a search's page).
DatasetRecord = Dataset | Row[Any]


@dataclass
class _Linked:
    """What a page of datasets links to, each loaded in one query."""

    entities: dict[str, Entity | Publisher]
    resources: dict[str, DataResource]
    codes: dict[str, str]
    certificates: dict[str, list[CertificateRef]]
    distributions: dict[str, list[Any]]  # rows of dataset_distribution (`_with_version_state`)
    files: dict[str, list[Any]]  # rows of dataset_file
    versions: dict[str, list[DatasetVersion]]
    published: dict[str, set[int]]


def present(
    session: Session,
    datasets: Sequence[DatasetRecord],
    *,
    detail: bool = False,
    viewer: Caller | None = None,
    publishers: Mapping[str, Entity | Publisher] | None = None,
) -> list[DatasetPublic]:
    """The API view of datasets as `viewer` may see them (None: the public), loading what they link to in a few
    queries (their publishers only when not given). Only the publishing entity and the staff see unpublished
    versions, their links and their files."""
    if not datasets:
        return []
    linked = _load_linked(session, datasets, detail=detail, publishers=publishers or {})
    views = []
    for dataset in datasets:
        if viewer is None or not may_read_private(viewer, dataset.entity_id):
            _keep_published(dataset.id, linked)
        view = _view(dataset, linked)
        if detail:
            view.versions = _versions(dataset, linked)
        views.append(view)
    return views


def _keep_published(dataset_id: str, linked: _Linked) -> None:
    """Drop the dataset's unpublished versions, with their links and files, from what was loaded."""
    published = linked.published.get(dataset_id, set())
    if dataset_id in linked.distributions:
        linked.distributions[dataset_id] = [d for d in linked.distributions[dataset_id] if d.version in published]
    if dataset_id in linked.files:
        linked.files[dataset_id] = [f for f in linked.files[dataset_id] if f.version in published]
    if dataset_id in linked.versions:
        linked.versions[dataset_id] = [v for v in linked.versions[dataset_id] if v.version in published]


def _grouped(rows: Iterable[Any]) -> dict[str, list[Any]]:
    """Rows grouped by their dataset_id, in the order given."""
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.dataset_id, []).append(row)
    return grouped


def _load_linked(
    session: Session, datasets: Sequence[DatasetRecord], *, detail: bool, publishers: Mapping[str, Entity | Publisher]
) -> _Linked:
    ids = [d.id for d in datasets]
    resource_ids = {d.resource_id for d in datasets if d.resource_id}
    resources = (
        {r.id: r for r in session.exec(select(DataResource).where(col(DataResource.id).in_(resource_ids)))}
        if resource_ids
        else {}
    )
    published: dict[str, set[int]] = {}
    distributions, files = _links_and_files(session, ids, published)
    versions = (
        _grouped(
            session.exec(
                select(DatasetVersion)
                .where(col(DatasetVersion.dataset_id).in_(ids))
                .order_by(col(DatasetVersion.version))
            )
        )
        if detail
        else {}
    )
    for version in (v for rows in versions.values() for v in rows if v.state == DatasetState.published):
        published.setdefault(version.dataset_id, set()).add(version.version)
    return _Linked(
        entities=_entities(session, {d.entity_id for d in datasets}, publishers),
        resources=resources,
        codes=_registration_codes(session, resource_ids),
        certificates=_certificates(session, resource_ids),
        distributions=distributions,
        files=files,
        versions=versions,
        published=published,
    )


def _entities(
    session: Session, ids: set[str], given: Mapping[str, Entity | Publisher]
) -> dict[str, Entity | Publisher]:
    """The entities by id: those given, and the rest read in one query."""
    found = {entity_id: given[entity_id] for entity_id in ids if entity_id in given}
    missing = ids - found.keys()
    if missing:
        found.update({e.id: e for e in session.exec(select(Entity).where(col(Entity.id).in_(missing)))})
    return found


def _links_and_files(
    session: Session, ids: list[str], published: dict[str, set[int]]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The datasets' links and their files, each grouped by dataset in id order, noting in `published` which of
    their versions are published (the state read with them, in the same query).

    They are rows, not model instances: the view only reads their columns, and a page of them costs the ORM's
    bookkeeping for nothing. A link's row has no size or digest, a file's no URL, format or description.
    """
    groups: dict[str, dict[str, list[Any]]] = {LINK: {}, FILE: {}}
    for row in session.connection().execute(_links_and_files_statement(), {"ids": ids}):
        groups[row.kind].setdefault(row.dataset_id, []).append(row)
        if row.version_state == DatasetState.published:
            published.setdefault(row.dataset_id, set()).add(row.version)
    return groups[LINK], groups[FILE]


LINK, FILE = "link", "file"


@cache
def _links_and_files_statement() -> CompoundSelect[Any]:
    """Links (by version, then id) and files (by id) with their versions' states in one statement, built once: one
    round trip instead of two, and building it anew on every page cost as much as running it."""
    versions = table_of(DatasetVersion)
    links, files = table_of(DatasetDistribution), table_of(DatasetFile)
    parts = []
    for table, kind, order_version in ((links, LINK, links.c.version), (files, FILE, literal_column("0", Integer))):
        columns: list[ColumnElement[Any]] = [
            literal_column(f"'{kind}'", String).label("kind"),
            order_version.label("order_version"),
        ]
        for name, type_ in _LINK_AND_FILE_COLUMNS:
            columns.append((table.c[name] if name in table.c else cast(null(), type_)).label(name))
        state = and_(versions.c.dataset_id == table.c.dataset_id, versions.c.version == table.c.version)
        parts.append(
            core_select(*columns, versions.c.state.label("version_state"))
            .select_from(table.outerjoin(versions, state))
            .where(table.c.dataset_id.in_(bindparam("ids", expanding=True)))
        )
    both = union_all(*parts)
    return both.order_by(both.selected_columns.kind, both.selected_columns.order_version, both.selected_columns.id)


# Every column of a link or a file, with the type a row of the other kind gets as NULL.
_LINK_AND_FILE_COLUMNS = (
    ("id", String),
    ("dataset_id", String),
    ("version", Integer),
    ("name", String),
    ("media_type", String),
    ("created_at", UTCDateTime),
    ("url", String),
    ("format", String),
    ("description", String),
    ("size", BigInteger),
    ("sha256", String),
)


def _registry_link(resource: DataResource | None, linked: _Linked) -> RegistryLink | None:
    if resource is None:
        return None
    return RegistryLink(
        resource_id=resource.id,
        resource_code=resource.code,
        resource_status=resource.status,
        registered=resource.status == SubjectStatus.registered,
        registration_code=linked.codes.get(resource.id),
        certificates=linked.certificates.get(resource.id, []),
    )


def _view(d: DatasetRecord, linked: _Linked) -> DatasetPublic:
    entity = linked.entities[d.entity_id]
    resource = linked.resources.get(d.resource_id) if d.resource_id else None
    distributions = linked.distributions.get(d.id, [])
    return DatasetPublic(
        id=d.id,
        name=d.name,
        title=d.title,
        title_en=d.title_en,
        description=d.description,
        keywords=list(d.keywords),
        themes=list(d.themes),
        publisher=Publisher(id=entity.id, name=entity.name, name_en=entity.name_en),
        licence=d.licence,
        access=resource.open_attribute if resource is not None else d.access,
        temporal_start=d.temporal_start,
        temporal_end=d.temporal_end,
        spatial=d.spatial,
        update_frequency=d.update_frequency,
        landing_page=d.landing_page,
        state=d.state,
        version=d.version,
        formats=dataset_formats(distributions, linked.files.get(d.id, [])),
        issued_at=d.issued_at,
        modified_at=d.modified_at,
        created_at=d.created_at,
        registry=_registry_link(resource, linked),
        distributions=[DistributionPublic.model_validate(x) for x in distributions],
    )


def _versions(d: DatasetRecord, linked: _Linked) -> list[VersionPublic]:
    files = linked.files.get(d.id, [])
    return [
        VersionPublic(
            version=v.version,
            state=v.state,
            notes=v.notes,
            created_at=v.created_at,
            published_at=v.published_at,
            files=[VersionFile.model_validate(f) for f in files if f.version == v.version],
        )
        for v in linked.versions.get(d.id, [])
    ]


def _registration_codes(session: Session, resource_ids: set[str]) -> dict[str, str]:
    if not resource_ids:
        return {}
    codes: dict[str, str] = {}
    rows = session.exec(
        select(Registration.subject_id, Registration.code)
        .where(col(Registration.subject_id).in_(resource_ids), Registration.state == RegistrationState.registered)
        .order_by(col(Registration.registered_at))
    )
    for subject_id, code in rows:
        if code:
            codes[subject_id] = code  # the latest registration wins
    return codes


def _certificates(session: Session, resource_ids: set[str]) -> dict[str, list[CertificateRef]]:
    if not resource_ids:
        return {}
    rows = session.connection().execute(
        expanding("SELECT subject_id, number, status FROM certificate WHERE subject_id IN :ids ORDER BY number", "ids"),
        {"ids": sorted(resource_ids)},
    )
    found: dict[str, list[CertificateRef]] = {}
    for subject_id, number, status in rows:
        found.setdefault(subject_id, []).append(CertificateRef(number=number, status=status))
    return found


def dataset_formats(distributions: Iterable[DatasetDistribution], files: Iterable[DatasetFile]) -> list[str]:
    """The formats a dataset comes in, from its links' formats and its files' media types."""
    names = [normalise_format(d.format or d.media_type) for d in distributions]
    names += [file_format(f.media_type, f.name) for f in files]
    return sorted({n for n in names if n})
