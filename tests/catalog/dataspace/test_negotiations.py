"""Contract negotiations over the native API: the state machine, who may take each step, counter-offers, the
agreement, automatic agreement, and the grant a finalized negotiation makes."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.dataspace.negotiation import TRANSITIONS, Side, State, Step, advance
from catalog.settings import Settings
from storage.exceptions import Conflict, Forbidden
from tests.support.data import bearer, entity_body, make_account
from tests.support.dataspace import assert_valid, offer_body, welfare_offer_body
from tests.support.exchange import PAYLOAD, World, content_url

BASE = "/api/v1/negotiations"


def _offer(client: TestClient, w: World, body: dict[str, Any] | None = None) -> str:
    made = client.post(
        f"/api/v1/datasets/{w.conditional}/offers", json=body or offer_body(), headers=bearer(w.provider.token)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _start(client: TestClient, w: World, offer_id: str, terms: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"offer_id": offer_id}
    if terms is not None:
        body["terms"] = terms
    made = client.post(BASE, json=body, headers=bearer(w.consumer))
    assert made.status_code == 201, made.text
    return dict(made.json())


def _counter_terms() -> dict[str, Any]:
    """The provider's counter-offer: from today to the end of May 2027, three downloads."""
    terms = deepcopy(offer_body())
    constraints = terms["permission"][0]["constraint"]
    for c in constraints:
        if c["leftOperand"] == "dateTime":
            c["rightOperand"] = "2026-11-23" if c["operator"] == "gteq" else "2027-05-31"
        if c["leftOperand"] == "count":
            c["rightOperand"] = 3
    return terms


def _do(client: TestClient, token: str, negotiation_id: str, action: str, body: object = None) -> Any:
    return client.post(f"{BASE}/{negotiation_id}/{action}", json=body, headers=bearer(token))


def test_the_state_machine_allows_exactly_the_protocols_transitions() -> None:
    allowed = {
        (None, Step.request, Side.consumer): State.REQUESTED,
        (State.OFFERED, Step.request, Side.consumer): State.REQUESTED,
        (State.REQUESTED, Step.offer, Side.provider): State.OFFERED,
        (State.OFFERED, Step.accept, Side.consumer): State.ACCEPTED,
        (State.REQUESTED, Step.agree, Side.provider): State.AGREED,
        (State.ACCEPTED, Step.agree, Side.provider): State.AGREED,
        (State.AGREED, Step.verify, Side.consumer): State.VERIFIED,
        (State.VERIFIED, Step.finalize, Side.provider): State.FINALIZED,
    }
    for state in (State.REQUESTED, State.OFFERED, State.ACCEPTED, State.AGREED, State.VERIFIED):
        for side in Side:
            allowed[(state, Step.terminate, side)] = State.TERMINATED
    states: list[State | None] = [None, *State]
    for state in states:
        for step in TRANSITIONS:
            for side in Side:
                if (state, step, side) in allowed:
                    assert advance(state, step, side) == allowed[(state, step, side)]
                else:
                    with pytest.raises((Conflict, Forbidden)):
                        advance(state, step, side)


