"""Exchange flows: grants gate conditional downloads (expiry, revocation, quota), byte-exact records, listings."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import col, select

from catalog.exchange.models import DownloadRecord
from storage.db import session_scope
from tests.support.data import FakeClock, bearer
from tests.support.exchange import (
    PAYLOAD,
    World,
    content_url,
    granted,
)


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
