"""Use cases of the catalog's datasets: create, edit, publish, version, withdraw, read and search."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from auth import audit
from auth.caller import Caller
from auth.models import Role
from catalog import search
from catalog.models import Dataset, DatasetDistribution, DatasetFile, DatasetVersion
from catalog.schemas import (
    CertificateRef,
    DatasetCreate,
    DatasetPublic,
    DatasetUpdate,
    DistributionCreate,
    DistributionPublic,
    FilePublic,
    Publisher,
    RegistryLink,
    VersionPublic,
)
from registry.access import acting_entity, is_member, may_read_private
from registry.enums import EntityStatus, Openness, RegistrationState, SubjectStatus
from registry.models import DataResource, Entity, LogEntry, Registration
from storage.db import upgrade_to_write
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from storage.statements import expanding
from storage.types import utcnow


class DatasetState:
    """Life of a dataset in the catalog."""

    draft = "draft"
    published = "published"
    withdrawn = "withdrawn"


REGISTRY_FEED = "registry_log"


# ---------------------------------------------------------------- who may do what


def _acting_entity(session: Session, caller: Caller, requested: str | None) -> Entity:
    """The entity a new dataset belongs to: a provider's own verified entity, or the one staff name."""
    entity = acting_entity(session, caller, requested, doing="publish datasets")
    _check_entity_may_publish(caller, entity)
    return entity


def _check_entity_may_publish(caller: Caller, entity: Entity) -> None:
    if entity.status == EntityStatus.suspended:
        raise Conflict("the entity is suspended and cannot publish")
    if not caller.is_staff and entity.status != EntityStatus.verified:
        raise Conflict("the entity is not verified yet; the registry verifies it before it publishes")


def check_may_edit(caller: Caller, dataset: Dataset) -> None:
    """Refuse anyone but the dataset's entity and the registry's staff (Forbidden)."""
    if not (caller.is_staff or is_member(caller, dataset.entity_id)):
        raise Forbidden("only the dataset's entity and the registry's staff change it")


# ---------------------------------------------------------------- reading


def find_dataset(session: Session, id_or_name: str) -> Dataset | None:
    """A dataset by id or by name."""
    dataset = session.get(Dataset, id_or_name)
    if dataset is None:
        dataset = session.exec(select(Dataset).where(Dataset.name == id_or_name)).first()
    return dataset


def effective_access(session: Session, dataset: Dataset) -> str:
    """The access level: the linked resource's open attribute, else the dataset's own."""
    if dataset.resource_id:
        resource = session.get(DataResource, dataset.resource_id)
        if resource is not None:
            return resource.open_attribute
    return dataset.access


def is_public(session: Session, dataset: Dataset) -> bool:
    """Whether anyone at all may see the dataset."""
    return dataset.state == DatasetState.published and effective_access(session, dataset) != Openness.not_open


def visible_dataset(session: Session, caller: Caller, id_or_name: str) -> Dataset:
    """A dataset the caller may see; others get 404, as if it did not exist."""
    dataset = find_dataset(session, id_or_name)
    if dataset is None:
        raise NotFound("no such dataset")
    if not is_public(session, dataset) and not may_read_private(caller, dataset.entity_id):
        raise NotFound("no such dataset")
    return dataset


