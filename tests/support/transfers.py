"""The transfer tests' helpers: a negotiation walked to FINALIZED (with the provider's counter-offer), a transfer
requested under it, and the protocol's schema file of each transfer message."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from fastapi.testclient import TestClient

from tests.support.data import bearer
from tests.support.dataspace import offer_body
from tests.support.exchange import World

NEGOTIATIONS = "/api/v1/negotiations"
TRANSFERS = "/api/v1/transfers"


def counter_terms(count: int = 5) -> dict[str, Any]:
    """The provider's counter-offer: from 2026-11-23 to the end of May 2027, `count` downloads."""
    terms = deepcopy(offer_body())
    for constraint in terms["permission"][0]["constraint"]:
        if constraint["leftOperand"] == "dateTime":
            constraint["rightOperand"] = "2026-11-23" if constraint["operator"] == "gteq" else "2027-05-31"
        if constraint["leftOperand"] == "count":
            constraint["rightOperand"] = count
    return terms


def _step(client: TestClient, token: str, negotiation_id: str, action: str, body: object = None) -> dict[str, Any]:
    done = client.post(f"{NEGOTIATIONS}/{negotiation_id}/{action}", json=body, headers=bearer(token))
    assert done.status_code == 200, done.text
    return dict(done.json())


def finalized_agreement(client: TestClient, w: World, *, count: int = 5, dataset_id: str | None = None) -> str:
    """Walk a negotiation from REQUESTED through the provider's counter-offer to FINALIZED; its agreement's id."""
    offers = f"/api/v1/datasets/{dataset_id or w.conditional}/offers"
    made = client.post(offers, json=offer_body(), headers=bearer(w.provider.token))
    assert made.status_code == 201, made.text
    started = client.post(NEGOTIATIONS, json={"offer_id": made.json()["id"]}, headers=bearer(w.consumer))
    assert started.status_code == 201, started.text
    nid = str(started.json()["id"])
    assert _step(client, w.provider.token, nid, "offer", {"terms": counter_terms(count)})["state"] == "OFFERED"
    assert _step(client, w.consumer, nid, "accept")["state"] == "ACCEPTED"
    assert _step(client, w.provider.token, nid, "agree")["state"] == "AGREED"
    assert _step(client, w.consumer, nid, "verify")["state"] == "VERIFIED"
    assert _step(client, w.provider.token, nid, "finalize")["state"] == "FINALIZED"
    return nid


def started_transfer(client: TestClient, w: World, agreement_id: str) -> dict[str, Any]:
    """The consumer requests a transfer under the agreement: the transfer, STARTED, with its data address."""
    made = client.post(TRANSFERS, json={"agreement_id": agreement_id}, headers=bearer(w.consumer))
    assert made.status_code == 201, made.text
    return dict(made.json())


def token_of(transfer: dict[str, Any]) -> str:
    """The access token in a transfer's data address."""
    properties = {p["name"]: p["value"] for p in transfer["data_address"]["endpointProperties"]}
    return str(properties["authorization"])


def schema_of(message_type: str) -> str:
    """The protocol's schema file of a transfer message type."""
    names = {
        "TransferRequestMessage": "transfer-request-message",
        "TransferStartMessage": "transfer-start-message",
        "TransferSuspensionMessage": "transfer-suspension-message",
        "TransferCompletionMessage": "transfer-completion-message",
        "TransferTerminationMessage": "transfer-termination-message",
        "TransferProcess": "transfer-process",
        "TransferError": "transfer-error",
    }
    return f"transfer/{names[message_type]}-schema.json"
