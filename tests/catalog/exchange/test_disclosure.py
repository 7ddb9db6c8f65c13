"""The annual disclosure of an operator entity, in JSON and CSV, due until the end of March."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, bearer, make_account
from tests.support.exchange import (
    World,
    add_operator_entity,
    add_product,
    request_body,
)


def test_annual_disclosure(
    client: TestClient, world: World, engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    w = world
    operator_entity = add_operator_entity(engine)
    _, token = make_account(engine, settings.auth, Role.provider, name="op-ent", entity_id=operator_entity)
    product = add_product(engine, operator_entity, "registered", name="城市交通指数")
    made = client.post("/api/v1/access-requests", json=request_body(dataset_id=w.conditional), headers=bearer(token))
    assert made.status_code == 201, made.text
    client.post(f"/api/v1/access-requests/{made.json()['id']}/approve", headers=bearer(w.provider.token))
    listed = client.post(
        "/api/v1/listings",
        json={
            "product_id": product,
            "delivery_mode": "report",
            "pricing_unit": "份",
            "price": "800",
            "use_category": "industry",
        },
        headers=bearer(token),
    )
    assert listed.status_code == 201, listed.text
    report = client.get(f"/api/v1/disclosures/{operator_entity}/2026")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["due"] is True and body["due_by"] == "2027-03-31"
    assert [g["dataset_id"] for g in body["authorised_resources"]] == [w.conditional]
    assert body["products"][0]["fees"][0]["price"] in ("800.00", "800", 800)
    exported = client.get(f"/api/v1/disclosures/{operator_entity}/2026.csv")
    assert exported.status_code == 200
    sections = [row["section"] for row in csv.DictReader(io.StringIO(exported.text))]
    assert sections == ["authorised_resource", "product", "fee"]
    assert client.get(f"/api/v1/disclosures/{operator_entity}/2025").json()["authorised_resources"] == []
    clock.set_china(date(2027, 4, 1))
    assert client.get(f"/api/v1/disclosures/{operator_entity}/2026").json()["due"] is False
    assert client.get(f"/api/v1/disclosures/{w.provider.entity_id}/2026").status_code == 404