def present(session: Session, datasets: Sequence[Dataset], *, detail: bool = False) -> list[DatasetPublic]:
    """The API view of datasets, loading what they link to in a few queries."""
    if not datasets:
        return []
    ids = [d.id for d in datasets]
    entities = {
        e.id: e for e in session.exec(select(Entity).where(col(Entity.id).in_({d.entity_id for d in datasets})))
    }
    resource_ids = {d.resource_id for d in datasets if d.resource_id}
    resources = (
        {r.id: r for r in session.exec(select(DataResource).where(col(DataResource.id).in_(resource_ids)))}
        if resource_ids
        else {}
    )
    codes = _registration_codes(session, resource_ids)
    certificates = _certificates(session, resource_ids)
    distributions: dict[str, list[DatasetDistribution]] = {}
    for distribution in session.exec(
        select(DatasetDistribution)
        .where(col(DatasetDistribution.dataset_id).in_(ids))
        .order_by(col(DatasetDistribution.version), col(DatasetDistribution.id))
    ):
        distributions.setdefault(distribution.dataset_id, []).append(distribution)
    files: dict[str, list[DatasetFile]] = {}
    for file in session.exec(
        select(DatasetFile).where(col(DatasetFile.dataset_id).in_(ids)).order_by(col(DatasetFile.id))
    ):
        files.setdefault(file.dataset_id, []).append(file)
    versions: dict[str, list[DatasetVersion]] = {}
    if detail:
        for version in session.exec(
            select(DatasetVersion).where(col(DatasetVersion.dataset_id).in_(ids)).order_by(col(DatasetVersion.version))
        ):
            versions.setdefault(version.dataset_id, []).append(version)
    views = []
    for d in datasets:
        entity = entities[d.entity_id]
        resource = resources.get(d.resource_id) if d.resource_id else None
        link = None
        if resource is not None:
            link = RegistryLink(
                resource_id=resource.id,
                resource_code=resource.code,
                resource_status=resource.status,
                registered=resource.status == SubjectStatus.registered,
                registration_code=codes.get(resource.id),
                certificates=certificates.get(resource.id, []),
            )
        own_files = files.get(d.id, [])
        view = DatasetPublic(
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
            formats=dataset_formats(distributions.get(d.id, []), own_files),
            issued_at=d.issued_at,
            modified_at=d.modified_at,
            created_at=d.created_at,
            registry=link,
            distributions=[DistributionPublic.model_validate(x) for x in distributions.get(d.id, [])],
        )
        if detail:
            view.versions = [
                VersionPublic(
                    version=v.version,
                    state=v.state,
                    notes=v.notes,
                    created_at=v.created_at,
                    published_at=v.published_at,
                    files=[FilePublic.model_validate(f) for f in own_files if f.version == v.version],
                )
                for v in versions.get(d.id, [])
            ]
        views.append(view)
    return views


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
    names = [search.normalise_format(d.format or d.media_type) for d in distributions]
    names += [search.normalise_format(f.media_type) for f in files]
    return sorted({n for n in names if n})


# ---------------------------------------------------------------- the search index


def year_span(start: date | None, end: date | None) -> tuple[int | None, int | None]:
    """The first and last year a coverage touches; one end stands for both when the other is missing."""
    if start is None and end is None:
        return None, None
    first = (start or end).year  # type: ignore[union-attr]
    last = (end or start).year  # type: ignore[union-attr]
    return first, last


