"""The registration procedure's steps over HTTP, for tests that need a subject taken through it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import FakeClock, bearer, resource_body
from tests.support.registry import Provider


def post_ok(client: TestClient, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST with a token; the response must be 200 or 201; return its JSON."""
    response = client.post(path, json=body, headers=bearer(token))
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def new_resource(client: TestClient, provider: Provider, **overrides: object) -> dict[str, Any]:
    """A draft data resource of the provider's entity."""
    return post_ok(client, "/api/v1/resources", provider.token, resource_body(**overrides))


def apply(client: TestClient, provider: Provider, resource_id: str, kind: str = "first", **extra: Any) -> str:
    """A draft registration of a resource; returns its id."""
    body = {"type": kind, "subject": {"resource_id": resource_id}, **extra}
    return str(post_ok(client, "/api/v1/registrations", provider.token, body)["id"])


def step(client: TestClient, token: str, reg_id: str, action: str, **body: Any) -> dict[str, Any]:
    """Take one workflow action on a registration; returns the registration."""
    return post_ok(client, f"/api/v1/registrations/{reg_id}/{action}", token, body or None)


def register(client: TestClient, clock: FakeClock, provider: Provider, operator: str, reg_id: str) -> dict[str, Any]:
    """Take a registration from draft to registered with no objection."""
    step(client, provider.token, reg_id, "submit")
    step(client, operator, reg_id, "accept")
    reg = step(client, operator, reg_id, "pass-review")
    clock.set_china(date.fromisoformat(reg["notice_ends_on"]) + timedelta(days=1))
    return dict(client.get(f"/api/v1/registrations/{reg_id}", headers=bearer(provider.token)).json())