def test_a_negotiation_with_a_counter_offer_ends_in_a_grant_the_consumer_downloads_under(
    client: TestClient, world: World
) -> None:
    w = world
    provider = w.provider.token
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 403
    offer_id = _offer(client, w)
    started = _start(client, w, offer_id)
    nid = started["id"]
    assert started["state"] == "REQUESTED"
    assert started["provider_pid"] == f"urn:pdr:negotiation:{nid}"
    assert started["offer"]["@id"] == f"urn:pdr:offer:{offer_id}"
    assert started["offer"]["target"] == f"urn:pdr:dataset:{w.conditional}"
    # The offer as it stands starts on 2026-12-01; the provider counters with a period from today and 3 downloads.
    countered = _do(client, provider, nid, "offer", {"terms": _counter_terms()})
    assert countered.status_code == 200, countered.text
    assert countered.json()["state"] == "OFFERED"
    assert countered.json()["offered_by"] == "provider"
    assert countered.json()["offer"]["@id"] == f"urn:pdr:negotiation:{nid}:offer:2"
    assert _do(client, provider, nid, "agree").status_code == 409  # its own offer waits for the consumer
    assert _do(client, w.consumer, nid, "accept").json()["state"] == "ACCEPTED"
    agreed = _do(client, provider, nid, "agree")
    assert agreed.status_code == 200, agreed.text
    agreement = agreed.json()["agreement"]
    assert agreement["@type"] == "Agreement"
    assert agreement["assigner"] == f"urn:pdr:entity:{w.provider.entity_id}"
    assert agreement["assignee"] == f"urn:pdr:account:{w.consumer_id}"
    assert agreement["target"] == f"urn:pdr:dataset:{w.conditional}"
    assert agreement["permission"] == countered.json()["offer"]["permission"]
    assert {"leftOperand": "count", "operator": "lteq", "rightOperand": "3"} in agreement["permission"][0]["constraint"]
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 403  # no grant before FINALIZED
    assert _do(client, w.consumer, nid, "verify").json()["state"] == "VERIFIED"
    finalized = _do(client, provider, nid, "finalize")
    assert finalized.status_code == 200, finalized.text
    shown = finalized.json()
    assert shown["state"] == "FINALIZED"
    grant = client.get(f"/api/v1/grants/{shown['grant_id']}", headers=bearer(w.consumer)).json()
    assert grant["download_quota"] == 3
    assert grant["dataset_id"] == w.conditional
    assert grant["state"] == "active"
    assert grant["valid_until"].startswith("2027-05-31T16:00:00")  # midnight of 2027-06-01 in China
    got = client.get(content_url(w), headers=bearer(w.consumer))
    assert got.status_code == 200
    assert got.content == PAYLOAD
    # Every step recorded: who, which side, and the protocol message it was, each valid against its schema.
    steps = client.get(f"{BASE}/{nid}", headers=bearer(w.consumer)).json()["steps"]
    assert [(s["seq"], s["side"], s["state"]) for s in steps] == [
        (1, "consumer", "REQUESTED"),
        (2, "provider", "OFFERED"),
        (3, "consumer", "ACCEPTED"),
        (4, "provider", "AGREED"),
        (5, "consumer", "VERIFIED"),
        (6, "provider", "FINALIZED"),
    ]
    assert steps[1]["actor_id"] == w.provider.account_id
    assert steps[0]["actor_id"] == w.consumer_id
    for step in steps:
        assert_valid(_schema(step["message_type"]), step["message"])
    assert steps[5]["message"]["eventType"] == "FINALIZED"
    # A finalized negotiation is over.
    assert _do(client, w.consumer, nid, "terminate", {"reason": "迟了"}).status_code == 409


def _schema(message_type: str) -> str:
    names = {
        "ContractRequestMessage": "contract-request-message",
        "ContractOfferMessage": "contract-offer-message",
        "ContractAgreementMessage": "contract-agreement-message",
        "ContractAgreementVerificationMessage": "contract-agreement-verification-message",
        "ContractNegotiationEventMessage": "contract-negotiation-event-message",
        "ContractNegotiationTerminationMessage": "contract-negotiation-termination-message",
    }
    return f"negotiation/{names[message_type]}-schema.json"


