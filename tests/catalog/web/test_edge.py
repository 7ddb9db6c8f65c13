"""Input checked at the edge, alike on both engines: control characters in paths (404), query parameters and JSON
bodies (422 naming the field), JSON nested too deep (400); never a 500, never SQL in the error log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from storage.inputs import MAX_JSON_DEPTH
from tests.support.catalog import published
from tests.support.data import bearer, entity_body, resource_body
from tests.support.registry import Provider

PROBLEM = "application/problem+json"


@pytest.fixture
def quiet_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test when anything reached the unexpected-error log (which would hold the SQL and its values)."""
    with caplog.at_level(logging.ERROR, logger="pdr.errors"):
        yield
    assert [r for r in caplog.records if r.name == "pdr.errors"] == []


def _problem(response: Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = dict(response.json())
    assert body["status"] == status and body["request_id"] == response.headers["x-request-id"]
    return body


def _field_error(response: Response, field: str) -> str:
    body = _problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list) and [e["field"] for e in errors] == [field]
    return str(errors[0]["message"])


@pytest.mark.usefixtures("quiet_errors")
def test_a_control_character_in_a_path_is_404(client: TestClient, provider: Provider, operator: str) -> None:
    dataset = published(client, provider)
    for path in (
        "/api/v1/entities/a%00b",
        "/api/v1/datasets/a%00b",
        f"/api/v1/datasets/{dataset['id']}%00",
        "/api/v1/resources/a%00b",
        "/api/v1/products/a%1Fb",
        "/api/v1/certificates/a%00b",
        "/verify/a%00",
        "/dcat/datasets/a%00b.ttl",
        "/api/v1/disclosures/a%00b/2026",
    ):
        for headers in ({}, bearer(operator)):
            _problem(client.get(path, headers=headers), 404)
    _problem(client.post("/api/v1/entities/a%00b/verify", headers=bearer(operator)), 404)


@pytest.mark.usefixtures("quiet_errors")
def test_a_control_character_in_a_query_parameter_is_422_naming_it(client: TestClient, operator: str) -> None:
    for path, field in (
        ("/api/v1/entities?q=a%00b", "q"),
        ("/api/v1/datasets?q=a%00b", "q"),
        ("/api/v1/datasets?publisher=x%00", "publisher"),
        ("/api/v1/listings?q=%1B", "q"),
        ("/api/v1/registrations?subject_id=a%00", "subject_id"),
        ("/api/v1/datasets?a%00b=1", "a\x00b"),
    ):
        assert "U+00" in _field_error(client.get(path, headers=bearer(operator)), field)


def test_tabs_and_line_breaks_in_a_search_are_no_error(client: TestClient) -> None:
    for path in ("/api/v1/entities?q=a%09b%0Ac", "/api/v1/datasets?q=%E5%85%85%E7%94%B5%0D%0A"):
        assert client.get(path).status_code == 200


@pytest.mark.usefixtures("quiet_errors")
def test_a_control_character_in_a_json_body_is_422_naming_the_field(
    client: TestClient, provider: Provider, operator: str
) -> None:
    message = _field_error(client.post("/api/v1/login", json={"name": "a\x00b", "password": "x"}), "name")
    assert message == "must not contain control characters (found U+0000)"
    entity = entity_body(9, name="数据局\x00")
    _field_error(client.post("/api/v1/entities", json=entity, headers=bearer(operator)), "name")
    items = [{"name": "ok", "type": "string"}, {"name": "pile\x1bid", "type": "string"}]
    resource = resource_body(data_items=items)
    _field_error(client.post("/api/v1/resources", json=resource, headers=bearer(provider.token)), "data_items.1.name")
    created = client.post("/api/v1/resources", json=resource_body(), headers=bearer(provider.token)).json()
    change = {"type": "change", "subject": {"resource_id": created["id"]}, "changes": {"summary\x00": "x"}}
    _field_error(client.post("/api/v1/registrations", json=change, headers=bearer(provider.token)), "changes")
    dataset = published(client, provider)
    patch = client.patch(f"/api/v1/datasets/{dataset['id']}", json={"title": "\x00"}, headers=bearer(provider.token))
    _field_error(patch, "title")


def test_line_breaks_in_a_json_body_and_escaped_backslashes_are_kept(client: TestClient, provider: Provider) -> None:
    description = "第一行\n第二行\t制表\r\n" + "\\u0000 is how JSON writes NUL"
    dataset = published(client, provider, description=description)
    assert client.get(f"/api/v1/datasets/{dataset['id']}").json()["description"] == description


@pytest.mark.usefixtures("quiet_errors")
def test_json_nested_too_deep_is_400_before_parsing(client: TestClient, provider: Provider) -> None:
    for depth in (10_000, MAX_JSON_DEPTH + 1):
        deep = b'{"name": "x", "password": "y", "extra": ' + b"[" * depth + b"]" * depth + b"}"
        response = client.post("/api/v1/login", content=deep, headers={"content-type": "application/json"})
        assert "deeper than" in str(_problem(response, 400)["detail"])
    created = client.post("/api/v1/resources", json=resource_body(), headers=bearer(provider.token)).json()
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH + 5):
        nested = {"k": nested}
    change = {"type": "change", "subject": {"resource_id": created["id"]}, "changes": {"source": nested}}
    _problem(client.post("/api/v1/registrations", json=change, headers=bearer(provider.token)), 400)


def test_bodies_still_meet_the_size_limit_and_non_json_passes(app: FastAPI, client: TestClient) -> None:
    big = b'{"name": "' + b"x" * (app.state.settings.max_request_body_bytes + 10) + b'"}'
    _problem(client.post("/api/v1/login", content=big, headers={"content-type": "application/json"}), 413)
    text = client.post("/api/v1/login", content=b"\x00", headers={"content-type": "text/plain"})
    assert text.status_code == 422  # FastAPI's own answer to a body that is not JSON
