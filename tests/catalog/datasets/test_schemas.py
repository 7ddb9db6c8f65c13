"""The catalog's URLs: one http(s) URL type per RFC 3986 for links and landing pages, refused with a 422 naming the
field (or CKAN's validation error), stored exactly as given when valid, and within what their columns hold."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.catalog import published
from tests.support.data import bearer, dataset_body
from tests.support.registry import Provider

BAD_URLS = [
    'https://data.example.gov.cn/piles.csv"onmouseover="x',
    "https://data.example.gov.cn/a\x00b.csv",
    "https://data.example.gov.cn/a\x07b.csv",
    "https://data.example.gov.cn/a b.csv",
    "https://data.example.gov.cn/<b>.csv",
    "https://data.example.gov.cn/a\\b.csv",
    "javascript:alert(1)",
    "https://",
]


def _names(response: object, field: str) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_link_url_is_422(client: TestClient, provider: Provider, url: str) -> None:
    dataset = published(client, provider)
    link = {"name": "CSV", "url": url}
    _names(
        client.post(f"/api/v1/datasets/{dataset['id']}/distributions", json=link, headers=bearer(provider.token)), "url"
    )


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_landing_page_is_422(client: TestClient, provider: Provider, url: str) -> None:
    created = client.post("/api/v1/datasets", json=dataset_body(landing_page=url), headers=bearer(provider.token))
    _names(created, "landing_page")
    dataset = published(client, provider)
    patch = {"landing_page": url}
    _names(
        client.patch(f"/api/v1/datasets/{dataset['id']}", json=patch, headers=bearer(provider.token)), "landing_page"
    )


def test_a_bad_url_through_ckan_is_a_validation_error(client: TestClient, provider: Provider) -> None:
    key = {"Authorization": provider.token}
    package = {"name": "quoted-url", "title": "x", "resources": [{"url": 'https://example.org/"x'}]}
    refused = client.post("/api/3/action/package_create", json=package, headers=key)
    assert refused.status_code == 409 and "must not contain" in refused.json()["error"]["url"][0]
    package = {"name": "quoted-page", "title": "x", "url": "https://example.org/a b"}
    refused = client.post("/api/3/action/package_create", json=package, headers=key)
    assert refused.status_code == 409 and "landing_page" in refused.json()["error"]


def test_valid_urls_are_stored_as_given(client: TestClient, provider: Provider) -> None:
    page = "https://Data.Example.gov.cn"  # no trailing slash added, host case kept
    dataset = published(client, provider, landing_page=page)
    assert dataset["landing_page"] == page
    for url in ("https://data.example.gov.cn/数据/充电桩.csv", "HTTP://example.org:8080/a?x=%E6%95%B0&y=(1)#top"):
        link = {"name": "link", "url": f" {url} "}
        added = client.post(
            f"/api/v1/datasets/{dataset['id']}/distributions", json=link, headers=bearer(provider.token)
        )
        assert added.status_code == 201, added.text
        assert added.json()["url"] == url


def test_urls_fit_their_columns(client: TestClient, provider: Provider) -> None:
    long_page = "https://example.org/" + "x" * 1000  # the landing_page column holds 1000 characters
    _names(
        client.post("/api/v1/datasets", json=dataset_body(landing_page=long_page), headers=bearer(provider.token)),
        "landing_page",
    )
    dataset = published(client, provider)
    long_link = {"name": "long", "url": "https://example.org/" + "x" * 1900}  # the url column holds 2000
    added = client.post(
        f"/api/v1/datasets/{dataset['id']}/distributions", json=long_link, headers=bearer(provider.token)
    )
    assert added.status_code == 201, added.text
    too_long = {"name": "long", "url": "https://example.org/" + "x" * 2000}
    refused = client.post(
        f"/api/v1/datasets/{dataset['id']}/distributions", json=too_long, headers=bearer(provider.token)
    )
    _names(refused, "url")
