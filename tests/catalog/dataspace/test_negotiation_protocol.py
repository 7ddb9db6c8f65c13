"""The provider side of the Dataspace Protocol's contract negotiation over HTTPS: pdr accepts the specification's
example messages (with pdr's identifiers in them), and every message it answers is valid against the schemas."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from fastapi.testclient import TestClient

from tests.support.callbacks import callback_server, wait_for
from tests.support.data import bearer
from tests.support.dataspace import assert_valid, example, offer_body
from tests.support.exchange import PAYLOAD, World, content_url

ACK = "negotiation/contract-negotiation-schema.json"
ERROR = "negotiation/contract-negotiation-error-schema.json"


def _offer(client: TestClient, w: World) -> str:
    made = client.post(f"/api/v1/datasets/{w.conditional}/offers", json=offer_body(), headers=bearer(w.provider.token))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _initial(w: World, offer_id: str) -> dict[str, Any]:
    """The specification's initiating request, naming pdr's offer and dataset."""
    message = deepcopy(example("negotiation/example/contract-request-message_initial.json"))
    assert_valid("negotiation/contract-request-message-schema.json", message)
    message["offer"] = {
        "@type": "Offer",
        "@id": f"urn:pdr:offer:{offer_id}",
        "target": f"urn:pdr:dataset:{w.conditional}",
    }
    return message


def _for(relative: str, pid: str, consumer_pid: str) -> dict[str, Any]:
    """One of the specification's example messages, addressed to a negotiation of pdr."""
    message = deepcopy(example(relative))
    assert_valid(relative.replace("/example/", "/").replace(".json", "-schema.json"), message)
    message["providerPid"], message["consumerPid"] = pid, consumer_pid
    return message


def _open(client: TestClient, w: World) -> dict[str, Any]:
    answer = client.post("/dsp/negotiations/request", json=_initial(w, _offer(client, w)), headers=bearer(w.consumer))
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert_valid(ACK, answer.json())
    return dict(answer.json())


def _counter_terms() -> dict[str, Any]:
    terms = deepcopy(offer_body())
    for c in terms["permission"][0]["constraint"]:
        if c["leftOperand"] == "dateTime":
            c["rightOperand"] = "2026-11-23" if c["operator"] == "gteq" else "2027-03-31"
    return terms


