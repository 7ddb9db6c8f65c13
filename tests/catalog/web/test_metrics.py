"""The metrics folder worker processes share: private to a run and removed after it, or the operator's, emptied of
what an earlier run left (the counting across real workers is in tests/catalog/test_serve.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog.web.metrics import MULTIPROC_DIR_VARIABLE, Metrics, multiprocess_dir, shared_metrics_dir


def test_a_run_gets_a_private_folder_that_goes_with_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(MULTIPROC_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with shared_metrics_dir() as folder:
        assert folder.is_dir() and folder.parent == tmp_path
        # Workers started now inherit it.
        assert os.environ[MULTIPROC_DIR_VARIABLE] == str(folder) and multiprocess_dir() == folder
    assert not folder.exists()
    assert MULTIPROC_DIR_VARIABLE not in os.environ


def test_an_operators_folder_is_emptied_of_old_counts_and_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"\0" * 8)
    (folder / "README").write_text("not a metrics file")
    monkeypatch.setenv(MULTIPROC_DIR_VARIABLE, str(folder))
    with shared_metrics_dir() as used:
        assert used == folder and not (folder / "counter_4242.db").exists()
    assert folder.is_dir() and (folder / "README").exists()
    assert os.environ[MULTIPROC_DIR_VARIABLE] == str(folder)


def test_one_process_reports_its_own_requests(client: TestClient) -> None:
    assert Metrics().shared_dir is None
    for _ in range(3):
        client.get("/healthz")
    text = client.get("/metrics").text
    assert 'pdr_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in text
