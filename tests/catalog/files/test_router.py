"""Payload files over HTTP: verified streaming uploads that leave nothing behind on failure, and downloads."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from catalog.app import create_app
from catalog.datasets.models import DatasetFile
from catalog.files import service as payloads
from catalog.files import upkeep
from catalog.settings import Settings
from storage.db import session_scope
from storage.objects import ObjectStore
from tests.support.data import bearer, dataset_body
from tests.support.live import serving
from tests.support.registry import Provider

CSV = "站点,功率\nA01,60\nA02,120\n".encode() * 50
CSV_SHA = hashlib.sha256(CSV).hexdigest()


def _draft(client: TestClient, provider: Provider, **overrides: object) -> str:
    created = client.post("/api/v1/datasets", json=dataset_body(**overrides), headers=bearer(provider.token))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _upload(client: TestClient, token: str, dataset_id: str, body: bytes = CSV, **params: Any) -> httpx.Response:
    params.setdefault("name", "数据 报告.csv")
    return client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        content=body,
        params=params,
        headers={**bearer(token), "Content-Type": "text/csv"},
    )


def _store(app: FastAPI) -> ObjectStore:
    store: ObjectStore = app.state.object_store
    return store


def _leftovers(app: FastAPI, engine: Engine) -> tuple[int, int, int]:
    """(file rows, stored objects, temporary uploads): what a failed upload must not leave."""
    with session_scope(engine) as session:
        rows = int(session.exec(select(func.count()).select_from(DatasetFile)).one())
    store = _store(app)
    return rows, len(list(store.iter_objects())), len(list(store.iter_temporary()))


def test_upload_then_download(client: TestClient, app: FastAPI, provider: Provider) -> None:
    dataset_id = _draft(client, provider)
    uploaded = _upload(client, provider.token, dataset_id, sha256=CSV_SHA, size=len(CSV))
    assert uploaded.status_code == 201, uploaded.text
    record = uploaded.json()
    assert (record["sha256"], record["size"], record["name"]) == (CSV_SHA, len(CSV), "数据 报告.csv")
    assert record["media_type"] == "text/csv"
    listed = client.get(f"/api/v1/datasets/{dataset_id}/files", headers=bearer(provider.token)).json()
    assert [f["id"] for f in listed] == [record["id"]]
    response = client.get(f"/api/v1/datasets/{dataset_id}/files/{record['id']}/content", headers=bearer(provider.token))
    assert response.status_code == 200
    assert response.content == CSV
    assert response.headers["etag"] == f'"{CSV_SHA}"'
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"__ __.csv\"; filename*=UTF-8''%E6%95%B0%E6%8D%AE%20%E6%8A%A5%E5%91%8A.csv"
    )


def test_identical_payloads_are_stored_once(client: TestClient, app: FastAPI, provider: Provider) -> None:
    first, second = _draft(client, provider, name="a-1"), _draft(client, provider, name="a-2")
    assert _upload(client, provider.token, first).status_code == 201
    assert _upload(client, provider.token, second).status_code == 201
    assert len(list(_store(app).iter_objects())) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sha256": "0" * 64}, "sha256"), ({"size": len(CSV) + 1}, "size"), ({"sha256": "xyz"}, "sha256")],
)
def test_wrong_declarations_leave_nothing(
    client: TestClient, app: FastAPI, engine: Engine, provider: Provider, params: dict[str, Any], field: str
) -> None:
    dataset_id = _draft(client, provider)
    response = _upload(client, provider.token, dataset_id, **params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert _leftovers(app, engine) == (0, 0, 0)


def test_size_limit_by_declared_length_and_by_stream(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, provider: Provider
) -> None:
    settings.objects.max_upload_bytes = 1000
    dataset_id = _draft(client, provider)
    declared = _upload(client, provider.token, dataset_id, body=b"x" * 1001)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"

    def chunked() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 100

    streamed = client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        content=chunked(),
        params={"name": "big.bin"},
        headers=bearer(provider.token),
    )
    assert streamed.status_code == 413
    assert _leftovers(app, engine) == (0, 0, 0)
    assert (
        _upload(client, provider.token, dataset_id, body=b"z" * 1000).status_code == 201
    )  # the limit itself is allowed


def test_a_failure_after_storing_removes_the_new_object(
    client: TestClient, app: FastAPI, engine: Engine, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id = _draft(client, provider)

    def failing_record(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(payloads, "add_file_record", failing_record)
    with TestClient(app, raise_server_exceptions=False) as failing:
        assert _upload(failing, provider.token, dataset_id).status_code == 500
    assert _leftovers(app, engine) == (0, 0, 0)


def test_interrupted_stream_leaves_no_row_and_gc_removes_stale_temporaries(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, provider: Provider
) -> None:
    dataset_id = _draft(client, provider)

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with session_scope(engine) as session, pytest.raises(ConnectionResetError):
        from auth.caller import Caller
        from auth.roles import Role

        caller = Caller(account_id=provider.account_id, name="p", role=Role.provider, entity_id=provider.entity_id)
        payloads.store_and_record(
            session,
            caller,
            _store(app),
            dataset_id,
            broken(),
            name="x",
            media_type="text/plain",
            sha256=None,
            size=None,
            max_size=10_000,
        )
    assert _leftovers(app, engine) == (0, 0, 0)
    # A process killed mid-upload leaves its temporary file; gc removes it once it is old enough.
    tmp = Path(settings.objects.storage_url.removeprefix("file://")) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    stale = tmp / "upload-killed-process"
    stale.write_bytes(b"half a payload")
    old = time.time() - 3 * 86400
    os.utime(stale, (old, old))
    orphan = _store(app).put_stream([b"nobody refers to me"])
    with session_scope(engine) as session:
        report = upkeep.collect_garbage(session, _store(app), temporary_age=timedelta(days=1), grace=timedelta(0))
    assert report.temporary >= 1
    assert report.unreferenced == 1
    assert not stale.exists()
    assert _store(app).stat(orphan.sha256) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("C:\\Windows\\system.ini", "system.ini"),
        ("nul\x00byte\r\nX-Injected: 1.csv", "nulbyteX-Injected: 1.csv"),
        ("..", "file"),
        ("", "file"),
    ],
)
def test_file_names_cannot_escape_or_break_headers(
    client: TestClient, provider: Provider, raw: str, expected: str
) -> None:
    dataset_id = _draft(client, provider)
    record = _upload(client, provider.token, dataset_id, name=raw).json()
    assert record["name"] == expected
    response = client.get(f"/api/v1/datasets/{dataset_id}/files/{record['id']}/content", headers=bearer(provider.token))
    assert response.status_code == 200
    assert "\n" not in response.headers["content-disposition"]
    assert "x-injected" not in response.headers


def test_very_long_unicode_names_are_cut_to_255_bytes(client: TestClient, provider: Provider) -> None:
    dataset_id = _draft(client, provider)
    record = _upload(client, provider.token, dataset_id, name="数" * 300 + ".csv").json()
    assert len(record["name"].encode()) <= 255
    assert record["name"].startswith("数数")


def test_ranges_etags_and_conditional_requests(client: TestClient, provider: Provider) -> None:
    dataset_id = _draft(client, provider)
    file_id = _upload(client, provider.token, dataset_id).json()["id"]
    url = f"/api/v1/datasets/{dataset_id}/files/{file_id}/content"
    auth = bearer(provider.token)
    first = client.get(url, headers={**auth, "Range": "bytes=0-9"})
    assert first.status_code == 206
    assert first.content == CSV[:10]
    assert first.headers["content-range"] == f"bytes 0-9/{len(CSV)}"
    suffix = client.get(url, headers={**auth, "Range": "bytes=-5"})
    assert suffix.status_code == 206
    assert suffix.content == CSV[-5:]
    middle = client.get(url, headers={**auth, "Range": "bytes=100-"})
    assert middle.content == CSV[100:]
    unsatisfiable = client.get(url, headers={**auth, "Range": f"bytes={len(CSV)}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{len(CSV)}"
    etag = first.headers["etag"]
    cached = client.get(url, headers={**auth, "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert client.get(url, headers={**auth, "If-None-Match": '"other"'}).status_code == 200


def test_published_files_never_change(client: TestClient, provider: Provider) -> None:
    dataset_id = _draft(client, provider)
    old = _upload(client, provider.token, dataset_id).json()
    assert client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token)).status_code == 200
    frozen = _upload(client, provider.token, dataset_id, body=b"new bytes")
    assert frozen.status_code == 409
    assert (
        client.post(f"/api/v1/datasets/{dataset_id}/versions", json={}, headers=bearer(provider.token)).status_code
        == 201
    )
    new = _upload(client, provider.token, dataset_id, body=b"new bytes").json()
    assert new["version"] == 2
    listed = client.get(f"/api/v1/datasets/{dataset_id}/files").json()  # anonymous: published versions only
    assert [f["id"] for f in listed] == [old["id"]]


def test_who_may_upload_and_download(
    client: TestClient, provider: Provider, other_provider: Provider, consumer: str, operator: str
) -> None:
    dataset_id = _draft(client, provider)
    assert _upload(client, other_provider.token, dataset_id).status_code == 404  # a draft is invisible to others
    assert _upload(client, consumer, dataset_id).status_code == 404
    assert client.post(f"/api/v1/datasets/{dataset_id}/files", content=CSV).status_code == 401
    file_id = _upload(client, operator, dataset_id).json()["id"]  # staff may act for any entity
    url = f"/api/v1/datasets/{dataset_id}/files/{file_id}/content"
    assert client.get(url).status_code == 404  # not published yet
    client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token))
    assert client.get(url).status_code == 200  # unconditional and published: anyone
    assert _upload(client, other_provider.token, dataset_id).status_code == 403  # visible now, still not theirs


def test_conditional_files_need_a_grant(client: TestClient, provider: Provider, consumer: str) -> None:
    dataset_id = _draft(client, provider, access="conditional")
    file_id = _upload(client, provider.token, dataset_id).json()["id"]
    client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token))
    url = f"/api/v1/datasets/{dataset_id}/files/{file_id}/content"
    assert client.get(url, headers=bearer(consumer)).status_code == 403
    assert client.get(url).status_code == 403
    assert client.get(url, headers=bearer(provider.token)).status_code == 200


def test_accel_redirect_mode_hands_the_bytes_to_nginx(
    client: TestClient, settings: Settings, provider: Provider
) -> None:
    dataset_id = _draft(client, provider)
    file_id = _upload(client, provider.token, dataset_id).json()["id"]
    settings.objects.download_mode = "accel"
    response = client.get(f"/api/v1/datasets/{dataset_id}/files/{file_id}/content", headers=bearer(provider.token))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-accel-redirect"] == f"/_pdr_objects/{CSV_SHA[:2]}/{CSV_SHA[2:4]}/{CSV_SHA}"
    assert response.headers["etag"] == f'"{CSV_SHA}"'


# ---------------------------------------------------------------- a real server


@pytest.fixture
def live_server(app: FastAPI, provider: Provider) -> Iterator[str]:
    """The app served by uvicorn on a local port, in a thread of this process."""
    with serving(app) as url:
        yield url


def test_a_200_mb_upload_keeps_memory_flat(live_server: str, client: TestClient, provider: Provider) -> None:
    dataset_id = _draft(client, provider)
    block = os.urandom(1024 * 1024)
    total = 200

    def body() -> Iterator[bytes]:
        for _ in range(total):
            yield block

    expected = hashlib.sha256(block * total).hexdigest()
    tracemalloc.start()
    try:
        response = httpx.post(
            f"{live_server}/api/v1/datasets/{dataset_id}/files",
            content=body(),
            params={"name": "big.bin", "sha256": expected},
            headers=bearer(provider.token),
            timeout=120,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.text
    assert response.json()["size"] == total * 1024 * 1024
    assert peak < 32 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"


def test_a_client_that_disconnects_mid_upload_leaves_no_row(
    live_server: str, client: TestClient, app: FastAPI, engine: Engine, provider: Provider
) -> None:
    dataset_id = _draft(client, provider)
    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            (
                f"POST /api/v1/datasets/{dataset_id}/files?name=cut.bin HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {provider.token}\r\nContent-Length: 10000000\r\n\r\n"
            ).encode()
            + b"a" * 300_000
        )
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _leftovers(app, engine) != (0, 0, 0):
        time.sleep(0.1)
    assert _leftovers(app, engine) == (0, 0, 0)


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str, s3_bucket: str) -> Settings:
    """The test's settings with the object store on the local S3 server."""
    from pydantic import SecretStr

    from tests.support.s3_server import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, s3_url

    settings.objects.storage_url = s3_url(s3_endpoint, s3_bucket)
    settings.objects.s3_access_key = SecretStr(S3_ACCESS_KEY)
    settings.objects.s3_secret_key = SecretStr(S3_SECRET_KEY)
    settings.objects.s3_region = S3_REGION
    return settings


