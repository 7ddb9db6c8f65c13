"""Data services: an API product listed with its service URL is called through pdr, which forwards each call to the
provider (never the caller's credentials), meters it against the caller's grant once the provider answers, keeps
paths below the service URL, says 502 or 504 when the provider fails, and keeps every call on record."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from deploy.local_nginx import free_port
from tests.support.data import bearer
from tests.support.exchange import World, request_body


class _Service(BaseHTTPRequestHandler):
    """A provider's data service: echoes what reached it; /slow answers late."""

    def _answer(self) -> None:
        if self.path.startswith("/v1/slow"):
            time.sleep(2)
        length = int(self.headers.get("Content-Length") or 0)
        echo = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": self.rfile.read(length).decode() if length else "",
        }
        body = json.dumps(echo).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "provider-session=1")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # pdr gave up waiting (the timeout test)
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def service() -> Iterator[str]:
    """The provider's service's base URL on a local port."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/"
    finally:
        server.shutdown()
        server.server_close()


def _listing(client: TestClient, w: World, service_url: str | None, **changes: Any) -> Any:
    body = {
        "product_id": w.product,
        "delivery_mode": "api",
        "pricing_unit": "次",
        "price": "2",
        "use_category": "industry",
        "service_url": service_url,
        **changes,
    }
    return client.post("/api/v1/listings", json=body, headers=bearer(w.provider.token))


def _grant(client: TestClient, w: World, quota: int) -> str:
    body = request_body(product_id=w.product, use_category="industry")
    made = client.post("/api/v1/access-requests", json=body, headers=bearer(w.consumer))
    assert made.status_code == 201, made.text
    decision = {"reason": "同意", "download_quota": quota}
    approved = client.post(
        f"/api/v1/access-requests/{made.json()['id']}/approve", json=decision, headers=bearer(w.provider.token)
    )
    assert approved.status_code == 200, approved.text
    return str(approved.json()["grant_id"])


def test_calls_are_forwarded_without_the_callers_credentials_and_metered(
    client: TestClient, world: World, service: str
) -> None:
    w = world
    listing = _listing(client, w, service)
    assert listing.status_code == 201, listing.text
    assert listing.json()["service"] is True
    assert "service_url" not in listing.json()  # the provider's address stays with pdr
    base = f"/api/v1/listings/{listing.json()['id']}/service"
    assert client.get(f"{base}/stations", headers=bearer(w.consumer)).status_code == 403  # no grant yet
    grant = _grant(client, w, quota=2)
    got = client.get(f"{base}/stations/440106?near=天河", headers={**bearer(w.consumer), "Accept": "application/json"})
    assert got.status_code == 200, got.text
    echo = got.json()
    assert echo["path"] == "/v1/stations/440106?near=%E5%A4%A9%E6%B2%B3"
    assert echo["headers"]["x-pdr-consumer"] == w.consumer_id
    assert echo["headers"]["x-pdr-grant"] == grant
    assert echo["headers"]["accept"] == "application/json"
    assert "authorization" not in echo["headers"] and "cookie" not in echo["headers"]
    assert "set-cookie" not in got.headers  # nor does the provider's cookie reach the caller
    posted = client.post(f"{base}/query", json={"area": "天河"}, headers=bearer(w.consumer))
    assert posted.status_code == 201
    assert json.loads(posted.json()["body"]) == {"area": "天河"}
    # Two calls used the quota of two.
    used_up = client.get(f"{base}/stations", headers=bearer(w.consumer))
    assert used_up.status_code == 403
    assert client.get(f"/api/v1/grants/{grant}", headers=bearer(w.consumer)).json()["downloads_used"] == 2
    calls = client.get("/api/v1/service-calls", headers=bearer(w.consumer)).json()
    assert [(c["method"], c["path"], c["status"], c["complete"]) for c in reversed(calls["items"])] == [
        ("GET", "stations/440106", 200, True),
        ("POST", "query", 201, True),
    ]
    assert calls["items"][1]["response_bytes"] == len(got.content)
    assert client.get("/api/v1/service-calls", headers=bearer(w.provider.token)).json()["count"] == 2
    assert client.get("/api/v1/service-calls", headers=bearer(w.other.token)).json()["count"] == 0
    # The request's negotiation (its agreement) counts the calls among its usage.
    negotiations = client.get("/api/v1/negotiations", headers=bearer(w.consumer)).json()["items"]
    [agreed] = [n for n in negotiations if n["grant_id"] == grant]
    usage = client.get(f"/api/v1/agreements/{agreed['id']}/usage", headers=bearer(w.provider.token)).json()
    assert (usage["service_calls"], usage["downloads"]) == (2, 0)
    assert usage["service_call_bytes"] == sum(c["response_bytes"] for c in calls["items"])


def test_who_may_call_a_data_service(client: TestClient, world: World, service: str) -> None:
    w = world
    base = f"/api/v1/listings/{_listing(client, w, service).json()['id']}/service"
    own = client.get(f"{base}/stations", headers=bearer(w.provider.token))
    assert own.status_code == 200  # its entity's members test their service without a grant
    assert own.json()["headers"].get("x-pdr-grant") is None
    assert client.get(f"{base}/stations").status_code == 401
    assert client.get(f"{base}/stations", headers=bearer(w.operator)).status_code == 403
    assert client.get(f"{base}/stations", headers=bearer(w.other.token)).status_code == 403
    plain = _listing(client, w, None)
    assert plain.status_code == 201 and plain.json()["service"] is False
    assert client.get(f"/api/v1/listings/{plain.json()['id']}/service/x", headers=bearer(w.consumer)).status_code == 404
    suspended = client.post(f"/api/v1/listings/{base.split('/')[4]}/suspend", headers=bearer(w.provider.token))
    assert suspended.status_code == 200
    assert client.get(f"{base}/stations", headers=bearer(w.provider.token)).status_code == 409


@pytest.mark.parametrize("path", ["%2e%2e/admin", "a/%2e%2e/%2e%2e/admin", "a/%2F%2Fevil.example/x", "a%5C..%5Cadmin"])
def test_a_path_never_climbs_out_of_the_service_url(client: TestClient, world: World, service: str, path: str) -> None:
    w = world
    base = f"/api/v1/listings/{_listing(client, w, service).json()['id']}/service"
    refused = client.get(f"{base}/{path}", headers=bearer(w.provider.token))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "path"


def test_service_urls_are_checked_when_listed(client: TestClient, world: World, service: str) -> None:
    w = world
    for bad in ("ftp://x.example/", "https://x.example/v1?key=secret", "not a url"):
        answer = _listing(client, w, bad)
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["field"] == "service_url"
    file_listing = _listing(client, w, service, delivery_mode="file")
    assert file_listing.status_code == 422
    assert file_listing.json()["errors"][0]["field"] == "service_url"


def test_a_provider_that_fails_uses_no_quota_and_is_on_record(
    app: FastAPI, client: TestClient, world: World, service: str
) -> None:
    w = world
    grant = _grant(client, w, quota=5)
    closed = _listing(client, w, f"http://127.0.0.1:{free_port()}/v1/")
    unreachable = client.get(f"/api/v1/listings/{closed.json()['id']}/service/x", headers=bearer(w.consumer))
    assert unreachable.status_code == 502
    assert unreachable.json()["type"].endswith("/bad-gateway")
    app.state.settings.catalog.service_timeout_seconds = 0.5
    slow = _listing(client, w, service)
    late = client.get(f"/api/v1/listings/{slow.json()['id']}/service/slow", headers=bearer(w.consumer))
    assert late.status_code == 504
    assert "no quota was used" in late.json()["detail"]
    assert client.get(f"/api/v1/grants/{grant}", headers=bearer(w.consumer)).json()["downloads_used"] == 0
    calls = client.get("/api/v1/service-calls", headers=bearer(w.consumer)).json()["items"]
    assert sorted(c["status"] for c in calls) == [502, 504]
    assert not any(c["complete"] for c in calls)