def test_a_consumer_may_counter_and_the_provider_agree_to_its_terms(client: TestClient, world: World) -> None:
    w = world
    offer_id = _offer(client, w)
    started = _start(client, w, offer_id, _counter_terms())
    assert started["offer"]["@id"] == f"urn:pdr:negotiation:{started['id']}:offer:1"
    assert started["offered_by"] == "consumer"
    agreed = _do(client, w.provider.token, started["id"], "agree")
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["state"] == "AGREED"
    # Bad counter terms are refused term by term, and nothing is written.
    bad = client.post(
        BASE,
        json={"offer_id": offer_id, "terms": offer_body(prohibition=[{"action": "sell"}])},
        headers=bearer(w.consumer),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "prohibition.0.action"
    assert client.get(BASE, headers=bearer(w.consumer)).json()["count"] == 1


def test_terms_that_leave_the_grant_undefined_cannot_be_agreed(client: TestClient, world: World) -> None:
    w = world
    nid = _start(client, w, _offer(client, w, welfare_offer_body()))["id"]
    refused = _do(client, w.provider.token, nid, "agree")
    assert refused.status_code == 409
    assert "bound the period" in refused.json()["detail"]
    assert client.get(f"{BASE}/{nid}", headers=bearer(w.provider.token)).json()["state"] == "REQUESTED"
    ended = _do(client, w.provider.token, nid, "terminate", {"reason": "请注明使用期限"})
    assert ended.json()["state"] == "TERMINATED"
    assert ended.json()["steps"][-1]["message"]["reason"] == ["请注明使用期限"]
    assert _do(client, w.consumer, nid, "verify").status_code == 409


def _bounded_welfare() -> dict[str, Any]:
    body = welfare_offer_body()
    body["permission"][0]["constraint"].append(
        {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P6M"}
    )
    return body


@pytest.mark.parametrize("automatic", [False, True])
def test_free_welfare_offers_are_agreed_automatically_only_when_set(
    app: FastAPI, client: TestClient, world: World, automatic: bool
) -> None:
    w = world
    app.state.settings.catalog.negotiation_auto_agree = automatic
    nid = _start(client, w, _offer(client, w, _bounded_welfare()))["id"]
    shown = client.get(f"{BASE}/{nid}", headers=bearer(w.consumer)).json()
    assert shown["state"] == ("AGREED" if automatic else "REQUESTED")
    if automatic:
        assert shown["steps"][-1]["side"] == "system"
        assert shown["steps"][-1]["actor_id"] is None
        verified = _do(client, w.consumer, nid, "verify").json()
        assert verified["state"] == "FINALIZED"
        assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    # A paid industry offer always waits for the provider.
    paid = _start(client, w, _offer(client, w))
    assert paid["state"] == "REQUESTED"


ROLES = ("anonymous", "consumer", "provider", "other_provider", "operator")


def _token(w: World, role: str) -> str | None:
    return {
        "anonymous": None,
        "consumer": w.consumer,
        "provider": w.provider.token,
        "other_provider": w.other.token,
        "operator": w.operator,
    }[role]


# action -> expected status for each role, in ROLES order.
EXPECTED: dict[str, tuple[int, ...]] = {
    "create": (401, 201, 409, 201, 403),
    "list": (401, 200, 200, 200, 200),
    "read": (401, 200, 200, 404, 200),
    "offer": (401, 409, 200, 404, 403),
    "accept": (401, 409, 403, 404, 403),
    "agree": (401, 403, 200, 404, 403),
    "terminate": (401, 200, 200, 404, 403),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_negotiation_endpoint_for_every_role(client: TestClient, world: World, role: str) -> None:
    w = world
    token = _token(w, role)
    h = bearer(token) if token else {}
    offer_id = _offer(client, w)
    listed_before = {r: client.get(BASE, headers=bearer(t)).json()["count"] for r in ROLES[1:] if (t := _token(w, r))}
    assert listed_before == {"consumer": 0, "provider": 0, "other_provider": 0, "operator": 0}
    checks = {
        "create": lambda: client.post(BASE, json={"offer_id": offer_id}, headers=h),
        "list": lambda: client.get(BASE, headers=h),
        "read": lambda: client.get(f"{BASE}/{_fresh()}", headers=h),
        "offer": lambda: client.post(f"{BASE}/{_fresh()}/offer", json={"terms": _counter_terms()}, headers=h),
        "accept": lambda: client.post(f"{BASE}/{_fresh()}/accept", headers=h),
        "agree": lambda: client.post(f"{BASE}/{_fresh()}/agree", headers=h),
        "terminate": lambda: client.post(f"{BASE}/{_fresh()}/terminate", json={"reason": "不再需要"}, headers=h),
    }

    def _fresh() -> str:
        return str(_start(client, w, offer_id)["id"])

    for name, call in checks.items():
        answer = call()
        assert answer.status_code == EXPECTED[name][ROLES.index(role)], (name, answer.text)
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json"
    # What each caller lists: the consumer its own, the provider its entity's, the staff all, the other provider none.
    total = client.get(BASE, headers=bearer(w.operator)).json()["count"]
    assert client.get(BASE, headers=bearer(w.provider.token)).json()["count"] == total
    assert client.get(BASE, headers=bearer(w.other.token)).json()["count"] == (1 if role == "other_provider" else 0)
    mine = client.get(BASE, headers=bearer(w.consumer)).json()
    assert mine["count"] == total - (1 if role == "other_provider" else 0)
    assert client.get(f"{BASE}?state=REQUESTED", headers=bearer(w.operator)).json()["count"] <= total


def test_an_entity_the_registry_has_not_verified_does_not_negotiate(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    w = world
    offer_id = _offer(client, w)
    _, token = make_account(engine, settings.auth, Role.provider, name="provider-pending")
    entity = client.post("/api/v1/entities", json=entity_body(77), headers=bearer(token))
    assert entity.status_code == 201, entity.text
    refused = client.post(BASE, json={"offer_id": offer_id}, headers=bearer(token))
    assert refused.status_code == 409
    assert "not verified" in refused.json()["detail"]
    assert client.post(f"/api/v1/entities/{entity.json()['id']}/verify", headers=bearer(w.operator)).status_code == 200
    assert client.post(BASE, json={"offer_id": offer_id}, headers=bearer(token)).status_code == 201
