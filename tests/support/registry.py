"""Registry test data: a provider acting for a verified entity, and how to make one over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import bearer, entity_body, make_account


@dataclass
class Provider:
    """A provider account acting for a verified entity."""

    token: str
    account_id: str
    entity_id: str


def new_provider(client: TestClient, engine: Engine, settings: Settings, operator: str, serial: int) -> Provider:
    """A provider account that registers its entity, which the operator verifies."""
    account_id, token = make_account(engine, settings.auth, Role.provider, name=f"provider-{serial}")
    created = client.post("/api/v1/entities", json=entity_body(serial), headers=bearer(token))
    assert created.status_code == 201, created.text
    entity_id = created.json()["id"]
    verified = client.post(f"/api/v1/entities/{entity_id}/verify", headers=bearer(operator))
    assert verified.status_code == 200, verified.text
    return Provider(token=token, account_id=account_id, entity_id=entity_id)
