"""The CKAN actions that write: create and update packages, add resources; each one pdr use case."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import select

from catalog.datasets.access import find_dataset, visible_dataset
from catalog.datasets.models import Dataset, DatasetDistribution, DatasetFile
from catalog.datasets.schemas import (
    DatasetCreate,
    DatasetUpdate,
    DistributionCreate,
    DistributionPublic,
)
from catalog.datasets.service import add_distribution, create_dataset, publish_dataset, update_dataset
from catalog.interop.ckan.errors import CkanError, validation
from catalog.interop.ckan.params import required_param
from catalog.interop.ckan.read_actions import Context, show_package
from catalog.interop.ckan.shapes import resource_dict
from registry.enums import Openness


def _validated(model: type[BaseModel], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors():
            fields.setdefault(".".join(str(p) for p in error["loc"]) or "record", []).append(error["msg"])
        raise CkanError("Validation Error", 409, "invalid package", fields) from exc


def _listed(data: dict[str, Any], name: str) -> list[Any]:
    """A list member of a package (absent, null or empty: no items); anything else is a validation error."""
    value = data.get(name)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise validation(name, "Must be a list")
    return value


def _package_fields(data: dict[str, Any]) -> dict[str, Any]:
    extras = {str(e.get("key")): e.get("value") for e in _listed(data, "extras") if isinstance(e, dict)}
    fields: dict[str, Any] = {
        "name": data.get("name"),
        "title": data.get("title") or data.get("name"),
        "title_en": extras.get("title_en"),
        "description": data.get("notes") or "",
        "keywords": [t.get("name") if isinstance(t, dict) else t for t in _listed(data, "tags")],
        "themes": [g.get("name") if isinstance(g, dict) else g for g in _listed(data, "groups")],
        "licence": data.get("license_id") or None,
        "temporal_start": extras.get("temporal_start") or None,
        "temporal_end": extras.get("temporal_end") or None,
        "spatial": extras.get("spatial_text") or extras.get("spatial") or None,
        "update_frequency": extras.get("frequency") or None,
        "landing_page": data.get("url") or None,
    }
    access = extras.get("access") or (Openness.not_open.value if data.get("private") in (True, "true") else None)
    if access:
        fields["access"] = access
    return fields


def _links(data: dict[str, Any], kept: frozenset[str] = frozenset()) -> list[DistributionCreate] | None:
    """The links a package's resources describe, but for the resources (by id) that are to be left as they are."""
    if "resources" not in data:
        return None
    links = []
    for resource in _listed(data, "resources"):
        if not isinstance(resource, dict):
            raise validation("resources", "Each resource must be an object")
        if resource.get("id") in kept:
            continue
        links.append(
            _validated(
                DistributionCreate,
                {
                    "name": resource.get("name") or resource.get("url") or "resource",
                    "url": resource.get("url"),
                    "format": resource.get("format") or None,
                    "media_type": resource.get("mimetype") or None,
                    "description": resource.get("description") or None,
                },
            )
        )
    return links


def _check_name_free(ctx: Context, name: Any, except_id: str | None = None) -> None:
    if isinstance(name, str) and name:
        found = find_dataset(ctx.session, name)
        if found is not None and found.id != except_id:
            raise CkanError("Validation Error", 409, "name taken", {"name": ["That URL is already in use."]})


def package_create(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Create a package (published unless ``state`` is ``draft``)."""
    if ctx.caller.is_anonymous:
        raise CkanError("Authorization Error", 403, "Access denied: sign in to create packages")
    if not data.get("name"):
        raise validation("name", "Missing value")
    _check_name_free(ctx, data.get("name"))
    body = _validated(DatasetCreate, {**_package_fields(data), "entity_id": data.get("owner_org") or None})
    links = _links(data) or []
    publish = str(data.get("state") or "active") != "draft"
    return show_package(ctx, create_dataset(ctx.session, ctx.caller, body, publish=publish, links=links))


def _kept(ctx: Context, dataset: Dataset) -> frozenset[str]:
    """Resources an update leaves as they are: the files, and the links of older versions (only the newest's change).

    A client that shows, edits and updates a package sends them all back; they must not come back as new links.
    """
    files = ctx.session.exec(select(DatasetFile.id).where(DatasetFile.dataset_id == dataset.id))
    older_links = ctx.session.exec(
        select(DatasetDistribution.id).where(
            DatasetDistribution.dataset_id == dataset.id, DatasetDistribution.version != dataset.version
        )
    )
    return frozenset([*files, *older_links])


def package_update(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Replace a package's metadata (and its resources, when given)."""
    if ctx.caller.is_anonymous:
        raise CkanError("Authorization Error", 403, "Access denied: sign in to update packages")
    key = data.get("id") or data.get("name")
    if not key:
        raise validation("id", "Missing value")
    current = visible_dataset(ctx.session, ctx.caller, str(key))
    if data.get("name"):
        _check_name_free(ctx, data.get("name"), current.id)
    fields = _package_fields(data)
    fields["name"] = fields["name"] or current.name
    if data.get("owner_org") and data["owner_org"] != current.entity_id:
        raise validation("owner_org", "moving a package to another organization is not supported")
    body = _validated(DatasetUpdate, fields)
    dataset = update_dataset(ctx.session, ctx.caller, current.id, body, links=_links(data, _kept(ctx, current)))
    if str(data.get("state") or "") == "active" and dataset.state == "draft":
        dataset = publish_dataset(ctx.session, ctx.caller, dataset.id)
    return show_package(ctx, dataset)


def resource_create(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Add a resource (a link) to a package."""
    if ctx.caller.is_anonymous:
        raise CkanError("Authorization Error", 403, "Access denied: sign in to add resources")
    package_id = required_param(data, "package_id")
    links = _links({"resources": [data]}) or []
    created = add_distribution(ctx.session, ctx.caller, package_id, links[0])
    return resource_dict(DistributionPublic.model_validate(created), created.dataset_id, 0)
