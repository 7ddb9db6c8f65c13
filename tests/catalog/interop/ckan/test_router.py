"""The CKAN Action API over HTTP: envelope, typed errors, GET and POST, tokens, no redirects."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.support.catalog import published
from tests.support.registry import Provider


def _package(provider: Provider, name: str = "tianhe-piles", **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "title": "天河区公共充电桩",
        "notes": "天河区充电桩位置。Charging piles in Tianhe.",
        "owner_org": provider.entity_id,
        "tags": [{"name": "充电桩"}],
        "groups": [{"name": "intelligent_vehicles"}],
        "license_id": "cc-by-4.0",
        "resources": [{"url": "https://example.org/piles.csv", "format": "CSV", "name": "CSV"}],
        **extra,
    }


def test_status_and_both_paths_and_no_redirects(client: TestClient) -> None:
    for path in ("/api/3/action/status_show", "/api/action/status_show", "/api/3/action/status_show/"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 200, path
        body = response.json()
        assert body["success"] is True and body["help"].endswith("help_show?name=status_show")
        assert body["result"]["ckan_version"].startswith("2.")
    unknown = client.post("/api/3/action/no_such_action/", json={}, follow_redirects=False)
    assert unknown.status_code == 400 and unknown.json()["success"] is False


def test_create_with_raw_token_in_either_header_then_show_search_update(client: TestClient, provider: Provider) -> None:
    created = client.post(
        "/api/3/action/package_create", json=_package(provider), headers={"Authorization": provider.token}
    )
    assert created.status_code == 200, created.text
    package = created.json()["result"]
    assert package["state"] == "active" and package["organization"]["name"] == provider.entity_id
    assert package["resources"][0]["format"] == "CSV" and package["tags"][0]["name"] == "充电桩"
    shown = client.get("/api/3/action/package_show", params={"id": "tianhe-piles"}).json()["result"]
    assert shown["id"] == package["id"]
    found = client.get(
        "/api/3/action/package_search",
        params={
            "q": "充电桩",
            "fq": f'organization:{provider.entity_id} res_format:"CSV"',
            "facet.field": '["groups","res_format"]',
        },
    ).json()["result"]
    assert found["count"] == 1 and found["results"][0]["name"] == "tianhe-piles"
    assert found["facets"]["groups"] == {"intelligent_vehicles": 1}
    assert found["search_facets"]["res_format"]["items"][0]["name"] == "CSV"
    updated = client.post(
        "/api/action/package_update",
        data={"id": "tianhe-piles", "title": "天河区充电桩（更新）", "owner_org": provider.entity_id},
        headers={"X-CKAN-API-Key": provider.token},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["result"]["title"] == "天河区充电桩（更新）"
    assert updated.json()["result"]["resources"], "an update without resources keeps them"
    resource = client.post(
        "/api/3/action/resource_create",
        json={"package_id": "tianhe-piles", "url": "https://example.org/api", "format": "API"},
        headers={"Authorization": f"Bearer {provider.token}"},
    ).json()["result"]
    assert client.get("/api/3/action/resource_show", params={"id": resource["id"]}).json()["result"]["format"] == "API"


def test_error_types(client: TestClient, provider: Provider, consumer: str) -> None:
    missing = client.get("/api/3/action/package_show", params={"id": "nope"})
    assert missing.status_code == 404
    assert missing.json()["error"]["__type"] == "Not Found Error"
    anonymous = client.post("/api/3/action/package_create", json=_package(provider))
    assert anonymous.status_code == 403 and anonymous.json()["error"]["__type"] == "Authorization Error"
    consumer_try = client.post(
        "/api/3/action/package_create", json=_package(provider), headers={"Authorization": consumer}
    )
    assert consumer_try.status_code == 403
    bad_key = client.get("/api/3/action/status_show", headers={"X-CKAN-API-Key": "pdr_not-a-real-token"})
    assert bad_key.status_code == 403 and bad_key.json()["error"]["__type"] == "Authorization Error"
    headers = {"Authorization": provider.token}
    assert client.post("/api/3/action/package_create", json=_package(provider), headers=headers).status_code == 200
    taken = client.post("/api/3/action/package_create", json=_package(provider), headers=headers)
    assert taken.status_code == 409
    assert taken.json()["error"] == {
        "__type": "Validation Error",
        "message": "Validation Error: name taken",
        "name": ["That URL is already in use."],
    }
    invalid = client.post(
        "/api/3/action/package_create",
        json=_package(provider, name="x2", groups=[{"name": "astrology"}]),
        headers=headers,
    )
    assert invalid.status_code == 409 and "themes.0" in invalid.json()["error"]
    wrong_fq = client.get("/api/3/action/package_search", params={"fq": "colour:red"})
    assert wrong_fq.status_code == 409 and wrong_fq.json()["error"]["__type"] == "Search Query Error"
    too_many = client.get("/api/3/action/package_search", params={"rows": "5000"})
    assert too_many.status_code == 409 and "rows" in too_many.json()["error"]
    not_json = client.post("/api/3/action/package_search", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["success"] is False


def test_lists_and_paging(client: TestClient, provider: Provider, other_provider: Provider) -> None:
    for i in range(3):
        published(client, provider, name=f"p-{i}", keywords=["交通", f"标签{i}"])
    published(client, other_provider, name="q-0", access="not_open")
    names = client.get("/api/3/action/package_list").json()["result"]
    assert names == ["p-0", "p-1", "p-2"]
    assert client.get("/api/3/action/organization_list").json()["result"] == [provider.entity_id]
    orgs = client.get("/api/3/action/organization_list", params={"all_fields": "true"}).json()["result"]
    assert orgs[0]["package_count"] == 3
    shown = client.get("/api/3/action/organization_show", params={"id": provider.entity_id}).json()["result"]
    assert shown["title"] == "广州市数据局测试单位1"
    assert client.get("/api/3/action/tag_list", params={"query": "标签"}).json()["result"] == [
        "标签0",
        "标签1",
        "标签2",
    ]
    assert any(x["id"] == "cc-by-4.0" for x in client.get("/api/3/action/license_list").json()["result"])
    first = client.post("/api/3/action/package_search", json={"rows": 2, "start": 0, "sort": "name asc"}).json()
    second = client.post("/api/3/action/package_search", json={"rows": 2, "start": 2, "sort": "name asc"}).json()
    assert first["result"]["count"] == 3
    assert [p["name"] for p in first["result"]["results"] + second["result"]["results"]] == ["p-0", "p-1", "p-2"]
    tagged = client.get(
        "/api/3/action/package_search", params={"fq": 'tags:"标签1"', "facet.field": json.dumps(["tags"])}
    )
    assert tagged.json()["result"]["count"] == 1
    assert tagged.json()["result"]["facets"]["tags"] == {"交通": 1, "标签1": 1}
