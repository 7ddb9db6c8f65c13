"""The policy monitor at work on a real server: terminating an agreement while its transfer's large download streams
cuts the download within seconds, records it incomplete, and leaves the transfer TERMINATED."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from catalog.exchange.models import DownloadRecord
from storage.db import session_scope
from tests.support.data import bearer
from tests.support.exchange import World, dataset_with_file
from tests.support.live import serving
from tests.support.transfers import TRANSFERS, finalized_agreement, started_transfer, token_of

SIZE = 64 * 1024 * 1024
PIECE = 256 * 1024
# The consumer reads at about 16 MiB/s: the whole file would take four seconds, so a cut is seen while it reads.
PAUSE = 0.015
CUT_WITHIN = 5.0


def test_terminating_the_agreement_cuts_a_download_in_progress_within_seconds(
    app: FastAPI, client: TestClient, world: World, engine: Engine
) -> None:
    w = world
    payload = bytes(range(256)) * (SIZE // 256)
    dataset_id, file_id = dataset_with_file(client, w.provider, "conditional", payload)
    nid = finalized_agreement(client, w, dataset_id=dataset_id)
    transfer = started_transfer(client, w, nid)
    path = urlsplit(transfer["data_address"]["endpoint"]).path + f"/{file_id}"
    received = 0
    with (
        serving(app) as base,
        httpx.Client(base_url=base, timeout=30) as http,
        http.stream("GET", path, headers=bearer(token_of(transfer))) as answer,
    ):
        assert answer.status_code == 200
        assert int(answer.headers["content-length"]) == SIZE
        pieces = answer.iter_raw(PIECE)
        received += len(next(pieces))
        ended = http.post(f"/api/v1/agreements/{nid}/terminate", json={"reason": "违约"}, headers=bearer(w.consumer))
        assert ended.status_code == 200, ended.text
        terminated_at = time.monotonic()
        try:
            for piece in pieces:
                received += len(piece)
                time.sleep(PAUSE)
        except httpx.HTTPError:  # the server closed the connection before the body's end
            pass
        cut_after = time.monotonic() - terminated_at
    assert received < SIZE, "the download ran to its end: it was not cut"
    assert cut_after < CUT_WITHIN, f"the download was cut {cut_after:.1f} s after the termination"
    shown = client.get(f"{TRANSFERS}/{transfer['id']}", headers=bearer(w.consumer)).json()
    assert shown["state"] == "TERMINATED"
    with session_scope(engine) as session:
        [record] = session.exec(select(DownloadRecord).where(DownloadRecord.transfer_id == transfer["id"])).all()
        assert not record.complete
        assert 0 < record.bytes_sent < SIZE
