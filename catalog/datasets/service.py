"""Use cases of the catalog's datasets: create, edit, publish, version, withdraw, and add links and files.

Each is one transaction that also rewrites the dataset's search rows and writes its audit row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, select

from auth import audit
from auth.caller import Caller
from catalog.datasets.access import (
    acting_publisher,
    check_entity_may_publish,
    check_may_change,
    check_may_withdraw,
    current_version,
    visible_dataset,
)
from catalog.datasets.index import reindex
from catalog.datasets.models import Dataset, DatasetDistribution, DatasetFile, DatasetState, DatasetVersion
from catalog.datasets.schemas import (
    DatasetCreate,
    DatasetUpdate,
    DistributionCreate,
)
from catalog.search.formats import normalise_format
from registry.enums import SubjectStatus
from registry.models import DataResource, Entity
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, InvalidInput


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
    entity = acting_publisher(session, caller, data.entity_id)
    _linked_resource(session, entity.id, data.resource_id)
    fields = data.model_dump(mode="python", exclude={"entity_id", "name"})
    dataset = Dataset(**fields, entity_id=entity.id, name="", created_by=caller.account_id)
    dataset.themes = [t.value for t in data.themes]
    dataset.access = data.access.value
    dataset.update_frequency = data.update_frequency.value if data.update_frequency else None
    dataset.name = data.name or f"ds-{dataset.id}"
    if _name_taken(session, dataset.name):
        raise _taken(dataset.name)
    now = now_of(session)
    dataset.modified_at = dataset.created_at = dataset.updated_at = now
    first = DatasetVersion(dataset_id=dataset.id, version=1, created_at=now)
    session.add(dataset)
    session.add(first)
    for link in links:
        session.add(_distribution(dataset, link, now))
    if publish:
        check_entity_may_publish(caller, entity)
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
    check_may_change(session, caller, dataset)
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
            session.add(_distribution(dataset, link, now_of(session)))
    dataset.modified_at = dataset.updated_at = now_of(session)
    session.add(dataset)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.update", f"dataset:{dataset.id}")
    session.commit()
    return dataset


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
    check_may_change(session, caller, dataset)
    entity = session.get(Entity, dataset.entity_id)
    assert entity is not None
    check_entity_may_publish(caller, entity)
    version = current_version(session, dataset)
    if version.state == DatasetState.published and dataset.state == DatasetState.published:
        raise Conflict(f"version {version.version} is already published; start a new version to change its files")
    _publish(session, dataset, version, now_of(session))
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.publish", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def withdraw_dataset(session: Session, caller: Caller, id_or_name: str, reason: str | None) -> Dataset:
    """Take a dataset out of the public catalog; its records stay for its entity and the staff."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_withdraw(session, caller, dataset)
    if dataset.state == DatasetState.withdrawn:
        raise Conflict("the dataset is already withdrawn")
    dataset.state = DatasetState.withdrawn
    if reason:
        dataset.extras = {**dataset.extras, "withdrawn_reason": reason}
    dataset.modified_at = dataset.updated_at = now_of(session)
    session.add(dataset)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.withdraw", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def new_version(session: Session, caller: Caller, id_or_name: str, notes: str | None) -> Dataset:
    """Open a new draft version for new files; the published versions stay listed and unchanged."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_change(session, caller, dataset)
    current = current_version(session, dataset)
    if current.state != DatasetState.published:
        raise Conflict(f"version {current.version} is still a draft; add files to it or publish it first")
    dataset.version = current.version + 1
    dataset.updated_at = now_of(session)
    session.add(DatasetVersion(dataset_id=dataset.id, version=dataset.version, notes=notes, created_at=now_of(session)))
    session.add(dataset)
    audit.record(session, caller, "dataset.version", f"dataset:{dataset.id}")
    session.commit()
    return dataset


def add_distribution(
    session: Session, caller: Caller, id_or_name: str, data: DistributionCreate
) -> DatasetDistribution:
    """Add a distribution link to the dataset's newest version."""
    dataset = visible_dataset(session, caller, id_or_name)
    check_may_change(session, caller, dataset)
    distribution = _distribution(dataset, data, now_of(session))
    session.add(distribution)
    dataset.modified_at = dataset.updated_at = now_of(session)
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
    check_may_change(session, caller, dataset)
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("sha256 must be 64 lower-case hex digits", errors=[FieldProblem("sha256", "not a digest")])
    if size < 0:
        raise InvalidInput("size cannot be negative", errors=[FieldProblem("size", "negative")])
    version = current_version(session, dataset)
    if version.state == DatasetState.published:
        raise Conflict(f"version {version.version} is published and its files never change; start a new version")
    record = DatasetFile(
        dataset_id=dataset.id,
        version=version.version,
        name=name,
        media_type=media_type,
        size=size,
        sha256=sha256,
        created_at=now_of(session),
    )
    session.add(record)
    dataset.updated_at = now_of(session)
    session.add(dataset)
    reindex(session, [dataset])
    audit.record(session, caller, "dataset.file", f"dataset:{dataset.id}")
    session.commit()
    return record


def _distribution(dataset: Dataset, data: DistributionCreate, now: datetime) -> DatasetDistribution:
    return DatasetDistribution(
        created_at=now,
        dataset_id=dataset.id,
        version=dataset.version,
        name=data.name,
        url=data.url,
        format=normalise_format(data.format or data.media_type),
        media_type=data.media_type,
        description=data.description,
    )
