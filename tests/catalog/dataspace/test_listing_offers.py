"""A listed product's offers: written by its entity (checked against pdr's profile and against the listing: its use
category, no fee when it is for public welfare), read by whoever sees the listing, and explained term by term."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import bearer
from tests.support.dataspace import assert_valid_offer, offer_body, prospect, welfare_offer_body
from tests.support.exchange import World


def _listing(client: TestClient, w: World, use_category: str = "industry") -> str:
    body = {
        "product_id": w.product,
        "delivery_mode": "file",
        "pricing_unit": "份",
        "price": "0" if use_category == "public_welfare" else "500",
        "use_category": use_category,
    }
    made = client.post("/api/v1/listings", json=body, headers=bearer(w.provider.token))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _offer(client: TestClient, token: str, listing_id: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/listings/{listing_id}/offers", json=body, headers=bearer(token))


def test_a_listings_offers_are_written_by_its_entity_and_read_by_anyone(client: TestClient, world: World) -> None:
    w = world
    listing = _listing(client, w)
    made = _offer(client, w.provider.token, listing, offer_body())
    assert made.status_code == 201, made.text
    policy = made.json()["policy"]
    assert policy["target"] == f"urn:pdr:listing:{listing}"
    assert policy["@id"] == f"urn:pdr:offer:{made.json()['id']}"
    assert_valid_offer({k: v for k, v in policy.items() if k != "target"})
    assert _offer(client, w.other.token, listing, offer_body()).status_code == 403
    assert _offer(client, w.consumer, listing, offer_body()).status_code == 403
    assert client.post(f"/api/v1/listings/{listing}/offers", json=offer_body()).status_code == 401
    listed = client.get(f"/api/v1/listings/{listing}/offers")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    one = client.get(f"/api/v1/listings/{listing}/offers/{made.json()['id']}")
    assert one.json()["policy"] == policy
    assert client.get(f"/api/v1/listings/{listing}/offers/01AAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    explained = client.post(f"/api/v1/listings/{listing}/offers/explain", json=prospect())
    assert explained.status_code == 200, explained.text
    assert explained.json()["listing_id"] == listing and explained.json()["passes"] is True
    failing = client.post(f"/api/v1/listings/{listing}/offers/explain", json=prospect(region="110101"))
    assert failing.json()["passes"] is False
    path = f"/api/v1/listings/{listing}/offers/{made.json()['id']}"
    assert client.delete(path, headers=bearer(w.other.token)).status_code == 403
    assert client.delete(path, headers=bearer(w.provider.token)).status_code == 204
    assert client.get(f"/api/v1/listings/{listing}/offers").json()["count"] == 0


def test_an_offer_agrees_with_its_listing(client: TestClient, world: World) -> None:
    w = world
    industry = _listing(client, w)
    welfare_terms = welfare_offer_body()
    wrong_category = _offer(client, w.provider.token, industry, welfare_terms)
    assert wrong_category.status_code == 422
    assert "industry" in wrong_category.json()["detail"]
    welfare = _listing(client, w, "public_welfare")
    assert _offer(client, w.provider.token, welfare, welfare_terms).status_code == 201
    paid = welfare_offer_body()
    paid["obligation"].append(
        {"action": "compensate", "constraint": [{"leftOperand": "payAmount", "operator": "eq", "rightOperand": "10"}]}
    )
    refused = _offer(client, w.provider.token, welfare, paid)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "obligation"
    unknown = _offer(client, w.provider.token, industry, offer_body(prohibition=[{"action": "sell"}]))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "prohibition.0.action"
    delisted = client.post(f"/api/v1/listings/{industry}/delist", headers=bearer(w.provider.token))
    assert delisted.status_code == 200
    assert _offer(client, w.provider.token, industry, offer_body()).status_code == 409
