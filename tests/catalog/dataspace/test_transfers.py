"""Transfers over the native API: the state machine, a pull transfer under a finalized agreement, its access token
and refresh, who may take which step, and the policy monitor ending transfers whose agreement stopped holding."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from catalog.dataspace.monitor import end_lapsed_transfers
from catalog.dataspace.negotiation import Side
from catalog.dataspace.transfer import MOVES, TransferAction, TransferState, advance
from catalog.exchange.models import DownloadRecord
from storage.db import session_scope
from storage.exceptions import Conflict, Forbidden
from tests.support.data import FakeClock, bearer
from tests.support.dataspace import assert_valid
from tests.support.exchange import PAYLOAD, World
from tests.support.transfers import TRANSFERS, finalized_agreement, schema_of, started_transfer, token_of


def _data(transfer: dict[str, object]) -> str:
    """The data endpoint's path (the test client has its own host)."""
    address = transfer["data_address"]
    assert isinstance(address, dict)
    return urlsplit(str(address["endpoint"])).path


def test_the_state_machine_allows_exactly_the_protocols_transitions() -> None:
    s = TransferState
    running = (s.REQUESTED, s.STARTED, s.SUSPENDED)
    allowed = {
        (None, TransferAction.request, Side.consumer): s.REQUESTED,
        (s.REQUESTED, TransferAction.start, Side.provider): s.STARTED,
        (s.SUSPENDED, TransferAction.start, Side.provider): s.STARTED,
        (s.SUSPENDED, TransferAction.start, Side.consumer): s.STARTED,
    }
    for side in Side:
        allowed[(s.STARTED, TransferAction.suspend, side)] = s.SUSPENDED
        allowed[(s.STARTED, TransferAction.complete, side)] = s.COMPLETED
        for state in running:
            allowed[(state, TransferAction.terminate, side)] = s.TERMINATED
    for state in [None, *TransferState]:
        for action in MOVES:
            for side in Side:
                if (state, action, side) in allowed:
                    assert advance(state, action, side) == allowed[(state, action, side)]
                else:
                    with pytest.raises((Conflict, Forbidden)):
                        advance(state, action, side)


