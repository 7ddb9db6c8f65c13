"""pdr's records in CKAN's shapes: entities as organizations (named by entity id), datasets as packages (named by
dataset name), uploaded files and distribution links as resources, themes as groups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog.datasets.models import DatasetFile
from catalog.datasets.schemas import (
    DatasetPublic,
    DistributionPublic,
)
from catalog.search.formats import file_format
from registry.enums import THEME_LABELS_ZH, Theme

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


def _ckan_time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() if moment else None


def organization_dict(entity_id: str, name: str, name_en: str | None, count: int | None = None) -> dict[str, Any]:
    """An entity as a CKAN organization, with its package count when known."""
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


def content_url(base_url: str, dataset_id: str, file_id: str) -> str:
    """Where a file is downloaded: the download endpoint, which enforces grants for conditional data."""
    return f"{base_url.rstrip('/')}/api/v1/datasets/{dataset_id}/files/{file_id}/content"


def file_resource_dict(f: DatasetFile, base_url: str, position: int) -> dict[str, Any]:
    """An uploaded file as a CKAN resource: CKAN's ``upload`` resources are files the portal itself serves."""
    return {
        "id": f.id,
        "package_id": f.dataset_id,
        "url": content_url(base_url, f.dataset_id, f.id),
        "name": f.name,
        "format": file_format(f.media_type, f.name) or "",
        "mimetype": f.media_type,
        "size": f.size,
        "hash": f"sha256:{f.sha256}",
        "description": "",
        "created": _ckan_time(f.created_at),
        "last_modified": _ckan_time(f.created_at),
        "position": position,
        "state": "active",
        "url_type": "upload",
        "datastore_active": False,
        "dataset_version": f.version,
    }


def _label(theme: str) -> str:
    return THEME_LABELS_ZH[Theme(theme)]


def package_dict(d: DatasetPublic, files: Sequence[DatasetFile] = (), base_url: str = "") -> dict[str, Any]:
    """A dataset as a CKAN package: its files (newest version first) and then its links are its resources."""
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
        "organization": organization_dict(d.publisher.id, d.publisher.name, d.publisher.name_en),
        "tags": [{"name": k, "display_name": k, "state": "active"} for k in d.keywords],
        "groups": [{"name": t, "title": _label(t), "display_name": _label(t)} for t in d.themes],
        "resources": [
            *(file_resource_dict(f, base_url, i) for i, f in enumerate(files)),
            *(resource_dict(r, d.id, len(files) + i) for i, r in enumerate(d.distributions)),
        ],
        "num_resources": len(files) + len(d.distributions),
        "num_tags": len(d.keywords),
        "metadata_created": _ckan_time(d.created_at),
        "metadata_modified": _ckan_time(d.modified_at),
        "extras": [{"key": k, "value": v} for k, v in extras.items() if v is not None],
    }  # fmt: skip


class CkanErrorBody(BaseModel):
    """The `error` member of CKAN's envelope: its type, a message, and the fields that are wrong."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str = Field(alias="__type")
    message: str


class CkanEnvelope(BaseModel):
    """CKAN's answer to every action: whether it succeeded, and its result or its error."""

    help: str
    success: bool
    result: Any = None
    error: CkanErrorBody | None = None
