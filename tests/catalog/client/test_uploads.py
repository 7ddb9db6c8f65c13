"""Uploads through the SDK against a real server: the digest is sent first, and an upload whose connection breaks
is retried without leaving anything half-written on the server."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from catalog.client.errors import Conflict
from catalog.client.sdk import PdrClient
from catalog.client.uploads import sha256_of, upload
from catalog.datasets.models import DatasetFile
from storage.db import session_scope
from tests.plugins.client_world import Served
from tests.support.data import bearer, dataset_body
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import settled

MIB = 1024 * 1024


class DropOnce:
    """A meter that cuts the proxy's connections once, after `limit` bytes went out, and lets the next ones in."""

    def __init__(self, proxy: TcpProxy, limit: int) -> None:
        self.proxy, self.limit, self.count, self.dropped = proxy, limit, 0, False

    def advance(self, amount: int) -> None:
        """Count, and cut once at the limit."""
        self.count += amount
        if self.count >= self.limit and not self.dropped:
            self.dropped = True
            self.proxy.stop()
            self.proxy.start()


def _draft(client: TestClient, token: str) -> str:
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(token))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _rows(engine: Engine, dataset_id: str) -> list[str]:
    with session_scope(engine) as session:
        return [f.sha256 for f in session.exec(select(DatasetFile).where(DatasetFile.dataset_id == dataset_id))]


def test_an_upload_cut_off_is_retried_and_leaves_nothing_behind(
    served: Served, client: TestClient, app: FastAPI, engine: Engine, tmp_path: Path
) -> None:
    dataset_id = _draft(client, served.world.provider.token)
    source = tmp_path / "客流.csv"
    source.write_bytes(random.Random(3).randbytes(24 * MIB))
    meter = DropOnce(served.proxy, 2 * MIB)
    with PdrClient(served.proxied, served.world.provider.token) as pdr:
        stored = upload(pdr, dataset_id, source, meter=meter)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert meter.dropped
    assert meter.count == source.stat().st_size  # the aborted attempt was taken back off the count
    assert (stored.name, stored.sha256, stored.size) == ("客流.csv", digest, 24 * MIB)
    assert _rows(engine, dataset_id) == [digest]
    # The server notices the cut a moment after the client does.
    store = app.state.object_store
    assert settled(lambda: list(store.iter_temporary()), []) == []


def test_the_digest_is_sent_so_the_service_checks_what_arrived(tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")
    assert sha256_of(source) == hashlib.sha256(b"abc").hexdigest()


def test_a_refusal_is_not_retried(served: Served, client: TestClient, engine: Engine, tmp_path: Path) -> None:
    token = served.world.provider.token
    dataset_id = _draft(client, token)
    assert client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(token)).status_code == 200
    source = tmp_path / "late.csv"
    source.write_bytes(b"a,b\n1,2\n")
    with PdrClient(served.url, token) as pdr, pytest.raises(Conflict) as refused:
        upload(pdr, dataset_id, source)
    assert refused.value.status == 409
    assert "published" in refused.value.detail
    assert _rows(engine, dataset_id) == []
