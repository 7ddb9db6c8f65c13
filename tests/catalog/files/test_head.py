"""HEAD on a download: the headers GET would send, no body, the same permission and grant, and no download."""

from __future__ import annotations

from email.utils import formatdate

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from catalog.datasets.models import DatasetFile
from catalog.exchange.models import AccessGrant, DownloadRecord
from storage.db import session_scope
from tests.support.data import bearer, dataset_body
from tests.support.exchange import PAYLOAD, World, content_url, granted
from tests.support.registry import Provider

SAME_AS_GET = ("content-length", "content-type", "etag", "accept-ranges", "content-disposition", "last-modified")


def _downloads(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(DownloadRecord)).one())


def _used(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        return [grant.downloads_used for grant in session.exec(select(AccessGrant)).all()]


def _created_at(engine: Engine, file_id: str) -> str:
    with session_scope(engine) as session:
        record = session.get(DatasetFile, file_id)
        assert record is not None
        return formatdate(record.created_at.timestamp(), usegmt=True)


def test_head_answers_what_get_would_without_a_body_or_a_record(
    client: TestClient, world: World, engine: Engine
) -> None:
    w = world
    url = content_url(w, w.open_dataset, w.open_file)
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    get = client.get(url)
    assert get.status_code == 200
    assert {name: head.headers[name] for name in SAME_AS_GET} == {name: get.headers[name] for name in SAME_AS_GET}
    assert head.headers["content-length"] == str(len(PAYLOAD))
    assert head.headers["accept-ranges"] == "bytes"
    assert head.headers["content-type"] == "application/octet-stream"
    assert head.headers["last-modified"] == _created_at(engine, w.open_file)
    assert 'filename="data.bin"' in head.headers["content-disposition"]
    # Range applies to GET alone: HEAD describes the whole file.
    assert client.head(url, headers={"Range": "bytes=0-9"}).headers["content-length"] == str(len(PAYLOAD))
    cached = client.head(url, headers={"If-None-Match": head.headers["etag"]})
    assert (cached.status_code, cached.headers["etag"]) == (304, head.headers["etag"])
    assert _downloads(engine) == 1  # the GET alone


def test_head_on_a_conditional_file_needs_a_live_grant_and_uses_none(
    client: TestClient, world: World, engine: Engine
) -> None:
    w = world
    refused = client.head(content_url(w), headers=bearer(w.consumer))
    assert refused.status_code == 403
    assert client.head(content_url(w)).status_code == 403  # anonymous
    assert client.head(content_url(w), headers=bearer(w.other.token)).status_code == 403
    assert client.head(content_url(w), headers=bearer(w.provider.token)).status_code == 200  # its own entity's
    granted(client, w, quota=1)
    for _ in range(3):
        allowed = client.head(content_url(w), headers=bearer(w.consumer))
        assert allowed.status_code == 200
        assert allowed.headers["content-length"] == str(len(PAYLOAD))
    assert _used(engine) == [0]
    assert _downloads(engine) == 0
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    assert _used(engine) == [1]
    # The quota is used up: HEAD is refused as a download would be.
    assert client.head(content_url(w), headers=bearer(w.consumer)).status_code == 403


def test_head_on_an_unpublished_file_is_for_its_editors(
    client: TestClient, provider: Provider, other_provider: Provider
) -> None:
    created = client.post("/api/v1/datasets", json=dataset_body(), headers=bearer(provider.token))
    dataset_id = created.json()["id"]
    uploaded = client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        content=b"draft",
        params={"name": "d.txt"},
        headers=bearer(provider.token),
    )
    url = f"/api/v1/datasets/{dataset_id}/files/{uploaded.json()['id']}/content"
    assert client.head(url, headers=bearer(provider.token)).status_code == 200
    assert client.head(url, headers=bearer(other_provider.token)).status_code == 404
    assert client.head(url).status_code == 404
