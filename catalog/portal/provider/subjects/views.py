"""The entity's data resources and products as the console lists them, each with its registrations, and their forms
read into the registry's shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog.portal.provider.forms import FormFields
from catalog.portal.provider.views import own_entity
from registry.enums import SubjectType
from registry.models import DataProduct, DataResource, Entity, Registration
from registry.subjects import visible_subject
from storage.exceptions import NotFound
from storage.pagination import paginate_by_id

ROWS = 50
# Sources a product may name: the entity's own resources, newest first, up to this many.
SOURCES = 200

RESOURCE_TEXT = (
    "name",
    "name_en",
    "summary",
    "sharing_attribute",
    "sharing_conditions",
    "open_attribute",
    "open_conditions",
    "security_level",
    "update_cycle",
    "publish_date",
    "record_count",
    "data_volume_bytes",
    "time_coverage_start",
    "time_coverage_end",
    "spatial_coverage",
    "storage_location",
    "storage_method",
    "source",
)
RESOURCE_WORDS = ("formats", "keywords")
PRODUCT_TEXT = ("name", "name_en", "summary", "form", "scenario", "security_level")
PRODUCT_WORDS = ("keywords",)

Row = TypeVar("Row", DataResource, DataProduct)


@dataclass(frozen=True)
class SubjectList(Generic[Row]):
    """A page of the entity's resources or products, each with its newest registration."""

    items: list[Row]
    count: int
    next_cursor: str | None
    registrations: dict[str, Registration]


def registrations_of(session: Session, entity: Entity, subject_ids: list[str]) -> dict[str, list[Registration]]:
    """The registrations of some of the entity's subjects, oldest first."""
    found: dict[str, list[Registration]] = {subject_id: [] for subject_id in subject_ids}
    if subject_ids:
        rows = session.exec(
            select(Registration)
            .where(Registration.entity_id == entity.id, col(Registration.subject_id).in_(subject_ids))
            .order_by(col(Registration.id))
        )
        for registration in rows:
            found[registration.subject_id].append(registration)
    return found


def subject_list(
    session: Session, caller: Caller, entity: Entity, table: type[Row], cursor: str | None
) -> SubjectList[Row]:
    """The entity's resources or products, newest first, with the newest registration of each."""
    own_entity(caller, entity)
    statement = select(table).where(table.entity_id == entity.id)
    page = paginate_by_id(session, statement, table.id, limit=ROWS, cursor=cursor)
    items = list(page.items)
    every = registrations_of(session, entity, [item.id for item in items])
    newest = {subject_id: found[-1] for subject_id, found in every.items() if found}
    return SubjectList(items, page.count, page.next_cursor, newest)


def own_subject(
    session: Session, caller: Caller, entity: Entity, subject_type: SubjectType, subject_id: str
) -> tuple[DataResource | DataProduct, list[Registration]]:
    """One of the entity's own subjects and its registrations; another entity's is not found here."""
    subject = visible_subject(session, caller, subject_type, subject_id)
    if subject.entity_id != entity.id:
        raise NotFound(f"no such {subject_type.value}")
    return subject, registrations_of(session, entity, [subject.id])[subject.id]


def source_choices(session: Session, entity: Entity) -> list[DataResource]:
    """The resources a new product of the entity may name as its sources."""
    return list(
        session.exec(
            select(DataResource)
            .where(DataResource.entity_id == entity.id)
            .order_by(col(DataResource.id).desc())
            .limit(SOURCES)
        )
    )


def resource_values(fields: FormFields, *, keep_empty: bool) -> dict[str, Any]:
    """A resource form as the registry's fields; empty ones are left out of a new resource and cleared on an edit."""
    values: dict[str, Any] = fields.picked(RESOURCE_TEXT)
    values |= {name: fields.words(name) for name in RESOURCE_WORDS}
    values["themes"] = fields.chosen("themes")
    return values if keep_empty else {name: value for name, value in values.items() if value is not None}


def resource_form(resource: DataResource | None) -> dict[str, Any]:
    """What a resource form shows first: the resource's values, or a new resource's defaults."""
    if resource is None:
        blank: dict[str, Any] = dict.fromkeys((*RESOURCE_TEXT, *RESOURCE_WORDS), "")
        defaults = {"sharing_attribute": "unconditional", "open_attribute": "unconditional"}
        return blank | defaults | {"security_level": "general", "update_cycle": "irregular", "themes": []}
    shown: dict[str, Any] = {}
    for name in RESOURCE_TEXT:
        value = getattr(resource, name)
        shown[name] = "" if value is None else str(value)
    shown |= {name: "，".join(getattr(resource, name)) for name in RESOURCE_WORDS}
    shown["themes"] = list(resource.themes)
    return shown


def product_values(fields: FormFields) -> dict[str, Any]:
    """A product form as the registry's fields."""
    values: dict[str, Any] = {name: value for name, value in fields.picked(PRODUCT_TEXT).items() if value is not None}
    values["keywords"] = fields.words("keywords")
    values["themes"] = fields.chosen("themes")
    values["source_resource_ids"] = fields.chosen("source_resource_ids")
    return values


def product_form(fields: FormFields | None = None) -> dict[str, Any]:
    """What a product form shows: what was typed, or a new product's defaults."""
    if fields is None:
        blank: dict[str, Any] = dict.fromkeys((*PRODUCT_TEXT, *PRODUCT_WORDS), "")
        return blank | {"form": "dataset", "security_level": "general", "themes": [], "source_resource_ids": []}
    shown: dict[str, Any] = {name: fields.raw(name) for name in (*PRODUCT_TEXT, *PRODUCT_WORDS)}
    return shown | {"themes": fields.chosen("themes"), "source_resource_ids": fields.chosen("source_resource_ids")}


def typed_resource_form(fields: FormFields) -> dict[str, Any]:
    """A resource form shown again as it was typed."""
    shown: dict[str, Any] = {name: fields.raw(name) for name in (*RESOURCE_TEXT, *RESOURCE_WORDS)}
    return shown | {"themes": fields.chosen("themes")}