def test_on_s3_downloads_redirect_to_a_short_lived_url(s3_settings: Settings, provider_on: Any) -> None:
    with TestClient(create_app(s3_settings), follow_redirects=False) as s3_client:
        provider = provider_on(s3_client)
        dataset_id = _draft(s3_client, provider)
        file_id = _upload(s3_client, provider.token, dataset_id).json()["id"]
        s3_client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token))
        response = s3_client.get(f"/api/v1/datasets/{dataset_id}/files/{file_id}/content")
        assert response.status_code == 302
        assert response.headers["cache-control"] == "no-store"
        fetched = httpx.get(response.headers["location"])
        assert fetched.content == CSV
        assert "filename*=UTF-8''%E6%95%B0%E6%8D%AE" in fetched.headers["content-disposition"]
        s3_settings.objects.download_mode = "proxy"
        proxied = s3_client.get(
            f"/api/v1/datasets/{dataset_id}/files/{file_id}/content", headers={"Range": "bytes=5-14"}
        )
        assert proxied.status_code == 206
        assert proxied.content == CSV[5:15]


@pytest.fixture
def provider_on(engine: Engine, settings: Settings, operator: str) -> Any:
    """Make a verified provider through a given client."""
    from tests.support.registry import new_provider

    return lambda client: new_provider(client, engine, settings, operator, 9)


