"""Catalog test data: published datasets over HTTP, publishers and CKAN packages written straight to the database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.caller import Caller
from auth.roles import Role
from catalog.interop import importer
from catalog.interop.ckan.read import ckan_record
from catalog.interop.records import ImportReport
from registry.models import Entity
from storage.db import session_scope
from tests.support.data import bearer, dataset_body, new_uscc
from tests.support.registry import Provider

SYSTEM = Caller(name="test", role=Role.admin)


def published(client: TestClient, provider: Provider, **overrides: object) -> dict[str, Any]:
    """Create a dataset over HTTP and publish it; return its view."""
    created = client.post("/api/v1/datasets", json=dataset_body(**overrides), headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    done = client.post(f"/api/v1/datasets/{created.json()['id']}/publish", headers=bearer(provider.token))
    assert done.status_code == 200, done.text
    return dict(done.json())


def add_entities(engine: Engine, ids: Iterable[str], start: int = 500) -> None:
    """Verified entities with the given ids, made directly in the database."""
    with session_scope(engine) as session:
        for serial, entity_id in enumerate(ids, start=start):
            session.add(
                Entity(
                    id=entity_id,
                    name=f"测试发布单位{entity_id}",
                    kind="data_source",
                    uscc=new_uscc(serial),
                    region_code="440100",
                    status="verified",
                )
            )
        session.commit()


def load_packages(engine: Engine, packages: Iterable[dict[str, Any]]) -> ImportReport:
    """Import CKAN package dicts through the bulk import path."""
    records = (ckan_record(p, f"record {i}") for i, p in enumerate(packages, start=1))
    report = importer.import_records(engine, iter(records), caller=SYSTEM)
    assert report.errors == [], report.errors
    return report
