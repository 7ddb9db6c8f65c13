"""Upload bounds: slots in total and per account, a stall guard on every body, and the rest of the service
answering while uploads stall. The server is a real uvicorn on a local port; the slow clients are raw sockets."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from catalog.datasets.models import DatasetFile
from catalog.files.limits import StallGuard, UploadBounds, UploadSlots, UploadTimeout
from catalog.settings import Settings
from storage.db import session_scope
from storage.exceptions import PayloadTooLarge, ServiceUnavailable, TooManyRequests
from storage.objects import ObjectStore
from tests.support.data import bearer, dataset_body
from tests.support.live import RawResponse, has_answered, open_request, read_response, serving, upload_head
from tests.support.registry import Provider

BODY = b"0123456789abcdef" * 4096  # 64 KiB


def _bounds(**overrides: float) -> UploadBounds:
    values: dict[str, float] = {
        "total": 3,
        "per_account": 2,
        "idle_seconds": 10,
        "min_bytes_per_second": 100,
        "grace_seconds": 5,
        **overrides,
    }
    return UploadBounds(
        total=int(values["total"]),
        per_account=int(values["per_account"]),
        idle_seconds=values["idle_seconds"],
        min_bytes_per_second=int(values["min_bytes_per_second"]),
        grace_seconds=values["grace_seconds"],
    )


# ---------------------------------------------------------------- the arithmetic


def test_slots_are_bounded_in_total_and_per_account_and_come_back() -> None:
    slots, bounds = UploadSlots(), _bounds()
    with slots.hold("a", bounds), slots.hold("a", bounds):
        with pytest.raises(TooManyRequests) as own, slots.hold("a", bounds):
            pass
        assert own.value.headers["Retry-After"] == "10"
        with slots.hold("b", bounds):
            with pytest.raises(ServiceUnavailable) as total, slots.hold("c", bounds):
                pass
            assert total.value.headers["Retry-After"] == "10"
            # The account's own bound is what it hears about first, even when the service is full too.
            with pytest.raises(TooManyRequests), slots.hold("a", bounds):
                pass
        assert slots.in_progress == 2
    with pytest.raises(RuntimeError), slots.hold("a", bounds):
        raise RuntimeError("the upload failed")
    assert slots.in_progress == 0
    assert slots.limiter.total_tokens == 3


def test_the_guard_allows_idle_waits_then_judges_the_average_after_the_grace() -> None:
    guard = StallGuard(_bounds(), max_size=1000, overhead=24)
    assert guard.allowance() == (5, True)  # no byte yet: the grace is all there is before the average is judged
    assert "slower than 100 bytes per second" in guard.cut(by_rate=True).detail
    guard.count(4.0, 800)  # 800 bytes in 4 s: 8 s of waiting may pass before the average drops below 100/s
    assert guard.allowance() == (pytest.approx(4.0), True)
    guard.count(3.0, 224)
    assert guard.allowance() == (pytest.approx(3.24), True)
    with pytest.raises(PayloadTooLarge) as too_large:
        guard.count(0.1, 1)
    assert too_large.value.extra == {"max_size": 1000}
    fast = StallGuard(_bounds(grace_seconds=0))
    fast.count(1.0, 10_000)  # 100 s of budget at 100 B/s: the idle timeout is the nearer bound
    assert fast.allowance() == (10, False)
    assert "no byte of the upload arrived for 10 seconds" in fast.cut(by_rate=False).detail
    behind = StallGuard(_bounds(grace_seconds=0))
    behind.count(2.0, 10)
    assert behind.allowance() == (0, True)
    assert StallGuard(_bounds(min_bytes_per_second=0)).allowance() == (10, False)
    assert UploadTimeout("x").headers == {"Connection": "close"}


# ---------------------------------------------------------------- a real server and slow clients


def _draft(client: TestClient, token: str) -> str:
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(token))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _leftovers(app: FastAPI, engine: Engine) -> tuple[int, int, int]:
    """(file rows, stored objects, temporary uploads)."""
    with session_scope(engine) as session:
        rows = int(session.exec(select(func.count()).select_from(DatasetFile)).one())
    store: ObjectStore = app.state.object_store
    return rows, len(list(store.iter_objects())), len(list(store.iter_temporary()))


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def _slots(app: FastAPI) -> UploadSlots:
    slots: UploadSlots = app.state.upload_slots
    return slots


def _problem(response: RawResponse) -> dict[str, object]:
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, object] = json.loads(response.body)
    return body


@pytest.fixture
def stalled(app: FastAPI) -> Iterator[Callable[[str, str, str], socket.socket]]:
    """Start uploads that send their head and a little of their body, then nothing; closed at the end."""
    opened: list[socket.socket] = []

    def start(base_url: str, dataset_id: str, token: str) -> socket.socket:
        held = _slots(app).in_progress
        sock = open_request(base_url, upload_head(dataset_id, token, length=10_000_000), b"x" * 1000)
        opened.append(sock)
        # Taken, or refused: either way the server has dealt with the head before the next one starts.
        _wait_for(lambda: _slots(app).in_progress > held or has_answered(sock), "the upload took a slot")
        return sock

    yield start
    for sock in opened:
        sock.close()


def test_uploads_at_their_bounds_leave_health_search_and_reads_answering(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    settings: Settings,
    provider: Provider,
    other_provider: Provider,
    operator: str,
    stalled: Callable[[str, str, str], socket.socket],
) -> None:
    objects = settings.objects
    objects.upload_slots, objects.upload_slots_per_account = 4, 2
    objects.upload_idle_timeout_seconds, objects.upload_min_bytes_per_second = 60, 0
    mine, theirs = _draft(client, provider.token), _draft(client, other_provider.token)
    # Fewer shared threads than stalled uploads: were a stalled body to hold one, /me and search would hang.
    with serving(app, default_threads=3) as base:
        held = [stalled(base, mine, provider.token), stalled(base, mine, provider.token)]
        own_bound = read_response(stalled(base, mine, provider.token))
        held += [stalled(base, theirs, other_provider.token), stalled(base, theirs, other_provider.token)]
        total_bound = read_response(stalled(base, theirs, operator))
        assert (own_bound.status, total_bound.status) == (429, 503)
        assert own_bound.headers["retry-after"] == total_bound.headers["retry-after"] == "60"
        assert _problem(own_bound)["type"] == "https://pdr.example/problems/too-many-requests"
        assert _slots(app).in_progress == 4
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/healthz").status_code == 200
            assert http.get("/api/v1/me", headers=bearer(provider.token)).status_code == 200
            found = http.get("/api/v1/datasets", params={"q": "充电"}, headers=bearer(operator))
            assert found.status_code == 200, found.text
            assert http.get(f"/api/v1/datasets/{mine}/files", headers=bearer(provider.token)).json() == []
        # ... all answered while every held upload was still stalled.
        assert not any(has_answered(sock) for sock in held)
        held.pop(0).close()  # a client that goes away gives its slot back
        _wait_for(lambda: _slots(app).in_progress == 3, "the slot came back")
        done = httpx.post(
            f"{base}/api/v1/datasets/{mine}/files",
            params={"name": "a.bin"},
            content=BODY,
            headers=bearer(provider.token),
        )
        assert done.status_code == 201, done.text
        for sock in held:
            sock.close()
        _wait_for(lambda: _slots(app).in_progress == 0, "every slot came back")
    assert _leftovers(app, engine) == (1, 1, 0)


def test_a_stalled_upload_is_cut_and_leaves_nothing(
    app: FastAPI, client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    settings.objects.upload_slots_per_account = 1
    settings.objects.upload_idle_timeout_seconds = 0.5
    dataset_id = _draft(client, provider.token)
    with serving(app) as base:
        sock = open_request(base, upload_head(dataset_id, provider.token, length=5_000_000), b"y" * 300_000)
        with sock:
            cut = read_response(sock)
        assert cut.status == 408
        assert cut.headers["connection"] == "close"
        problem = _problem(cut)
        assert problem["type"] == "https://pdr.example/problems/request-timeout"
        assert "no byte of the upload arrived for 0.5 seconds" in str(problem["detail"])
        _wait_for(lambda: _slots(app).in_progress == 0, "the slot came back")
        assert _leftovers(app, engine) == (0, 0, 0)
        # The account's only slot is free again.
        again = httpx.post(
            f"{base}/api/v1/datasets/{dataset_id}/files",
            params={"name": "b.bin", "sha256": hashlib.sha256(BODY).hexdigest()},
            content=BODY,
            headers=bearer(provider.token),
        )
        assert again.status_code == 201, again.text
    assert _leftovers(app, engine) == (1, 1, 0)


def test_a_trickling_upload_is_cut_once_its_grace_is_over(
    app: FastAPI, client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    objects = settings.objects
    objects.upload_idle_timeout_seconds, objects.upload_min_bytes_per_second = 5, 2000
    objects.upload_rate_grace_seconds = 0.3
    dataset_id = _draft(client, provider.token)
    with serving(app) as base:
        sock = open_request(base, upload_head(dataset_id, provider.token, length=100_000), b"z" * 10)
        with sock:
            deadline = time.monotonic() + 10
            # 10 bytes every 50 ms: never idle for long, but 200 bytes a second at best.
            while not has_answered(sock):
                assert time.monotonic() < deadline, "the trickle was never cut"
                try:
                    sock.sendall(b"z" * 10)
                except OSError:
                    break  # the server cut the connection already: the answer is in the socket's buffer
                time.sleep(0.05)
            cut = read_response(sock)
        assert cut.status == 408
        assert "slower than 2000 bytes per second" in str(_problem(cut)["detail"])
        _wait_for(lambda: _slots(app).in_progress == 0, "the slot came back")
    assert _leftovers(app, engine) == (0, 0, 0)


def _multipart(boundary: str, content: bytes, *, finished: bool = True) -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="表.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + content + (f"\r\n--{boundary}--\r\n".encode() if finished else b"")


def test_multipart_uploads_are_stored_and_their_stalls_cut(
    app: FastAPI, client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    settings.objects.upload_idle_timeout_seconds = 0.5
    dataset_id = _draft(client, provider.token)
    boundary = "pdr-test-boundary"
    content_type = f"multipart/form-data; boundary={boundary}"
    with serving(app) as base:
        partial = _multipart(boundary, BODY[:20_000], finished=False)
        head = upload_head(dataset_id, provider.token, length=len(partial) + 500_000, content_type=content_type)
        with open_request(base, head, partial) as sock:
            cut = read_response(sock)
        assert cut.status == 408, cut.body
        _wait_for(lambda: _slots(app).in_progress == 0, "the slot came back")
        assert _leftovers(app, engine) == (0, 0, 0)
        whole = httpx.post(
            f"{base}/api/v1/datasets/{dataset_id}/files",
            content=_multipart(boundary, BODY),
            headers={**bearer(provider.token), "Content-Type": content_type},
        )
        assert whole.status_code == 201, whole.text
        assert (whole.json()["name"], whole.json()["size"]) == ("表.csv", len(BODY))
        assert whole.json()["sha256"] == hashlib.sha256(BODY).hexdigest()


def test_a_multipart_body_past_the_limit_is_refused_while_it_streams(
    app: FastAPI, client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    settings.objects.max_upload_bytes = 1000
    dataset_id = _draft(client, provider.token)
    boundary = "pdr-test-boundary"

    def body() -> Iterator[bytes]:
        # No Content-Length: the limit is found while the body streams in, not from what it declares.
        yield _multipart(boundary, b"", finished=False)
        for _ in range(200):
            yield b"w" * 1024
        yield f"\r\n--{boundary}--\r\n".encode()

    too_large = client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        content=body(),
        headers={**bearer(provider.token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert too_large.status_code == 413
    assert too_large.json()["max_size"] == 1000
    assert _leftovers(app, engine) == (0, 0, 0)
