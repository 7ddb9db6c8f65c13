"""A dataset's offers over the native API: who may write them, who may see them, and the explain endpoint."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from catalog.dataspace.profile import PROFILE
from tests.support.data import bearer
from tests.support.dataspace import offer_body, prospect, welfare_offer_body
from tests.support.exchange import World

ROLES = ("anonymous", "consumer", "provider", "other_provider", "operator", "admin")
# action -> expected status for each role, in ROLES order.
EXPECTED: dict[str, tuple[int, ...]] = {
    "create": (401, 403, 201, 403, 201, 201),
    "list": (200, 200, 200, 200, 200, 200),
    "read": (200, 200, 200, 200, 200, 200),
    "explain": (200, 200, 200, 200, 200, 200),
    "delete": (401, 403, 204, 403, 204, 204),
    "list offers of a not_open dataset": (404, 404, 200, 404, 200, 200),
}


def _headers(w: World, role: str) -> dict[str, str]:
    token = {
        "anonymous": None,
        "consumer": w.consumer,
        "provider": w.provider.token,
        "other_provider": w.other.token,
        "operator": w.operator,
        "admin": w.admin,
    }[role]
    return bearer(token) if token else {}


def _offer(client: TestClient, w: World, body: dict[str, object] | None = None) -> str:
    made = client.post(
        f"/api/v1/datasets/{w.conditional}/offers", json=body or offer_body(), headers=bearer(w.provider.token)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.mark.parametrize("role", ROLES)
def test_every_offer_endpoint_for_every_role(client: TestClient, world: World, role: str) -> None:
    w = world
    h = _headers(w, role)
    offer_id = _offer(client, w)
    base = f"/api/v1/datasets/{w.conditional}/offers"
    calls: dict[str, Callable[[], httpx.Response]] = {
        "create": lambda: client.post(base, json=welfare_offer_body(), headers=h),
        "list": lambda: client.get(base, headers=h),
        "read": lambda: client.get(f"{base}/{offer_id}", headers=h),
        "explain": lambda: client.post(f"{base}/explain", json=prospect(), headers=h),
        "delete": lambda: client.delete(f"{base}/{offer_id}", headers=h),
        "list offers of a not_open dataset": lambda: client.get(f"/api/v1/datasets/{w.not_open}/offers", headers=h),
    }
    for name, call in calls.items():
        answer = call()
        assert answer.status_code == EXPECTED[name][ROLES.index(role)], (name, answer.text)
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json"
    # What the role's writes left: the provider's first offer, plus the one it made, less the one it deleted.
    created = EXPECTED["create"][ROLES.index(role)] == 201
    deleted = EXPECTED["delete"][ROLES.index(role)] == 204
    listed = client.get(base).json()
    assert listed["count"] == 1 + created - deleted
    kept = {item["id"] for item in listed["items"]}
    assert (offer_id in kept) == (not deleted)


def test_an_offer_is_stored_and_shown_as_an_odrl_offer(client: TestClient, world: World) -> None:
    w = world
    offer_id = _offer(client, w)
    shown = client.get(f"/api/v1/datasets/{w.conditional}/offers/{offer_id}").json()
    policy = shown["policy"]
    assert shown["dataset_id"] == w.conditional
    assert (policy["@id"], policy["@type"], policy["profile"]) == (f"urn:pdr:offer:{offer_id}", "Offer", PROFILE)
    assert policy["permission"][0]["constraint"][7] == {
        "leftOperand": "count",
        "operator": "lteq",
        "rightOperand": "100",
    }
    assert policy["obligation"][1]["constraint"][0]["rightOperand"] == "500.00"
    profile = client.get("/api/v1/odrl/profile").json()
    assert set(profile["leftOperands"]) >= {"purpose", "scenario", "useCategory", "spatial", "modelContract"}


def test_unknown_terms_are_refused_with_a_problem_naming_them(client: TestClient, world: World, engine: Engine) -> None:
    w = world
    url = f"/api/v1/datasets/{w.conditional}/offers"
    h = bearer(w.provider.token)
    body = offer_body()
    body["permission"][0]["constraint"][0]["leftOperand"] = "colour"
    refused = client.post(url, json=body, headers=h)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["errors"][0]["field"] == "permission.0.constraint.0.leftOperand"
    assert "unknown left operand 'colour'" in problem["detail"]
    body = offer_body()
    body["permission"][0]["constraint"][0]["operator"] = "matches"
    assert "unknown operator 'matches'" in client.post(url, json=body, headers=h).json()["detail"]
    body = offer_body(prohibition=[{"action": "resell"}])
    assert "unknown action 'resell'" in client.post(url, json=body, headers=h).json()["detail"]
    body = offer_body(target="urn:x")
    refused = client.post(url, json=body, headers=h)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["target"]
    capped = offer_body()
    capped["obligation"][1]["constraint"][0]["rightOperand"] = "10000.01"
    assert "over the cap of 10000.00" in client.post(url, json=capped, headers=h).json()["detail"]
    with engine.connect() as connection:  # nothing half-written
        assert connection.execute(text("SELECT count(*) FROM dataset_offer")).scalar_one() == 0


def test_only_conditional_datasets_carry_offers(client: TestClient, world: World) -> None:
    w = world
    h = bearer(w.provider.token)
    refused = client.post(f"/api/v1/datasets/{w.open_dataset}/offers", json=offer_body(), headers=h)
    assert refused.status_code == 409
    assert "only conditional datasets carry offers" in refused.json()["detail"]
    assert client.post(f"/api/v1/datasets/{w.not_open}/offers", json=offer_body(), headers=h).status_code == 409
    assert client.post("/api/v1/datasets/nothing-here/offers", json=offer_body(), headers=h).status_code == 404


def test_offers_of_a_dataset_closed_later_are_hidden_from_the_public(client: TestClient, world: World) -> None:
    w = world
    offer_id = _offer(client, w)
    closed = client.patch(
        f"/api/v1/datasets/{w.conditional}", json={"access": "not_open"}, headers=bearer(w.provider.token)
    )
    assert closed.status_code == 200, closed.text
    for headers in ({}, bearer(w.consumer), bearer(w.other.token)):
        assert client.get(f"/api/v1/datasets/{w.conditional}/offers", headers=headers).status_code == 404
        assert client.get(f"/api/v1/datasets/{w.conditional}/offers/{offer_id}", headers=headers).status_code == 404
        assert (
            client.post(
                f"/api/v1/datasets/{w.conditional}/offers/explain", json=prospect(), headers=headers
            ).status_code
            == 404
        )
    mine = client.get(f"/api/v1/datasets/{w.conditional}/offers", headers=bearer(w.provider.token)).json()
    assert [item["id"] for item in mine["items"]] == [offer_id]


def test_explain_says_for_each_offer_which_terms_pass_or_fail(client: TestClient, world: World) -> None:
    w = world
    industry = _offer(client, w)
    welfare = _offer(client, w, welfare_offer_body())
    url = f"/api/v1/datasets/{w.conditional}/offers/explain"
    answer = client.post(url, json=prospect())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["passes"] is True
    by_offer = {o["offer_id"]: o for o in body["offers"]}
    assert (by_offer[industry]["passes"], by_offer[welfare]["passes"]) == (True, False)
    failed = [c for c in by_offer[welfare]["checks"] if c["outcome"] == "fail"]
    assert failed == [
        {
            "rule": "permission",
            "action": "use",
            "left_operand": "useCategory",
            "operator": "eq",
            "right_operand": "public_welfare",
            "outcome": "fail",
            "reason": "use for industry is not allowed (the offer allows public_welfare)",
        }
    ]
    fee = [c for c in by_offer[industry]["checks"] if c["action"] == "compensate"]
    assert [(c["outcome"], c["reason"]) for c in fee] == [("applies", "a fee of 500.00 CNY is due")]
    nowhere = client.post(url, json=prospect(region="310000", downloads=500, use_category="public_welfare")).json()
    reasons = {c["left_operand"]: c["reason"] for o in nowhere["offers"] for c in o["checks"] if c["outcome"] == "fail"}
    assert nowhere["passes"] is True  # the welfare offer allows it
    assert reasons["spatial"] == "region 310000 is not within 440100"
    assert reasons["count"] == "500 downloads asked, at most 100 allowed"
    backwards = client.post(url, json=prospect(requested_from="2027-02-01", requested_until="2027-01-01"))
    assert backwards.status_code == 422
    assert [e["field"] for e in backwards.json()["errors"]] == ["requested_until"]
    assert client.post(url, json=prospect(region="广州")).status_code == 422
