"""Searches follow the registry's log into the search rows; on PostgreSQL two searches catching up at once take
turns, so the second finds the position moved instead of inserting it again (a 500 under load before)."""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from catalog.datasets.index import REGISTRY_FEED, REGISTRY_SYNC_LOCK, sync_registry
from catalog.search.mirror import drop_mirror
from storage.db import session_scope
from tests.support.catalog import published
from tests.support.certificates import registered_resource
from tests.support.data import FakeClock
from tests.support.env import POSTGRES_URL
from tests.support.registry import Provider


@pytest.mark.skipif(POSTGRES_URL is None, reason="a real race needs PostgreSQL (PDR_TEST_DATABASE_URL)")
def test_a_second_search_waits_for_the_first_to_catch_up(
    client: TestClient, engine: Engine, clock: FakeClock, provider: Provider, operator: str
) -> None:
    registered_resource(client, clock, provider, operator)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM catalog_sync WHERE name = :n"), {"n": REGISTRY_FEED})
        newest = connection.execute(text("SELECT max(idx) FROM log_entry")).scalar_one()
    reindexed: list[int] = []

    def search_catches_up() -> None:
        with session_scope(engine, write=False) as session:
            reindexed.append(sync_registry(session))

    with engine.connect() as first:
        transaction = first.begin()
        first.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REGISTRY_SYNC_LOCK})
        second = threading.Thread(target=search_catches_up)
        second.start()
        second.join(timeout=2)
        assert second.is_alive(), "the second search did not wait for the one catching up"
        first.execute(
            text("INSERT INTO catalog_sync (name, position) VALUES (:n, :p)"), {"n": REGISTRY_FEED, "p": newest}
        )
        transaction.commit()
    second.join(timeout=60)
    assert reindexed == [0]


def test_a_search_behind_the_registrys_log_catches_up_and_searches_what_it_wrote(
    client: TestClient, app: FastAPI, clock: FakeClock, provider: Provider, operator: str
) -> None:
    engine = app.state.engine
    resource = registered_resource(client, clock, provider, operator)
    published(client, provider, resource_id=resource["id"], access="unconditional")  # the registry's wins
    client.get("/api/v1/datasets")  # which follows the registry's log
    with engine.begin() as connection:
        # As if the registration had completed after the search row was written...
        connection.execute(text("UPDATE dataset_search SET access = 'unconditional'"))
    drop_mirror(engine)
    access = {"value": "unconditional", "count": 1, "label": None}
    assert client.get("/api/v1/datasets", params={"facets": "access"}).json()["facets"]["access"] == [access]
    with engine.begin() as connection:
        # ...and no search had followed the log since.
        connection.execute(text("DELETE FROM catalog_sync WHERE name = :n"), {"n": REGISTRY_FEED})
    found = client.get("/api/v1/datasets", params={"facets": "access"}).json()
    assert found["facets"]["access"] == [{**access, "value": "conditional"}]
