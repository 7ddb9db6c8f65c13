"""The SDK as a script uses it: searching across pages, reading datasets and files, and refusals as exceptions that
carry the service's problem document."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog.client import ApiError, PdrClient
from catalog.client import downloads as client_downloads
from catalog.client.errors import DiskFull, NotFound, NotSignedIn, Refused
from tests.plugins.client_world import Served
from tests.support.client import open_dataset_with
from tests.support.exchange import PAYLOAD


def test_iter_search_walks_every_page(served: Served, client: TestClient) -> None:
    token = served.world.provider.token
    made = {open_dataset_with(client, token, f"{n}".encode(), name=f"{n}.csv")[0] for n in range(5)}
    with PdrClient(served.url) as pdr:
        first = pdr.search("充电桩", limit=2, facets=["access"])
        every = {d.id for d in pdr.iter_search("充电桩", limit=2)}
    assert first.count >= 5 and len(first.items) == 2 and first.next_cursor
    assert {v.value for v in first.facets["access"]} >= {"unconditional"}
    assert made <= every and len(every) == first.count


def test_datasets_and_files_come_as_the_api_models(served: Served) -> None:
    w = served.world
    with PdrClient(served.url) as pdr:
        dataset = pdr.dataset(w.open_dataset)
        [file] = pdr.files(w.open_dataset)
    assert (dataset.id, dataset.access) == (w.open_dataset, "unconditional")
    assert (file.id, file.size, file.name) == (w.open_file, len(PAYLOAD), "data.bin")


def test_refusals_carry_the_problem_document(served: Served) -> None:
    w = served.world
    with PdrClient(served.url) as anonymous, pytest.raises(NotFound) as missing:
        anonymous.dataset("no-such-dataset")
    assert missing.value.problem["status"] == 404 and missing.value.exit_code == 4
    with PdrClient(served.url, "pdr_not-a-token") as stranger, pytest.raises(NotSignedIn):
        stranger.me()
    with PdrClient(served.url, w.consumer) as consumer, pytest.raises(Refused) as refused:
        consumer.request("GET", consumer.content_path(w.conditional, w.conditional_file))
    assert "grant" in refused.value.detail
    with PdrClient(served.url, w.consumer) as consumer, pytest.raises(ApiError) as invalid:
        consumer.request("POST", "/api/v1/access-requests", json={"purpose": ""})
    assert invalid.value.status == 422 and invalid.value.field_errors


def test_a_full_disk_keeps_the_partial_file_for_a_resume(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = served.world

    def no_space(fd: int, data: object, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", no_space)
    monkeypatch.setattr(os, "pwritev", no_space)
    with PdrClient(served.url) as pdr:
        [file] = pdr.files(w.open_dataset)
        with pytest.raises(DiskFull) as full:
            client_downloads.download(pdr, file, tmp_path)
    assert full.value.exit_code == 8
    assert (tmp_path / "data.bin.part").exists() and (tmp_path / "data.bin.part.json").exists()
