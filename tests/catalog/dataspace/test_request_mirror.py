"""Access requests become contract negotiations: each dataset request is mirrored as a negotiation that moves as
the request is decided, an approval's agreement is signed like any other (so transfers run under it), and requests
on file before are mirrored by the migration."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.exchange import request_events
from catalog.exchange.schemas import GrantState  # noqa: F401 - the grant states the assertions name
from storage import migrate
from tests.support.data import bearer
from tests.support.dataspace import assert_valid
from tests.support.exchange import PAYLOAD, World, request_body
from tests.support.transfers import TRANSFERS, token_of

NEGOTIATIONS = "/api/v1/negotiations"
REQUESTS = "/api/v1/access-requests"
SCHEMAS = {
    "ContractRequestMessage": "contract-request-message",
    "ContractAgreementMessage": "contract-agreement-message",
    "ContractAgreementVerificationMessage": "contract-agreement-verification-message",
    "ContractNegotiationEventMessage": "contract-negotiation-event-message",
    "ContractNegotiationTerminationMessage": "contract-negotiation-termination-message",
}


def _file(client: TestClient, w: World, **body: Any) -> str:
    made = client.post(REQUESTS, json=request_body(**body), headers=bearer(w.consumer))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _mirror(client: TestClient, token: str, request_id: str) -> dict[str, Any]:
    listed = client.get(NEGOTIATIONS, headers=bearer(token)).json()["items"]
    [found] = [n for n in listed if n["offer_id"] == request_id]
    shown = client.get(f"{NEGOTIATIONS}/{found['id']}", headers=bearer(token)).json()
    for step in shown["steps"]:
        assert_valid(f"negotiation/{SCHEMAS[step['message_type']]}-schema.json", step["message"])
    return dict(shown)


def _terms(negotiation: dict[str, Any]) -> dict[str, Any]:
    return {
        (c["leftOperand"], c["operator"]): c["rightOperand"]
        for c in negotiation["offer"]["permission"][0]["constraint"]
    }


def test_an_approved_request_is_a_finalized_negotiation_with_a_signed_agreement(
    client: TestClient, world: World
) -> None:
    w = world
    request_id = _file(client, w, dataset_id=w.conditional)
    filed = _mirror(client, w.provider.token, request_id)
    assert filed["state"] == "REQUESTED"
    assert filed["offer"]["@id"] == f"urn:pdr:access-request:{request_id}"
    terms = _terms(filed)
    assert terms[("purpose", "eq")] == "交通规划研究" and terms[("useCategory", "eq")] == "public_welfare"
    assert (terms[("dateTime", "gteq")], terms[("dateTime", "lteq")]) == ("2026-11-23", "2026-12-31")
    # Its steps come from the request alone.
    refused = client.post(f"{NEGOTIATIONS}/{filed['id']}/agree", headers=bearer(w.provider.token))
    assert refused.status_code == 409 and request_id in refused.json()["detail"]
    decision = {"reason": "同意", "download_quota": 3, "until": "2026-12-20"}
    approved = client.post(f"{REQUESTS}/{request_id}/approve", json=decision, headers=bearer(w.provider.token))
    assert approved.status_code == 200, approved.text
    done = _mirror(client, w.consumer, request_id)
    assert done["state"] == "FINALIZED"
    assert done["grant_id"] == approved.json()["grant_id"]
    assert [(s["side"], s["state"]) for s in done["steps"]] == [
        ("consumer", "REQUESTED"),
        ("provider", "AGREED"),
        ("system", "VERIFIED"),
        ("system", "FINALIZED"),
    ]
    assert done["steps"][1]["actor_id"] == w.provider.account_id
    assert _terms(done)[("count", "lteq")] == "3" and _terms(done)[("dateTime", "lteq")] == "2026-12-20"
    bundle = client.get(f"/api/v1/agreements/{done['id']}", headers=bearer(w.consumer)).json()
    assert bundle["status"] == "valid"
    assert bundle["credential"]["validUntil"] == "2026-12-20T15:59:59Z"
    # A transfer runs under the request's agreement, on the request's grant.
    transfer = client.post(TRANSFERS, json={"agreement_id": done["id"]}, headers=bearer(w.consumer))
    assert transfer.status_code == 201, transfer.text
    data = transfer.json()["data_address"]["endpoint"].removeprefix("http://127.0.0.1:8000")
    got = client.get(f"{data}/{w.conditional_file}", headers=bearer(token_of(transfer.json())))
    assert got.content == PAYLOAD
    grant = client.get(f"/api/v1/grants/{done['grant_id']}", headers=bearer(w.consumer)).json()
    assert grant["downloads_used"] == 1


def test_a_refused_request_is_a_terminated_negotiation(client: TestClient, world: World) -> None:
    w = world
    request_id = _file(client, w, dataset_id=w.conditional)
    rejected = client.post(
        f"{REQUESTS}/{request_id}/reject", json={"reason": "场景不符"}, headers=bearer(w.provider.token)
    )
    assert rejected.status_code == 200
    ended = _mirror(client, w.consumer, request_id)
    assert ended["state"] == "TERMINATED"
    assert ended["steps"][-1]["side"] == "provider" and ended["steps"][-1]["message"]["reason"] == ["场景不符"]


def test_an_approval_awaiting_its_second_stays_requested(app: FastAPI, client: TestClient, world: World) -> None:
    w = world
    app.state.settings.catalog.access_operator_second = True
    request_id = _file(client, w, dataset_id=w.conditional)
    assert client.post(f"{REQUESTS}/{request_id}/approve", headers=bearer(w.provider.token)).status_code == 200
    assert _mirror(client, w.consumer, request_id)["state"] == "REQUESTED"
    assert client.post(f"{REQUESTS}/{request_id}/approve", headers=bearer(w.operator)).status_code == 200
    seconded = _mirror(client, w.consumer, request_id)
    assert seconded["state"] == "FINALIZED"
    assert seconded["steps"][1]["actor_id"] == w.provider.account_id  # the provider agreed; the operator seconded


def test_the_migration_mirrors_requests_on_file_and_ties_mirrored_ones_again(
    client: TestClient, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    mirrored = _file(client, w, dataset_id=w.conditional)
    with monkeypatch.context() as patched:
        patched.setattr(request_events, "_listeners", {})  # as before requests were mirrored
        pending = _file(client, w, dataset_id=w.conditional)
        approved = _file(client, w, dataset_id=w.conditional)
        decision = {"reason": "同意", "download_quota": 2}
        assert (
            client.post(f"{REQUESTS}/{approved}/approve", json=decision, headers=bearer(w.provider.token)).status_code
            == 200
        )
        refused = _file(client, w, dataset_id=w.conditional)
        assert (
            client.post(
                f"{REQUESTS}/{refused}/reject", json={"reason": "不符"}, headers=bearer(w.provider.token)
            ).status_code
            == 200
        )
    assert client.get(NEGOTIATIONS, headers=bearer(w.consumer)).json()["count"] == 1
    migrate.downgrade(engine, "0017_data_services")
    migrate.upgrade(engine)
    listed = client.get(NEGOTIATIONS, headers=bearer(w.consumer)).json()["items"]
    states = {n["offer_id"]: n["state"] for n in listed}
    assert states == {mirrored: "REQUESTED", pending: "REQUESTED", approved: "FINALIZED", refused: "TERMINATED"}
    migrated = _mirror(client, w.consumer, approved)
    assert migrated["agreement"] is None and migrated["grant_id"] is not None
    assert _terms(migrated)[("count", "lteq")] == "2"
    assert "no signed agreement" in migrated["steps"][-1]["reason"]
    assert _mirror(client, w.consumer, refused)["steps"][-1]["reason"] == "不符"
    # The request mirrored before the downgrade still moves with its request.
    assert client.post(f"{REQUESTS}/{mirrored}/approve", headers=bearer(w.provider.token)).status_code == 200
    assert _mirror(client, w.consumer, mirrored)["state"] == "FINALIZED"


def test_a_product_request_is_a_negotiation_about_the_product(client: TestClient, world: World) -> None:
    w = world
    request_id = _file(client, w, product_id=w.product)
    filed = _mirror(client, w.consumer, request_id)
    assert filed["state"] == "REQUESTED"
    assert filed["dataset_id"] is None and filed["product_id"] == w.product
    assert filed["offer"]["target"] == f"urn:pdr:product:{w.product}"
    approved = client.post(
        f"{REQUESTS}/{request_id}/approve", json={"reason": "同意"}, headers=bearer(w.provider.token)
    )
    assert approved.status_code == 200, approved.text
    done = _mirror(client, w.consumer, request_id)
    assert done["state"] == "FINALIZED" and done["agreement"]["target"] == f"urn:pdr:product:{w.product}"
    bundle = client.get(f"/api/v1/agreements/{done['id']}", headers=bearer(w.consumer)).json()
    assert bundle["credential"]["credentialSubject"]["target"] == f"urn:pdr:product:{w.product}"
    # A product is delivered as its listing says, not pulled as a transfer.
    refused = client.post(TRANSFERS, json={"agreement_id": done["id"]}, headers=bearer(w.consumer))
    assert refused.status_code == 409 and "product" in refused.json()["detail"]
    # The consoles name the product.
    names = [n["offer_id"] for n in client.get(NEGOTIATIONS, headers=bearer(w.provider.token)).json()["items"]]
    assert request_id in names
