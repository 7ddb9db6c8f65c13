"""The exchange's cast as a fixture: providers, a consumer, an admin, datasets of each access with files, products."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, make_account
from tests.support.exchange import World, add_product, dataset_with_file
from tests.support.registry import Provider


@pytest.fixture
def world(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    clock: FakeClock,
    provider: Provider,
    other_provider: Provider,
    operator: str,
) -> World:
    """The exchange's cast, on Monday 2026-11-23."""
    consumer_id, consumer = make_account(engine, settings.auth, Role.consumer, name="consumer-x")
    admin = make_account(engine, settings.auth, Role.admin, name="admin-1")[1]
    conditional, conditional_file = dataset_with_file(client, provider, "conditional")
    not_open, _ = dataset_with_file(client, provider, "not_open")
    open_dataset, open_file = dataset_with_file(client, provider, "unconditional")
    return World(
        provider=provider,
        other=other_provider,
        consumer=consumer,
        consumer_id=consumer_id,
        operator=operator,
        admin=admin,
        conditional=conditional,
        conditional_file=conditional_file,
        not_open=not_open,
        open_dataset=open_dataset,
        open_file=open_file,
        product=add_product(engine, provider.entity_id, "registered"),
        draft_product=add_product(engine, provider.entity_id, "draft"),
    )
