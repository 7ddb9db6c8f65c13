"""Certificate test helpers: raw POSTs, a resource taken through registration, issuing with a default scope."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import FakeClock, bearer, resource_body
from tests.support.registry import Provider
from tests.support.workflow import register


def post(client: TestClient, path: str, token: str | None, body: dict[str, Any] | None = None) -> Any:
    """POST and return the response."""
    return client.post(path, json=body, headers=bearer(token) if token else {})


def ok(response: Any) -> dict[str, Any]:
    """The JSON of a successful response."""
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def registered_resource(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, **overrides: object
) -> dict[str, Any]:
    """A resource taken through a first registration; returns the resource with its registration."""
    resource = ok(post(client, "/api/v1/resources", provider.token, resource_body(**overrides)))
    body = {"type": "first", "subject": {"resource_id": resource["id"]}}
    reg = ok(post(client, "/api/v1/registrations", provider.token, body))
    done = register(client, clock, provider, operator, reg["id"])
    assert done["state"] == "registered", done
    return {**resource, "registration": done}


def issue(client: TestClient, token: str | None, **body: Any) -> Any:
    """POST /api/v1/certificates with a default scope."""
    return post(client, "/api/v1/certificates", token, {"scope": "在广州市范围内用于交通规划研究", **body})
