"""Use cases for the things registered: data resources and data products."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from auth import audit
from auth.caller import Caller
from registry.access import acting_entity, is_member, may_read_private
from registry.codes import make_product_code, make_resource_code
from registry.counters import next_value
from registry.deadlines import china_date
from registry.enums import EntityStatus, SubjectStatus, SubjectType
from registry.models import DataProduct, DataResource, Entity, SubjectVersion
from registry.schemas import ProductCreate, ProductFields, ResourceCreate, ResourceFields, ResourceUpdate
from storage.db import now_of
from storage.exceptions import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound

Subject = DataResource | DataProduct


def _acting_entity(session: Session, caller: Caller, requested: str | None) -> Entity:
    """The entity a new resource or product belongs to; a suspended one registers nothing."""
    entity = acting_entity(session, caller, requested, doing="create resources and products")
    if entity.status == EntityStatus.suspended:
        raise Conflict("the entity is suspended and cannot register anything")
    return entity


def create_resource(session: Session, caller: Caller, data: ResourceCreate) -> DataResource:
    """A new draft resource with a generated resource code."""
    entity = _acting_entity(session, caller, data.entity_id)
    now = now_of(session)
    year = china_date(now).year
    serial = next_value(session, f"resource:{entity.region_code}:{year}")
    resource = DataResource(
        **data.model_dump(mode="json", exclude={"entity_id"}),
        code=make_resource_code(entity.region_code, year, serial),
        entity_id=entity.id,
        created_by=caller.account_id,
        created_at=now,
        updated_at=now,
    )
    # JSON dumping turned dates into strings; the columns want dates.
    for name in ("publish_date", "time_coverage_start", "time_coverage_end"):
        setattr(resource, name, getattr(data, name))
    session.add(resource)
    audit.record(session, caller, "resource.create", f"resource:{resource.id}")
    session.commit()
    return resource


def create_product(session: Session, caller: Caller, data: ProductCreate) -> DataProduct:
    """A new draft product, built from resources that exist."""
    entity = _acting_entity(session, caller, data.entity_id)
    missing = [rid for rid in data.source_resource_ids if session.get(DataResource, rid) is None]
    if missing:
        raise InvalidInput(
            "unknown source resources: " + ", ".join(missing),
            errors=[FieldProblem("source_resource_ids", f"no resource {rid}") for rid in missing],
        )
    now = now_of(session)
    year = china_date(now).year
    serial = next_value(session, f"product:{entity.region_code}:{year}")
    product = DataProduct(
        **data.model_dump(mode="json", exclude={"entity_id"}),
        code=make_product_code(entity.region_code, year, serial),
        entity_id=entity.id,
        created_by=caller.account_id,
        created_at=now,
        updated_at=now,
    )
    session.add(product)
    audit.record(session, caller, "product.create", f"product:{product.id}")
    session.commit()
    return product


def load_subject(session: Session, subject_type: SubjectType, subject_id: str) -> Subject:
    """A resource or product by id, or 404."""
    subject: Subject | None = (
        session.get(DataResource, subject_id)
        if subject_type == SubjectType.resource
        else session.get(DataProduct, subject_id)
    )
    if subject is None:
        raise NotFound(f"no such {subject_type.value}")
    return subject


def visible_subject(session: Session, caller: Caller, subject_type: SubjectType, subject_id: str) -> Subject:
    """A subject the caller may see: registered ones are public, drafts only to their entity and staff."""
    subject = load_subject(session, subject_type, subject_id)
    if subject.status == SubjectStatus.draft and not may_read_private(caller, subject.entity_id):
        raise NotFound(f"no such {subject_type.value}")
    return subject


def visible_resource(session: Session, caller: Caller, resource_id: str) -> DataResource:
    """A data resource the caller may see (see :func:`visible_subject`)."""
    resource = visible_subject(session, caller, SubjectType.resource, resource_id)
    assert isinstance(resource, DataResource)
    return resource


def visible_product(session: Session, caller: Caller, product_id: str) -> DataProduct:
    """A data product the caller may see (see :func:`visible_subject`)."""
    product = visible_subject(session, caller, SubjectType.product, product_id)
    assert isinstance(product, DataProduct)
    return product


def visible_versions(
    session: Session, caller: Caller, subject_type: SubjectType, subject_id: str
) -> list[SubjectVersion]:
    """Every registered state of a subject the caller may see, oldest first."""
    visible_subject(session, caller, subject_type, subject_id)
    return subject_versions(session, subject_type, subject_id)


def update_resource(session: Session, caller: Caller, resource_id: str, data: ResourceUpdate) -> DataResource:
    """Edit a draft resource; registered resources change only through a change or correction registration."""
    resource = visible_resource(session, caller, resource_id)
    if not (is_member(caller, resource.entity_id) or caller.is_staff):
        raise Forbidden("only the resource's entity and the registry's staff edit it")
    if resource.status != SubjectStatus.draft:
        raise Conflict(
            f"the resource is {resource.status}; file a change or correction registration to modify it",
        )
    changes = data.model_dump(exclude_unset=True)
    valid = validate_fields(ResourceFields, {**resource_fields(resource), **changes}, prefix="")
    for name in changes:
        setattr(resource, name, column_value(name, valid[name]))
    resource.updated_at = now_of(session)
    session.add(resource)
    audit.record(session, caller, "resource.update", f"resource:{resource.id}")
    session.commit()
    return resource


def validate_fields(model: type[BaseModel], values: dict[str, Any], *, prefix: str) -> dict[str, Any]:
    """Validate a whole record's fields; problems name each field (under a prefix such as ``changes.``)."""
    try:
        return model.model_validate(values).model_dump(mode="json")
    except ValidationError as exc:
        problems = [
            FieldProblem(prefix + ".".join(str(part) for part in error["loc"]) or prefix.rstrip("."), error["msg"])
            for error in exc.errors()
        ]
        raise InvalidInput("the record is not valid: " + ", ".join(p.field for p in problems), errors=problems) from exc


DATE_FIELDS = ("publish_date", "time_coverage_start", "time_coverage_end")


def column_value(name: str, value: Any) -> Any:
    """JSON-shaped values back into column values: dates are the only non-JSON columns."""
    if name in DATE_FIELDS and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def resource_fields(resource: DataResource) -> dict[str, Any]:
    """The editable metadata of a resource as a plain dict."""
    return {name: getattr(resource, name) for name in ResourceFields.model_fields}


def product_fields(product: DataProduct) -> dict[str, Any]:
    """The editable metadata of a product as a plain dict."""
    return {name: getattr(product, name) for name in ProductFields.model_fields}


def subject_versions(session: Session, subject_type: SubjectType, subject_id: str) -> list[SubjectVersion]:
    """Every registered state of a subject, oldest first."""
    return list(
        session.exec(
            select(SubjectVersion)
            .where(SubjectVersion.subject_type == subject_type, SubjectVersion.subject_id == subject_id)
            .order_by(SubjectVersion.revision)  # type: ignore[arg-type]
        ).all()
    )
