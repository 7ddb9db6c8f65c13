"""Datasets over HTTP: who may create, see, change, publish and withdraw them; versions; the registry link."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.caller import Caller
from auth.roles import Role
from catalog.datasets import service as datasets
from catalog.settings import Settings
from storage.db import session_scope
from storage.exceptions import Conflict, Forbidden
from tests.support.catalog import published
from tests.support.data import FakeClock, bearer, dataset_body, entity_body, make_account, resource_body
from tests.support.registry import Provider
from tests.support.workflow import apply as _apply
from tests.support.workflow import new_resource as _new_resource
from tests.support.workflow import register


def test_provider_creates_a_draft_that_only_its_entity_and_staff_see(
    client: TestClient, provider: Provider, other_provider: Provider, operator: str, consumer: str
) -> None:
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "draft" and body["version"] == 1
    assert body["title"] == "天河区公共充电桩分布数据"  # Chinese returned as text
    assert "天河区" in created.text
    assert body["publisher"]["id"] == provider.entity_id
    assert body["versions"][0]["state"] == "draft"
    path = f"/api/v1/datasets/{body['id']}"
    assert client.get(path, headers=bearer(provider.token)).status_code == 200
    assert client.get(path, headers=bearer(operator)).status_code == 200
    assert client.get(path).status_code == 404
    assert client.get(path, headers=bearer(consumer)).status_code == 404
    assert client.get(path, headers=bearer(other_provider.token)).status_code == 404
    # Found by name as well as by id.
    assert client.get(f"/api/v1/datasets/{body['name']}", headers=bearer(provider.token)).json()["id"] == body["id"]


def test_who_may_create(client: TestClient, provider: Provider, operator: str, consumer: str) -> None:
    assert client.post("/api/v1/datasets", json=dataset_body()).status_code == 401
    assert client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(consumer)).status_code == 403
    other = client.post("/api/v1/datasets", json=dataset_body(entity_id="someone-else"), headers=bearer(provider.token))
    assert other.status_code == 403
    missing = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(operator))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "entity_id"
    staff = client.post("/api/v1/datasets", json=dataset_body(entity_id=provider.entity_id), headers=bearer(operator))
    assert staff.status_code == 201


def test_unverified_entity_cannot_publish(
    client: TestClient, engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    _, token = make_account(engine, settings.auth, Role.provider, name="fresh-provider")
    assert client.post("/api/v1/entities", json=entity_body(9), headers=bearer(token)).status_code == 201
    refused = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(token))
    assert refused.status_code == 409
    assert "verified" in refused.json()["detail"]


def test_publish_makes_it_public_and_withdraw_hides_it(
    client: TestClient, provider: Provider, other_provider: Provider, consumer: str
) -> None:
    dataset = published(client, provider)
    path = f"/api/v1/datasets/{dataset['id']}"
    assert dataset["state"] == "published" and dataset["issued_at"]
    assert client.get(path).status_code == 200
    assert client.get("/api/v1/datasets", params={"q": "充电桩"}).json()["count"] == 1
    # Only the entity (or staff) publishes, changes and withdraws it.
    assert client.patch(path, json={"title": "改"}, headers=bearer(other_provider.token)).status_code == 403
    assert client.patch(path, json={"title": "改"}, headers=bearer(consumer)).status_code == 403
    assert client.post(f"{path}/withdraw", headers=bearer(other_provider.token)).status_code == 403
    again = client.post(f"{path}/publish", headers=bearer(provider.token))
    assert again.status_code == 409
    gone = client.post(f"{path}/withdraw", json={"reason": "数据有误"}, headers=bearer(provider.token))
    assert gone.status_code == 200 and gone.json()["state"] == "withdrawn"
    assert client.get(path).status_code == 404
    assert client.get("/api/v1/datasets", params={"q": "充电桩"}).json()["count"] == 0
    listed = client.get("/api/v1/datasets", params={"state": "withdrawn"}, headers=bearer(provider.token)).json()
    assert [i["id"] for i in listed["items"]] == [dataset["id"]]
    assert client.get("/api/v1/datasets", params={"state": "withdrawn"}).json()["count"] == 0


def test_update_changes_metadata_and_search(client: TestClient, provider: Provider, operator: str) -> None:
    dataset = published(client, provider)
    path = f"/api/v1/datasets/{dataset['id']}"
    changed = client.patch(path, json={"title": "海珠区停车场", "keywords": ["停车"]}, headers=bearer(provider.token))
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/datasets", params={"q": "停车场"}).json()["count"] == 1
    assert client.get("/api/v1/datasets", params={"q": "充电桩"}).json()["count"] == 1  # still in the description
    assert client.patch(path, json={"title": None}, headers=bearer(provider.token)).status_code == 422
    bad = client.patch(path, json={"temporal_start": "2030-01-01"}, headers=bearer(operator))
    assert bad.status_code == 422
    other = client.post("/api/v1/datasets", json=dataset_body(name="taken-name"), headers=bearer(provider.token))
    assert other.status_code == 201
    clash = client.patch(path, json={"name": "taken-name"}, headers=bearer(provider.token))
    assert clash.status_code == 409 and clash.json()["errors"][0]["field"] == "name"


def test_not_open_dataset_is_404_for_outsiders_and_hidden_from_counts(
    client: TestClient, provider: Provider, other_provider: Provider, operator: str, consumer: str
) -> None:
    secret = published(client, provider, access="not_open", title="内部充电桩台账")
    published(client, provider, title="公开充电桩")
    path = f"/api/v1/datasets/{secret['id']}"
    for token in (None, consumer, other_provider.token):
        headers = bearer(token) if token else {}
        assert client.get(path, headers=headers).status_code == 404
        found = client.get("/api/v1/datasets", params={"q": "充电桩", "facets": "access"}, headers=headers).json()
        assert found["count"] == 1
        assert found["facets"]["access"] == [{"value": "unconditional", "count": 1, "label": None}]
    for token in (provider.token, operator):
        assert client.get(path, headers=bearer(token)).status_code == 200
        assert client.get("/api/v1/datasets", params={"q": "充电桩"}, headers=bearer(token)).json()["count"] == 2


def test_versions_keep_published_files_unchanged(
    client: TestClient, engine: Engine, provider: Provider, other_provider: Provider
) -> None:
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(provider.token)).json()
    caller = Caller(account_id=provider.account_id, role=Role.provider, entity_id=provider.entity_id)
    digest = "a" * 64
    with session_scope(engine) as session:
        datasets.add_file_record(
            session, caller, created["id"], name="a.csv", media_type="text/csv", size=10, sha256=digest
        )
    path = f"/api/v1/datasets/{created['id']}"
    assert client.post(f"{path}/publish", headers=bearer(provider.token)).status_code == 200
    with session_scope(engine) as session:
        try:
            datasets.add_file_record(
                session, caller, created["id"], name="b.csv", media_type="text/csv", size=1, sha256=digest
            )
            raise AssertionError("a published version took a new file")
        except Conflict:
            pass
        outsider = Caller(account_id=other_provider.account_id, role=Role.provider, entity_id=other_provider.entity_id)
        try:
            datasets.add_file_record(
                session, outsider, created["id"], name="c.csv", media_type="text/csv", size=1, sha256=digest
            )
            raise AssertionError("another entity added a file")
        except Forbidden:
            pass
    assert (
        client.post(f"{path}/versions", json={"reason": "2025 data"}, headers=bearer(other_provider.token)).status_code
        == 403
    )
    second = client.post(f"{path}/versions", json={"reason": "2025 data"}, headers=bearer(provider.token))
    assert second.status_code == 201 and second.json()["version"] == 2
    assert client.post(f"{path}/versions", headers=bearer(provider.token)).status_code == 409  # v2 is a draft
    with session_scope(engine) as session:
        datasets.add_file_record(
            session, caller, created["id"], name="b.csv", media_type="text/csv", size=20, sha256="b" * 64
        )
    assert client.post(f"{path}/publish", headers=bearer(provider.token)).status_code == 200
    view = client.get(path).json()
    assert [(v["version"], v["state"], [f["name"] for f in v["files"]]) for v in view["versions"]] == [
        (1, "published", ["a.csv"]),
        (2, "published", ["b.csv"]),
    ]
    assert view["formats"] == ["CSV"]


def test_distribution_links(client: TestClient, provider: Provider, consumer: str) -> None:
    dataset = published(client, provider)
    path = f"/api/v1/datasets/{dataset['id']}/distributions"
    link = {"name": "接口", "url": "https://api.example.gov.cn/piles", "format": "application/json"}
    assert client.post(path, json=link, headers=bearer(consumer)).status_code == 403
    added = client.post(path, json=link, headers=bearer(provider.token))
    assert added.status_code == 201 and added.json()["format"] == "JSON"
    assert client.post(path, json={**link, "url": "ftp://nope"}, headers=bearer(provider.token)).status_code == 422
    found = client.get("/api/v1/datasets", params={"format": "json", "facets": "format"}).json()
    assert found["count"] == 1 and found["facets"]["format"][0]["value"] == "JSON"


def test_registry_link_shows_codes_and_takes_access_from_the_resource(
    client: TestClient, clock: FakeClock, provider: Provider, other_provider: Provider, operator: str
) -> None:
    resource = _new_resource(client, provider, open_attribute="conditional")
    draft_link = client.post(
        "/api/v1/datasets", json=dataset_body(resource_id=resource["id"]), headers=bearer(provider.token)
    )
    assert draft_link.status_code == 422  # not registered yet
    registration = register(client, clock, provider, operator, _apply(client, provider, resource["id"]))
    assert registration["state"] == "registered"
    foreign = client.post(
        "/api/v1/datasets", json=dataset_body(resource_id=resource["id"]), headers=bearer(other_provider.token)
    )
    assert foreign.status_code == 422
    dataset = published(client, provider, resource_id=resource["id"], access="unconditional")
    assert dataset["access"] == "conditional"  # the registry's open attribute wins
    assert dataset["registry"]["resource_code"] == resource["code"]
    assert dataset["registry"]["registration_code"] == registration["code"]
    assert dataset["registry"]["registered"] is True
    found = client.get("/api/v1/datasets", params={"registered": "true", "facets": "access"}).json()
    assert found["count"] == 1
    assert found["facets"]["access"] == [{"value": "conditional", "count": 1, "label": None}]
    assert client.get("/api/v1/datasets", params={"registered": "false"}).json()["count"] == 0
    unlinked = resource_body()
    assert unlinked["open_attribute"] == "conditional"


def test_search_endpoint_shape(client: TestClient, provider: Provider) -> None:
    published(client, provider)
    published(
        client, provider, title="番禺区停车场", keywords=["停车场"], themes=["public_services"], description="车位"
    )
    body = client.get(
        "/api/v1/datasets", params={"q": "天河区 充电桩", "facets": "theme,publisher,format,access,year", "limit": 1}
    ).json()
    assert set(body) == {"items", "count", "next_cursor", "facets"}
    assert body["count"] == 1 and body["next_cursor"] is None
    assert body["items"][0]["score"] >= 12
    assert body["facets"]["theme"] == [{"value": "intelligent_vehicles", "count": 1, "label": "智能网联与新能源汽车"}]
    assert body["facets"]["year"][0] == {"value": "2022", "count": 1, "label": None}
    paged = client.get("/api/v1/datasets", params={"limit": 1}).json()
    assert paged["count"] == 2 and paged["next_cursor"]
    rest = client.get("/api/v1/datasets", params={"limit": 1, "cursor": paged["next_cursor"]}).json()
    assert rest["next_cursor"] is None and rest["items"][0]["id"] != paged["items"][0]["id"]
    wrong = client.get("/api/v1/datasets", params={"cursor": paged["next_cursor"], "sort": "title"})
    assert wrong.status_code == 422
    assert client.get("/api/v1/datasets", params={"theme": "nonsense"}).status_code == 422
    assert client.get("/api/v1/datasets", params={"theme": "public_services,intelligent_vehicles"}).json()["count"] == 2
