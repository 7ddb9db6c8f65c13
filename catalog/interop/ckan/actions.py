"""CKAN Action API compatibility: the actions harvesters and ckanapi clients use, over pdr's catalog.

Organizations are entities (their name is the entity id), packages are datasets (their name is the dataset's
name), resources are distribution links, groups are themes. Errors use CKAN's envelope and types, so that
``ckanapi`` raises its own NotFound, NotAuthorized and ValidationError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog import datasets, search
from catalog.config import CatalogSettings
from catalog.models import Dataset
from catalog.schemas import DatasetCreate, DatasetPublic, DatasetUpdate, DistributionCreate, DistributionPublic
from registry.enums import THEME_LABELS_ZH, EntityStatus, Openness, Theme
from registry.models import Entity
from storage.exceptions import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated

CKAN_VERSION = "2.10.4"
MAX_ROWS = 1000
LICENCES = [
    {"id": "cc-by-4.0", "title": "Creative Commons Attribution 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
    {"id": "cc-by-sa-4.0", "title": "Creative Commons Attribution Share-Alike 4.0", "url": "https://creativecommons.org/licenses/by-sa/4.0/"},
    {"id": "cc-zero", "title": "Creative Commons CCZero", "url": "https://creativecommons.org/publicdomain/zero/1.0/"},
    {"id": "odc-by", "title": "Open Data Commons Attribution License", "url": "https://opendatacommons.org/licenses/by/1-0/"},
    {"id": "odc-odbl", "title": "Open Data Commons Open Database License (ODbL)", "url": "https://opendatacommons.org/licenses/odbl/1-0/"},
    {"id": "odc-pddl", "title": "Open Data Commons Public Domain Dedication and License", "url": "https://opendatacommons.org/licenses/pddl/1-0/"},
    {"id": "gz-open-data", "title": "广州市公共数据开放授权协议", "url": ""},
    {"id": "other-closed", "title": "Other (Not Open)", "url": ""},
]  # fmt: skip
# CKAN's facet and filter fields, and the search engine's names for them.
FIELDS = {
    "tags": "tag",
    "organization": "publisher",
    "owner_org": "publisher",
    "res_format": "format",
    "license_id": "licence",
    "groups": "theme",
    "access": "access",
}


class CkanError(Exception):
    """An error in CKAN's terms: its type, HTTP status, message and field errors."""

    def __init__(self, kind: str, status: int, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        """The ``error`` member of CKAN's envelope."""
        return {"__type": self.kind, "message": f"{self.kind}: {self.message}", **self.fields}


def from_domain(exc: DomainError) -> CkanError:
    """A pdr domain error as CKAN would report it."""
    fields: dict[str, list[str]] = {}
    for problem in exc.errors:
        fields.setdefault(problem.field or "record", []).append(problem.message)
    if isinstance(exc, NotFound):
        return CkanError("Not Found Error", 404, exc.detail)
    if isinstance(exc, Forbidden | Unauthenticated):
        return CkanError("Authorization Error", 403, exc.detail)
    if isinstance(exc, InvalidInput | Conflict):
        return CkanError("Validation Error", 409, exc.detail, fields or {"record": [exc.detail]})
    if exc.status >= 500:
        return CkanError("Internal Server Error", exc.status, exc.detail)
    return CkanError("Validation Error", 409, exc.detail, fields)


def validation(field_name: str, message: str) -> CkanError:
    """A CKAN validation error on one field."""
    return CkanError("Validation Error", 409, f"{field_name}: {message}", {field_name: [message]})


@dataclass
class Context:
    """What an action runs with."""

    session: Session
    caller: Caller
    settings: CatalogSettings
    base_url: str


# ---------------------------------------------------------------- shapes


def _ckan_time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() if moment else None


def _organization(entity_id: str, name: str, name_en: str | None, count: int | None = None) -> dict[str, Any]:
    org: dict[str, Any] = {
        "id": entity_id,
        "name": entity_id,
        "title": name,
        "display_name": name,
        "description": name_en or "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
    }
    if count is not None:
        org["package_count"] = count
    return org


def resource_dict(d: DistributionPublic, package_id: str, position: int) -> dict[str, Any]:
    """A distribution as a CKAN resource."""
    return {
        "id": d.id,
        "package_id": package_id,
        "url": d.url,
        "name": d.name,
        "format": d.format or "",
        "mimetype": d.media_type,
        "description": d.description or "",
        "created": _ckan_time(d.created_at),
        "position": position,
        "state": "active",
        "url_type": None,
    }


def _label(theme: str) -> str:
    return THEME_LABELS_ZH[Theme(theme)]


def package_dict(d: DatasetPublic) -> dict[str, Any]:
    """A dataset as a CKAN package."""
    state = {"published": "active", "draft": "draft", "withdrawn": "deleted"}[d.state]
    licence = next((x for x in LICENCES if x["id"] == d.licence), None)
    extras = {
        "title_en": d.title_en,
        "access": d.access,
        "temporal_start": d.temporal_start.isoformat() if d.temporal_start else None,
        "temporal_end": d.temporal_end.isoformat() if d.temporal_end else None,
        "spatial_text": d.spatial,
        "frequency": d.update_frequency,
        "themes": ",".join(d.themes) or None,
        "resource_code": d.registry.resource_code if d.registry else None,
        "registration_code": d.registry.registration_code if d.registry else None,
    }
    return {
        "id": d.id,
        "name": d.name,
        "title": d.title,
        "notes": d.description,
        "url": d.landing_page or "",
        "version": str(d.version),
        "type": "dataset",
        "state": state,
        "private": False,
        "license_id": d.licence or "",
        "license_title": licence["title"] if licence else (d.licence or ""),
        "owner_org": d.publisher.id,
        "organization": _organization(d.publisher.id, d.publisher.name, d.publisher.name_en),
        "tags": [{"name": k, "display_name": k, "state": "active"} for k in d.keywords],
        "groups": [{"name": t, "title": _label(t), "display_name": _label(t)} for t in d.themes],
        "resources": [resource_dict(r, d.id, i) for i, r in enumerate(d.distributions)],
        "num_resources": len(d.distributions),
        "num_tags": len(d.keywords),
        "metadata_created": _ckan_time(d.created_at),
        "metadata_modified": _ckan_time(d.modified_at),
        "extras": [{"key": k, "value": v} for k, v in extras.items() if v is not None],
    }  # fmt: skip


# ---------------------------------------------------------------- parameters


def _int(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = data.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise validation(name, "Invalid integer") from exc
    if not low <= value <= high:
        raise validation(name, f"Must be between {low} and {high}")
    return value


def _list(data: dict[str, Any], name: str) -> list[str]:
    raw = data.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raw = [raw]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise validation(name, "Must be a JSON list")
    return [str(x) for x in raw]


def _required(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None or value == "":
        raise validation(name, "Missing value")
    return str(value)


_FQ = re.compile(r'([+-]?)([A-Za-z_]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def parse_fq(fq: str) -> dict[str, list[str]]:
    """Solr-style ``field:value`` terms of a CKAN fq, by search field; other syntax is refused."""
    found: dict[str, list[str]] = {}
    rest = _FQ.sub("", fq).replace("AND", "").strip()
    if rest:
        raise CkanError("Search Query Error", 409, f"unsupported fq syntax: {rest!r}")
    for sign, name, quoted, bare in _FQ.findall(fq):
        if sign == "-":
            raise CkanError("Search Query Error", 409, "negative fq terms are not supported")
        if name not in FIELDS:
            raise CkanError("Search Query Error", 409, f"unknown fq field {name!r}; known: {', '.join(FIELDS)}")
        found.setdefault(FIELDS[name], []).append(quoted.replace('\\"', '"') if quoted else bare)
    return found


SORTS = {
    "score desc, metadata_modified desc": "relevance",
    "score desc": "relevance",
    "relevance asc": "relevance",
    "metadata_modified desc": "newest",
    "metadata_created desc": "newest",
    "title_string asc": "title",
    "name asc": "title",
}


# ---------------------------------------------------------------- actions


def package_search(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Search packages: q, fq, rows, start, sort, facet.field, facet.limit."""
    q = str(data.get("q") or "").strip()
    if q in ("*:*", "*"):
        q = ""
    fq = str(data.get("fq") or "")
    filters = parse_fq(fq) if fq.strip() else {}
    rows = _int(data, "rows", 10, 0, MAX_ROWS)
    start = _int(data, "start", 0, 0, 10_000_000)
    sort_name = str(data.get("sort") or "score desc, metadata_modified desc").strip()
    if sort_name not in SORTS:
        raise validation("sort", f"one of: {', '.join(SORTS)}")
    facet_fields = _list(data, "facet.field")
    unknown = [f for f in facet_fields if f not in FIELDS]
    if unknown:
        raise validation("facet.field", f"unknown facet fields {unknown}; known: {', '.join(FIELDS)}")
    facet_limit = int(data.get("facet.limit", 50) or 50)
    facet_limit = 1000 if facet_limit < 0 else min(max(facet_limit, 1), 1000)
    for name in filters.get("theme", []):
        if name not in Theme.__members__:
            filters["theme"] = ["__none__"]
    query = search.SearchQuery(
        q=q or None,
        themes=[t for t in filters.get("theme", []) if t in Theme.__members__],
        publishers=filters.get("publisher", []),
        formats=filters.get("format", []),
        access=[a for a in filters.get("access", []) if a in Openness.__members__],
        licences=filters.get("licence", []),
        tags=filters.get("tag", []),
        sort=SORTS[sort_name],
        facets=[FIELDS[f] for f in facet_fields],
        facet_limit=facet_limit,
        limit=max(rows, 1),
        offset=start,
    )
    nothing = "__none__" in filters.get("theme", []) or len(query.access) != len(filters.get("access", []))
    page = (
        datasets.SearchPage(items=[], count=0, next_cursor=None, facets={})
        if nothing
        else datasets.search_datasets(ctx.session, ctx.caller, query)
    )
    items = page.items[:rows]
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for ckan_name in facet_fields:
        values = page.facets.get(FIELDS[ckan_name], [])
        facets[ckan_name] = {v.value: v.count for v in values}
        search_facets[ckan_name] = {
            "title": ckan_name,
            "items": [{"name": v.value, "display_name": v.label or v.value, "count": v.count} for v in values],
        }
    return {
        "count": page.count,
        "sort": sort_name,
        "results": [package_dict(item) for item in items],
        "facets": facets,
        "search_facets": search_facets,
    }


def _show(ctx: Context, dataset: Dataset) -> dict[str, Any]:
    return package_dict(datasets.present(ctx.session, [dataset])[0])


def package_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One package by id or name."""
    datasets.sync_registry(ctx.session)
    return _show(ctx, datasets.visible_dataset(ctx.session, ctx.caller, _required(data, "id")))


def package_list(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Names of the public packages, in name order."""
    limit = _int(data, "limit", 100_000, 1, 1_000_000)
    offset = _int(data, "offset", 0, 0, 100_000_000)
    rows = ctx.session.connection().execute(
        text(
            "SELECT d.name FROM dataset_search s JOIN dataset d ON d.id = s.dataset_id "
            "WHERE s.state = 'published' AND s.access <> 'not_open' ORDER BY d.name LIMIT :l OFFSET :o"
        ),
        {"l": limit, "o": offset},
    )
    return [str(r[0]) for r in rows]


def _publisher_counts(ctx: Context) -> dict[str, int]:
    rows = ctx.session.connection().execute(
        text(
            "SELECT entity_id, count(*) FROM dataset_search WHERE state = 'published' AND access <> 'not_open' "
            "GROUP BY entity_id"
        )
    )
    return {str(entity_id): int(n) for entity_id, n in rows}


def organization_list(ctx: Context, data: dict[str, Any]) -> list[Any]:
    """Entities that publish public datasets: names, or dicts with ``all_fields``."""
    counts = _publisher_counts(ctx)
    entities = sorted(
        ctx.session.exec(select(Entity).where(col(Entity.id).in_(counts))), key=lambda e: e.id
    ) if counts else []  # fmt: skip
    if str(data.get("all_fields", "")).lower() in ("true", "1"):
        return [_organization(e.id, e.name, e.name_en, counts[e.id]) for e in entities]
    return [e.id for e in entities]


def organization_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One organization (entity) by id or USCC, with its public package count."""
    key = _required(data, "id")
    entity = ctx.session.get(Entity, key) or ctx.session.exec(select(Entity).where(Entity.uscc == key.upper())).first()
    if entity is None or entity.status != EntityStatus.verified:
        raise CkanError("Not Found Error", 404, "Organization not found")
    org = _organization(entity.id, entity.name, entity.name_en, _publisher_counts(ctx).get(entity.id, 0))
    if str(data.get("include_datasets", "")).lower() in ("true", "1"):
        result = package_search(ctx, {"fq": f"organization:{entity.id}", "rows": 10})
        org["packages"] = result["results"]
    return org


def tag_list(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Tags of public packages, optionally those containing ``query``."""
    query = str(data.get("query") or "")
    limit = _int(data, "limit", 1000, 1, 100_000)
    sql = (
        "SELECT DISTINCT t.tag FROM dataset_tag t JOIN dataset_search s ON s.doc = t.doc "
        "WHERE s.state = 'published' AND s.access <> 'not_open'"
    )
    params: dict[str, Any] = {"l": limit}
    if query:
        sql += " AND t.tag LIKE :q ESCAPE '\\'"
        params["q"] = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = ctx.session.connection().execute(text(sql + " ORDER BY t.tag LIMIT :l"), params)
    return sorted(str(r[0]) for r in rows)


def license_list(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The licences datasets may carry."""
    return [{**x, "status": "active", "od_conformance": "approved" if x["url"] else "not reviewed"} for x in LICENCES]


def resource_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One resource (distribution link) by id."""
    found = datasets.distribution(ctx.session, ctx.caller, _required(data, "id"))
    view = DistributionPublic.model_validate(found)
    return resource_dict(view, found.dataset_id, 0)


def status_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """What this site is."""
    return {
        "ckan_version": CKAN_VERSION,
        "site_title": ctx.settings.catalog_title,
        "site_description": ctx.settings.catalog_description,
        "site_url": ctx.base_url,
        "locale_default": "zh_Hans_CN",
        "error_emails_to": None,
        "extensions": ["pdr"],
    }


def _validated(model: type[BaseModel], raw: dict[str, Any]) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors():
            fields.setdefault(".".join(str(p) for p in error["loc"]) or "record", []).append(error["msg"])
        raise CkanError("Validation Error", 409, "invalid package", fields) from exc


def _package_fields(data: dict[str, Any]) -> dict[str, Any]:
    extras = {str(e.get("key")): e.get("value") for e in data.get("extras") or [] if isinstance(e, dict)}
    fields: dict[str, Any] = {
        "name": data.get("name"),
        "title": data.get("title") or data.get("name"),
        "title_en": extras.get("title_en"),
        "description": data.get("notes") or "",
        "keywords": [t.get("name") if isinstance(t, dict) else t for t in data.get("tags") or []],
        "themes": [g.get("name") if isinstance(g, dict) else g for g in data.get("groups") or []],
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


def _links(data: dict[str, Any]) -> list[DistributionCreate] | None:
    if "resources" not in data:
        return None
    links = []
    for resource in data.get("resources") or []:
        if not isinstance(resource, dict):
            raise validation("resources", "Each resource must be an object")
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
        found = datasets.find_dataset(ctx.session, name)
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
    return _show(ctx, datasets.create_dataset(ctx.session, ctx.caller, body, publish=publish, links=links))


def package_update(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Replace a package's metadata (and its resources, when given)."""
    if ctx.caller.is_anonymous:
        raise CkanError("Authorization Error", 403, "Access denied: sign in to update packages")
    key = data.get("id") or data.get("name")
    if not key:
        raise validation("id", "Missing value")
    current = datasets.visible_dataset(ctx.session, ctx.caller, str(key))
    if data.get("name"):
        _check_name_free(ctx, data.get("name"), current.id)
    fields = _package_fields(data)
    fields["name"] = fields["name"] or current.name
    if data.get("owner_org") and data["owner_org"] != current.entity_id:
        raise validation("owner_org", "moving a package to another organization is not supported")
    body = _validated(DatasetUpdate, fields)
    dataset = datasets.update_dataset(ctx.session, ctx.caller, current.id, body, links=_links(data))
    if str(data.get("state") or "") == "active" and dataset.state == "draft":
        dataset = datasets.publish_dataset(ctx.session, ctx.caller, dataset.id)
    return _show(ctx, dataset)


def resource_create(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Add a resource (a link) to a package."""
    if ctx.caller.is_anonymous:
        raise CkanError("Authorization Error", 403, "Access denied: sign in to add resources")
    package_id = _required(data, "package_id")
    links = _links({"resources": [data]}) or []
    created = datasets.add_distribution(ctx.session, ctx.caller, package_id, links[0])
    return resource_dict(DistributionPublic.model_validate(created), created.dataset_id, 0)


ACTIONS: dict[str, Callable[[Context, dict[str, Any]], Any]] = {
    "package_search": package_search,
    "package_show": package_show,
    "package_list": package_list,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "tag_list": tag_list,
    "license_list": license_list,
    "resource_show": resource_show,
    "status_show": status_show,
    "package_create": package_create,
    "package_update": package_update,
    "resource_create": resource_create,
}
WRITES = frozenset({"package_create", "package_update", "resource_create"})


def run_action(ctx: Context, name: str, data: dict[str, Any]) -> Any:
    """Run one action; domain errors come back as CKAN errors."""
    action = ACTIONS.get(name)
    if action is None:
        raise CkanError("Bad Request", 400, f"Action name not known: {name}")
    try:
        return action(ctx, data)
    except DomainError as exc:
        ctx.session.rollback()
        raise from_domain(exc) from exc