def search_doc(dataset: Dataset, access: str, registered: bool, formats: Sequence[str]) -> search.SearchDoc:
    """The search index's view of a dataset."""
    year_start, year_end = year_span(dataset.temporal_start, dataset.temporal_end)
    return search.SearchDoc(
        dataset_id=dataset.id,
        entity_id=dataset.entity_id,
        state=dataset.state,
        access=access,
        registered=registered,
        licence=dataset.licence,
        themes=list(dataset.themes),
        formats=list(formats),
        year_start=year_start,
        year_end=year_end,
        title=dataset.title,
        title_en=dataset.title_en,
        keywords=list(dataset.keywords),
        description=dataset.description,
        modified_at=dataset.modified_at,
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
        docs.append(
            search_doc(d, access, registered, dataset_formats(distributions.get(d.id, []), files.get(d.id, [])))
        )
    search.index_documents(session, docs)


def sync_registry(session: Session) -> int:
    """Follow the registry's log: datasets linked to a resource whose registration completed are reindexed.

    The access level of a linked dataset lives in the registry; this keeps the search rows' copy of it current.
    Returns how many datasets were reindexed.
    """
    newest = session.exec(select(LogEntry.idx).order_by(col(LogEntry.idx).desc()).limit(1)).first()
    if newest is None:
        return 0
    position_sql = text("SELECT position FROM catalog_sync WHERE name = :n")
    row = session.connection().execute(position_sql, {"n": REGISTRY_FEED}).first()
    position = int(row[0]) if row else -1
    if newest <= position:
        return 0
    # A search runs in a read transaction; catching up writes, so it becomes a writer first, and then re-reads
    # the position another request may have moved meanwhile.
    upgrade_to_write(session)
    connection = session.connection()
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


def viewer_of(caller: Caller) -> search.Viewer:
    """The search's view of a caller."""
    if caller.is_staff:
        return search.Viewer(staff=True)
    if caller.has_role(Role.provider) and caller.entity_id:
        return search.Viewer(entity_id=caller.entity_id)
    return search.Viewer()


@dataclass
class SearchPage:
    """One page of search results as the API shows them."""

    items: list[DatasetPublic]
    count: int
    next_cursor: str | None
    facets: dict[str, list[search.FacetValue]]


def search_datasets(session: Session, caller: Caller, query: search.SearchQuery) -> SearchPage:
    """Search the catalog as the caller may see it."""
    sync_registry(session)
    query.viewer = viewer_of(caller)
    result = search.search(session, query)
    by_id = {d.id: d for d in session.exec(select(Dataset).where(col(Dataset.id).in_(result.ids)))}
    ordered = [by_id[i] for i in result.ids if i in by_id]
    items = present(session, ordered)
    for item, score in zip(items, result.scores, strict=False):
        item.score = score
    return SearchPage(items=items, count=result.count, next_cursor=result.next_cursor, facets=result.facets)


# ---------------------------------------------------------------- writing


def _linked_resource(session: Session, entity_id: str, resource_id: str | None) -> DataResource | None:
    if resource_id is None:
        return None
    resource = session.get(DataResource, resource_id)
    if resource is None or resource.entity_id != entity_id:
        raise InvalidInput(
            "link a registered resource of the same entity",
            errors=[FieldProblem("resource_id", "no such resource of this entity")],
        )
    if resource.status != SubjectStatus.registered:
        raise InvalidInput(
            "only registered resources can be linked", errors=[FieldProblem("resource_id", f"is {resource.status}")]
        )
    return resource


def _name_taken(session: Session, name: str, except_id: str | None = None) -> bool:
    found = session.exec(select(Dataset.id).where(Dataset.name == name)).first()
    return found is not None and found != except_id


def _taken(name: str) -> Conflict:
    return Conflict(f"the name {name} is taken", errors=[FieldProblem("name", "already used by another dataset")])


def create_dataset(
    session: Session,
    caller: Caller,
    data: DatasetCreate,
    *,
    publish: bool = False,
    links: Sequence[DistributionCreate] = (),
) -> Dataset:
    """A new draft dataset (version 1) with its distribution links, or a published one when asked."""
    entity = _acting_entity(session, caller, data.entity_id)
    _linked_resource(session, entity.id, data.resource_id)
    fields = data.model_dump(mode="python", exclude={"entity_id", "name"})
    dataset = Dataset(**fields, entity_id=entity.id, name="", created_by=caller.account_id)
    dataset.themes = [t.value for t in data.themes]
    dataset.access = data.access.value
    dataset.update_frequency = data.update_frequency.value if data.update_frequency else None
    dataset.name = data.name or f"ds-{dataset.id}"
    if _name_taken(session, dataset.name):
        raise _taken(dataset.name)
    now = utcnow()
    dataset.modified_at = dataset.created_at = dataset.updated_at = now
    first = DatasetVersion(dataset_id=dataset.id, version=1, created_at=now)
    session.add(dataset)
    session.add(first)
    for link in links:
        session.add(_distribution(dataset, link))
    if publish:
        _check_entity_may_publish(caller, entity)
        _publish(session, dataset, first, now)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.create", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def update_dataset(
    session: Session,
    caller: Caller,
    id_or_name: str,
    data: DatasetUpdate,
    *,
    links: Sequence[DistributionCreate] | None = None,
) -> Dataset:
    """Change a dataset's catalog metadata (and, when given, replace the newest version's links)."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_edit(caller, dataset)
    changes = data.model_dump(mode="python", exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        del changes["name"]
    for required in ("title", "description", "keywords", "themes", "access"):
        if required in changes and changes[required] is None:
            raise InvalidInput(f"{required} cannot be removed", errors=[FieldProblem(required, "may not be null")])
    if "name" in changes and changes["name"] != dataset.name and _name_taken(session, changes["name"], dataset.id):
        raise _taken(changes["name"])
    if "resource_id" in changes:
        _linked_resource(session, dataset.entity_id, changes["resource_id"])
    start = changes.get("temporal_start", dataset.temporal_start)
    end = changes.get("temporal_end", dataset.temporal_end)
    if start is not None and end is not None and end < start:
        raise InvalidInput("coverage ends before it starts", errors=[FieldProblem("temporal_end", "before start")])
    for name, value in changes.items():
        if name == "themes":
            value = [t.value if hasattr(t, "value") else t for t in value]
        elif hasattr(value, "value"):
            value = value.value
        setattr(dataset, name, value)
    if links is not None:
        for old in session.exec(
            select(DatasetDistribution).where(
                DatasetDistribution.dataset_id == dataset.id, DatasetDistribution.version == dataset.version
            )
        ):
            session.delete(old)
        for link in links:
            session.add(_distribution(dataset, link))
    now = utcnow()
    dataset.modified_at = dataset.updated_at = now
    session.add(dataset)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.update", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def current_version(session: Session, dataset: Dataset) -> DatasetVersion:
    """The dataset's newest version row."""
    version = session.exec(
        select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == dataset.version)
    ).one()
    return version


