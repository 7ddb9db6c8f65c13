"""Registry fixtures: a movable clock, staff, and a verified provider entity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.models import Role
from catalog.settings import Settings
from tests.helpers import FakeClock, bearer, entity_body, make_account


@dataclass
class Provider:
    """A provider account acting for a verified entity."""

    token: str
    account_id: str
    entity_id: str


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    """The app's clock, set to Monday 2026-11-23, 10:00 in China."""
    fake = FakeClock(date(2026, 11, 23))
    app.state.clock = fake
    return fake


@pytest.fixture
def operator(engine: Engine, settings: Settings) -> str:
    """An operator's token."""
    return make_account(engine, settings.auth, Role.operator, name="operator-1")[1]


@pytest.fixture
def consumer(engine: Engine, settings: Settings) -> str:
    """A consumer's token."""
    return make_account(engine, settings.auth, Role.consumer, name="consumer-1")[1]


def new_provider(client: TestClient, engine: Engine, settings: Settings, operator: str, serial: int) -> Provider:
    """A provider account that registers its entity, which the operator verifies."""
    account_id, token = make_account(engine, settings.auth, Role.provider, name=f"provider-{serial}")
    created = client.post("/api/v1/entities", json=entity_body(serial), headers=bearer(token))
    assert created.status_code == 201, created.text
    entity_id = created.json()["id"]
    verified = client.post(f"/api/v1/entities/{entity_id}/verify", headers=bearer(operator))
    assert verified.status_code == 200, verified.text
    return Provider(token=token, account_id=account_id, entity_id=entity_id)


@pytest.fixture
def provider(client: TestClient, engine: Engine, settings: Settings, operator: str, clock: FakeClock) -> Provider:
    """A provider of a verified entity."""
    return new_provider(client, engine, settings, operator, 1)


@pytest.fixture
def other_provider(client: TestClient, engine: Engine, settings: Settings, operator: str, clock: FakeClock) -> Provider:
    """A provider of another verified entity."""
    return new_provider(client, engine, settings, operator, 2)
