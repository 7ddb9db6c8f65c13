"""Downloads through the SDK against a real server: resumed after a cut, verified by SHA-256, fetched as parallel
ranges, and refused when the partial copy is corrupt or of a file that changed."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from catalog.client.downloads import connections_for, download
from catalog.client.errors import ChangedOnServer, IntegrityError, TransportError
from catalog.client.sdk import PdrClient
from catalog.exchange.models import DownloadRecord
from storage.db import session_scope
from tests.plugins.client_world import Served
from tests.support.client import open_dataset_with
from tests.support.data import bearer
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import settled

MIB = 1024 * 1024
# Larger than what loopback sockets buffer, so that a cut leaves part of it unsent.
PAYLOAD = random.Random(7).randbytes(24 * MIB)


class CutAfter:
    """A meter that cuts the proxy's connections (and refuses new ones) once `limit` bytes have arrived."""

    def __init__(self, proxy: TcpProxy, limit: int) -> None:
        self.proxy, self.limit, self.count = proxy, limit, 0

    def advance(self, amount: int) -> None:
        """Count, and cut at the limit."""
        self.count += amount
        if self.count >= self.limit and self.proxy.port:
            self.proxy.stop()


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """An empty folder to download into."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


def _records(engine: Engine, file_id: str) -> list[tuple[int | None, int, bool]]:
    with session_scope(engine) as session:
        rows = session.exec(select(DownloadRecord).where(DownloadRecord.file_id == file_id)).all()
        return sorted((r.range_start, r.bytes_sent, r.complete) for r in rows)


def _interrupted(served: Served, pdr: PdrClient, dataset_id: str, target: Path) -> None:
    """A download of the dataset's file that the network cuts after 1 MiB."""
    [file] = pdr.files(dataset_id)
    with pytest.raises(TransportError):
        download(pdr, file, target, meter=CutAfter(served.proxy, MIB))
    served.proxy.start()


def test_an_interrupted_download_resumes_and_verifies(
    served: Served, client: TestClient, engine: Engine, target: Path
) -> None:
    dataset_id, file_id = open_dataset_with(client, served.world.provider.token, PAYLOAD)
    with PdrClient(served.proxied) as pdr:
        _interrupted(served, pdr, dataset_id, target)
        assert not (target / "stations.bin").exists()
        state = json.loads((target / "stations.bin.part.json").read_text())
        have = state["segments"][0]["next"]
        assert MIB <= have < len(PAYLOAD)
        [file] = pdr.files(dataset_id)
        saved = download(pdr, file, target)
    assert saved.read_bytes() == PAYLOAD
    assert sorted(p.name for p in target.iterdir()) == ["stations.bin"]
    records = settled(lambda: len(_records(engine, file_id)), 2)
    assert records == 2
    first, resumed = _records(engine, file_id)
    assert (first[0], first[2]) == (0, False)
    assert resumed == (have, len(PAYLOAD) - have, True)


def test_a_corrupted_partial_file_is_detected_and_removed(served: Served, client: TestClient, target: Path) -> None:
    dataset_id, _ = open_dataset_with(client, served.world.provider.token, PAYLOAD)
    with PdrClient(served.proxied) as pdr:
        _interrupted(served, pdr, dataset_id, target)
        part = target / "stations.bin.part"
        damaged = bytearray(part.read_bytes())
        damaged[1000] ^= 0xFF
        part.write_bytes(bytes(damaged))
        [file] = pdr.files(dataset_id)
        with pytest.raises(IntegrityError, match=file.sha256):
            download(pdr, file, target)
        assert list(target.iterdir()) == []
        assert download(pdr, file, target).read_bytes() == PAYLOAD


def test_a_partial_copy_of_a_file_that_changed_is_refused(served: Served, client: TestClient, target: Path) -> None:
    token = served.world.provider.token
    dataset_id, _ = open_dataset_with(client, token, PAYLOAD)
    with PdrClient(served.proxied) as pdr:
        _interrupted(served, pdr, dataset_id, target)
        # The provider publishes a new version whose file has the same name and other bytes.
        assert client.post(f"/api/v1/datasets/{dataset_id}/versions", headers=bearer(token)).status_code == 201
        upload = client.post(
            f"/api/v1/datasets/{dataset_id}/files",
            content=b"new",
            params={"name": "stations.bin"},
            headers=bearer(token),
        )
        assert upload.status_code == 201, upload.text
        assert client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(token)).status_code == 200
        newest = pdr.files(dataset_id)[0]
        with pytest.raises(ChangedOnServer):
            download(pdr, newest, target)
        assert download(pdr, newest, target, restart=True).read_bytes() == b"new"


def test_large_open_files_come_as_parallel_ranges(
    served: Served, client: TestClient, engine: Engine, target: Path
) -> None:
    payload = PAYLOAD[: 3 * MIB]
    dataset_id, file_id = open_dataset_with(client, served.world.provider.token, payload)
    with PdrClient(served.url) as pdr:
        [file] = pdr.files(dataset_id)
        saved = download(pdr, file, target, connections=3, parallel_from=MIB)
    assert saved.read_bytes() == payload
    expected: list[tuple[int | None, int, bool]] = [(0, MIB, True), (MIB, MIB, True), (2 * MIB, MIB, True)]
    assert settled(lambda: _records(engine, file_id), expected) == expected


def test_files_that_need_a_grant_come_as_one_stream() -> None:
    assert connections_for("unconditional", 4) == 4
    assert connections_for("conditional", 4) == 1
    assert connections_for("unconditional", 0) == 1


def test_short_writes_are_finished(
    served: Served, client: TestClient, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = PAYLOAD[: 2 * MIB + 5]
    dataset_id, _ = open_dataset_with(client, served.world.provider.token, payload)
    real_pwritev = os.pwritev

    def short(fd: int, buffers: list[bytes], offset: int) -> int:
        # The kernel may write less than asked; here every call writes at most its first 1,000 bytes.
        return real_pwritev(fd, [bytes(b"".join(buffers)[:1000])], offset)

    monkeypatch.setattr(os, "pwritev", short)
    with PdrClient(served.url) as pdr:
        [file] = pdr.files(dataset_id)
        assert download(pdr, file, target).read_bytes() == payload
