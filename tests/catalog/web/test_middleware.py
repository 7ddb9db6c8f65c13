"""The request middleware: security headers on every answer, a full Allow list on 405, and a client that hangs up
counted and logged as such (499), never as a server error."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from auth.models import AuditEvent, AuditTally
from auth.roles import Role
from catalog.settings import Settings
from storage.db import session_scope
from tests.support.data import bearer, dataset_body, make_account
from tests.support.live import serving
from tests.support.logs import captured_log
from tests.support.registry import Provider

# ---------------------------------------------------------------- headers


def test_every_answer_says_nosniff_and_its_referrer_policy(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/no/such/thing"), client.get("/metrics")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_html_pages_may_not_be_framed(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "x-frame-options" not in client.get("/healthz").headers


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.put("/api/v1/datasets/some-id")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH"} <= allowed
    assert "PUT" not in allowed
    assert "PATCH" in response.json()["detail"]


# ---------------------------------------------------------------- clients that hang up


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[tuple[str, int]]:
    """The app served by uvicorn on a local port, logging through the root logger like `pdr serve`."""
    with serving(app, root_logging=True) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _hang_up(address: tuple[str, int], head: str, sent: bytes) -> None:
    """Send a request head and part of its body, then close the connection."""
    with socket.create_connection(address) as sock:
        sock.sendall(head.encode() + sent)
        time.sleep(0.05)


def _count(metrics: str, status: str) -> float:
    return sum(
        float(m.group(1))
        for m in re.finditer(rf'^pdr_http_requests_total\{{.*status="{status}".*\}} (\S+)$', metrics, re.M)
    )


def _metrics_once(address: tuple[str, int], status: str, expected: float) -> str:
    deadline = time.monotonic() + 15
    while True:
        text = httpx.get(f"http://{address[0]}:{address[1]}/metrics").text
        if _count(text, status) >= expected or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def test_a_client_that_hangs_up_is_a_499_not_a_500(
    live_server: tuple[str, int], client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(provider.token))
    dataset_id = created.json()["id"]
    with session_scope(engine) as session:
        audit_rows = session.exec(select(func.count()).select_from(AuditEvent)).one()
    aborts = 0
    with captured_log() as log:
        for _ in range(3):
            # A JSON body cut short, signed in and anonymous.
            _hang_up(
                live_server,
                "POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n",
                b'{"name": "cut',
            )
            _hang_up(
                live_server,
                "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 1000\r\n\r\n",
                b'{"name": "cut',
            )
            # A streamed upload cut short.
            _hang_up(
                live_server,
                f"POST /api/v1/datasets/{dataset_id}/files?name=cut.bin HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {provider.token}\r\nContent-Length: 10000000\r\n\r\n",
                b"a" * 300_000,
            )
            aborts += 3
        metrics = _metrics_once(live_server, "499", aborts)
    assert _count(metrics, "499") == aborts, metrics
    assert _count(metrics, "500") == 0 and _count(metrics, "400") == 0, metrics
    records = log.records()
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")], records
    closed = [r for r in records if r["logger"] == "pdr.access" and r.get("status") == 499]
    assert len(closed) == aborts
    assert all("client closed" in r["message"] and r["request_id"] for r in closed)
    # A hang-up is no refusal: nothing for the audit trail.
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == audit_rows
        assert session.exec(select(func.count()).select_from(AuditTally)).one() == 0
