"""Who may see and change a dataset: lookups by id or name, the access level, and the permission checks."""

from __future__ import annotations

from sqlmodel import Session, select

from auth.caller import Caller
from catalog.datasets.models import Dataset, DatasetDistribution, DatasetState, DatasetVersion
from registry.access import acting_entity, is_member, may_read_private
from registry.enums import EntityStatus, Openness
from registry.models import DataResource, Entity
from storage.exceptions import Conflict, Forbidden, NotFound

# ---------------------------------------------------------------- who may do what


def acting_publisher(session: Session, caller: Caller, requested: str | None) -> Entity:
    """The entity a new dataset belongs to: a provider's own verified entity, or the one staff name."""
    entity = acting_entity(session, caller, requested, doing="publish datasets")
    check_entity_may_publish(caller, entity)
    return entity


def check_entity_may_publish(caller: Caller, entity: Entity) -> None:
    """Refuse publishing for a suspended entity, and for an unverified one unless staff act for it (Conflict)."""
    if entity.status == EntityStatus.suspended:
        raise Conflict("the entity is suspended and cannot publish")
    if not caller.is_staff and entity.status != EntityStatus.verified:
        raise Conflict("the entity is not verified yet; the registry verifies it before it publishes")


def check_may_edit(caller: Caller, dataset: Dataset) -> None:
    """Refuse anyone but the dataset's entity and the registry's staff (Forbidden)."""
    if not (caller.is_staff or is_member(caller, dataset.entity_id)):
        raise Forbidden("only the dataset's entity and the registry's staff change it")


def check_may_change(session: Session, caller: Caller, dataset: Dataset) -> None:
    """Refuse as `check_may_edit` does, and refuse everyone while the dataset's entity is suspended (Conflict).

    A suspension freezes what the entity offers: its people cannot upload, publish or edit, and the registry's
    staff do not do it for them. Staff may still withdraw a dataset (`check_may_withdraw`).
    """
    check_may_edit(caller, dataset)
    entity = session.get(Entity, dataset.entity_id)
    if entity is not None and entity.status == EntityStatus.suspended:
        raise Conflict("the dataset's entity is suspended: its datasets cannot be changed until the registry lifts it")


def check_may_withdraw(session: Session, caller: Caller, dataset: Dataset) -> None:
    """Refuse as `check_may_edit` does; while the entity is suspended only the registry's staff withdraw (Conflict).

    Operators must be able to take a suspended entity's data out of the public catalog; its own people may not
    act for it at all.
    """
    check_may_edit(caller, dataset)
    if not caller.is_staff:
        check_may_change(session, caller, dataset)


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


def current_version(session: Session, dataset: Dataset) -> DatasetVersion:
    """The dataset's newest version row."""
    version = session.exec(
        select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == dataset.version)
    ).one()
    return version


def distribution(session: Session, caller: Caller, distribution_id: str) -> DatasetDistribution:
    """A distribution of a dataset the caller may see."""
    found = session.get(DatasetDistribution, distribution_id)
    if found is None:
        raise NotFound("no such resource")
    visible_dataset(session, caller, found.dataset_id)
    return found
