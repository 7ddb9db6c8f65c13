"""Exchange flows: grants gate conditional downloads (expiry, revocation, quota), byte-exact records, listings."""

from __future__ import annotations

import csv
import io
from datetime import date

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import col, select

from auth.models import Role
from catalog.exchange_models import DownloadRecord
from catalog.settings import Settings
from registry.models import LogEntry
from storage.db import session_scope
from tests.catalog.exchange_fixtures import (
    PAYLOAD,
    World,
    add_operator_entity,
    add_product,
    content_url,
    granted,
    request_body,
    world,
)
from tests.helpers import FakeClock, bearer, make_account

__all__ = ["world"]


def _records(engine: Engine) -> list[DownloadRecord]:
    with session_scope(engine) as session:
        return list(session.exec(select(DownloadRecord).order_by(col(DownloadRecord.id))).all())


def test_conditional_download_needs_a_grant(client: TestClient, world: World) -> None:
    w = world
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 403
    assert client.get(content_url(w)).status_code == 403  # anonymous
    granted(client, w)
    got = client.get(content_url(w), headers=bearer(w.consumer))
    assert got.status_code == 200
    assert got.content == PAYLOAD


def test_download_refused_after_expiry(client: TestClient, world: World, clock: FakeClock) -> None:
    w = world
    granted(client, w, until=date(2026, 11, 30))
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    clock.set_china(date(2026, 11, 30), hour=23)
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    clock.set_china(date(2026, 12, 1), hour=0)
    refused = client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=100-"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_download_refused_after_revocation_even_when_resumed(client: TestClient, world: World) -> None:
    w = world
    grant_id = granted(client, w)["grant_id"]
    first = client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=0-99"})
    assert first.status_code == 206
    revoked = client.post(
        f"/api/v1/grants/{grant_id}/revoke", json={"reason": "超出场景使用"}, headers=bearer(w.provider.token)
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    resumed = client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=100-"})
    assert resumed.status_code == 403
    assert client.get(content_url(w), headers={**bearer(w.consumer), "If-None-Match": "*"}).status_code == 403
    again = client.post(f"/api/v1/grants/{grant_id}/revoke", json={"reason": "x"}, headers=bearer(w.operator))
    assert again.status_code == 409


def test_download_refused_after_quota(client: TestClient, world: World, engine: Engine) -> None:
    w = world
    grant_id = granted(client, w, quota=2)["grant_id"]
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    assert client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=10-19"}).status_code == 206
    assert client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=20-"}).status_code == 403
    grant = client.get(f"/api/v1/grants/{grant_id}", headers=bearer(w.consumer)).json()
    assert (grant["downloads_used"], grant["download_quota"]) == (2, 2)
    assert len(_records(engine)) == 2


def test_records_are_exact_in_bytes(client: TestClient, world: World, engine: Engine) -> None:
    w = world
    grant_id = granted(client, w)["grant_id"]
    whole = client.get(content_url(w), headers=bearer(w.consumer))
    ranged = client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=1000-1999"})
    suffix = client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=-17"})
    assert (whole.status_code, ranged.status_code, suffix.status_code) == (200, 206, 206)
    assert ranged.content == PAYLOAD[1000:2000]
    assert suffix.content == PAYLOAD[-17:]
    anonymous = client.get(content_url(w, w.open_dataset, w.open_file), headers={"Range": "bytes=5-9"})
    assert anonymous.status_code == 206
    records = _records(engine)
    assert [(r.bytes_sent, r.range_start, r.range_end, r.grant_id) for r in records] == [
        (len(PAYLOAD), None, None, grant_id),
        (1000, 1000, 1999, grant_id),
        (17, len(PAYLOAD) - 17, len(PAYLOAD) - 1, grant_id),
        (5, 5, 9, None),
    ]
    assert all(r.complete and r.mode == "file" for r in records)
    assert records[3].account_id is None
    assert records[0].account_id == w.consumer_id
    assert records[0].client_addr == "testclient"


def test_streamed_downloads_count_bytes_really_sent(
    client: TestClient, app: FastAPI, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    # The proxied path of stores with no local file (S3 in proxy mode): the bytes stream through the service.
    monkeypatch.setattr(app.state.object_store, "local_path", lambda sha256: None)
    app.state.settings.objects.download_mode = "proxy"
    granted(client, w)
    with client.stream("GET", content_url(w), headers={**bearer(w.consumer), "Range": "bytes=0-4999"}) as response:
        assert response.status_code == 206
        assert len(response.read()) == 5000
    records = _records(engine)
    assert [(r.mode, r.bytes_sent, r.complete) for r in records] == [("stream", 5000, True)]


def test_accel_mode_records_bytes_authorised(client: TestClient, app: FastAPI, world: World, engine: Engine) -> None:
    w = world
    app.state.settings.objects.download_mode = "accel"
    granted(client, w)
    response = client.get(content_url(w), headers={**bearer(w.consumer), "Range": "bytes=0-99"})
    assert response.status_code == 200
    assert "x-accel-redirect" in response.headers
    assert [(r.mode, r.bytes_sent) for r in _records(engine)] == [("accel", 100)]


def test_download_records_listing_and_csv(client: TestClient, world: World) -> None:
    w = world
    granted(client, w)
    client.get(content_url(w), headers=bearer(w.consumer))
    client.get(content_url(w, w.open_dataset, w.open_file))
    own = client.get("/api/v1/downloads", headers=bearer(w.consumer)).json()
    assert own["count"] == 1
    assert client.get("/api/v1/downloads", headers=bearer(w.provider.token)).json()["count"] == 2
    assert client.get("/api/v1/downloads", headers=bearer(w.other.token)).json()["count"] == 0
    assert client.get("/api/v1/downloads", headers=bearer(w.operator)).json()["count"] == 2
    exported = client.get("/api/v1/downloads.csv", headers=bearer(w.provider.token))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(int(r["bytes_sent"]) for r in rows) == [len(PAYLOAD), len(PAYLOAD)]
    same = client.get("/api/v1/downloads", params={"format": "csv"}, headers=bearer(w.provider.token))
    assert same.text == exported.text


def test_request_rules(client: TestClient, world: World) -> None:
    w = world
    post = "/api/v1/access-requests"
    two = client.post(
        post, json=request_body(dataset_id=w.conditional, scenario=["a", "b"]), headers=bearer(w.consumer)
    )
    assert two.status_code == 422
    backwards = request_body(dataset_id=w.conditional, requested_from="2026-12-31", requested_until="2026-12-01")
    assert client.post(post, json=backwards, headers=bearer(w.consumer)).status_code == 422
    assert (
        client.post(post, json=request_body(dataset_id=w.open_dataset), headers=bearer(w.consumer)).status_code == 409
    )
    assert client.post(post, json=request_body(dataset_id=w.not_open), headers=bearer(w.consumer)).status_code == 404
    draft = client.post(post, json=request_body(product_id=w.draft_product), headers=bearer(w.consumer))
    assert draft.status_code == 404
    product = client.post(post, json=request_body(product_id=w.product), headers=bearer(w.consumer))
    assert product.status_code == 201, product.text
    longer = client.post(
        f"/api/v1/access-requests/{product.json()['id']}/approve",
        json={"until": "2027-06-30"},
        headers=bearer(w.provider.token),
    )
    assert longer.status_code == 422
    rejected = client.post(
        f"/api/v1/access-requests/{product.json()['id']}/reject",
        json={"reason": "场景不符"},
        headers=bearer(w.provider.token),
    )
    assert rejected.json()["state"] == "rejected"


def test_operator_second(client: TestClient, app: FastAPI, world: World, engine: Engine) -> None:
    w = world
    app.state.settings.catalog.access_operator_second = True
    made = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=w.conditional), headers=bearer(w.consumer)
    )
    request_id = made.json()["id"]
    first = client.post(f"/api/v1/access-requests/{request_id}/approve", headers=bearer(w.provider.token))
    assert first.json()["state"] == "provider_approved"
    assert first.json()["grant_id"] is None
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 403
    assert (
        client.post(f"/api/v1/access-requests/{request_id}/approve", headers=bearer(w.provider.token)).status_code
        == 409
    )
    second = client.post(f"/api/v1/access-requests/{request_id}/approve", headers=bearer(w.operator))
    assert second.json()["state"] == "approved"
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    with session_scope(engine) as session:
        kinds = [e.kind for e in session.exec(select(LogEntry).where(col(LogEntry.kind).like("access.%")))]
    assert kinds == ["access.grant"]


def test_grant_is_logged_without_personal_data(client: TestClient, world: World, engine: Engine) -> None:
    w = world
    approved = granted(client, w)
    with session_scope(engine) as session:
        entry = session.exec(select(LogEntry).where(LogEntry.kind == "access.grant")).one()
    data = entry.data.decode()
    assert approved["grant_id"] in data and w.conditional in data
    assert w.consumer_id not in data and "交通规划研究" not in data


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


def test_an_aborted_transfer_records_what_was_sent() -> None:
    from fastapi.responses import StreamingResponse
    from starlette.requests import ClientDisconnect
    from starlette.types import Message

    from catalog.payloads_router import RecordedResponse

    done: list[tuple[int, bool]] = []
    inner = StreamingResponse(iter([b"a" * 100, b"b" * 50, b"c" * 25]))
    response = RecordedResponse(inner, lambda sent, complete: done.append((sent, complete)))
    bodies = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 3:
                raise OSError("the client went away")

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "asgi": {"spec_version": "2.4"}}
    # Starlette reports the broken connection as ClientDisconnect.
    with pytest.raises((OSError, ClientDisconnect)):
        anyio.run(response, scope, receive, send)
    assert done == [(150, False)]
