"""CKAN parameters: every malformed one is a typed CKAN error in CKAN's envelope, alike on both engines, never a 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from catalog.interop.ckan.errors import CkanError
from catalog.interop.ckan.params import facet_limit_param, int_param
from storage.inputs import MAX_JSON_DEPTH
from tests.support.catalog import published
from tests.support.registry import Provider

ACTION = "/api/3/action/"


@pytest.fixture(autouse=True)
def quiet_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test when anything reached the unexpected-error log."""
    with caplog.at_level(logging.ERROR, logger="pdr.errors"):
        yield
    assert [r for r in caplog.records if r.name == "pdr.errors"] == []


def _error(response: Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["success"] is False and body["error"]["__type"] == kind
    return dict(body["error"])


def _field(response: Response, field: str) -> list[str]:
    error = _error(response, 409, "Validation Error")
    assert isinstance(error.get(field), list), error
    return list(error[field])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("facet.limit", "abc"),
        ("facet.limit", "1e3"),
        ("facet.limit", "9" * 5000),  # more digits than int() takes
        ("rows", "abc"),
        ("rows", "-1"),
        ("rows", "1e3"),
        ("rows", "9" * 40),
        ("start", "-5"),
        ("start", "1.5"),
    ],
)
def test_bad_integers_of_package_search_are_validation_errors(client: TestClient, name: str, value: str) -> None:
    assert _field(client.get(ACTION + "package_search", params={name: value}), name)


@pytest.mark.parametrize("name", ["limit", "offset"])
@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "9" * 30])
def test_bad_integers_of_package_list_are_validation_errors(client: TestClient, name: str, value: str) -> None:
    assert _field(client.get(ACTION + "package_list", params={name: value}), name)


def test_json_numbers_that_are_no_integers_are_validation_errors(client: TestClient) -> None:
    for raw in (b'{"rows": 1e999}', b'{"rows": NaN}', b'{"rows": 2.5}', b'{"rows": true}', b'{"facet.limit": [1]}'):
        response = client.post(ACTION + "package_search", content=raw, headers={"content-type": "application/json"})
        assert _error(response, 409, "Validation Error"), raw
    whole = client.post(ACTION + "package_search", json={"rows": 2.0, "facet.limit": -1, "facet.field": ["groups"]})
    assert whole.status_code == 200


def test_integer_parsing_directly() -> None:
    assert int_param({"rows": " 12 "}, "rows", 10, 0, 100) == 12
    assert int_param({}, "rows", 10, 0, 100) == 10
    assert facet_limit_param({"facet.limit": "-1"}, 1000) == 1000  # Solr's "all"
    assert facet_limit_param({"facet.limit": 5000}, 1000) == 1000
    assert facet_limit_param({"facet.limit": ""}, 1000) == 50
    with pytest.raises(CkanError) as raised:
        facet_limit_param({"facet.limit": "1e3"}, 1000)
    assert raised.value.fields == {"facet.limit": ["Invalid integer"]}


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("package_show", {"id": "a\x00b"}, "id"),
        ("organization_show", {"id": "a\x00b"}, "id"),
        ("resource_show", {"id": "\x00"}, "id"),
        ("package_search", {"q": "a\x00b"}, "q"),
        ("package_search", {"fq": 'tags:"a\x00b"'}, "fq"),
        ("tag_list", {"query": "a\x00"}, "query"),
        ("package_search", {"sort": "\x1b"}, "sort"),
    ],
)
def test_a_control_character_in_any_parameter_is_a_validation_error(
    client: TestClient, action: str, params: dict[str, str], field: str
) -> None:
    messages = _field(client.get(ACTION + action, params=params), field)
    assert "control characters" in messages[0]
    assert _field(client.post(ACTION + action, json=params), field)
    assert _field(client.post(ACTION + action, data=params), field)  # form-encoded, as CKAN accepts too


def test_a_lone_surrogate_is_a_validation_error_not_an_encoding_failure(client: TestClient) -> None:
    raw = b'{"id": "x\\udfff"}'
    response = client.post(ACTION + "package_show", content=raw, headers={"content-type": "application/json"})
    assert _field(response, "id") == ["must not contain lone surrogates (found U+DFFF)"]


def test_a_control_character_in_a_package_is_a_validation_error(client: TestClient, provider: Provider) -> None:
    package = {"name": "tianhe", "title": "天河", "resources": [{"url": "https://example.org/a", "name": "a\x00"}]}
    response = client.post(ACTION + "package_create", json=package, headers={"Authorization": provider.token})
    assert _field(response, "resources.0.name")


def test_tabs_and_line_breaks_in_a_search_are_kept(client: TestClient, provider: Provider) -> None:
    published(client, provider)
    found = client.get(ACTION + "package_search", params={"q": "充电桩\t\n"}).json()
    assert found["success"] is True and found["result"]["count"] == 1


def test_a_deep_json_body_is_a_bad_request_in_ckans_envelope(client: TestClient) -> None:
    for depth in (10_000, MAX_JSON_DEPTH + 1):
        deep = b'{"q": ' + b"[" * depth + b"]" * depth + b"}"
        response = client.post(ACTION + "package_search", content=deep, headers={"content-type": "application/json"})
        assert "deeper than" in _error(response, 400, "Bad Request")["message"]
    listed = "[" * 10_000 + "]" * 10_000
    assert _field(client.get(ACTION + "package_search", params={"facet.field": listed}), "facet.field")


@pytest.mark.parametrize("name", ["tags", "groups", "extras", "resources"])
def test_a_package_member_that_must_be_a_list_is_a_validation_error(
    client: TestClient, provider: Provider, name: str
) -> None:
    package = {"name": f"bad-{name}", "title": "x", name: 5}
    response = client.post(ACTION + "package_create", json=package, headers={"Authorization": provider.token})
    assert _field(response, name) == ["Must be a list"]
