"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from catalog.settings import Settings
from tests.support.catalog import published
from tests.support.registry import Provider


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_everything_is_in_place(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "object_store": "ok"}}


def test_readyz_reports_pending_migrations(settings: Settings, database_url: str) -> None:
    from catalog.app import create_app
    from storage.db import DatabaseSettings

    settings.db = DatabaseSettings(database_url=database_url)  # an empty database: every migration pending
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith("behind")
    assert response.headers["retry-after"] == "5"


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/v1/tokens/does-not-matter")  # 405 on a templated route
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'pdr_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/api/v1/tokens/{token_id}"' in text
    assert "pdr_http_request_duration_seconds_bucket" in text


def _gauge(text: str, name: str) -> float:
    """A gauge's value in a Prometheus text exposition."""
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")))


def test_metrics_report_the_search_mirror_once_a_search_built_it(client: TestClient, provider: Provider) -> None:
    for title in ("公交站点", "充电桩分布"):
        published(client, provider, title=title)
    before = client.get("/metrics").text
    assert _gauge(before, "pdr_search_mirror_datasets") == 0  # no search yet: no mirror
    assert client.get("/api/v1/datasets", params={"q": "公交"}).status_code == 200
    after = client.get("/metrics").text
    assert _gauge(after, "pdr_search_mirror_datasets") == 2
    assert _gauge(after, "pdr_search_mirror_bytes") > 0