def test_a_negotiation_over_the_protocol_from_request_to_finalized(client: TestClient, world: World) -> None:
    w = world
    opened = _open(client, w)
    pid, cpid = opened["providerPid"], opened["consumerPid"]
    assert opened["state"] == "REQUESTED"
    assert cpid == "urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833"
    nid = pid.removeprefix("urn:pdr:negotiation:")
    native = f"/api/v1/negotiations/{nid}"
    # The provider counters; the consumer counters back over the protocol; the provider offers again.
    provider = bearer(w.provider.token)
    assert client.post(f"{native}/offer", json={"terms": _counter_terms()}, headers=provider).status_code == 200
    counter = _for("negotiation/example/contract-request-message.json", pid, cpid)
    counter["offer"] = {
        "@type": "Offer",
        "@id": "urn:uuid:consumer-offer-1",
        "target": f"urn:pdr:dataset:{w.conditional}",
    }
    counter["offer"].update({k: v for k, v in offer_body().items() if k != "obligation"})
    counter["offer"]["obligation"] = [{"action": "delete"}]
    for c in counter["offer"]["permission"][0]["constraint"]:
        if c["leftOperand"] == "count":
            c["rightOperand"] = "100"  # the schema's right operands are strings
    assert_valid("negotiation/contract-request-message-schema.json", counter)
    answer = client.post(f"/dsp/negotiations/{pid}/request", json=counter, headers=bearer(w.consumer))
    assert answer.status_code == 200, answer.text
    assert_valid(ACK, answer.json())
    assert answer.json()["state"] == "REQUESTED"
    assert client.post(f"{native}/offer", json={"terms": _counter_terms()}, headers=provider).status_code == 200
    # The consumer accepts with the specification's event message (ACCEPTED).
    accepted = _for("negotiation/example/contract-negotiation-event-message.json", pid, cpid)
    answer = client.post(f"/dsp/negotiations/{pid}/events", json=accepted, headers=bearer(w.consumer))
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "ACCEPTED"
    assert client.post(f"{native}/agree", headers=provider).json()["state"] == "AGREED"
    verification = _for("negotiation/example/contract-agreement-verification-message.json", pid, cpid)
    answer = client.post(
        f"/dsp/negotiations/{pid}/agreement/verification", json=verification, headers=bearer(w.consumer)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "VERIFIED"
    assert client.post(f"{native}/finalize", headers=provider).json()["state"] == "FINALIZED"
    shown = client.get(f"/dsp/negotiations/{pid}", headers=bearer(w.consumer))
    assert shown.status_code == 200
    assert_valid(ACK, shown.json())
    assert shown.json() == {**opened, "state": "FINALIZED"}
    assert client.get(content_url(w), headers=bearer(w.consumer)).content == PAYLOAD
    # Every message pdr recorded as sent or received is valid against its schema; the agreement too.
    steps = client.get(native, headers=bearer(w.consumer)).json()["steps"]
    assert [s["message_type"] for s in steps] == [
        "ContractRequestMessage",
        "ContractOfferMessage",
        "ContractRequestMessage",
        "ContractOfferMessage",
        "ContractNegotiationEventMessage",
        "ContractAgreementMessage",
        "ContractAgreementVerificationMessage",
        "ContractNegotiationEventMessage",
    ]
    schemas = {
        "ContractRequestMessage": "negotiation/contract-request-message-schema.json",
        "ContractOfferMessage": "negotiation/contract-offer-message-schema.json",
        "ContractNegotiationEventMessage": "negotiation/contract-negotiation-event-message-schema.json",
        "ContractAgreementMessage": "negotiation/contract-agreement-message-schema.json",
        "ContractAgreementVerificationMessage": "negotiation/contract-agreement-verification-message-schema.json",
    }
    for step in steps:
        assert_valid(schemas[step["message_type"]], step["message"])
    assert steps[2]["message"]["offer"]["obligation"] == [{"action": "delete"}]


def test_the_consumer_terminates_with_the_specifications_message(client: TestClient, world: World) -> None:
    w = world
    opened = _open(client, w)
    pid, cpid = opened["providerPid"], opened["consumerPid"]
    message = _for("negotiation/example/contract-negotiation-termination-message.json", pid, cpid)
    answer = client.post(f"/dsp/negotiations/{pid}/termination", json=message, headers=bearer(w.consumer))
    assert answer.status_code == 200, answer.text
    assert_valid(ACK, answer.json())
    assert answer.json()["state"] == "TERMINATED"
    nid = pid.removeprefix("urn:pdr:negotiation:")
    last = client.get(f"/api/v1/negotiations/{nid}", headers=bearer(w.provider.token)).json()["steps"][-1]
    assert last["reason"] == "License model does not fit."
    assert_valid("negotiation/contract-negotiation-termination-message-schema.json", last["message"])
    # Terminal: nothing moves it again, and the refusal is a ContractNegotiationError with the binding's 400.
    again = client.post(f"/dsp/negotiations/{pid}/termination", json=message, headers=bearer(w.consumer))
    assert again.status_code == 400
    assert_valid(ERROR, again.json())
    assert again.json()["providerPid"] == pid


def _error(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    if answer.headers["content-type"] == "application/json":
        assert_valid(ERROR, body)
        assert body["code"] == str(status)
    return dict(body)


def test_refusals_are_contract_negotiation_errors(client: TestClient, world: World) -> None:
    w = world
    opened = _open(client, w)
    pid, cpid = opened["providerPid"], opened["consumerPid"]
    event = _for("negotiation/example/contract-negotiation-event-message.json", pid, cpid)
    events = f"/dsp/negotiations/{pid}/events"
    # Accepting while REQUESTED (the latest offer is the consumer's own) is a wrong transition: 400.
    _error(client.post(events, json=event, headers=bearer(w.consumer)), 400)
    # FINALIZED is not the consumer's to send.
    _error(client.post(events, json={**event, "eventType": "FINALIZED"}, headers=bearer(w.consumer)), 400)
    # No token: 401; another provider, or the provider's own members sending the consumer's message: 404.
    assert client.post(events, json=event).status_code == 401
    _error(client.post(events, json=event, headers=bearer(w.other.token)), 404)
    _error(client.post(events, json=event, headers=bearer(w.provider.token)), 404)
    _error(client.get(f"/dsp/negotiations/{pid}", headers=bearer(w.other.token)), 404)
    assert client.get(f"/dsp/negotiations/{pid}", headers=bearer(w.provider.token)).status_code == 200
    assert client.get(f"/dsp/negotiations/{pid}", headers=bearer(w.operator)).status_code == 200
    _error(client.get("/dsp/negotiations/urn:pdr:negotiation:nothing", headers=bearer(w.consumer)), 404)
    # Pids that are not the negotiation's, a message that cannot be read, an offer pdr does not know.
    wrong = {**event, "consumerPid": "urn:uuid:someone-else"}
    assert (
        _error(client.post(events, json=wrong, headers=bearer(w.consumer)), 400)["consumerPid"] == wrong["consumerPid"]
    )
    _error(client.post(events, json={"@type": "ContractNegotiationEventMessage"}, headers=bearer(w.consumer)), 400)
    unknown = _initial(w, "nothing")
    _error(client.post("/dsp/negotiations/request", json=unknown, headers=bearer(w.consumer)), 404)
    no_callback = {k: v for k, v in _initial(w, "x").items() if k != "callbackAddress"}
    _error(client.post("/dsp/negotiations/request", json=no_callback, headers=bearer(w.consumer)), 400)
    bad_terms = _initial(w, opened["providerPid"])
    bad_terms["offer"]["permission"] = [{"action": "use"}]
    _error(client.post("/dsp/negotiations/request", json=bad_terms, headers=bearer(w.consumer)), 404)


def test_the_providers_messages_go_to_the_consumers_callback(client: TestClient, world: World) -> None:
    w = world
    with callback_server() as (address, received):
        initial = _initial(w, _offer(client, w))
        initial["callbackAddress"] = address
        opened = client.post("/dsp/negotiations/request", json=initial, headers=bearer(w.consumer)).json()
        pid, cpid = opened["providerPid"], opened["consumerPid"]
        native = f"/api/v1/negotiations/{pid.removeprefix('urn:pdr:negotiation:')}"
        provider = bearer(w.provider.token)
        assert client.post(f"{native}/offer", json={"terms": _counter_terms()}, headers=provider).status_code == 200
        accepted = _for("negotiation/example/contract-negotiation-event-message.json", pid, cpid)
        assert (
            client.post(f"/dsp/negotiations/{pid}/events", json=accepted, headers=bearer(w.consumer)).status_code == 200
        )
        assert client.post(f"{native}/agree", headers=provider).status_code == 200
        verification = _for("negotiation/example/contract-agreement-verification-message.json", pid, cpid)
        path = f"/dsp/negotiations/{pid}/agreement/verification"
        assert client.post(path, json=verification, headers=bearer(w.consumer)).status_code == 200
        assert client.post(f"{native}/finalize", headers=provider).status_code == 200
        messages = wait_for(received, 3)
    base = "/callback/negotiations/urn%3Auuid%3A32541fe6-c580-409e-85a8-8a9a32fbe833"
    assert [(path, m["@type"]) for path, m in messages] == [
        (f"{base}/offers", "ContractOfferMessage"),
        (f"{base}/agreement", "ContractAgreementMessage"),
        (f"{base}/events", "ContractNegotiationEventMessage"),
    ]
    assert messages[2][1]["eventType"] == "FINALIZED"
    schemas = ["contract-offer-message", "contract-agreement-message", "contract-negotiation-event-message"]
    for (_, message), schema in zip(messages, schemas, strict=True):
        assert_valid(f"negotiation/{schema}-schema.json", message)
        assert (message["providerPid"], message["consumerPid"]) == (pid, cpid)
    # The consumer's own steps are not sent back to it; a provider's termination is.
    with callback_server() as (address, received):
        initial = _initial(w, _offer(client, w))
        initial["callbackAddress"] = address
        opened = client.post("/dsp/negotiations/request", json=initial, headers=bearer(w.consumer)).json()
        native = f"/api/v1/negotiations/{opened['providerPid'].removeprefix('urn:pdr:negotiation:')}"
        ended = client.post(f"{native}/terminate", json={"reason": "数据暂停供应"}, headers=bearer(w.provider.token))
        assert ended.status_code == 200
        [(path, message)] = wait_for(received, 1)
    assert path.endswith("/termination") and message["reason"] == ["数据暂停供应"]
    assert_valid("negotiation/contract-negotiation-termination-message-schema.json", message)
