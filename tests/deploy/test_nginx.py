"""deploy/nginx.conf, as shipped, run by a real nginx in front of pdr under uvicorn: `nginx -t` passes; a download
is sent by nginx (X-Accel-Redirect) under pdr's SHA-256 ETag; log tiles pass through, full ones from nginx's cache."""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from catalog.app import create_app
from catalog.settings import Settings
from deploy import local_nginx as nginx_support
from registry import log
from registry.context import bind
from storage.db import session_scope
from tests.support.exchange import PAYLOAD, dataset_with_file
from tests.support.live import free_port, serving
from tests.support.registry import Provider

NGINX = nginx_support.nginx_binary()
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")

NGINX_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
FULL_TILE = 256


def _append_log_entries(engine: Engine, settings: Settings, count: int) -> None:
    with session_scope(engine) as session:
        now = datetime.now(UTC)
        bind(session, now, settings.keyring())
        events = [log.Event(kind="test.event", subject=f"test:{n}", body={"n": n}, at=now) for n in range(count)]
        log.append(session, settings.keyring(), events)
        session.commit()


@pytest.fixture
def upstream(settings: Settings) -> Iterator[str]:
    """pdr under uvicorn on a local port, handing downloads to nginx (PDR_DOWNLOAD_MODE=accel)."""
    settings.objects.download_mode = "accel"
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
def front(upstream: str, settings: Settings, tmp_path: Path) -> Iterator[httpx.Client]:
    """An HTTPS client of nginx running deploy/nginx.conf in front of `upstream`."""
    assert NGINX is not None
    work = tmp_path / "nginx"
    work.mkdir()
    store_root = Path(settings.objects.storage_url.removeprefix("file://"))
    rendered = nginx_support.render(work, upstream_port=int(upstream.rsplit(":", 1)[1]), store_root=store_root)
    checked = nginx_support.check(NGINX, rendered)
    assert checked.returncode == 0, checked.stderr
    trust = ssl.create_default_context(cafile=str(rendered.certificate))
    with nginx_support.running(NGINX, rendered) as url, httpx.Client(base_url=url, verify=trust) as client:
        yield client


def test_the_shipped_config_passes_nginx_t(tmp_path: Path) -> None:
    assert NGINX is not None
    rendered = nginx_support.render(tmp_path, upstream_port=free_port(), store_root=tmp_path / "objects")
    checked = nginx_support.check(NGINX, rendered)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_offers_http2_on_tls(front: httpx.Client) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only the protocol is in question here
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", front.base_url.port or 443), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=nginx_support.SERVER_NAME) as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"


def test_a_download_through_nginx_keeps_the_sha256_etag(
    client: TestClient, provider: Provider, upstream: str, front: httpx.Client
) -> None:
    dataset_id, file_id = dataset_with_file(client, provider, "unconditional")
    path = f"/api/v1/datasets/{dataset_id}/files/{file_id}/content"
    etag = f'"{hashlib.sha256(PAYLOAD).hexdigest()}"'

    # pdr itself sends no byte: it hands the file to nginx.
    direct = httpx.get(upstream + path)
    assert direct.status_code == 200 and direct.content == b""
    assert direct.headers["x-accel-redirect"].startswith("/_pdr_objects/")

    through = front.get(path, headers={"X-Request-ID": "chosen-by-the-client"})
    assert through.status_code == 200, through.text
    assert through.content == PAYLOAD
    assert through.headers["etag"] == etag
    assert "x-accel-redirect" not in through.headers
    # Every header pdr answered with reaches the client as pdr wrote it (nginx may repeat Accept-Ranges).
    for name, value in direct.headers.items():
        if name not in ("date", "server", "content-length", "x-accel-redirect", "x-request-id"):
            assert list(dict.fromkeys(through.headers.get_list(name))) == [value], name
    # nginx's request id reached pdr (which answers with the id it logged), not the client's.
    assert NGINX_REQUEST_ID.match(through.headers["x-request-id"])

    part = front.get(path, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert part.status_code == 206
    assert part.content == PAYLOAD[10:20]
    assert part.headers["etag"] == etag
    changed = front.get(path, headers={"Range": "bytes=10-19", "If-Range": '"another"'})
    assert changed.status_code == 200 and changed.content == PAYLOAD
    assert front.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_log_tiles_through_nginx_full_ones_cached(
    client: TestClient, provider: Provider, engine: Engine, settings: Settings, upstream: str, front: httpx.Client
) -> None:
    # The provider's verified entity is entry 0; with these the log has a full first tile and a partial second.
    _append_log_entries(engine, settings, FULL_TILE)
    for tile in ("/log/tile/0/000", "/log/tile/entries/000"):
        expected = httpx.get(upstream + tile).content
        first, second = front.get(tile), front.get(tile)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content == expected
        assert (first.headers["x-cache-status"], second.headers["x-cache-status"]) == ("MISS", "HIT")
        # The cached answer carries its own request's id, not that of the request that filled the cache.
        ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
        assert len(ids) == 2 and all(NGINX_REQUEST_ID.match(value) for value in ids)

    # A partial tile grows with the log: nginx asks pdr for it every time.
    partial = "/log/tile/0/001.p/1"
    answers = [front.get(partial), front.get(partial)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.headers["x-cache-status"] for a in answers] == ["MISS", "MISS"]
    assert answers[0].content == httpx.get(upstream + partial).content
