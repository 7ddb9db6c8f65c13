"""The provider side of the Dataspace Protocol's transfer process over HTTPS: pdr accepts the specification's example
messages (with pdr's identifiers in them), answers with messages valid against the schemas, and sends the start
message with the data address to the consumer's callback."""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.support.callbacks import Received, callback_server, wait_for
from tests.support.data import bearer
from tests.support.dataspace import assert_valid, example
from tests.support.exchange import PAYLOAD, World
from tests.support.transfers import finalized_agreement, schema_of

ACK = "transfer/transfer-process-schema.json"
ERROR = "transfer/transfer-error-schema.json"


@pytest.fixture
def callback() -> Iterator[tuple[str, Received]]:
    """A callback address on a local port, and the messages it receives."""
    with callback_server() as served:
        yield served


def _request(agreement: str, callback_address: str) -> dict[str, Any]:
    """The specification's transfer request, pulled under pdr's agreement."""
    message = deepcopy(example("transfer/example/transfer-request-message.json"))
    assert_valid("transfer/transfer-request-message-schema.json", message)
    del message["dataAddress"]  # a push transfer's; pdr's are pulled
    message.update(
        agreementId=f"urn:pdr:agreement:{agreement}", format="HttpData-PULL", callbackAddress=callback_address
    )
    return message


def _for(name: str, pid: str, consumer_pid: str) -> dict[str, Any]:
    """One of the specification's example messages, addressed to a transfer of pdr."""
    message = deepcopy(example(f"transfer/example/{name}.json"))
    assert_valid(f"transfer/{name}-schema.json", message)
    message["providerPid"], message["consumerPid"] = pid, consumer_pid
    return message


def test_a_transfer_over_the_protocol_from_request_to_completion(
    client: TestClient, world: World, callback: tuple[str, Received]
) -> None:
    w = world
    address, received = callback
    nid = finalized_agreement(client, w)
    answer = client.post("/dsp/transfers/request", json=_request(nid, address), headers=bearer(w.consumer))
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert_valid(ACK, answer.json())
    pid, cpid = answer.json()["providerPid"], answer.json()["consumerPid"]
    assert answer.json()["state"] == "STARTED"
    assert cpid == "urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833"
    # The start message went to <callback>/transfers/:consumerPid/start, with the data address and its token.
    [(path, start)] = wait_for(received, 1)
    assert path == "/callback/transfers/urn%3Auuid%3A32541fe6-c580-409e-85a8-8a9a32fbe833/start"
    assert_valid(schema_of("TransferStartMessage"), start)
    assert (start["providerPid"], start["consumerPid"]) == (pid, cpid)
    properties = {p["name"]: p["value"] for p in start["dataAddress"]["endpointProperties"]}
    data = urlsplit(start["dataAddress"]["endpoint"]).path
    files = client.get(data, headers=bearer(properties["authorization"])).json()
    got = client.get(urlsplit(files[0]["url"]).path, headers=bearer(properties["authorization"]))
    assert got.content == PAYLOAD
    # The same request again is the same transfer, and sends nothing new.
    again = client.post("/dsp/transfers/request", json=_request(nid, address), headers=bearer(w.consumer))
    assert again.status_code == 201 and again.json()["providerPid"] == pid
    assert len(received) == 1
    shown = client.get(f"/dsp/transfers/{pid}", headers=bearer(w.provider.token))
    assert shown.status_code == 200 and shown.json()["state"] == "STARTED"
    assert_valid(ACK, shown.json())
    # Suspension, a restart, completion: the specification's messages, each acknowledged.
    for name, state in (
        ("transfer-suspension-message", "SUSPENDED"),
        ("transfer-start-message", "STARTED"),
        ("transfer-completion-message", "COMPLETED"),
    ):
        moved = client.post(
            f"/dsp/transfers/{pid}/{name.split('-')[1]}", json=_for(name, pid, cpid), headers=bearer(w.consumer)
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == state
        assert_valid(ACK, moved.json())
    # A completed transfer cannot be terminated: a TransferError, 400 as the binding says.
    refused = client.post(
        f"/dsp/transfers/{pid}/termination",
        json=_for("transfer-termination-message", pid, cpid),
        headers=bearer(w.consumer),
    )
    assert refused.status_code == 400
    assert_valid(ERROR, refused.json())
    assert (refused.json()["providerPid"], refused.json()["consumerPid"]) == (pid, cpid)
    steps = client.get(f"/api/v1/transfers/{pid.removeprefix('urn:pdr:transfer:')}", headers=bearer(w.consumer))
    for step in steps.json()["steps"]:
        assert_valid(schema_of(step["message_type"]), step["message"])
    assert steps.json()["steps"][2]["reason"] == "Policy violation"


def test_the_protocol_refuses_strangers_wrong_pids_and_push_transfers(
    client: TestClient, world: World, callback: tuple[str, Received]
) -> None:
    w = world
    address, received = callback
    nid = finalized_agreement(client, w)
    push = _request(nid, address)
    push["dataAddress"] = example("transfer/example/transfer-request-message.json")["dataAddress"]
    for body, token, status in (
        (push, w.consumer, 400),
        ({**_request(nid, address), "callbackAddress": "ftp://x"}, w.consumer, 400),
        ({**_request(nid, address), "format": "HttpData-PUSH"}, w.consumer, 400),
        (_request(nid, address), w.other.token, 404),
        (_request(nid, address), w.provider.token, 404),
        ({"@type": "TransferRequestMessage"}, w.consumer, 400),
    ):
        answer = client.post("/dsp/transfers/request", json=body, headers=bearer(token))
        assert answer.status_code == status, answer.text
        assert_valid(ERROR, answer.json())
    assert received == []
    opened = client.post("/dsp/transfers/request", json=_request(nid, address), headers=bearer(w.consumer)).json()
    pid, cpid = opened["providerPid"], opened["consumerPid"]
    assert client.get(f"/dsp/transfers/{pid}", headers=bearer(w.other.token)).status_code == 404
    wrong = _for("transfer-suspension-message", pid, "urn:uuid:someone-else")
    answer = client.post(f"/dsp/transfers/{pid}/suspension", json=wrong, headers=bearer(w.consumer))
    assert answer.status_code == 400
    assert "consumerPid" in answer.json()["reason"][0]
    stranger = client.post(
        f"/dsp/transfers/{pid}/termination",
        json=_for("transfer-termination-message", pid, cpid),
        headers=bearer(w.other.token),
    )
    assert stranger.status_code == 404
    assert_valid(ERROR, stranger.json())
    assert client.get(f"/dsp/transfers/{pid}", headers=bearer(w.consumer)).json()["state"] == "STARTED"
