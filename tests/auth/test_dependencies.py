"""Role checks: each rule tested for the allowed and the denied caller."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import bearer, make_account


@pytest.mark.parametrize(("role", "expected"), [(Role.admin, 200), (Role.operator, 403), (Role.consumer, 403)])
def test_audit_trail_is_for_admins(
    client: TestClient, engine: Engine, settings: Settings, role: Role, expected: int
) -> None:
    _, token = make_account(engine, settings.auth, role)
    response = client.get("/api/v1/audit", headers=bearer(token))
    assert response.status_code == expected
    if expected == 403:
        assert response.json()["status"] == 403
        assert "admin" in response.json()["detail"]


def test_audit_trail_refuses_anonymous_callers(client: TestClient) -> None:
    assert client.get("/api/v1/audit").status_code == 401


@pytest.mark.parametrize(("role", "expected"), [(Role.admin, 201), (Role.operator, 403), (Role.consumer, 403)])
def test_accounts_are_created_by_admins(
    client: TestClient, engine: Engine, settings: Settings, role: Role, expected: int
) -> None:
    _, token = make_account(engine, settings.auth, role)
    response = client.post("/api/v1/accounts", json={"name": "newcomer", "role": "consumer"}, headers=bearer(token))
    assert response.status_code == expected
    if expected == 201:
        new_token = response.json()["token"]
        assert client.get("/api/v1/me", headers=bearer(new_token)).json()["name"] == "newcomer"


def test_provider_account_may_start_without_an_entity(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, admin = make_account(engine, settings.auth, Role.admin)
    response = client.post("/api/v1/accounts", json={"name": "prov", "role": "provider"}, headers=bearer(admin))
    assert response.status_code == 201
    assert response.json()["account"]["entity_id"] is None


def test_account_for_an_unknown_entity_is_refused(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, admin = make_account(engine, settings.auth, Role.admin)
    response = client.post(
        "/api/v1/accounts", json={"name": "prov", "role": "provider", "entity_id": "nope"}, headers=bearer(admin)
    )
    assert response.status_code == 422
    assert "entity_id" in {e["field"] for e in response.json()["errors"]}
    assert client.get("/api/v1/audit?action=account.create", headers=bearer(admin)).json()["count"] == 1


def test_operator_account_cannot_belong_to_an_entity(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, admin = make_account(engine, settings.auth, Role.admin)
    response = client.post(
        "/api/v1/accounts", json={"name": "op", "role": "operator", "entity_id": "x"}, headers=bearer(admin)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "entity_id"
