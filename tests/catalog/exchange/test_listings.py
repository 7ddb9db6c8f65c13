"""Listings: only registered products, free for public welfare, capped for industry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import bearer
from tests.support.exchange import (
    World,
)


def test_listing_rules(client: TestClient, world: World, engine: Engine) -> None:
    w = world
    token = bearer(w.provider.token)
    body = {"product_id": w.product, "delivery_mode": "api", "pricing_unit": "次", "use_category": "industry"}
    unregistered = client.post(
        "/api/v1/listings", json={**body, "product_id": w.draft_product, "price": "1"}, headers=token
    )
    assert unregistered.status_code == 409
    assert "no registration, no trading" in unregistered.json()["detail"]
    over = client.post("/api/v1/listings", json={**body, "price": "10000.01"}, headers=token)
    assert over.status_code == 422
    assert [e["field"] for e in over.json()["errors"]] == ["price"]
    welfare = client.post(
        "/api/v1/listings", json={**body, "use_category": "public_welfare", "price": "5"}, headers=token
    )
    assert welfare.status_code == 422
    assert [e["field"] for e in welfare.json()["errors"]] == ["price"]
    free = client.post("/api/v1/listings", json={**body, "use_category": "public_welfare", "price": "0"}, headers=token)
    assert free.status_code == 201, free.text
    capped = client.post("/api/v1/listings", json={**body, "price": "10000.00"}, headers=token)
    assert capped.status_code == 201
    listing_id = capped.json()["id"]
    assert client.get("/api/v1/listings", params={"q": "选址"}).json()["count"] == 2
    assert client.get("/api/v1/listings", params={"delivery_mode": "file"}).json()["count"] == 0
    assert client.post(f"/api/v1/listings/{listing_id}/suspend", headers=token).json()["state"] == "suspended"
    assert client.get("/api/v1/listings").json()["count"] == 1  # anonymous sees listed only
    assert client.get(f"/api/v1/listings/{listing_id}").status_code == 404
    assert client.get("/api/v1/listings", params={"state": "suspended"}, headers=token).json()["count"] == 1
    assert (
        client.post(f"/api/v1/listings/{listing_id}/delist", headers=bearer(w.operator)).json()["state"] == "delisted"
    )
    assert client.post(f"/api/v1/listings/{listing_id}/relist", headers=token).status_code == 409
