"""`pdr serve` with several worker processes: metrics summed over all of them, searches in every one of them
following the others' writes, a start that survives a busy machine, and a graceful stop on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.settings import Settings
from tests.support.data import bearer, dataset_body
from tests.support.live import has_answered, open_request, read_response, upload_head
from tests.support.pdr_process import pdr_env, serving_pdr, wait_for_line
from tests.support.registry import Provider
from tests.support.waiting import settled

STARTED = "Application startup complete"
# What uvicorn's supervisor logs when it gives up on a worker (and starts another, or stops).
RESTARTS = ("died", "failed to start", "was not ready in time")


def _requests_counted(metrics: str, route: str) -> float:
    """The request counter's total over every status for GET `route`, as /metrics reports it."""
    pattern = rf'^pdr_http_requests_total\{{(?=[^}}]*method="GET")(?=[^}}]*route="{re.escape(route)}")[^}}]*\}} (\S+)$'
    return sum(float(match.group(1)) for match in re.finditer(pattern, metrics, re.M))


def _searches_counted(base_url: str) -> float:
    """The searches that /metrics, from whichever worker answers, says were served."""
    return _requests_counted(httpx.get(base_url + "/metrics").text, "/api/v1/datasets")


def test_metrics_count_the_requests_of_every_worker(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    # The private metrics folder goes where the process's temporary files go: here, to be looked at.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = pdr_env(settings.db.database_url, tmp_path, TMPDIR=str(temporary))
    sent = 24
    with serving_pdr(env, "--workers", "2", cwd=tmp_path) as served:
        wait_for_line(served, STARTED, 2)
        assert len(list(temporary.glob("pdr-metrics-*"))) == 1
        for _ in range(sent):
            # A connection of its own each time, to be accepted by whichever worker is free.
            assert httpx.get(served.url + "/api/v1/datasets").status_code == 200
        # A request is counted once its answer has gone; the last one may be counted a moment after it arrived.
        first = settled(lambda: _searches_counted(served.url), float(sent))
        assert first == sent
        # Whichever worker answers, it reports the requests that both served.
        answers = [httpx.get(served.url + "/metrics").text for _ in range(12)]
        assert all(_requests_counted(text, "/api/v1/datasets") == sent for text in answers)
        assert all(_requests_counted(text, "/metrics") >= 1 for text in answers)
        assert sum("Started server process" in line for line in served.stderr.splitlines()) == 2, served.stderr
    assert served.process.returncode == 0, served.stderr
    assert not list(temporary.glob("pdr-metrics-*")), "the metrics folder outlived the server"


def test_an_operators_metrics_folder_is_emptied_at_the_start(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    # A counter file a previous run left behind: its counts must not add to this run's.
    (folder / "counter_999999.db").write_bytes(b"\0" * 16)
    env = pdr_env(settings.db.database_url, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(folder))
    with serving_pdr(env, "--workers", "2", cwd=tmp_path) as served:
        wait_for_line(served, STARTED, 2)
        assert not (folder / "counter_999999.db").exists()
        assert httpx.get(served.url + "/api/v1/datasets").status_code == 200
        counted = settled(lambda: _searches_counted(served.url), 1.0)
        assert counted == 1
    # The operator's folder stays; the files in it are the workers'.
    assert folder.is_dir() and list(folder.glob("counter_*.db"))


@contextmanager
def _cpu_burners(count: int) -> Iterator[None]:
    """Processes that keep every core busy until the block ends."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_workers_start_on_a_busy_machine_without_being_replaced(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    env = pdr_env(settings.db.database_url, tmp_path)
    with _cpu_burners(4), serving_pdr(env, "--workers", "2", cwd=tmp_path) as served:
        wait_for_line(served, STARTED, 2)
        assert httpx.get(served.url + "/api/v1/datasets").status_code == 200
    lines = served.stderr.splitlines()
    assert not [line for line in lines if any(restart in line for restart in RESTARTS)], served.stderr
    assert sum("Started server process" in line for line in lines) == 2, served.stderr


def _published(base_url: str, token: str, serial: int) -> None:
    """Create and publish one open dataset through the served API."""
    body = dataset_body(title=f"多进程检索一致性数据 {serial}", access="unconditional")
    created = httpx.post(base_url + "/api/v1/datasets", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    uploaded = httpx.post(
        f"{base_url}/api/v1/datasets/{dataset_id}/files",
        params={"name": "rows.csv"},
        content=f"row,{serial}\n".encode(),
        headers=bearer(token),
    )
    assert uploaded.status_code == 201, uploaded.text
    published = httpx.post(f"{base_url}/api/v1/datasets/{dataset_id}/publish", headers=bearer(token))
    assert published.status_code == 200, published.text


def test_every_workers_search_follows_the_other_workers_writes(
    settings: Settings, engine: Engine, tmp_path: Path, provider: Provider
) -> None:
    env = pdr_env(settings.db.database_url, tmp_path)
    with serving_pdr(env, "--workers", "2", cwd=tmp_path) as served:
        wait_for_line(served, STARTED, 2)
        for written in range(1, 5):
            _published(served.url, provider.token, written)
            # Each on a connection of its own, so that both workers answer some of them.
            counts = {
                httpx.get(served.url + "/api/v1/datasets", params=query).json()["count"]
                for query in [{"q": "多进程检索一致性数据"}, {}] * 8
            }
            assert counts == {written}, f"after {written} writes the workers answered {counts}"


def test_sigterm_stops_readiness_then_finishes_the_upload_in_flight_and_exits_cleanly(
    settings: Settings, engine: Engine, tmp_path: Path, client: TestClient, provider: Provider
) -> None:
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    env = pdr_env(settings.db.database_url, tmp_path, PDR_SHUTDOWN_DRAIN_SECONDS="2")
    payload = b"p" * 400_000
    with serving_pdr(env, cwd=tmp_path) as served:
        assert httpx.get(served.url + "/readyz").status_code == 200
        sock = open_request(served.url, upload_head(dataset_id, provider.token, length=len(payload)), payload[:1000])
        with sock:
            served.process.send_signal(signal.SIGTERM)
            # While it drains, the process says it is not ready (a balancer stops sending), yet still answers.
            readiness = settled(lambda: httpx.get(served.url + "/readyz").status_code, 503)
            assert readiness == 503
            draining = httpx.get(served.url + "/readyz")
            assert draining.headers["retry-after"] and draining.json()["checks"] == {"shutdown": "in progress"}
            # Then it stops accepting; the upload it took before goes on.
            assert settled(lambda: _refuses(served.url), True)
            assert served.process.poll() is None and not has_answered(sock)
            sock.sendall(payload[1000:])
            answer = read_response(sock)
        assert answer.status == 201, answer.body
        assert json.loads(answer.body)["size"] == len(payload)
        assert served.process.wait(timeout=60) == 0, served.stderr


def _refuses(base_url: str) -> bool:
    """Whether the server no longer accepts connections."""
    try:
        httpx.get(base_url + "/healthz", timeout=2)
    except httpx.TransportError:
        return True
    return False


def test_sigterm_to_several_workers_shuts_each_down_and_exits_cleanly(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    env = pdr_env(settings.db.database_url, tmp_path)
    with serving_pdr(env, "--workers", "2", cwd=tmp_path) as served:
        wait_for_line(served, STARTED, 2)
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=60) == 0, served.stderr
    assert sum("Application shutdown complete" in line for line in served.stderr.splitlines()) == 2, served.stderr