def test_a_pull_transfer_delivers_the_files_under_the_agreements_grant(
    client: TestClient, world: World, engine: Engine
) -> None:
    w = world
    nid = finalized_agreement(client, w, count=5)
    transfer = started_transfer(client, w, f"urn:pdr:agreement:{nid}")
    assert transfer["state"] == "STARTED"
    assert transfer["provider_pid"] == f"urn:pdr:transfer:{transfer['id']}"
    assert_valid("transfer/data-address-schema.json", transfer["data_address"])
    token = token_of(transfer)
    assert token.startswith("pdrx_")
    # The steps on record: the consumer's request, pdr's start for the provider; no token in either.
    steps = transfer["steps"]
    assert [(s["side"], s["state"], s["message_type"]) for s in steps] == [
        ("consumer", "REQUESTED", "TransferRequestMessage"),
        ("system", "STARTED", "TransferStartMessage"),
    ]
    for step in steps:
        assert_valid(schema_of(step["message_type"]), step["message"])
        assert token not in str(step["message"])
    assert steps[0]["message"]["agreementId"] == f"urn:pdr:agreement:{nid}"
    files = client.get(_data(transfer), headers=bearer(token))
    assert files.status_code == 200, files.text
    assert [f["id"] for f in files.json()] == [w.conditional_file]
    got = client.get(_data(transfer) + f"/{w.conditional_file}", headers=bearer(token))
    assert got.status_code == 200
    assert got.content == PAYLOAD
    ranged = client.get(_data(transfer) + f"/{w.conditional_file}", headers={**bearer(token), "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == PAYLOAD[:10]
    grant = client.get(f"/api/v1/grants/{transfer['grant_id']}", headers=bearer(w.consumer)).json()
    assert grant["downloads_used"] == 2
    with session_scope(engine) as session:
        records = session.exec(select(DownloadRecord).where(DownloadRecord.transfer_id == transfer["id"])).all()
        assert sorted(r.bytes_sent for r in records) == [10, len(PAYLOAD)]
        assert {r.grant_id for r in records} == {transfer["grant_id"]}


def test_the_access_token_opens_its_own_transfer_only_and_a_refresh_keeps_the_old_one_until_it_expires(
    app: FastAPI, client: TestClient, world: World, clock: FakeClock
) -> None:
    w = world
    transfer = started_transfer(client, w, finalized_agreement(client, w))
    first = token_of(transfer)
    url = _data(transfer)
    for refused in (None, w.consumer, first + "x", "pdrx_" + "A" * 43):
        headers = bearer(refused) if refused else {}
        answer = client.get(url, headers=headers)
        assert answer.status_code == 401, refused
        assert "access token" in answer.json()["detail"]
    # A second transfer's token does not open the first.
    other = started_transfer(client, w, finalized_agreement(client, w))
    assert client.get(url, headers=bearer(token_of(other))).status_code == 401
    # Only the consumer refreshes; the old token still works, as does the new one.
    assert client.post(f"{TRANSFERS}/{transfer['id']}/token", headers=bearer(w.provider.token)).status_code == 403
    assert client.post(f"{TRANSFERS}/{transfer['id']}/token", headers=bearer(w.other.token)).status_code == 404
    refreshed = client.post(f"{TRANSFERS}/{transfer['id']}/token", headers=bearer(w.consumer))
    assert refreshed.status_code == 200, refreshed.text
    second = token_of(refreshed.json())
    assert second != first
    assert client.get(url, headers=bearer(first)).status_code == 200
    assert client.get(url, headers=bearer(second)).status_code == 200
    # Tokens last ten minutes by default.
    clock.now += timedelta(seconds=app.state.settings.catalog.transfer_token_seconds + 1)
    assert client.get(url, headers=bearer(first)).status_code == 401
    assert client.get(url, headers=bearer(second)).status_code == 401
    third = token_of(client.post(f"{TRANSFERS}/{transfer['id']}/token", headers=bearer(w.consumer)).json())
    assert client.get(url, headers=bearer(third)).status_code == 200


def test_who_may_request_read_and_step_transfers(client: TestClient, world: World) -> None:
    w = world
    nid = finalized_agreement(client, w)
    for token, status in ((w.provider.token, 403), (w.other.token, 404), (w.operator, 403)):
        answer = client.post(TRANSFERS, json={"agreement_id": nid}, headers=bearer(token))
        assert answer.status_code == status, answer.text
    assert client.post(TRANSFERS, json={"agreement_id": nid}).status_code == 401
    assert (
        client.post(
            TRANSFERS, json={"agreement_id": nid, "format": "HttpData-PUSH"}, headers=bearer(w.consumer)
        ).status_code
        == 400
    )
    transfer = started_transfer(client, w, nid)
    tid = transfer["id"]
    assert client.get(f"{TRANSFERS}/{tid}", headers=bearer(w.other.token)).status_code == 404
    for token in (w.consumer, w.provider.token, w.operator):
        assert client.get(f"{TRANSFERS}/{tid}", headers=bearer(token)).status_code == 200
        assert client.get(TRANSFERS, headers=bearer(token)).json()["count"] == 1
    assert client.get(TRANSFERS, headers=bearer(w.other.token)).json()["count"] == 0
    assert client.post(f"{TRANSFERS}/{tid}/suspend", headers=bearer(w.operator)).status_code == 403
    assert client.post(f"{TRANSFERS}/{tid}/suspend", headers=bearer(w.other.token)).status_code == 404
    # The provider suspends: the data endpoint sends nothing; the consumer starts it again.
    suspended = client.post(f"{TRANSFERS}/{tid}/suspend", json={"reason": "核查"}, headers=bearer(w.provider.token))
    assert suspended.json()["state"] == "SUSPENDED"
    data = _data(transfer) + f"/{w.conditional_file}"
    stopped = client.get(data, headers=bearer(token_of(transfer)))
    assert stopped.status_code == 403 and "SUSPENDED" in stopped.json()["detail"]
    assert client.post(f"{TRANSFERS}/{tid}/complete", headers=bearer(w.consumer)).status_code == 409
    assert client.post(f"{TRANSFERS}/{tid}/start", headers=bearer(w.consumer)).json()["state"] == "STARTED"
    assert client.get(data, headers=bearer(token_of(transfer))).status_code == 200
    completed = client.post(f"{TRANSFERS}/{tid}/complete", headers=bearer(w.consumer)).json()
    assert completed["state"] == "COMPLETED"
    assert [s["side"] for s in completed["steps"]] == ["consumer", "system", "provider", "consumer", "consumer"]
    assert completed["steps"][2]["reason"] == "核查"
    assert client.get(data, headers=bearer(token_of(transfer))).status_code == 403
    assert client.post(f"{TRANSFERS}/{tid}/terminate", headers=bearer(w.consumer)).status_code == 409


def test_ending_the_agreement_terminates_its_transfers_and_no_new_one_starts(client: TestClient, world: World) -> None:
    w = world
    nid = finalized_agreement(client, w)
    transfer = started_transfer(client, w, nid)
    ended = client.post(f"/api/v1/agreements/{nid}/terminate", json={"reason": "合作结束"}, headers=bearer(w.consumer))
    assert ended.status_code == 200, ended.text
    shown = client.get(f"{TRANSFERS}/{transfer['id']}", headers=bearer(w.consumer)).json()
    assert shown["state"] == "TERMINATED"
    last = shown["steps"][-1]
    assert (last["side"], last["actor_id"]) == ("system", w.consumer_id)
    assert last["reason"] == "the agreement was terminated: 合作结束"
    assert_valid(schema_of(last["message_type"]), last["message"])
    assert client.get(_data(transfer), headers=bearer(token_of(transfer))).status_code == 403
    refused = client.post(TRANSFERS, json={"agreement_id": nid}, headers=bearer(w.consumer))
    assert refused.status_code == 409
    assert "terminated" in refused.json()["detail"]


def test_the_policy_monitor_ends_transfers_whose_agreement_ran_out_or_whose_grant_was_revoked(
    app: FastAPI, client: TestClient, world: World, engine: Engine, clock: FakeClock
) -> None:
    w = world
    revoked = started_transfer(client, w, finalized_agreement(client, w))
    lapsing = started_transfer(client, w, finalized_agreement(client, w))
    grant = revoked["grant_id"]
    assert (
        client.post(
            f"/api/v1/grants/{grant}/revoke", json={"reason": "违规"}, headers=bearer(w.provider.token)
        ).status_code
        == 200
    )
    open_session = app.state.open_session
    with open_session(write=False) as session:
        assert end_lapsed_transfers(session) == 1
    with open_session(write=False) as session:
        assert end_lapsed_transfers(session) == 0  # ended once only
    states = {t["id"]: t["state"] for t in client.get(TRANSFERS, headers=bearer(w.consumer)).json()["items"]}
    assert states == {revoked["id"]: "TERMINATED", lapsing["id"]: "STARTED"}
    # The agreements run to the end of May 2027 (China time): a day later the monitor ends the other one.
    from datetime import date

    clock.set_china(date(2027, 6, 1), 1)
    with open_session(write=False) as session:
        assert end_lapsed_transfers(session) == 1
    shown = client.get(f"{TRANSFERS}/{lapsing['id']}", headers=bearer(w.consumer)).json()
    assert shown["state"] == "TERMINATED"
    assert shown["steps"][-1]["reason"] == "the agreement expired"
    assert shown["steps"][-1]["side"] == "system"


def test_an_agreements_usage_counts_its_downloads_per_transfer_for_its_parties(
    client: TestClient, world: World
) -> None:
    w = world
    nid = finalized_agreement(client, w)
    usage = f"/api/v1/agreements/{nid}/usage"
    empty = client.get(usage, headers=bearer(w.consumer)).json()
    assert (empty["downloads"], empty["bytes_sent"], empty["transfers"], empty["last_at"]) == (0, 0, [], None)
    first = started_transfer(client, w, nid)
    second = started_transfer(client, w, nid)
    file_path = _data(first) + f"/{w.conditional_file}"
    assert client.get(file_path, headers=bearer(token_of(first))).status_code == 200
    ranged = client.get(
        _data(second) + f"/{w.conditional_file}", headers={**bearer(token_of(second)), "Range": "bytes=0-99"}
    )
    assert ranged.status_code == 206
    # A download through the file API under the agreement's grant counts for the agreement, in no transfer.
    direct = f"/api/v1/datasets/{w.conditional}/files/{w.conditional_file}/content"
    assert client.get(direct, headers=bearer(w.consumer)).status_code == 200
    for token in (w.consumer, w.provider.token, w.operator):
        shown = client.get(usage, headers=bearer(token))
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert (body["downloads"], body["complete_downloads"]) == (3, 3)
        assert body["bytes_sent"] == 2 * len(PAYLOAD) + 100
        per_transfer = {t["transfer_id"]: (t["downloads"], t["bytes_sent"], t["state"]) for t in body["transfers"]}
        assert per_transfer == {first["id"]: (1, len(PAYLOAD), "STARTED"), second["id"]: (1, 100, "STARTED")}
    assert client.get(usage, headers=bearer(w.other.token)).status_code == 404
    assert client.get(usage).status_code == 401
