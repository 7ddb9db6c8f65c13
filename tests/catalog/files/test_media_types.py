"""A file sent with a generic media type takes its media type and format from its name's extension."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from catalog.search.formats import file_format, media_type_for
from tests.support.data import bearer, dataset_body
from tests.support.registry import Provider

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client: TestClient, provider: Provider, name: str, content_type: str | None) -> tuple[str, dict[str, str]]:
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    headers = bearer(provider.token) | ({"Content-Type": content_type} if content_type else {})
    uploaded = client.post(
        f"/api/v1/datasets/{dataset_id}/files", content=b"PK\x03\x04 a workbook", params={"name": name}, headers=headers
    )
    assert uploaded.status_code == 201, uploaded.text
    return dataset_id, uploaded.json()


@pytest.mark.parametrize("content_type", ["application/octet-stream", None, "binary/octet-stream"])
def test_a_generic_upload_is_named_by_its_extension(
    client: TestClient, provider: Provider, content_type: str | None
) -> None:
    dataset_id, record = _upload(client, provider, "医疗机构.xlsx", content_type)
    assert record["media_type"] == XLSX
    shown = client.get(f"/api/v1/datasets/{dataset_id}", headers=bearer(provider.token)).json()
    assert shown["formats"] == ["XLSX"]
    content = client.get(f"/api/v1/datasets/{dataset_id}/files/{record['id']}/content", headers=bearer(provider.token))
    assert content.headers["content-type"] == XLSX


def test_a_declared_specific_type_is_kept(client: TestClient, provider: Provider) -> None:
    dataset_id, record = _upload(client, provider, "stations.xlsx", "text/csv")
    assert record["media_type"] == "text/csv"
    assert client.get(f"/api/v1/datasets/{dataset_id}", headers=bearer(provider.token)).json()["formats"] == ["CSV"]


@pytest.mark.parametrize(
    ("declared", "name", "media_type", "format_"),
    [
        ("application/octet-stream", "医疗机构.xlsx", XLSX, "XLSX"),
        ("application/octet-stream", "路网.GeoJSON", "application/geo+json", "GEOJSON"),
        ("application/octet-stream", "报告.pdf", "application/pdf", "PDF"),
        ("application/octet-stream", "readings.parquet", "application/vnd.apache.parquet", "PARQUET"),
        ("application/octet-stream", "dump.dat", "application/octet-stream", "DAT"),
        ("application/octet-stream", "README", "application/octet-stream", None),
        ("application/octet-stream", ".xlsx", "application/octet-stream", None),
        ("", "站点.csv", "text/csv", "CSV"),
        ("application/json", "站点.csv", "application/json", "JSON"),
    ],
)
def test_media_type_and_format_from_a_name(declared: str, name: str, media_type: str, format_: str | None) -> None:
    assert media_type_for(declared, name) == media_type
    assert file_format(media_type, name) == format_
