"""The CKAN actions that read: search, show and list packages, organizations, tags, licences and resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from auth.caller import Caller
from catalog.config import CatalogSettings
from catalog.datasets.access import distribution, visible_dataset
from catalog.datasets.index import sync_registry
from catalog.datasets.models import Dataset, DatasetDistribution, DatasetFile
from catalog.datasets.query import SearchPage, search_datasets
from catalog.datasets.schemas import DatasetPublic, DistributionPublic
from catalog.datasets.views import present
from catalog.exchange.downloads import downloadable
from catalog.files.service import visible_files
from catalog.interop.ckan.errors import CkanError, validation
from catalog.interop.ckan.params import (
    FIELDS,
    SORTS,
    facet_limit_param,
    int_param,
    list_param,
    parse_fq,
    required_param,
)
from catalog.interop.ckan.shapes import (
    CKAN_VERSION,
    LICENCES,
    MAX_ROWS,
    file_resource_dict,
    organization_dict,
    package_dict,
    resource_dict,
)
from catalog.search.query import SearchQuery
from registry.enums import EntityStatus, Openness, Theme
from registry.models import Entity
from storage.exceptions import NotFound


@dataclass
class Context:
    """What an action runs with."""

    session: Session
    caller: Caller
    settings: CatalogSettings
    base_url: str


def package_search(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Search packages: q, fq, rows, start, sort, facet.field, facet.limit."""
    q = str(data.get("q") or "").strip()
    if q in ("*:*", "*"):
        q = ""
    fq = str(data.get("fq") or "")
    filters = parse_fq(fq) if fq.strip() else {}
    rows = int_param(data, "rows", 10, 0, MAX_ROWS)
    start = int_param(data, "start", 0, 0, 10_000_000)
    sort_name = str(data.get("sort") or "score desc, metadata_modified desc").strip()
    if sort_name not in SORTS:
        raise validation("sort", f"one of: {', '.join(SORTS)}")
    facet_fields = list_param(data, "facet.field")
    unknown = [f for f in facet_fields if f not in FIELDS]
    if unknown:
        raise validation("facet.field", f"unknown facet fields {unknown}; known: {', '.join(FIELDS)}")
    facet_limit = facet_limit_param(data, 1000)
    for name in filters.get("theme", []):
        if name not in Theme.__members__:
            filters["theme"] = ["__none__"]
    query = SearchQuery(
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
        SearchPage(items=[], count=0, next_cursor=None, facets={})
        if nothing
        else search_datasets(ctx.session, ctx.caller, query)
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
        "results": packages(ctx, items),
        "facets": facets,
        "search_facets": search_facets,
    }


def packages(ctx: Context, views: list[DatasetPublic]) -> list[dict[str, Any]]:
    """Datasets the caller may see as CKAN packages, with the files the caller may see among their resources."""
    files = visible_files(ctx.session, ctx.caller, {view.id: view.publisher.id for view in views})
    return [package_dict(view, files.get(view.id, []), ctx.base_url) for view in views]


def show_package(ctx: Context, dataset: Dataset) -> dict[str, Any]:
    """A dataset as package_show answers it."""
    return packages(ctx, present(ctx.session, [dataset], viewer=ctx.caller))[0]


def package_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One package by id or name."""
    sync_registry(ctx.session)
    return show_package(ctx, visible_dataset(ctx.session, ctx.caller, required_param(data, "id")))


def package_list(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Names of the public packages, in name order."""
    limit = int_param(data, "limit", 100_000, 1, 1_000_000)
    offset = int_param(data, "offset", 0, 0, 100_000_000)
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
        return [organization_dict(e.id, e.name, e.name_en, counts[e.id]) for e in entities]
    return [e.id for e in entities]


def organization_show(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """One organization (entity) by id or USCC, with its public package count."""
    key = required_param(data, "id")
    entity = ctx.session.get(Entity, key) or ctx.session.exec(select(Entity).where(Entity.uscc == key.upper())).first()
    if entity is None or entity.status != EntityStatus.verified:
        raise CkanError("Not Found Error", 404, "Organization not found")
    org = organization_dict(entity.id, entity.name, entity.name_en, _publisher_counts(ctx).get(entity.id, 0))
    if str(data.get("include_datasets", "")).lower() in ("true", "1"):
        result = package_search(ctx, {"fq": f"organization:{entity.id}", "rows": 10})
        org["packages"] = result["results"]
    return org


def tag_list(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Tags of public packages, optionally those containing ``query``."""
    query = str(data.get("query") or "")
    limit = int_param(data, "limit", 1000, 1, 100_000)
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
    """One resource by id: an uploaded file, as the download policy lets the caller see it, or a distribution link."""
    key = required_param(data, "id")
    if ctx.session.get(DatasetDistribution, key) is None:
        file = ctx.session.get(DatasetFile, key)
        if file is not None:
            try:
                found = downloadable(ctx.session, ctx.caller, file.dataset_id, file.id)
            except NotFound as exc:
                # Worded as for any unknown id: a file the caller may not see is not told apart from none.
                raise NotFound("no such resource") from exc
            return file_resource_dict(found.file, ctx.base_url, 0)
    link = distribution(ctx.session, ctx.caller, key)
    return resource_dict(DistributionPublic.model_validate(link), link.dataset_id, 0)


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
