"""The registry's people and time as fixtures: a movable clock, staff, a consumer and verified providers."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, make_account
from tests.support.registry import Provider, new_provider


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


@pytest.fixture
def provider(client: TestClient, engine: Engine, settings: Settings, operator: str, clock: FakeClock) -> Provider:
    """A provider of a verified entity."""
    return new_provider(client, engine, settings, operator, 1)


@pytest.fixture
def other_provider(client: TestClient, engine: Engine, settings: Settings, operator: str, clock: FakeClock) -> Provider:
    """A provider of another verified entity."""
    return new_provider(client, engine, settings, operator, 2)