def _publish(session: Session, dataset: Dataset, version: DatasetVersion, now: datetime) -> None:
    version.state = DatasetState.published
    version.published_at = now
    session.add(version)
    dataset.state = DatasetState.published
    dataset.issued_at = dataset.issued_at or now
    dataset.modified_at = dataset.updated_at = now


def publish_dataset(session: Session, caller: Caller, id_or_name: str) -> Dataset:
    """Publish the dataset's newest version; its files are frozen from now on."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_edit(caller, dataset)
    entity = session.get(Entity, dataset.entity_id)
    assert entity is not None
    _check_entity_may_publish(caller, entity)
    version = current_version(session, dataset)
    if version.state == DatasetState.published and dataset.state == DatasetState.published:
        raise Conflict(f"version {version.version} is already published; start a new version to change its files")
    _publish(session, dataset, version, utcnow())
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.publish", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def withdraw_dataset(session: Session, caller: Caller, id_or_name: str, reason: str | None) -> Dataset:
    """Take a dataset out of the public catalog; its records stay for its entity and the staff."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_edit(caller, dataset)
    if dataset.state == DatasetState.withdrawn:
        raise Conflict("the dataset is already withdrawn")
    dataset.state = DatasetState.withdrawn
    if reason:
        dataset.extras = {**dataset.extras, "withdrawn_reason": reason}
    dataset.modified_at = dataset.updated_at = utcnow()
    session.add(dataset)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.withdraw", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def new_version(session: Session, caller: Caller, id_or_name: str, notes: str | None) -> Dataset:
    """Open a new draft version for new files; the published versions stay listed and unchanged."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_edit(caller, dataset)
    current = current_version(session, dataset)
    if current.state != DatasetState.published:
        raise Conflict(f"version {current.version} is still a draft; add files to it or publish it first")
    dataset.version = current.version + 1
    dataset.updated_at = utcnow()
    session.add(DatasetVersion(dataset_id=dataset.id, version=dataset.version, notes=notes))
    session.add(dataset)
    audit.record(session, caller, "dataset.version", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def add_distribution(
    session: Session, caller: Caller, id_or_name: str, data: DistributionCreate
) -> DatasetDistribution:
    """Add a distribution link to the dataset's newest version."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_edit(caller, dataset)
    distribution = _distribution(dataset, data)
    session.add(distribution)
    dataset.modified_at = dataset.updated_at = utcnow()
    session.add(dataset)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.distribution", f"dataset:{dataset.id}")
    session.commit()
    return distribution


def add_file_record(
    session: Session, caller: Caller, id_or_name: str, *, name: str, media_type: str, size: int, sha256: str
) -> DatasetFile:
    """Record a stored payload file in the dataset's newest version, which must still be a draft."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_edit(caller, dataset)
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("sha256 must be 64 lower-case hex digits", errors=[FieldProblem("sha256", "not a digest")])
    if size < 0:
        raise InvalidInput("size cannot be negative", errors=[FieldProblem("size", "negative")])
    version = current_version(session, dataset)
    if version.state == DatasetState.published:
        raise Conflict(f"version {version.version} is published and its files never change; start a new version")
    record = DatasetFile(
        dataset_id=dataset.id, version=version.version, name=name, media_type=media_type, size=size, sha256=sha256
    )
    session.add(record)
    dataset.updated_at = utcnow()
    session.add(dataset)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.file", f"dataset:{dataset.id}")
    session.commit()
    return record


def _distribution(dataset: Dataset, data: DistributionCreate) -> DatasetDistribution:
    return DatasetDistribution(
        dataset_id=dataset.id,
        version=dataset.version,
        name=data.name,
        url=data.url,
        format=search.normalise_format(data.format or data.media_type),
        media_type=data.media_type,
        description=data.description,
    )


def distribution(session: Session, caller: Caller, distribution_id: str) -> DatasetDistribution:
    """A distribution of a dataset the caller may see."""
    found = session.get(DatasetDistribution, distribution_id)
    if found is None:
        raise NotFound("no such resource")
    visible_dataset(session, caller, found.dataset_id)
    return found


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, for JSON columns and CKAN's extras."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
