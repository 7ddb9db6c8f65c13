"""A dataset's unpublished version, with its links and files, is shown to its entity and the staff only: in the
dataset view, in search results and in CKAN's package_show."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import bearer, dataset_body
from tests.support.registry import Provider


def _with_draft_version(client: TestClient, token: str) -> str:
    """A dataset whose version 1 (a CSV file and a link) is published and whose version 2 (an XLSX file and a
    link) is a draft."""
    dataset_id = str(client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(token)).json()["id"])
    path = f"/api/v1/datasets/{dataset_id}"
    for version, name in ((1, "v1.csv"), (2, "v2.xlsx")):
        if version == 2:
            assert client.post(f"{path}/versions", headers=bearer(token)).status_code == 201
        uploaded = client.post(f"{path}/files", content=b"x", params={"name": name}, headers=bearer(token))
        assert uploaded.status_code == 201, uploaded.text
        link = {"name": f"link {version}", "url": f"https://data.example.cn/{name}"}
        assert client.post(f"{path}/distributions", json=link, headers=bearer(token)).status_code == 201
        if version == 1:
            assert client.post(f"{path}/publish", headers=bearer(token)).status_code == 200
    return dataset_id


def _seen(view: dict[str, Any]) -> tuple[list[int], list[str], list[str], list[str]]:
    versions = view.get("versions") or []
    files = [f["name"] for v in versions for f in v["files"]]
    return [v["version"] for v in versions], files, [d["url"] for d in view["distributions"]], view["formats"]


def test_the_public_sees_published_versions_only(client: TestClient, provider: Provider, operator: str) -> None:
    dataset_id = _with_draft_version(client, provider.token)
    path = f"/api/v1/datasets/{dataset_id}"
    assert _seen(client.get(path).json()) == ([1], ["v1.csv"], ["https://data.example.cn/v1.csv"], ["CSV"])
    for insider in (provider.token, operator):
        versions, files, links, formats = _seen(client.get(path, headers=bearer(insider)).json())
        assert (versions, sorted(files), len(links), formats) == ([1, 2], ["v1.csv", "v2.xlsx"], 2, ["CSV", "XLSX"])
    [hit] = [d for d in client.get("/api/v1/datasets", params={"q": "充电桩"}).json()["items"] if d["id"] == dataset_id]
    assert (hit["formats"], [d["url"] for d in hit["distributions"]]) == (["CSV"], ["https://data.example.cn/v1.csv"])
    for insider in (provider.token, operator):
        found = client.get("/api/v1/datasets", params={"q": "充电桩"}, headers=bearer(insider)).json()["items"]
        [hit] = [d for d in found if d["id"] == dataset_id]
        assert (hit["formats"], len(hit["distributions"])) == (["CSV", "XLSX"], 2)
    package = client.get("/api/3/action/package_show", params={"id": dataset_id}).json()["result"]
    names_and_urls = [(r["name"], r["url"]) for r in package["resources"]]
    assert not any("v2.xlsx" in f"{name} {url}" for name, url in names_and_urls), names_and_urls
    assert any(url == "https://data.example.cn/v1.csv" for _, url in names_and_urls), names_and_urls


def test_links_and_files_keep_their_own_fields_and_order(client: TestClient, provider: Provider) -> None:
    """Links and files are read together: each keeps its own fields, links by version, files by version."""
    token = provider.token
    dataset_id = str(client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(token)).json()["id"])
    path = f"/api/v1/datasets/{dataset_id}"
    for version, body in ((1, b"abc"), (2, b"{}")):
        if version == 2:
            assert client.post(f"{path}/versions", headers=bearer(token)).status_code == 201
        name = f"v{version}.csv" if version == 1 else "v2.json"
        assert (
            client.post(f"{path}/files", content=body, params={"name": name}, headers=bearer(token)).status_code == 201
        )
        link = {"name": f"link {version}", "url": f"https://data.example.cn/{version}", "description": f"第{version}版"}
        assert client.post(f"{path}/distributions", json=link, headers=bearer(token)).status_code == 201
        if version == 1:
            assert client.post(f"{path}/publish", headers=bearer(token)).status_code == 200
    view = client.get(path, headers=bearer(token)).json()
    links = [(d["version"], d["url"], d["description"]) for d in view["distributions"]]
    assert links == [(1, "https://data.example.cn/1", "第1版"), (2, "https://data.example.cn/2", "第2版")]
    files = {v["version"]: [(f["name"], f["size"], f["sha256"][:8]) for f in v["files"]] for v in view["versions"]}
    assert files == {1: [("v1.csv", 3, "ba7816bf")], 2: [("v2.json", 2, "44136fa3")]}
    assert view["formats"] == ["CSV", "JSON"]