def test_storage_commands(
    client: TestClient, app: FastAPI, settings: Settings, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from catalog.cli import app as cli
    from tests.support.env import TEST_SECRET

    monkeypatch.setenv("PDR_DATABASE_URL", settings.db.database_url)
    monkeypatch.setenv("PDR_STORAGE_URL", settings.objects.storage_url)
    monkeypatch.setenv("PDR_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("PDR_GC_GRACE_SECONDS", "0")
    dataset_id = _draft(client, provider)
    kept = _upload(client, provider.token, dataset_id).json()
    orphan = _store(app).put_stream([b"orphan"])
    runner = CliRunner()
    assert runner.invoke(cli, ["storage", "verify"]).exit_code == 0
    gc = runner.invoke(cli, ["storage", "gc"])
    assert gc.exit_code == 0, gc.output
    assert "1 unreferenced object(s)" in gc.output
    assert _store(app).stat(orphan.sha256) is None
    assert _store(app).stat(kept["sha256"]) is not None
    root = Path(settings.objects.storage_url.removeprefix("file://")) / "objects"
    (root / kept["sha256"][:2] / kept["sha256"][2:4] / kept["sha256"]).write_bytes(b"bit rot")
    verify = runner.invoke(cli, ["storage", "verify"])
    assert verify.exit_code == 1
    assert f"corrupt: {kept['sha256']}" in verify.output


def test_on_s3_conditional_files_are_never_redirected(s3_settings: Settings, provider_on: Any, consumer: str) -> None:
    with TestClient(create_app(s3_settings), follow_redirects=False) as s3_client:
        provider = provider_on(s3_client)
        dataset_id = _draft(s3_client, provider, access="conditional")
        file_id = _upload(s3_client, provider.token, dataset_id).json()["id"]
        s3_client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token))
        request = s3_client.post(
            "/api/v1/access-requests",
            json={
                "dataset_id": dataset_id,
                "purpose": "交通规划研究",
                "scenario": "充电桩布局优化",
                "use_category": "public_welfare",
                "requested_from": "2026-11-23",
                "requested_until": "2027-12-31",
            },
            headers=bearer(consumer),
        ).json()
        s3_client.post(
            f"/api/v1/access-requests/{request['id']}/approve", json={"reason": "同意"}, headers=bearer(provider.token)
        )
        url = f"/api/v1/datasets/{dataset_id}/files/{file_id}/content"
        granted = s3_client.get(url, headers={**bearer(consumer), "Range": "bytes=0-9"})
        assert granted.status_code == 206  # streamed through the service, never a presigned redirect
        assert granted.content == CSV[:10]
        grant_id = s3_client.get("/api/v1/grants", headers=bearer(consumer)).json()["items"][0]["id"]
        revoked = s3_client.post(
            f"/api/v1/grants/{grant_id}/revoke", json={"reason": "用途超出范围"}, headers=bearer(provider.token)
        )
        assert revoked.status_code == 200, revoked.text
        assert s3_client.get(url, headers={**bearer(consumer), "Range": "bytes=10-"}).status_code == 403
